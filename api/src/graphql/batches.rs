//! Batches: many registrations at once (a list or a CSV), their members, and their progress
//! as a subscription.

use std::time::Duration;

use async_graphql::{
    ComplexObject, Context, ErrorExtensions, InputObject, Object, Result, SimpleObject,
    Subscription, Upload, Value,
};
use chrono::{DateTime, Utc};
use futures::Stream;

use super::assets::{AssetInput, AssetStatusValue};
use super::connection::{PagedConnection, connection, page_complexity};
use super::context::{call, domain, principal, read_upload};
use super::csv_imports::{CsvError, CsvRowObject};
use crate::error::{graphql_code, graphql_error};

/// A batch member: a registration and the space it goes to.
#[derive(InputObject, Debug)]
pub struct BatchMemberInput {
    /// The space's number.
    pub space: i32,
    /// The registration.
    #[graphql(flatten)]
    pub asset: AssetInput,
}

/// A set of registrations submitted together.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "Batch", complex)]
pub struct BatchObject {
    /// The batch's number.
    pub id: i64,
    /// The customer's name.
    pub customer: String,
    /// How many members it has.
    pub count: i32,
    /// Members processed to READY.
    pub completed: i32,
    /// Members that ended in ERROR (also those deleted, cancelled, or taken over by a later
    /// batch).
    pub errors: i32,
    /// When it ended: every member READY or ERROR; cleared while `retryFailedBatch` runs
    /// members again.
    pub finished: Option<DateTime<Utc>>,
    /// Whether a later batch took over some of its members before they were processed.
    pub superseded: bool,
    /// When it was submitted.
    pub submitted: DateTime<Utc>,
    /// The first batch of the import this one is part of, when the import was larger than
    /// one batch (10,000 members) and became several; none for a batch on its own.
    pub import: Option<i64>,
}

impl From<domain::Batch> for BatchObject {
    fn from(batch: domain::Batch) -> Self {
        Self {
            id: batch.id,
            customer: batch.customer,
            count: batch.count,
            completed: batch.completed,
            errors: batch.errors,
            finished: batch.finished,
            superseded: batch.superseded,
            submitted: batch.submitted,
            import: batch.import,
        }
    }
}

/// One member of a batch as it stands.
#[derive(SimpleObject, Debug, Clone)]
#[graphql(name = "BatchMember")]
pub struct BatchMemberObject {
    /// Its position in the batch, from 0.
    pub index: i32,
    /// Its CSV Line, for batches imported from a CSV.
    pub line: Option<i32>,
    /// The space's number.
    pub space: i32,
    /// The asset's id.
    pub asset_id: String,
    /// WAITING, INGESTING, READY or ERROR.
    pub status: AssetStatusValue,
    /// Why it failed, for ERROR.
    pub error: Option<String>,
}

impl From<domain::BatchMember> for BatchMemberObject {
    fn from(member: domain::BatchMember) -> Self {
        Self {
            index: member.index,
            line: member.line,
            space: member.space,
            asset_id: member.asset_id,
            status: member.status.into(),
            error: member.error,
        }
    }
}

#[ComplexObject]
impl BatchObject {
    /// The members, in submission order.
    #[graphql(complexity = "page_complexity(first, child_complexity)")]
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "How many members to return (at most 1000; default 100).")] first: Option<
            i32,
        >,
        #[graphql(desc = "Return the members after this cursor.")] after: Option<String>,
        #[graphql(desc = "Only members in this state.")] status: Option<AssetStatusValue>,
    ) -> Result<PagedConnection<BatchMemberObject>> {
        let page = domain::PageRequest::new(first, after);
        let members = call(ctx, |domain, principal| async move {
            domain
                .batch_members(
                    &principal,
                    &self.customer,
                    self.id,
                    status.map(Into::into),
                    &page,
                )
                .await
        })
        .await?;
        Ok(connection(members, BatchMemberObject::from))
    }
}

/// Rows shown per page of `CsvImport.rows`.
const CSV_ROWS_PAGE: usize = 100;

/// What an import found, and the batch it created.
#[derive(Debug)]
pub struct CsvImportObject(pub(super) domain::CsvImport);

