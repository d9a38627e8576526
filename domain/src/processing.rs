//! What background work and delivery need of assets: lookups without a principal (delivery's
//! access rules are the auth layer's) and the state changes of processing.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::entities::{asset, customer, space};
use crate::error::{Error, Result};
use crate::model::Asset;
use crate::{Domain, validate};

impl Domain {
    /// An asset by its public address, for delivery. NOT_FOUND when the customer, space or
    /// asset does not exist.
    pub async fn delivered_asset(&self, customer: &str, space: i32, id: &str) -> Result<Asset> {
        let owner = self.public_customer(customer).await.map_err(|error| {
            if error.kind == crate::ErrorKind::NotFound {
                Error::not_found(format!("no asset {customer}/{space}/{id}"))
            } else {
                error
            }
        })?;
        self.public_asset(&owner, space, id).await
    }

    /// An asset by its public address, for visitors: NOT_FOUND also when it or its space is
    /// unpublished, so that its existence is not revealed.
    pub async fn visible_asset(&self, customer: &str, space: i32, id: &str) -> Result<Asset> {
        let missing = || Error::not_found(format!("no asset {customer}/{space}/{id}"));
        let owner = match self.public_customer(customer).await {
            Err(error) if error.kind == crate::ErrorKind::NotFound => return Err(missing()),
            found => found?,
        };
        self.public_space(&owner, space).await.map_err(|error| {
            if error.kind == crate::ErrorKind::NotFound {
                missing()
            } else {
                error
            }
        })?;
        let asset = self.public_asset(&owner, space, id).await?;
        if asset.published {
            Ok(asset)
        } else {
            Err(missing())
        }
    }

    /// A published space of a customer, for visitors: an unpublished one is not revealed.
    pub(crate) async fn public_space(
        &self,
        owner: &customer::Model,
        space: i32,
    ) -> Result<space::Model> {
        space::Entity::find_by_id((owner.id, space))
            .one(self.db())
            .await?
            .filter(|row| row.published)
            .ok_or_else(|| Error::not_found(format!("no space {}/{space}", owner.name)))
    }

    /// A customer by name, for public documents and delivery.
    pub(crate) async fn public_customer(&self, name: &str) -> Result<customer::Model> {
        let missing = || Error::not_found(format!("no customer {name}"));
        if !validate::storable(name) {
            return Err(missing());
        }
        customer::Entity::find()
            .filter(customer::Column::Name.eq(name))
            .one(self.db())
            .await?
            .ok_or_else(missing)
    }

    /// One of a customer's assets by its space and id, whatever its status.
    pub(crate) async fn public_asset(
        &self,
        owner: &customer::Model,
        space: i32,
        id: &str,
    ) -> Result<Asset> {
        let missing = || Error::not_found(format!("no asset {}/{space}/{id}", owner.name));
        if !validate::storable(id) {
            return Err(missing());
        }
        let row = asset::Entity::find_by_id((owner.id, space, id.to_owned()))
            .one(self.db())
            .await?
            .ok_or_else(missing)?;
        Asset::from_row(row, &owner.name)
    }

    /// The thumbnail sizes of a space (longest edges).
    pub async fn space_thumbnail_sizes(&self, customer_id: i32, space: i32) -> Result<Vec<i32>> {
        let row = space::Entity::find_by_id((customer_id, space))
            .one(self.db())
            .await?
            .ok_or_else(|| Error::not_found(format!("space {space} was deleted")))?;
        crate::model::decode_list(&row.thumbnail_sizes)
    }

    /// Every asset of a space with the version of its stored derivatives (a worker's call:
    /// the orphan sweep tells an asset's objects from those nothing refers to any more).
    pub async fn stored_asset_versions(
        &self,
        customer_id: i32,
        space: i32,
    ) -> Result<Vec<(String, Option<String>)>> {
        use sea_orm::QuerySelect;
        let rows: Vec<(String, Option<String>)> = asset::Entity::find()
            .select_only()
            .column(asset::Column::Id)
            .column(asset::Column::Derivatives)
            .filter(asset::Column::CustomerId.eq(customer_id))
            .filter(asset::Column::SpaceId.eq(space))
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows)
    }
}
