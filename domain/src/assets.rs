//! Assets: registration, changes, deletion, and listing with filters and orderings.

use chrono::Utc;
use sea_orm::sea_query::{NullOrdering, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::entities::{asset, asset_tag, customer, space};
use crate::error::{Error, Result};
use crate::model::{Asset, AssetFamily, AssetStatus, decode_list, encode_list};
use crate::paging::{Page, PageRequest};
use crate::queue::{self, JobKind};
use crate::{Domain, Principal, validate};

/// A registration: what the user says about a master. Unset list and access fields take the
/// space's defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetInput {
    pub id: String,
    pub media_type: String,
    pub origin: Option<String>,
    pub string1: Option<String>,
    pub string2: Option<String>,
    pub string3: Option<String>,
    pub number1: Option<i64>,
    pub number2: Option<i64>,
    pub number3: Option<i64>,
    pub tags: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub max_unauthorised: Option<i32>,
}

/// Changes to an asset. Outer `None` leaves a field alone; for the optional fields
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetPatch {
    pub media_type: Option<String>,
    pub origin: Option<String>,
    pub string1: Option<Option<String>>,
    pub string2: Option<Option<String>>,
    pub string3: Option<Option<String>>,
    pub number1: Option<Option<i64>>,
    pub number2: Option<Option<i64>>,
    pub number3: Option<Option<i64>>,
    pub tags: Option<Vec<String>>,
    pub roles: Option<Vec<String>>,
    pub max_unauthorised: Option<i32>,
}

/// Exact-match filters on a space's assets; every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetFilter {
    pub string1: Option<String>,
    pub string2: Option<String>,
    pub string3: Option<String>,
    pub number1: Option<i64>,
    pub number2: Option<i64>,
    pub number3: Option<i64>,
    pub tag: Option<String>,
    /// Assets carrying every one of these tags (as well as `tag`).
    pub tags: Vec<String>,
    pub status: Option<AssetStatus>,
    pub media_type: Option<String>,
}

impl AssetFilter {
    fn validate(&self) -> Result<()> {
        let texts = [
            &self.string1,
            &self.string2,
            &self.string3,
            &self.tag,
            &self.media_type,
        ];
        if texts
            .into_iter()
            .flatten()
            .chain(&self.tags)
            .any(|text| !validate::storable(text))
        {
            return Err(Error::invalid_input(
                "filters must not contain NUL characters",
            ));
        }
        Ok(())
    }
}

/// What to order a listing by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AssetOrderField {
    #[default]
    Id,
    Created,
    String1,
    String2,
    String3,
    Number1,
    Number2,
    Number3,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// An ordering; ties (and missing values, which sort last) fall back to the id.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssetOrder {
    pub field: AssetOrderField,
    pub direction: SortDirection,
}

impl AssetOrderField {
    fn column(self) -> asset::Column {
        match self {
            AssetOrderField::Id => asset::Column::Id,
            AssetOrderField::Created => asset::Column::Created,
            AssetOrderField::String1 => asset::Column::String1,
            AssetOrderField::String2 => asset::Column::String2,
            AssetOrderField::String3 => asset::Column::String3,
            AssetOrderField::Number1 => asset::Column::Number1,
            AssetOrderField::Number2 => asset::Column::Number2,
            AssetOrderField::Number3 => asset::Column::Number3,
        }
    }
}

