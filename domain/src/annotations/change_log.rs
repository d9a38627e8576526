//! The annotation change log: each write to an asset's annotations is numbered, in commit
//! order, for the search indexes to catch up from.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set,
};

use crate::entities::{annotation, annotation_change, asset};
use crate::error::Result;

/// Deletes an asset's annotations (with the asset).
pub(crate) async fn delete_for_asset(
    connection: &impl sea_orm::ConnectionTrait,
    row: &asset::Model,
) -> Result<()> {
    lock_change_log(connection).await?;
    let deleted = annotation::Entity::delete_many()
        .filter(annotation::Column::CustomerId.eq(row.customer_id))
        .filter(annotation::Column::SpaceId.eq(row.space_id))
        .filter(annotation::Column::AssetId.eq(row.id.as_str()))
        .exec(connection)
        .await?;
    if deleted.rows_affected > 0 {
        log_change(connection, row.customer_id, row.space_id, &row.id).await?;
    }
    Ok(())
}

/// Makes annotation writes commit one at a time, in the order of their change-log numbers, so
/// that an index which has read up to number N never misses a smaller number committed later.
/// Taken first in a transaction, held until it ends. SQLite has one writer anyway.
pub(crate) async fn lock_change_log(connection: &impl ConnectionTrait) -> Result<()> {
    if connection.get_database_backend() == DbBackend::Postgres {
        connection
            .execute_unprepared("SELECT pg_advisory_xact_lock(7406140611)")
            .await?;
    }
    Ok(())
}

/// Records that an asset's annotations changed, for the search indexes to catch up.
pub(crate) async fn log_change(
    connection: &impl ConnectionTrait,
    customer_id: i32,
    space: i32,
    asset_id: &str,
) -> Result<()> {
    annotation_change::ActiveModel {
        customer_id: Set(customer_id),
        space_id: Set(space),
        asset_id: Set(asset_id.to_owned()),
        changed: Set(Utc::now()),
        ..Default::default()
    }
    .insert(connection)
    .await?;
    Ok(())
}
