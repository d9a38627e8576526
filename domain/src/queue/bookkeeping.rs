//! The queue's writes inside other services' transactions: queuing an asset's processing
//! (taking it from another batch when a new one claims it), dropping a deleted asset's job,
//! and settling batch members and counting them on their batch.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::{JobKind, QUEUED, clean_reason};
use crate::entities::{asset, batch, batch_member, job};
use crate::error::Result;
use crate::model::AssetStatus;

/// Queues processing of an asset inside the caller's transaction, replacing any job the asset
/// already has. A job that belonged to a batch keeps its batch unless a new one is given; when
/// a new batch takes the asset from another unfinished batch, that batch's member ends as
/// superseded.
pub(crate) async fn enqueue(
    connection: &impl ConnectionTrait,
    row: &asset::Model,
    kind: JobKind,
    batch_id: Option<i64>,
    max_attempts: i32,
) -> Result<i64> {
    let existing = job::Entity::find()
        .filter(job::Column::CustomerId.eq(row.customer_id))
        .filter(job::Column::SpaceId.eq(row.space_id))
        .filter(job::Column::AssetId.eq(row.id.as_str()))
        .one(connection)
        .await?;
    let mut batch_of_job = batch_id;
    if let Some(existing) = existing {
        match (existing.batch_id, batch_id) {
            (Some(old), Some(new)) if old != new => {
                let reason = format!("superseded by batch {new}");
                settle_member(
                    connection,
                    old,
                    (row.space_id, &row.id),
                    AssetStatus::Error,
                    Some(&reason),
                )
                .await?;
                batch::Entity::update_many()
                    .col_expr(batch::Column::Superseded, Expr::value(true))
                    .filter(batch::Column::Id.eq(old))
                    .exec(connection)
                    .await?;
            }
            (Some(old), None) => batch_of_job = Some(old),
            _ => {}
        }
        job::Entity::delete_by_id(existing.id)
            .exec(connection)
            .await?;
    }
    let inserted = new_job(row, kind, batch_of_job, max_attempts, Utc::now())
        .insert(connection)
        .await?;
    Ok(inserted.id)
}

/// A queued job for an asset that has none.
pub(crate) fn new_job(
    row: &asset::Model,
    kind: JobKind,
    batch_id: Option<i64>,
    max_attempts: i32,
    now: chrono::DateTime<Utc>,
) -> job::ActiveModel {
    job::ActiveModel {
        kind: Set(kind.as_str().to_owned()),
        customer_id: Set(row.customer_id),
        space_id: Set(row.space_id),
        asset_id: Set(row.id.clone()),
        batch_id: Set(batch_id),
        state: Set(QUEUED.to_owned()),
        attempts: Set(0),
        max_attempts: Set(max_attempts),
        run_after: Set(now),
        locked_by: Set(None),
        heartbeat_at: Set(None),
        last_error: Set(None),
        crashes: Set(0),
        created: Set(now),
        updated: Set(now),
        ..Default::default()
    }
}

/// Records a batch member's end and counts it on its batch; a member already ended is left
/// alone, so nothing is counted twice. The batch is finished when its last member ends.
pub(crate) async fn settle_member(
    connection: &impl ConnectionTrait,
    batch_id: i64,
    (space, asset_id): (i32, &str),
    status: AssetStatus,
    error: Option<&str>,
) -> Result<()> {
    let ended = [AssetStatus::Ready.as_str(), AssetStatus::Error.as_str()];
    let updated = batch_member::Entity::update_many()
        .col_expr(batch_member::Column::Status, Expr::value(status.as_str()))
        .col_expr(
            batch_member::Column::Error,
            Expr::value(error.map(clean_reason)),
        )
        .filter(batch_member::Column::BatchId.eq(batch_id))
        .filter(batch_member::Column::SpaceId.eq(space))
        .filter(batch_member::Column::AssetId.eq(asset_id))
        .filter(batch_member::Column::Status.is_not_in(ended))
        .exec(connection)
        .await?;
    count_settled(connection, batch_id, status, updated.rows_affected).await
}

/// Counts `settled` members that just ended in `status` on their batch, and finishes the batch
/// when no member is left.
pub(crate) async fn count_settled(
    connection: &impl ConnectionTrait,
    batch_id: i64,
    status: AssetStatus,
    settled: u64,
) -> Result<()> {
    if settled == 0 {
        return Ok(());
    }
    let counter = if status == AssetStatus::Ready {
        batch::Column::Completed
    } else {
        batch::Column::Errors
    };
    batch::Entity::update_many()
        .col_expr(counter, Expr::col(counter).add(settled as i32))
        .filter(batch::Column::Id.eq(batch_id))
        .exec(connection)
        .await?;
    batch::Entity::update_many()
        .col_expr(batch::Column::Finished, Expr::value(Some(Utc::now())))
        .filter(batch::Column::Id.eq(batch_id))
        .filter(batch::Column::Finished.is_null())
        .filter(
            Expr::col(batch::Column::Completed)
                .add(Expr::col(batch::Column::Errors))
                .gte(Expr::col(batch::Column::Count)),
        )
        .exec(connection)
        .await?;
    Ok(())
}

/// Drops an asset's job as the asset is deleted; a batch waiting on it counts it as an error.
pub(crate) async fn forget_asset(
    connection: &impl ConnectionTrait,
    customer_id: i32,
    space: i32,
    asset_id: &str,
) -> Result<()> {
    let pending = job::Entity::find()
        .filter(job::Column::CustomerId.eq(customer_id))
        .filter(job::Column::SpaceId.eq(space))
        .filter(job::Column::AssetId.eq(asset_id))
        .one(connection)
        .await?;
    if let Some(pending) = pending {
        if let Some(batch_id) = pending.batch_id {
            let reason = "deleted: the asset was deleted before it was processed";
            settle_member(
                connection,
                batch_id,
                (space, asset_id),
                AssetStatus::Error,
                Some(reason),
            )
            .await?;
        }
        job::Entity::delete_by_id(pending.id)
            .exec(connection)
            .await?;
    }
    Ok(())
}
