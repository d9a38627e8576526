//! Batches: many registrations submitted together, checked all-or-nothing, created in one
//! transaction with a job each, and followed member by member until the last one ends.

use std::collections::{BTreeMap, HashMap};

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use crate::assets::{AssetInput, prepared_row, replace_row, write_tags};
use crate::entities::{asset, asset_tag, batch, batch_member, customer, job, space};
use crate::error::{Error, Result};
use crate::fields::{self, FieldDefinition};
use crate::model::AssetStatus;
use crate::paging::{Page, PageRequest};
use crate::queue::{self, JobKind};
use crate::{Domain, Principal, validate};

/// Most members one batch may have; a larger import becomes several batches.
pub const MAX_BATCH_MEMBERS: usize = 10_000;

/// Most members one import (a GraphQL list, a CSV, a REST collection) may have: they are
/// checked and written in one transaction.
pub const MAX_IMPORT_MEMBERS: usize = 100_000;

/// Ids looked up per statement.
const CHUNK: usize = 500;

/// Rows inserted per statement: an asset row binds 27 values, and SQLite allows at most 32,766
/// bound values in one statement (older builds 999... but those are not bundled).
const INSERT_ROWS: usize = 100;

/// One registration of a batch: the asset, its space, and for CSV imports its line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BatchMemberInput {
    pub space: i32,
    pub asset: AssetInput,
    pub line: Option<i32>,
}

/// Why a member cannot be registered: its index in the batch, the field at fault (the
/// GraphQL name: id, mediaType, origin, string1, ..., space), and the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberProblem {
    pub index: usize,
    pub field: Option<&'static str>,
    /// The descriptive field at fault, when `field` is `fields`.
    pub field_key: Option<String>,
    pub error: Error,
}

/// A batch and its counters: `completed` members are READY, `errors` ended in ERROR (or were
/// deleted, cancelled, or taken over by a later batch, which sets `superseded`); a retry takes
/// failed members back out of `errors`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    pub id: i64,
    pub customer: String,
    pub count: i32,
    pub completed: i32,
    pub errors: i32,
    pub superseded: bool,
    pub submitted: chrono::DateTime<Utc>,
    pub finished: Option<chrono::DateTime<Utc>>,
    /// The first batch of the import this one is part of, when the import was larger than
    /// one batch ([`MAX_BATCH_MEMBERS`]); `None` for a batch on its own.
    pub import: Option<i64>,
}

impl Batch {
    pub(crate) fn from_row(row: batch::Model, customer: &str) -> Self {
        Self {
            id: row.id,
            customer: customer.to_owned(),
            count: row.count,
            completed: row.completed,
            errors: row.errors,
            superseded: row.superseded,
            submitted: row.submitted,
            finished: row.finished,
            import: row.import_id,
        }
    }
}

/// What the batches of one import share while they are written.
#[derive(Clone, Copy)]
struct ImportWrite<'a> {
    txn: &'a sea_orm::DatabaseTransaction,
    customer_id: i32,
    existing: &'a HashMap<(i32, String), chrono::DateTime<Utc>>,
    now: chrono::DateTime<Utc>,
}

/// Which of a customer's batches a listing holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchListing {
    /// Every batch, newest first.
    All,
    /// Batches not finished yet, newest first.
    Active,
    /// Finished batches, the most recently finished first.
    Recent,
}

/// What a customer's queue holds now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCounts {
    /// Batches not finished yet.
    pub batches_waiting: u64,
    /// Assets waiting for processing or being processed.
    pub images_waiting: u64,
}

/// A member as it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchMember {
    pub index: i32,
    pub line: Option<i32>,
    pub space: i32,
    pub asset_id: String,
    pub status: AssetStatus,
    pub error: Option<String>,
}

/// Checks one member's fields without the database, each field on its own so every problem is
/// reported with the field it is in.
fn member_field_problems(index: usize, input: &AssetInput) -> Vec<MemberProblem> {
    let mut problems = Vec::new();
    let mut check = |field: &'static str, outcome: Result<()>| {
        if let Err(error) = outcome {
            problems.push(MemberProblem {
                index,
                field: Some(field),
                field_key: None,
                error,
            });
        }
    };
    check("id", validate::asset_id(&input.id));
    check(
        "mediaType",
        validate::declared_media_type(&input.media_type),
    );
    check(
        "origin",
        match &input.origin {
            Some(origin) => validate::origin(origin),
            None => Err(crate::assets::origin_required()),
        },
    );
    for (field, error) in input.references.problems() {
        check(field, Err(error));
    }
    if let Some(tags) = &input.tags {
        check("tags", validate::labels("tags", tags).map(drop));
    }
    if let Some(roles) = &input.roles {
        check("roles", validate::labels("roles", roles).map(drop));
    }
    if let Some(value) = input.max_unauthorised {
        check("maxUnauthorised", validate::max_unauthorised(value));
    }
    problems
}