#[Object(name = "CsvImport")]
impl CsvImportObject {
    /// Rows in the file, the header not counted.
    async fn total_rows(&self) -> i32 {
        self.0.total_rows as i32
    }

    /// Rows without any problem.
    async fn valid_rows(&self) -> i32 {
        self.0.valid_rows as i32
    }

    /// Every problem found, by line.
    #[graphql(complexity = "super::limits::unpaged_complexity(child_complexity)")]
    async fn errors(&self) -> Vec<CsvError> {
        self.0.errors.iter().map(CsvError::from).collect()
    }

    /// Every data row of the file in file order, readable or not, with its cells and
    /// problems; 100 a page.
    #[graphql(complexity = "super::limits::list_complexity(CSV_ROWS_PAGE, child_complexity)")]
    async fn rows(
        &self,
        #[graphql(default = 1, desc = "The page, from 1.")] page: i32,
    ) -> Result<Vec<CsvRowObject>> {
        if page < 1 {
            return Err(graphql_error(domain::Error::invalid_input(
                "page counts from 1",
            )));
        }
        let start = (page as usize - 1).saturating_mul(CSV_ROWS_PAGE);
        Ok(self
            .0
            .rows
            .iter()
            .skip(start)
            .take(CSV_ROWS_PAGE)
            .map(CsvRowObject::from)
            .collect())
    }

    /// The batch created (the first, when the file was larger than one batch); none on a dry
    /// run or when any row has a problem.
    async fn batch(&self) -> Option<BatchObject> {
        self.0.batches.first().cloned().map(BatchObject::from)
    }

    /// Every batch created, in order: one per 10,000 rows, each naming the first as its
    /// `import`.
    async fn batches(&self) -> Vec<BatchObject> {
        self.0
            .batches
            .iter()
            .cloned()
            .map(BatchObject::from)
            .collect()
    }
}

#[derive(Default, Debug)]
pub struct BatchQuery;

#[Object]
impl BatchQuery {
    /// One batch of a customer.
    async fn batch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The batch's number.")] id: i64,
    ) -> Result<BatchObject> {
        let batch = call(ctx, |domain, principal| async move {
            domain.batch(&principal, &customer, id).await
        })
        .await?;
        Ok(batch.into())
    }
}

/// The error of a batch with invalid members: code INVALID_BATCH, and in
/// `extensions.members` each problem with its member index, field and code.
fn invalid_batch(problems: Vec<domain::MemberProblem>) -> async_graphql::Error {
    let count = problems.len();
    let list: Vec<serde_json::Value> = problems
        .into_iter()
        .map(|problem| {
            serde_json::json!({
                "member": problem.index,
                "field": problem.field,
                "fieldKey": problem.field_key,
                "code": graphql_code(problem.error.kind.code()),
                "message": problem.error.message,
            })
        })
        .collect();
    let members = Value::from_json(serde_json::Value::Array(list)).unwrap_or(Value::Null);
    async_graphql::Error::new(format!(
        "the batch was not created: {count} problem(s) in its members"
    ))
    .extend_with(|_, extensions| {
        extensions.set("code", "INVALID_BATCH");
        extensions.set("members", members);
    })
}

#[derive(Default, Debug)]
pub struct BatchMutation;

