//! Deleting an asset: its record, tags, annotations and pending job, in one transaction; the
//! caller removes its stored objects.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::asset_missing;
use crate::entities::{asset, asset_tag};
use crate::error::Result;
use crate::model::Asset;
use crate::queue;
use crate::{Domain, Principal, validate};

impl Domain {
    /// Deletes an asset's record, its tags, annotations and pending job, and returns what it was, so
    /// the caller can remove its stored objects. A batch waiting on it counts it as an error.
    pub async fn delete_asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        id: &str,
    ) -> Result<Asset> {
        let (owner, _) = self.space_in_scope(principal, customer, space).await?;
        if !validate::storable(id) {
            return Err(asset_missing(customer, space, id));
        }
        let txn = self.begin_write().await?;
        let current = self
            .find_asset(&txn, owner.id, space, id)
            .await?
            .ok_or_else(|| asset_missing(customer, space, id))?;
        queue::forget_asset(&txn, owner.id, space, id).await?;
        crate::annotations::delete_for_asset(&txn, &current).await?;
        asset_tag::Entity::delete_many()
            .filter(asset_tag::Column::CustomerId.eq(owner.id))
            .filter(asset_tag::Column::SpaceId.eq(space))
            .filter(asset_tag::Column::AssetId.eq(id))
            .exec(&txn)
            .await?;
        crate::entities::asset_field::Entity::delete_many()
            .filter(crate::entities::asset_field::Column::CustomerId.eq(owner.id))
            .filter(crate::entities::asset_field::Column::SpaceId.eq(space))
            .filter(crate::entities::asset_field::Column::AssetId.eq(id))
            .exec(&txn)
            .await?;
        let deleted = asset::Entity::delete_by_id((owner.id, space, id.to_owned()))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(asset_missing(customer, space, id));
        }
        txn.commit().await?;
        Asset::from_row(current, &owner.name)
    }
}
