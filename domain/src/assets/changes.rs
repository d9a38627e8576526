//! Changes to registered assets: patches (which queue processing again only when what the
//! derivatives are made from changes), reprocessing on request, and the media type a worker
//! infers for an asset registered without one.

use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter, Set,
};

use super::{References, ReferencesPatch, asset_missing, write_tags};
use crate::entities::{asset, customer};
use crate::error::Result;
use crate::fields::{self, FieldDefinition, FieldValue};
use crate::model::{Asset, AssetFamily, AssetStatus, encode_list};
use crate::queue::{self, JobKind};
use crate::{Domain, Principal, validate};

/// Changes to an asset: `None` leaves a field alone; each reference is kept, cleared or set.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetPatch {
    pub media_type: Option<String>,
    pub origin: Option<String>,
    pub references: ReferencesPatch,
    pub tags: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub max_unauthorised: Option<i32>,
    /// Descriptive field values to set: each replaces its field's values, and a field given
    /// with no values is cleared. Fields not named are kept.
    pub fields: Vec<FieldValue>,
    pub published: Option<bool>,
}

impl Domain {
    /// Changes only the fields the patch names.
    pub async fn update_asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        id: &str,
        patch: AssetPatch,
    ) -> Result<Asset> {
        let (owner, space_row) = self.space_in_scope(principal, customer, space).await?;
        let declared: Vec<FieldDefinition> = fields::decode(space_row.fields.as_deref())?;
        let txn = self.begin_write().await?;
        let updated = self
            .patch_row(&txn, &owner, &declared, space, id, patch)
            .await?;
        txn.commit().await?;
        Asset::from_row(updated, &owner.name)
    }

    /// Changes several assets of a space, all or none: when any patch names no asset or
    /// holds a bad value, nothing is written and every problem is returned, by index.
    pub async fn update_assets(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        patches: Vec<(String, AssetPatch)>,
    ) -> Result<std::result::Result<Vec<Asset>, Vec<crate::MemberProblem>>> {
        let (owner, space_row) = self.space_in_scope(principal, customer, space).await?;
        let declared: Vec<FieldDefinition> = fields::decode(space_row.fields.as_deref())?;
        let txn = self.begin_write().await?;
        let mut updated = Vec::with_capacity(patches.len());
        let mut problems = Vec::new();
        for (index, (id, patch)) in patches.into_iter().enumerate() {
            match self
                .patch_row(&txn, &owner, &declared, space, &id, patch)
                .await
            {
                Ok(row) => updated.push(row),
                Err(error) => problems.push(crate::MemberProblem {
                    index,
                    field: None,
                    field_key: None,
                    error,
                }),
            }
        }
        if !problems.is_empty() {
            // dropped without a commit: nothing of this call is written
            return Ok(Err(problems));
        }
        txn.commit().await?;
        let assets = updated
            .into_iter()
            .map(|row| Asset::from_row(row, &owner.name))
            .collect::<Result<Vec<_>>>()?;
        Ok(Ok(assets))
    }

    /// Applies a patch to one asset inside a transaction, queueing it again when what its
    /// derivatives are made from changes.
    async fn patch_row(
        &self,
        txn: &impl ConnectionTrait,
        owner: &customer::Model,
        declared: &[FieldDefinition],
        space: i32,
        id: &str,
        patch: AssetPatch,
    ) -> Result<asset::Model> {
        let current = self
            .find_asset(txn, owner.id, space, id)
            .await?
            .ok_or_else(|| asset_missing(&owner.name, space, id))?;
        // only what the derivatives are made from needs them made again; roles and open sizes
        // are decided when content is requested
        let reprocess = patch
            .media_type
            .as_ref()
            .is_some_and(|media_type| *media_type != current.media_type)
            || patch
                .origin
                .as_ref()
                .is_some_and(|origin| Some(origin) != current.origin.as_ref());
        patch.references.validate()?;
        let references = patch.references.applied_to(References::of_row(&current));
        let new_fields = if patch.fields.is_empty() {
            None
        } else {
            let held: Vec<FieldValue> = fields::decode(current.fields.as_deref())?;
            Some(fields::apply_values(declared, &held, &patch.fields, true)?)
        };
        let mut row = current.into_active_model();
        if let Some(values) = &new_fields {
            row.fields = Set(fields::encode(values));
        }
        if let Some(published) = patch.published {
            row.published = Set(published);
        }
        references.set_on(&mut row);
        if let Some(media_type) = patch.media_type {
            validate::media_type(&media_type)?;
            row.family = Set(AssetFamily::of_media_type(&media_type).as_str().to_owned());
            row.media_type = Set(media_type);
        }
        if let Some(origin) = patch.origin {
            validate::origin(&origin)?;
            row.origin = Set(Some(origin));
        }
        if let Some(roles) = patch.roles {
            row.roles = Set(encode_list(&validate::labels("roles", &roles)?));
        }
        if let Some(max_unauthorised) = patch.max_unauthorised {
            validate::max_unauthorised(max_unauthorised)?;
            row.max_unauthorised = Set(max_unauthorised);
        }
        let new_tags = patch
            .tags
            .map(|tags| validate::labels("tags", &tags))
            .transpose()?;
        if let Some(tags) = &new_tags {
            row.tags = Set(encode_list(tags));
        }
        if reprocess {
            row.status = Set(AssetStatus::Waiting.as_str().to_owned());
            row.error = Set(None);
            row.finished = Set(None);
        }
        let updated = row.update(txn).await?;
        if let Some(tags) = &new_tags {
            write_tags(txn, &updated, tags).await?;
        }
        if new_fields.is_some() {
            fields::write_index(txn, &updated).await?;
        }
        if reprocess {
            self.queue_again(txn, &updated).await?;
        }
        Ok(updated)
    }

    /// Processes an asset again from its master: WAITING until a worker takes it.
    pub async fn reingest_asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        id: &str,
    ) -> Result<Asset> {
        let (owner, _) = self.space_in_scope(principal, customer, space).await?;
        let txn = self.begin_write().await?;
        let current = self
            .find_asset(&txn, owner.id, space, id)
            .await?
            .ok_or_else(|| asset_missing(customer, space, id))?;
        let mut row = current.into_active_model();
        row.status = Set(AssetStatus::Waiting.as_str().to_owned());
        row.error = Set(None);
        row.finished = Set(None);
        let updated = row.update(&txn).await?;
        self.queue_again(&txn, &updated).await?;
        txn.commit().await?;
        Asset::from_row(updated, &owner.name)
    }

    /// Records the media type read from the bytes of an asset registered without one (a
    /// worker's call); a media type set meanwhile by its owner is kept.
    pub async fn record_inferred_media_type(
        &self,
        customer_id: i32,
        space: i32,
        id: &str,
        media_type: &str,
    ) -> Result<()> {
        validate::media_type(media_type)?;
        asset::Entity::update_many()
            .col_expr(asset::Column::MediaType, media_type.into())
            .col_expr(
                asset::Column::Family,
                AssetFamily::of_media_type(media_type).as_str().into(),
            )
            .filter(asset::Column::CustomerId.eq(customer_id))
            .filter(asset::Column::SpaceId.eq(space))
            .filter(asset::Column::Id.eq(id))
            .filter(asset::Column::MediaType.eq(""))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Queues an existing asset's processing again (from its origin, or its stored upload).
    async fn queue_again(
        &self,
        connection: &impl ConnectionTrait,
        row: &asset::Model,
    ) -> Result<()> {
        let max_attempts = self.queue_settings().max_attempts;
        queue::enqueue(connection, row, ingest_kind(row), None, max_attempts).await?;
        Ok(())
    }
}

/// Assets with an origin are fetched from it again; uploaded ones without one are rebuilt from
/// their stored master.
pub(crate) fn ingest_kind(row: &asset::Model) -> JobKind {
    if row.origin.is_some() {
        JobKind::Ingest
    } else {
        JobKind::IngestStoredMaster
    }
}
