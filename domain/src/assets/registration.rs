//! Registering assets: from an origin, with an uploaded master, or put whole over an existing
//! one; and the checked record a registration becomes, with the space's defaults applied.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, IntoActiveModel};

use super::{References, write_tags};
use crate::entities::{asset, customer, space};
use crate::error::{Error, Result};
use crate::fields::{self, FieldDefinition, FieldValue};
use crate::model::{Asset, AssetFamily, AssetStatus, decode_list, encode_list};
use crate::queue::{self, JobKind};
use crate::{Domain, Principal, validate};

/// A registration: what the user says about a master. Unset list and access fields take the
/// space's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetInput {
    pub id: String,
    pub media_type: String,
    pub origin: Option<String>,
    pub references: References,
    pub tags: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub max_unauthorised: Option<i32>,
    /// Descriptive field values, checked against the space's declaration.
    pub fields: Vec<FieldValue>,
    /// Whether visitors can see it once ready (the default).
    pub published: Option<bool>,
}

/// A new asset id for a registration that names none: a random UUID, as DLCS assigns.
pub fn new_asset_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Domain {
    /// Records a new asset in a space with status WAITING.
    pub async fn register_asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        input: AssetInput,
    ) -> Result<Asset> {
        if input.origin.is_none() {
            // checked after access, so a refused caller learns nothing
            self.space_in_scope(principal, customer, space).await?;
            return Err(origin_required());
        }
        self.record_asset(principal, customer, space, input, JobKind::Ingest)
            .await
    }

    /// Records an asset whose master arrives with the call (an upload): the origin is optional
    /// and only noted. Its job reads the master from storage, where the caller puts it.
    pub async fn register_uploaded_asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        input: AssetInput,
    ) -> Result<Asset> {
        self.record_asset(
            principal,
            customer,
            space,
            input,
            JobKind::IngestStoredMaster,
        )
        .await
    }

    async fn record_asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        input: AssetInput,
        kind: JobKind,
    ) -> Result<Asset> {
        let (owner, space_row) = self.space_in_scope(principal, customer, space).await?;
        let (row, tags) = prepared_row(&space_row, input, Utc::now())?;
        fields::check_required(&space_row, &row)?;
        let txn = self.begin_write().await?;
        let inserted = self.insert_asset(&txn, &owner, row, &tags, kind).await?;
        txn.commit().await?;
        Asset::from_row(inserted, &owner.name)
    }

    /// Inserts a new asset's row, its tags and its job inside a transaction; CONFLICT when the
    /// space has an asset with its id.
    async fn insert_asset(
        &self,
        txn: &impl ConnectionTrait,
        owner: &customer::Model,
        row: asset::Model,
        tags: &[String],
        kind: JobKind,
    ) -> Result<asset::Model> {
        let id = row.id.clone();
        self.check_quota(txn, owner.id, 1).await?;
        if self
            .find_asset(txn, owner.id, row.space_id, &id)
            .await?
            .is_some()
        {
            return Err(asset_exists(&id));
        }
        let inserted = match row.into_active_model().insert(txn).await {
            Ok(inserted) => inserted,
            Err(error) if Error::is_unique_violation(&error) => {
                return Err(asset_exists(&id));
            }
            Err(error) => return Err(error.into()),
        };
        write_tags(txn, &inserted, tags).await?;
        fields::write_index(txn, &inserted).await?;
        queue::enqueue(
            txn,
            &inserted,
            kind,
            None,
            self.queue_settings().max_attempts,
        )
        .await?;
        Ok(inserted)
    }

    /// Registers an asset, or when the space has one with its id already, replaces every field
    /// of it with the input's and processes it again (a PUT of a whole asset). Says whether it
    /// was created. What the last processing made stays served until the new one ends.
    pub async fn put_asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        input: AssetInput,
    ) -> Result<(Asset, bool)> {
        let (owner, space_row) = self.space_in_scope(principal, customer, space).await?;
        if input.origin.is_none() {
            return Err(origin_required());
        }
        let publication = input.published;
        let (row, tags) = prepared_row(&space_row, input, Utc::now())?;
        // a PUT that finds no asset may lose the insert to a concurrent PUT of the same id
        // (PostgreSQL reads committed rows only): it then replaces what that one created
        let mut lost_race = false;
        loop {
            let txn = self.begin_write().await?;
            let Some(current) = self.find_asset(&txn, owner.id, space, &row.id).await? else {
                fields::check_required(&space_row, &row)?;
                let inserted = self
                    .insert_asset(&txn, &owner, row.clone(), &tags, JobKind::Ingest)
                    .await;
                match inserted {
                    Ok(inserted) => {
                        txn.commit().await?;
                        return Ok((Asset::from_row(inserted, &owner.name)?, true));
                    }
                    Err(error) if error.kind == crate::ErrorKind::Conflict && !lost_race => {
                        lost_race = true;
                        continue;
                    }
                    Err(error) => return Err(error),
                }
            };
            let mut row = row;
            row.created = current.created;
            // a job still running for a batch stays that batch's (see queue::enqueue): so
            // does the asset's link to it
            row.batch_id = current.batch_id;
            let replaced = replace_row(&txn, row, publication).await?;
            write_tags(&txn, &replaced, &tags).await?;
            fields::write_index(&txn, &replaced).await?;
            queue::enqueue(
                &txn,
                &replaced,
                JobKind::Ingest,
                None,
                self.queue_settings().max_attempts,
            )
            .await?;
            txn.commit().await?;
            return Ok((Asset::from_row(replaced, &owner.name)?, false));
        }
    }
}