/// Checks one member's descriptive values against its space's declaration, each field on its
/// own so that every problem names its field; then whether a required field is missing (of a
/// new asset, or of one whose values the member gives).
fn metadata_problems(
    index: usize,
    space: &space::Model,
    input: &AssetInput,
    exists: bool,
) -> Result<Vec<MemberProblem>> {
    let declared: Vec<FieldDefinition> = fields::decode(space.fields.as_deref())?;
    let problem = |key: Option<String>, error| MemberProblem {
        index,
        field: Some("fields"),
        field_key: key,
        error,
    };
    let mut problems = Vec::new();
    for value in &input.fields {
        if let Err(error) = fields::apply_values(&declared, &[], std::slice::from_ref(value), false)
        {
            problems.push(problem(Some(value.key.clone()), error));
        }
    }
    // a member that gives no values keeps an existing asset's
    let complete = !exists || !input.fields.is_empty();
    if problems.is_empty()
        && complete
        && let Err(error) = fields::apply_values(&declared, &[], &input.fields, true)
    {
        problems.push(problem(None, error));
    }
    Ok(problems)
}

/// Every problem of a batch against the customer's spaces: the fields of each member, spaces
/// the customer does not have, and an asset named twice.
fn batch_problems(
    customer: &str,
    spaces: &HashMap<i32, space::Model>,
    members: &[BatchMemberInput],
    existing: &HashMap<(i32, String), chrono::DateTime<Utc>>,
) -> Result<Vec<MemberProblem>> {
    if members.is_empty() {
        return Err(Error::invalid_input("a batch needs at least one member"));
    }
    if members.len() > MAX_IMPORT_MEMBERS {
        return Err(Error::invalid_input(format!(
            "an import has at most {MAX_IMPORT_MEMBERS} members, this one has {}",
            members.len()
        )));
    }
    let mut problems = Vec::new();
    let mut seen: HashMap<(i32, &str), usize> = HashMap::new();
    for (index, member) in members.iter().enumerate() {
        problems.extend(member_field_problems(index, &member.asset));
        if let Some(space) = spaces.get(&member.space) {
            let exists = existing.contains_key(&(member.space, member.asset.id.clone()));
            problems.extend(metadata_problems(index, space, &member.asset, exists)?);
        } else {
            problems.push(MemberProblem {
                index,
                field: Some("space"),
                field_key: None,
                error: Error::not_found(format!(
                    "customer {customer:?} has no space {}",
                    member.space
                )),
            });
        }
        if let Some(first) = seen.insert((member.space, member.asset.id.as_str()), index) {
            problems.push(MemberProblem {
                index,
                field: Some("id"),
                field_key: None,
                error: Error::conflict(format!(
                    "asset {:?} of space {} is also member {first} of this batch",
                    member.asset.id, member.space
                )),
            });
        }
    }
    Ok(problems)
}

impl Domain {
    /// Every problem of a batch, before anything is written: the fields of each member, spaces
    /// the customer does not have, and an asset named twice. Empty when the batch is valid.
    pub async fn check_batch(
        &self,
        principal: &Principal,
        customer: &str,
        members: &[BatchMemberInput],
    ) -> Result<Vec<MemberProblem>> {
        let (owner, spaces) = self.batch_scope(principal, customer).await?;
        let existing = existing_assets(self.db(), owner.id, members).await?;
        batch_problems(customer, &spaces, members, &existing)
    }

