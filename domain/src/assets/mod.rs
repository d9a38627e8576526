//! Assets: registration, changes, deletion, and listing with filters and orderings.
//!
//! - this file: what every asset service shares: finding an asset's row, the error for a
//!   missing one, and its rows in the tag index
//! - `registration`: registering assets (from an origin, uploaded, or put whole), and the
//!   checked record a registration becomes
//! - `changes`: patches, reprocessing, and the media type a worker infers
//! - `deletion`: deleting an asset's records
//! - `listing`: one asset, and pages of a space's assets with filters and orderings
//! - `references`: the free references (string1-3, number1-3), the one list of them

mod changes;
mod deletion;
mod listing;
mod references;
mod registration;

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entities::{asset, asset_tag};
use crate::error::{Error, Result};
use crate::{Domain, validate};

pub use changes::AssetPatch;
pub(crate) use changes::ingest_kind;
pub use listing::{AssetFilter, AssetOrder, AssetOrderField, SortDirection};
pub use references::{Change, References, ReferencesPatch};
pub(crate) use references::{NUMBER_COLUMNS, STRING_COLUMNS};
pub use registration::{AssetInput, new_asset_id};
pub(crate) use registration::{origin_required, prepared_row, replace_row};

impl Domain {
    async fn find_asset(
        &self,
        connection: &impl ConnectionTrait,
        customer_id: i32,
        space: i32,
        id: &str,
    ) -> Result<Option<asset::Model>> {
        if !validate::storable(id) {
            return Ok(None);
        }
        Ok(
            asset::Entity::find_by_id((customer_id, space, id.to_owned()))
                .one(connection)
                .await?,
        )
    }
}

/// Replaces an asset's rows in the tag index with `tags`.
pub(crate) async fn write_tags(
    connection: &impl ConnectionTrait,
    row: &asset::Model,
    tags: &[String],
) -> Result<()> {
    asset_tag::Entity::delete_many()
        .filter(asset_tag::Column::CustomerId.eq(row.customer_id))
        .filter(asset_tag::Column::SpaceId.eq(row.space_id))
        .filter(asset_tag::Column::AssetId.eq(row.id.as_str()))
        .exec(connection)
        .await?;
    if tags.is_empty() {
        return Ok(());
    }
    let tag_rows = tags.iter().map(|tag| asset_tag::ActiveModel {
        customer_id: Set(row.customer_id),
        space_id: Set(row.space_id),
        asset_id: Set(row.id.clone()),
        tag: Set(tag.clone()),
    });
    asset_tag::Entity::insert_many(tag_rows)
        .exec(connection)
        .await?;
    Ok(())
}

fn asset_missing(customer: &str, space: i32, id: &str) -> Error {
    Error::not_found(format!(
        "customer {customer:?} has no asset {id:?} in space {space}"
    ))
}