#[Object]
impl BatchMutation {
    /// Registers up to 100,000 assets at once. All or nothing: when any member is invalid,
    /// nothing is created and the error (INVALID_BATCH) lists every problem with its member
    /// index. Assets that exist already take the member's fields and are processed again.
    /// More than 10,000 members become several batches of 10,000 in order, one import: the
    /// answer is the first, and every batch of the import names it as its `import`.
    async fn create_batch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The registrations.")] members: Vec<BatchMemberInput>,
    ) -> Result<BatchObject> {
        let members = members
            .into_iter()
            .map(|member| domain::BatchMemberInput {
                space: member.space,
                asset: member.asset.into(),
                line: None,
            })
            .collect();
        let created = call(ctx, |domain, principal| async move {
            domain.create_batch(&principal, &customer, members).await
        })
        .await?;
        match created {
            Ok(batches) => {
                ctx.data::<crate::processing::Processing>()?.job_queued();
                let first = batches.into_iter().next();
                Ok(first.expect("a batch has members").into())
            }
            Err(problems) => Err(invalid_batch(problems)),
        }
    }

    /// Imports a CSV (columns Line, ID, MediaType, Space, Origin, Reference1-3, Number1-3,
    /// MaxUnauthorised, Tags, Roles), given as `content` or as an uploaded `file` (exactly
    /// one). Every problem is reported with its line and column; the batch is created only
    /// when there is none, and not on a dry run.
    async fn import_csv(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The CSV text.")] content: Option<String>,
        #[graphql(desc = "The CSV as an upload.")] file: Option<Upload>,
        #[graphql(default = false, desc = "Check only; create nothing.")] dry_run: bool,
    ) -> Result<CsvImportObject> {
        let bytes = match (content, file) {
            (Some(content), None) => content.into_bytes(),
            (None, Some(file)) => read_upload(ctx, file).await?,
            _ => {
                return Err(graphql_error(domain::Error::invalid_input(
                    "give exactly one of content and file",
                )));
            }
        };
        let imported = call(ctx, |domain, principal| async move {
            domain
                .import_csv(&principal, &customer, &bytes, dry_run)
                .await
        })
        .await?;
        if !imported.batches.is_empty() {
            ctx.data::<crate::processing::Processing>()?.job_queued();
        }
        Ok(CsvImportObject(imported))
    }

    /// Queues again every member of a batch whose asset ended in ERROR (cancelled members
    /// included), each with a fresh set of attempts; `errors` goes down by as many and the
    /// batch is unfinished until they end again. Members READY or still waiting, and members
    /// deleted or taken over by a later batch, are left alone. A batch without failed members
    /// is returned unchanged.
    async fn retry_failed_batch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The batch's number.")] batch: i64,
    ) -> Result<BatchObject> {
        let retried = call(ctx, |domain, principal| async move {
            domain
                .retry_failed_batch(&principal, &customer, batch)
                .await
        })
        .await?;
        ctx.data::<crate::processing::Processing>()?.job_queued();
        Ok(retried.into())
    }

    /// Cancels the members of a batch that still wait for a worker: their processing is
    /// dropped and they end in ERROR ("cancelled: the batch was cancelled"), counted in
    /// `errors`, so the batch can finish. Members being processed are left to finish;
    /// `retryFailedBatch` queues cancelled members again. A batch with nothing waiting is
    /// returned unchanged.
    async fn cancel_batch(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The batch's number.")] batch: i64,
    ) -> Result<BatchObject> {
        let cancelled = call(ctx, |domain, principal| async move {
            domain.cancel_batch(&principal, &customer, batch).await
        })
        .await?;
        Ok(cancelled.into())
    }
}

/// How often a progress subscription looks at its batch (the database is the one source
/// every node shares).
const PROGRESS_POLL: Duration = Duration::from_millis(250);

#[derive(Default, Debug)]
pub struct Subscription;

#[Subscription]
impl Subscription {
    /// A batch's counters: now, then on each change; the stream ends after the batch
    /// finishes.
    async fn batch_progress(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "The customer's name.")] customer: String,
        #[graphql(desc = "The batch's number.")] id: i64,
    ) -> Result<impl Stream<Item = Result<BatchObject>> + use<>> {
        let principal = principal(ctx)?;
        let domain = domain(ctx)?.clone();
        // access is checked before the stream starts, so a refused caller gets an error at once
        domain
            .batch(&principal, &customer, id)
            .await
            .map_err(graphql_error)?;
        let state = (domain, principal, customer, None::<domain::Batch>, false);
        Ok(futures::stream::unfold(
            state,
            move |(domain, principal, customer, last, done)| async move {
                if done {
                    return None;
                }
                loop {
                    match domain.batch(&principal, &customer, id).await {
                        Ok(current) if last.as_ref() != Some(&current) => {
                            let finished = current.finished.is_some();
                            let item = Ok(BatchObject::from(current.clone()));
                            return Some((
                                item,
                                (domain, principal, customer, Some(current), finished),
                            ));
                        }
                        Ok(_) => tokio::time::sleep(PROGRESS_POLL).await,
                        Err(error) => {
                            return Some((
                                Err(graphql_error(error)),
                                (domain, principal, customer, last, true),
                            ));
                        }
                    }
                }
            },
        ))
    }
}