    /// The customer and its spaces by number: what checking and creating a batch read.
    async fn batch_scope(
        &self,
        principal: &Principal,
        customer: &str,
    ) -> Result<(customer::Model, HashMap<i32, space::Model>)> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let spaces = space::Entity::find()
            .filter(space::Column::CustomerId.eq(owner.id))
            .all(self.db())
            .await?
            .into_iter()
            .map(|row| (row.id, row))
            .collect();
        Ok((owner, spaces))
    }

    /// Creates a batch when every member is valid: new assets are registered, existing ones
    /// take the member's fields and are processed again, each gets a job, all in one
    /// transaction. More members than one batch holds ([`MAX_BATCH_MEMBERS`]) make several
    /// batches of one import, in order, each naming the first. When any member is invalid
    /// nothing is written and every problem is returned.
    pub async fn create_batch(
        &self,
        principal: &Principal,
        customer: &str,
        members: Vec<BatchMemberInput>,
    ) -> Result<std::result::Result<Vec<Batch>, Vec<MemberProblem>>> {
        let (owner, space_rows) = self.batch_scope(principal, customer).await?;
        // which members exist decides both their checks and how they are written: read once,
        // inside the transaction that writes them (dropping it writes nothing)
        let txn = self.begin_write().await?;
        let existing = existing_assets(&txn, owner.id, &members).await?;
        let problems = batch_problems(customer, &space_rows, &members, &existing)?;
        if !problems.is_empty() {
            return Ok(Err(problems));
        }
        let now = Utc::now();
        let mut prepared = Vec::with_capacity(members.len());
        for member in &members {
            let space_row = space_rows
                .get(&member.space)
                .ok_or_else(|| Error::not_found(format!("space {} was deleted", member.space)))?;
            prepared.push(prepared_row(space_row, member.asset.clone(), now)?);
        }
        let new_assets = members.len() - existing.len();
        self.check_quota(&txn, owner.id, new_assets as u64).await?;
        let split = members.len() > MAX_BATCH_MEMBERS;
        let writing = ImportWrite {
            txn: &txn,
            customer_id: owner.id,
            existing: &existing,
            now,
        };
        let mut batches: Vec<Batch> = Vec::new();
        let mut prepared = prepared.into_iter();
        for chunk in members.chunks(MAX_BATCH_MEMBERS) {
            let first = batches.first().map(|first| first.id);
            let rows = prepared.by_ref().take(chunk.len());
            let created = self.write_batch(&writing, chunk, rows, first).await?;
            batches.push(Batch::from_row(created, &owner.name));
        }
        if split {
            // the first batch names itself, so every batch of the import names the same one
            let first = batches[0].id;
            batch::Entity::update_many()
                .col_expr(
                    batch::Column::ImportId,
                    sea_orm::sea_query::Expr::value(first),
                )
                .filter(batch::Column::Id.eq(first))
                .exec(&txn)
                .await?;
            batches[0].import = Some(first);
        }
        txn.commit().await?;
        Ok(Ok(batches))
    }

    /// Writes one batch of `members` (with their prepared rows): the batch row, its members,
    /// new assets and their tags, existing assets replaced, and a job each. `import` is the
    /// first batch of its import, when this is a later one.
    async fn write_batch(
        &self,
        writing: &ImportWrite<'_>,
        members: &[BatchMemberInput],
        prepared: impl Iterator<Item = (asset::Model, Vec<String>)>,
        import: Option<i64>,
    ) -> Result<batch::Model> {
        let ImportWrite {
            txn,
            customer_id,
            existing,
            now,
        } = *writing;
        let created = batch::ActiveModel {
            customer_id: Set(customer_id),
            count: Set(members.len() as i32),
            completed: Set(0),
            errors: Set(0),
            superseded: Set(false),
            submitted: Set(now),
            finished: Set(None),
            import_id: Set(import),
            ..Default::default()
        }
        .insert(txn)
        .await?;

        let member_rows: Vec<_> = members
            .iter()
            .enumerate()
            .map(|(index, member)| batch_member::ActiveModel {
                batch_id: Set(created.id),
                member_index: Set(index as i32),
                line: Set(member.line),
                space_id: Set(member.space),
                asset_id: Set(member.asset.id.clone()),
                status: Set(AssetStatus::Waiting.as_str().to_owned()),
                error: Set(None),
            })
            .collect();
        insert_chunked::<batch_member::Entity, _>(txn, member_rows).await?;

        let max_attempts = self.queue_settings().max_attempts;
        let mut fresh = Vec::new();
        let mut fresh_tags = Vec::new();
        let mut fresh_fields = Vec::new();
        for ((mut row, tags), member) in prepared.zip(members) {
            row.batch_id = Some(created.id);
            let key = (row.space_id, row.id.clone());
            if let Some(created_at) = existing.get(&key) {
                // an existing asset takes the member's fields and is processed again
                row.created = *created_at;
                let updated = replace_row(txn, row, member.asset.published).await?;
                write_tags(txn, &updated, &tags).await?;
                crate::fields::write_index(txn, &updated).await?;
                queue::enqueue(
                    txn,
                    &updated,
                    JobKind::Ingest,
                    Some(created.id),
                    max_attempts,
                )
                .await?;
            } else {
                fresh_tags.extend(tags.into_iter().map(|tag| asset_tag::ActiveModel {
                    customer_id: Set(row.customer_id),
                    space_id: Set(row.space_id),
                    asset_id: Set(row.id.clone()),
                    tag: Set(tag),
                }));
                fresh_fields.extend(crate::fields::index_rows(&row)?);
                fresh.push(row);
            }
        }
        let jobs = fresh
            .iter()
            .map(|row| queue::new_job(row, JobKind::Ingest, Some(created.id), max_attempts, now))
            .collect();
        let fresh = fresh
            .into_iter()
            .map(IntoActiveModel::into_active_model)
            .collect();
        insert_chunked::<asset::Entity, _>(txn, fresh).await?;
        insert_chunked::<asset_tag::Entity, _>(txn, fresh_tags).await?;
        insert_chunked::<crate::entities::asset_field::Entity, _>(txn, fresh_fields).await?;
        insert_chunked::<job::Entity, _>(txn, jobs).await?;
        Ok(created)
    }

    /// One batch of a customer.
    pub async fn batch(&self, principal: &Principal, customer: &str, id: i64) -> Result<Batch> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let row = owned_batch(self.db(), &owner, id).await?;
        Ok(Batch::from_row(row, &owner.name))
    }

    /// A customer's batches: all, the unfinished or the finished ones.
    pub async fn batches(
        &self,
        principal: &Principal,
        customer: &str,
        listing: BatchListing,
        page: &PageRequest,
    ) -> Result<Page<Batch>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let window = page.window()?;
        let mut query = batch::Entity::find().filter(batch::Column::CustomerId.eq(owner.id));
        query = match listing {
            BatchListing::All => query,
            BatchListing::Active => query.filter(batch::Column::Finished.is_null()),
            BatchListing::Recent => query
                .filter(batch::Column::Finished.is_not_null())
                .order_by_desc(batch::Column::Finished),
        };
        let total = query.clone().count(self.db()).await?;
        let rows = query
            .order_by_desc(batch::Column::Id)
            .offset(window.offset)
            .limit(window.limit)
            .all(self.db())
            .await?;
        Page::new(window, rows, total).try_map(|row| Ok(Batch::from_row(row, &owner.name)))
    }

    /// A page of a batch's members in submission order, optionally only those in one state.
    pub async fn batch_members(
        &self,
        principal: &Principal,
        customer: &str,
        batch_id: i64,
        status: Option<AssetStatus>,
        page: &PageRequest,
    ) -> Result<Page<BatchMember>> {
        self.batch(principal, customer, batch_id).await?;
        let window = page.window()?;
        let mut query =
            batch_member::Entity::find().filter(batch_member::Column::BatchId.eq(batch_id));
        if let Some(status) = status {
            query = query.filter(batch_member::Column::Status.eq(status.as_str()));
        }
        let total = query.clone().count(self.db()).await?;
        let rows = query
            .order_by_asc(batch_member::Column::MemberIndex)
            .offset(window.offset)
            .limit(window.limit)
            .all(self.db())
            .await?;
        Page::new(window, rows, total).try_map(|row| {
            Ok(BatchMember {
                index: row.member_index,
                line: row.line,
                space: row.space_id,
                asset_id: row.asset_id,
                status: AssetStatus::parse(&row.status)?,
                error: row.error,
            })
        })
    }

    /// How many of the customer's batches and assets are waiting to be processed.
    pub async fn queue_counts(&self, principal: &Principal, customer: &str) -> Result<QueueCounts> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let batches_waiting = batch::Entity::find()
            .filter(batch::Column::CustomerId.eq(owner.id))
            .filter(batch::Column::Finished.is_null())
            .count(self.db())
            .await?;
        let images_waiting = asset::Entity::find()
            .filter(asset::Column::CustomerId.eq(owner.id))
            .filter(asset::Column::Status.is_in([
                AssetStatus::Waiting.as_str(),
                AssetStatus::Ingesting.as_str(),
            ]))
            .count(self.db())
            .await?;
        Ok(QueueCounts {
            batches_waiting,
            images_waiting,
        })
    }

    /// A page of a batch's members with their assets as they stand now (`None` for a member
    /// whose asset was deleted since), in submission order, optionally only those in one state.
    pub async fn batch_assets(
        &self,
        principal: &Principal,
        customer: &str,
        batch_id: i64,
        status: Option<AssetStatus>,
        page: &PageRequest,
    ) -> Result<Page<(BatchMember, Option<crate::Asset>)>> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let members = self
            .batch_members(principal, customer, batch_id, status, page)
            .await?;
        let mut assets = HashMap::new();
        for chunk in members.items.chunks(CHUNK) {
            let mut matching = sea_orm::Condition::any();
            for (_, member) in chunk {
                matching = matching.add(
                    sea_orm::Condition::all()
                        .add(asset::Column::SpaceId.eq(member.space))
                        .add(asset::Column::Id.eq(member.asset_id.as_str())),
                );
            }
            let rows = asset::Entity::find()
                .filter(asset::Column::CustomerId.eq(owner.id))
                .filter(matching)
                .all(self.db())
                .await?;
            for row in rows {
                assets.insert((row.space_id, row.id.clone()), row);
            }
        }
        members.try_map(|member| {
            let asset = assets
                .remove(&(member.space, member.asset_id.clone()))
                .map(|row| crate::Asset::from_row(row, &owner.name))
                .transpose()?;
            Ok((member, asset))
        })
    }

    /// How many members of a batch are in each state (a consistency check for tests and
    /// operators: READY members equal `completed`, ERROR members `errors`).
    pub async fn batch_member_states(&self, batch_id: i64) -> Result<BTreeMap<String, u64>> {
        let rows: Vec<(String, i64)> = batch_member::Entity::find()
            .select_only()
            .column(batch_member::Column::Status)
            .column_as(batch_member::Column::MemberIndex.count(), "members")
            .filter(batch_member::Column::BatchId.eq(batch_id))
            .group_by(batch_member::Column::Status)
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|(status, count)| (status, count as u64))
            .collect())
    }
}