fn validate_references(fields: [(&str, Option<&String>); 3]) -> Result<()> {
    for (name, value) in fields {
        if let Some(value) = value {
            validate::reference(name, value)?;
        }
    }
    Ok(())
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
            let message = "origin is required to register an asset";
            return Err(Error::new(crate::ErrorKind::InvalidOrigin, message));
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
        let id = row.id.clone();
        let txn = self.begin_write().await?;
        self.check_quota(&txn, owner.id, 1).await?;
        if self.find_asset(&txn, owner.id, space, &id).await?.is_some() {
            return Err(asset_exists(&id));
        }
        let inserted = match row.into_active_model().insert(&txn).await {
            Ok(inserted) => inserted,
            Err(error) if Error::is_unique_violation(&error) => {
                return Err(asset_exists(&id));
            }
            Err(error) => return Err(error.into()),
        };
        write_tags(&txn, &inserted, &tags).await?;
        queue::enqueue(
            &txn,
            &inserted,
            kind,
            None,
            self.queue_settings().max_attempts,
        )
        .await?;
        txn.commit().await?;
        Asset::from_row(inserted, &owner.name)
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
            let message = "origin is required to register an asset";
            return Err(Error::new(crate::ErrorKind::InvalidOrigin, message));
        }
        let txn = self.begin_write().await?;
        let Some(current) = self.find_asset(&txn, owner.id, space, &input.id).await? else {
            drop(txn);
            let created = self
                .record_asset(principal, customer, space, input, JobKind::Ingest)
                .await?;
            return Ok((created, true));
        };
        let (mut row, tags) = prepared_row(&space_row, input, Utc::now())?;
        row.created = current.created;
        let replaced = replace_row(&txn, row).await?;
        write_tags(&txn, &replaced, &tags).await?;
        queue::enqueue(
            &txn,
            &replaced,
            JobKind::Ingest,
            None,
            self.queue_settings().max_attempts,
        )
        .await?;
        txn.commit().await?;
        Ok((Asset::from_row(replaced, &owner.name)?, false))
    }

    /// Changes only the fields the patch names.
    pub async fn update_asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        id: &str,
        patch: AssetPatch,
    ) -> Result<Asset> {
        let (owner, _) = self.space_in_scope(principal, customer, space).await?;
        let txn = self.begin_write().await?;
        let current = self
            .find_asset(&txn, owner.id, space, id)
            .await?
            .ok_or_else(|| asset_missing(customer, space, id))?;
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
        let mut row = current.into_active_model();
        if let Some(media_type) = patch.media_type {
            validate::media_type(&media_type)?;
            row.family = Set(AssetFamily::of_media_type(&media_type).as_str().to_owned());
            row.media_type = Set(media_type);
        }
        if let Some(origin) = patch.origin {
            validate::origin(&origin)?;
            row.origin = Set(Some(origin));
        }
        validate_references([
            ("string1", patch.string1.as_ref().and_then(Option::as_ref)),
            ("string2", patch.string2.as_ref().and_then(Option::as_ref)),
            ("string3", patch.string3.as_ref().and_then(Option::as_ref)),
        ])?;
        if let Some(value) = patch.string1 {
            row.string1 = Set(value);
        }
        if let Some(value) = patch.string2 {
            row.string2 = Set(value);
        }
        if let Some(value) = patch.string3 {
            row.string3 = Set(value);
        }
        if let Some(value) = patch.number1 {
            row.number1 = Set(value);
        }
        if let Some(value) = patch.number2 {
            row.number2 = Set(value);
        }
        if let Some(value) = patch.number3 {
            row.number3 = Set(value);
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
        let updated = row.update(&txn).await?;
        if let Some(tags) = &new_tags {
            write_tags(&txn, &updated, tags).await?;
        }
        if reprocess {
            self.queue_again(&txn, &updated).await?;
        }
        txn.commit().await?;
        Asset::from_row(updated, &owner.name)
    }

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
        let deleted = asset::Entity::delete_by_id((owner.id, space, id.to_owned()))
            .exec(&txn)
            .await?;
        if deleted.rows_affected == 0 {
            return Err(asset_missing(customer, space, id));
        }
        txn.commit().await?;
        Asset::from_row(current, &owner.name)
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

    /// One asset.
    pub async fn asset(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        id: &str,
    ) -> Result<Asset> {
        let (owner, _) = self.space_in_scope(principal, customer, space).await?;
        let row = self
            .find_asset(self.db(), owner.id, space, id)
            .await?
            .ok_or_else(|| asset_missing(customer, space, id))?;
        Asset::from_row(row, &owner.name)
    }

    /// A page of a space's assets matching a filter, in an order.
    pub async fn assets(
        &self,
        principal: &Principal,
        customer: &str,
        space: i32,
        filter: &AssetFilter,
        order: AssetOrder,
        page: &PageRequest,
    ) -> Result<Page<Asset>> {
        let (owner, _) = self.space_in_scope(principal, customer, space).await?;
        let window = page.window()?;
        filter.validate()?;
        let query = filtered(&owner, space, filter);
        let total = query.clone().count(self.db()).await?;
        let direction = match order.direction {
            SortDirection::Asc => Order::Asc,
            SortDirection::Desc => Order::Desc,
        };
        let mut ordered =
            query.order_by_with_nulls(order.field.column(), direction, NullOrdering::Last);
        if order.field != AssetOrderField::Id {
            ordered = ordered.order_by_asc(asset::Column::Id);
        }
        let rows = ordered
            .offset(window.offset)
            .limit(window.limit)
            .all(self.db())
            .await?;
        Page::new(window, rows, total).try_map(|row| Asset::from_row(row, &owner.name))
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

fn filtered(
    owner: &customer::Model,
    space: i32,
    filter: &AssetFilter,
) -> sea_orm::Select<asset::Entity> {
    let mut query = asset::Entity::find()
        .filter(asset::Column::CustomerId.eq(owner.id))
        .filter(asset::Column::SpaceId.eq(space));
    let text_filters = [
        (asset::Column::String1, &filter.string1),
        (asset::Column::String2, &filter.string2),
        (asset::Column::String3, &filter.string3),
        (asset::Column::MediaType, &filter.media_type),
    ];
    for (column, value) in text_filters {
        if let Some(value) = value {
            query = query.filter(column.eq(value.as_str()));
        }
    }
    let number_filters = [
        (asset::Column::Number1, filter.number1),
        (asset::Column::Number2, filter.number2),
        (asset::Column::Number3, filter.number3),
    ];
    for (column, value) in number_filters {
        if let Some(value) = value {
            query = query.filter(column.eq(value));
        }
    }
    if let Some(status) = filter.status {
        query = query.filter(asset::Column::Status.eq(status.as_str()));
    }
    for tag in filter.tag.iter().chain(&filter.tags) {
        let tagged = Query::select()
            .column(asset_tag::Column::AssetId)
            .from(asset_tag::Entity)
            .and_where(asset_tag::Column::CustomerId.eq(owner.id))
            .and_where(asset_tag::Column::SpaceId.eq(space))
            .and_where(asset_tag::Column::Tag.eq(tag.as_str()))
            .to_owned();
        query = query.filter(asset::Column::Id.in_subquery(tagged));
    }
    query
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
    validate_references([
        ("string1", input.string1.as_ref()),
        ("string2", input.string2.as_ref()),
        ("string3", input.string3.as_ref()),
    ])?;
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
    let row = asset::Model {
        customer_id: space_row.customer_id,
        space_id: space_row.id,
        id: input.id,
        family: AssetFamily::of_media_type(&input.media_type)
            .as_str()
            .to_owned(),
        media_type: input.media_type,
        origin: input.origin,
        string1: input.string1,
        string2: input.string2,
        string3: input.string3,
        number1: input.number1,
        number2: input.number2,
        number3: input.number3,
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
    };
    Ok((row, tags))
}

/// Assets with an origin are fetched from it again; uploaded ones without one are rebuilt from
/// their stored master.
/// Writes every field of an existing asset's row but what its last processing made, which
/// stays served until the new processing ends.
pub(crate) async fn replace_row(
    connection: &impl ConnectionTrait,
    row: asset::Model,
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
    Ok(update.update(connection).await?)
}

pub(crate) fn ingest_kind(row: &asset::Model) -> JobKind {
    if row.origin.is_some() {
        JobKind::Ingest
    } else {
        JobKind::IngestStoredMaster
    }
}

fn asset_exists(id: &str) -> Error {
    Error::conflict(format!(
        "an asset with id {id:?} already exists in this space"
    ))
}

fn asset_missing(customer: &str, space: i32, id: &str) -> Error {
    Error::not_found(format!(
        "customer {customer:?} has no asset {id:?} in space {space}"
    ))
}
