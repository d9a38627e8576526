//! What background work and delivery need of assets: lookups without a principal (delivery's
//! access rules are the auth layer's) and the state changes of processing.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, IntoActiveModel, QueryFilter, Set};

use crate::entities::{asset, customer, space};
use crate::error::{Error, Result};
use crate::model::{Asset, AssetStatus, encode_list};
use crate::{Domain, validate};

/// What processing learnt about an image and stored for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageFacts {
    pub width: i32,
    pub height: i32,
    pub pyramid_levels: i32,
    pub tile_size: i32,
    /// Longest-edge sizes of the stored thumbnails.
    pub thumbnail_sizes: Vec<i32>,
    pub bytes_stored: i64,
}

/// Longest error text kept on an asset.
const MAX_ERROR_CHARS: usize = 2000;

impl Domain {
    /// An asset by its public address, for delivery. NOT_FOUND when the customer, space or
    /// asset does not exist.
    pub async fn delivered_asset(&self, customer: &str, space: i32, id: &str) -> Result<Asset> {
        let missing = || Error::not_found(format!("no asset {customer}/{space}/{id}"));
        if !validate::storable(customer) || !validate::storable(id) {
            return Err(missing());
        }
        let owner = customer::Entity::find()
            .filter(customer::Column::Name.eq(customer))
            .one(self.db())
            .await?
            .ok_or_else(missing)?;
        let row = asset::Entity::find_by_id((owner.id, space, id.to_owned()))
            .one(self.db())
            .await?
            .ok_or_else(missing)?;
        Asset::from_row(row, &owner.name)
    }

    async fn asset_row(&self, asset: &Asset) -> Result<asset::Model> {
        asset::Entity::find_by_id((asset.customer_id, asset.space, asset.id.clone()))
            .one(self.db())
            .await?
            .ok_or_else(|| Error::not_found(format!("asset {} was deleted", asset.id)))
    }

    /// The thumbnail sizes of a space (longest edges).
    pub async fn space_thumbnail_sizes(&self, customer_id: i32, space: i32) -> Result<Vec<i32>> {
        let row = space::Entity::find_by_id((customer_id, space))
            .one(self.db())
            .await?
            .ok_or_else(|| Error::not_found(format!("space {space} was deleted")))?;
        crate::model::decode_list(&row.thumbnail_sizes)
    }

    /// Marks an asset as being processed.
    pub async fn mark_ingesting(&self, asset: &Asset) -> Result<Asset> {
        let mut row = self.asset_row(asset).await?.into_active_model();
        row.status = Set(AssetStatus::Ingesting.as_str().to_owned());
        row.error = Set(None);
        row.finished = Set(None);
        Asset::from_row(row.update(self.db()).await?, &asset.customer)
    }

    /// Records a processed image: READY, with its size and derivatives.
    pub async fn complete_image(&self, asset: &Asset, facts: ImageFacts) -> Result<Asset> {
        let mut row = self.asset_row(asset).await?.into_active_model();
        row.status = Set(AssetStatus::Ready.as_str().to_owned());
        row.error = Set(None);
        row.finished = Set(Some(Utc::now()));
        row.width = Set(Some(facts.width));
        row.height = Set(Some(facts.height));
        row.pyramid_levels = Set(Some(facts.pyramid_levels));
        row.tile_size = Set(Some(facts.tile_size));
        row.thumbnail_sizes = Set(Some(encode_list(&facts.thumbnail_sizes)));
        row.bytes_stored = Set(Some(facts.bytes_stored));
        Asset::from_row(row.update(self.db()).await?, &asset.customer)
    }

    /// Records a failed processing: ERROR, with the reason.
    pub async fn fail_processing(&self, asset: &Asset, reason: &str) -> Result<Asset> {
        let mut row = self.asset_row(asset).await?.into_active_model();
        let reason: String = reason
            .chars()
            .filter(|c| !c.is_control() || *c == '\n')
            .take(MAX_ERROR_CHARS)
            .collect();
        row.status = Set(AssetStatus::Error.as_str().to_owned());
        row.error = Set(Some(reason));
        row.finished = Set(Some(Utc::now()));
        Asset::from_row(row.update(self.db()).await?, &asset.customer)
    }
}