/// A registration from an origin that names none.
pub(crate) fn origin_required() -> Error {
    Error::new(
        crate::ErrorKind::InvalidOrigin,
        "origin is required to register an asset",
    )
}

/// The record of a registration, checked, with the space's defaults applied, and its tags.
pub(crate) fn prepared_row(
    space_row: &space::Model,
    input: AssetInput,
    now: chrono::DateTime<Utc>,
) -> Result<(asset::Model, Vec<String>)> {
    validate::asset_id(&input.id)?;
    validate::declared_media_type(&input.media_type)?;
    if let Some(origin) = &input.origin {
        validate::origin(origin)?;
    }
    input.references.validate()?;
    let tags = match input.tags {
        Some(tags) => validate::labels("tags", &tags)?,
        None => decode_list(&space_row.default_tags)?,
    };
    let roles = match input.roles {
        Some(roles) => validate::labels("roles", &roles)?,
        None => decode_list(&space_row.default_roles)?,
    };
    let max_unauthorised = input
        .max_unauthorised
        .unwrap_or(space_row.default_max_unauthorised);
    validate::max_unauthorised(max_unauthorised)?;
    // required fields are checked once it is known whether the asset is new: a registration
    // that gives no values keeps an existing asset's
    let declared: Vec<FieldDefinition> = fields::decode(space_row.fields.as_deref())?;
    let values = fields::apply_values(&declared, &[], &input.fields, !input.fields.is_empty())?;
    let references = input.references;
    let row = asset::Model {
        customer_id: space_row.customer_id,
        space_id: space_row.id,
        id: input.id,
        family: AssetFamily::of_media_type(&input.media_type)
            .as_str()
            .to_owned(),
        media_type: input.media_type,
        origin: input.origin,
        string1: references.string1,
        string2: references.string2,
        string3: references.string3,
        number1: references.number1,
        number2: references.number2,
        number3: references.number3,
        tags: encode_list(&tags),
        roles: encode_list(&roles),
        max_unauthorised,
        width: None,
        height: None,
        duration: None,
        status: AssetStatus::Waiting.as_str().to_owned(),
        error: None,
        batch_id: None,
        created: now,
        finished: None,
        pyramid_levels: None,
        tile_size: None,
        thumbnail_sizes: None,
        bytes_stored: None,
        derivatives: None,
        fields: fields::encode(&values),
        published: input.published.unwrap_or(true),
    };
    Ok((row, tags))
}

/// Writes every field of an existing asset's row but what its last processing made, which
/// stays served until the new processing ends; its publication only when the registration
/// gives one (`publication`), its descriptive values only when it gives some.
pub(crate) async fn replace_row(
    connection: &impl ConnectionTrait,
    row: asset::Model,
    publication: Option<bool>,
) -> Result<asset::Model> {
    use sea_orm::ActiveValue::{NotSet, Unchanged};
    let mut update = row.clone().into_active_model().reset_all();
    update.customer_id = Unchanged(row.customer_id);
    update.space_id = Unchanged(row.space_id);
    update.id = Unchanged(row.id);
    update.width = NotSet;
    update.height = NotSet;
    update.duration = NotSet;
    update.pyramid_levels = NotSet;
    update.tile_size = NotSet;
    update.thumbnail_sizes = NotSet;
    update.bytes_stored = NotSet;
    update.derivatives = NotSet;
    // a registration that gives no descriptive values keeps the asset's (a DLCS client knows
    // none), and one that does not say whether it is published keeps its publication
    if row.fields.is_none() {
        update.fields = NotSet;
    }
    if publication.is_none() {
        update.published = NotSet;
    }
    match update.update(connection).await {
        Ok(row) => Ok(row),
        // deleted by another request since it was read
        Err(sea_orm::DbErr::RecordNotUpdated) => Err(Error::not_found(
            "the asset was deleted while it was being replaced",
        )),
        Err(error) => Err(error.into()),
    }
}

fn asset_exists(id: &str) -> Error {
    Error::conflict(format!(
        "an asset with id {id:?} already exists in this space"
    ))
}