/// A batch of the customer; NOT_FOUND when the customer has no batch with this number.
pub(crate) async fn owned_batch(
    connection: &impl ConnectionTrait,
    owner: &customer::Model,
    id: i64,
) -> Result<batch::Model> {
    batch::Entity::find_by_id(id)
        .filter(batch::Column::CustomerId.eq(owner.id))
        .one(connection)
        .await?
        .ok_or_else(|| Error::not_found(format!("customer {:?} has no batch {id}", owner.name)))
}

/// The creation times of the members' assets that exist already, by (space, id).
async fn existing_assets(
    connection: &impl ConnectionTrait,
    customer_id: i32,
    members: &[BatchMemberInput],
) -> Result<HashMap<(i32, String), chrono::DateTime<Utc>>> {
    let mut by_space: BTreeMap<i32, Vec<String>> = BTreeMap::new();
    for member in members {
        by_space
            .entry(member.space)
            .or_default()
            .push(member.asset.id.clone());
    }
    let mut found = HashMap::new();
    for (space, ids) in by_space {
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<(String, chrono::DateTime<Utc>)> = asset::Entity::find()
                .select_only()
                .column(asset::Column::Id)
                .column(asset::Column::Created)
                .filter(asset::Column::CustomerId.eq(customer_id))
                .filter(asset::Column::SpaceId.eq(space))
                .filter(asset::Column::Id.is_in(chunk.iter().map(String::as_str)))
                .into_tuple()
                .all(connection)
                .await?;
            found.extend(rows.into_iter().map(|(id, created)| ((space, id), created)));
        }
    }
    Ok(found)
}

/// Inserts rows a chunk at a time.
pub(crate) async fn insert_chunked<E, A>(
    connection: &impl ConnectionTrait,
    rows: Vec<A>,
) -> Result<()>
where
    E: EntityTrait,
    A: sea_orm::ActiveModelTrait<Entity = E>,
{
    let mut rest = rows.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<A> = rest.by_ref().take(INSERT_ROWS).collect();
        E::insert_many(chunk)
            .exec_without_returning(connection)
            .await?;
    }
    Ok(())
}
