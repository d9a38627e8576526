//! The durable job queue: one job per asset waiting to be processed, claimed by one worker at a
//! time (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: the single writer), kept alive by
//! heartbeats, retried with backoff after transient failures, and reclaimed when its worker
//! died. A job's end, its asset's new state and its batch's counters are written in one
//! transaction, so they never disagree.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use crate::Domain;
use crate::entities::{asset, batch, batch_member, customer, job};
use crate::error::{Error, Result};
use crate::model::{Asset, AssetStatus, encode_list};

/// How the queue retries and when it gives a silent worker up.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    /// Attempts a job gets in all, the first included.
    pub max_attempts: i32,
    /// Wait before the first retry; each further retry waits twice as long.
    pub retry_base: Duration,
    /// Longest wait between retries.
    pub retry_max: Duration,
    /// A running job whose heartbeat is older than this is taken back from its worker.
    pub job_timeout: Duration,
}

impl Default for QueueSettings {
    fn default() -> Self {
        Self {
            max_attempts: 5,
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(600),
            job_timeout: Duration::from_secs(60),
        }
    }
}

impl QueueSettings {
    /// The wait after the `attempt`-th failed attempt (1-based).
    pub fn backoff(&self, attempt: i32) -> Duration {
        let doublings = attempt.saturating_sub(1).clamp(0, 30) as u32;
        self.retry_base
            .saturating_mul(1u32 << doublings)
            .min(self.retry_max)
    }
}

/// Where a job's master comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// Fetch the asset's origin.
    Ingest,
    /// The master was uploaded and is already in storage.
    IngestStoredMaster,
}

impl JobKind {
    fn as_str(self) -> &'static str {
        match self {
            JobKind::Ingest => "ingest",
            JobKind::IngestStoredMaster => "ingest-stored",
        }
    }

    fn parse(text: &str) -> Result<Self> {
        match text {
            "ingest" => Ok(JobKind::Ingest),
            "ingest-stored" => Ok(JobKind::IngestStoredMaster),
            other => Err(Error::internal(format!("unknown job kind {other:?}"))),
        }
    }
}

pub(crate) const QUEUED: &str = "queued";
const RUNNING: &str = "running";

/// A job a worker holds, with the asset it is about.
#[derive(Debug, Clone)]
pub struct ClaimedJob {
    pub id: i64,
    pub kind: JobKind,
    /// This attempt's number, from 1.
    pub attempt: i32,
    pub max_attempts: i32,
    pub worker: String,
    pub asset: Asset,
    /// The worker that held this job before died with it (a crash, an out-of-memory kill, a
    /// killed server): the job should run where a second death cannot take the node down.
    pub after_crash: bool,
}

/// What processing learnt about an asset and stored for it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssetFacts {
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub duration: Option<f64>,
    pub pyramid_levels: Option<i32>,
    pub tile_size: Option<i32>,
    /// Longest-edge sizes of the stored thumbnails.
    pub thumbnail_sizes: Vec<i32>,
    pub bytes_stored: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum JobOutcome {
    Done(AssetFacts),
    /// Failed; `transient` failures are retried while attempts remain. `reason` is
    /// "code: message".
    Failed {
        reason: String,
        transient: bool,
    },
}

/// What became of the job once its outcome was recorded.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEnd {
    /// The asset reached READY or ERROR.
    Finished(Asset),
    /// The asset waits for another attempt after this delay.
    Retrying(Asset, Duration),
    /// The job was no longer this worker's (replaced by a new registration, the asset deleted,
    /// or reclaimed after a missed heartbeat); nothing was recorded.
    Lost,
}

/// A job as its worker holds it.
fn claimed_job(
    held: job::Model,
    row: asset::Model,
    customer: &str,
    worker: &str,
) -> Result<ClaimedJob> {
    Ok(ClaimedJob {
        id: held.id,
        kind: JobKind::parse(&held.kind)?,
        attempt: held.attempts,
        max_attempts: held.max_attempts,
        worker: worker.to_owned(),
        asset: Asset::from_row(row, customer)?,
        after_crash: held.crashes > 0,
    })
}

/// Why a job was poisoned rather than retried.
pub fn poisoned_reason(crashes: i32) -> String {
    format!(
        "job-poisoned: processing this asset crashed or was killed {crashes} times; it is not \
         retried (a master that exhausts memory, or a damaged file, is the usual cause)"
    )
}

/// Longest error text kept on an asset or batch member.
const MAX_ERROR_CHARS: usize = 2000;

pub(crate) fn clean_reason(reason: &str) -> String {
    reason
        .chars()
        .filter(|c| !c.is_control() || *c == '\n')
        .take(MAX_ERROR_CHARS)
        .collect()
}

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

/// Drops a job whose asset no longer exists; a batch waiting on it counts it as an error, so
/// the batch still finishes.
async fn drop_orphan(connection: &impl ConnectionTrait, job: &job::Model) -> Result<()> {
    if let Some(batch_id) = job.batch_id {
        let reason = "deleted: the asset was deleted before it was processed";
        settle_member(
            connection,
            batch_id,
            (job.space_id, &job.asset_id),
            AssetStatus::Error,
            Some(reason),
        )
        .await?;
    }
    job::Entity::delete_by_id(job.id).exec(connection).await?;
    Ok(())
}

/// The asset a job is about, if it still exists.
async fn asset_of(
    connection: &impl ConnectionTrait,
    job: &job::Model,
) -> Result<Option<asset::Model>> {
    Ok(
        asset::Entity::find_by_id((job.customer_id, job.space_id, job.asset_id.clone()))
            .one(connection)
            .await?,
    )
}

/// Marks a batch member as being processed (members only move forward).
async fn member_ingesting(
    connection: &impl ConnectionTrait,
    batch_id: i64,
    row: &asset::Model,
) -> Result<()> {
    batch_member::Entity::update_many()
        .col_expr(
            batch_member::Column::Status,
            Expr::value(AssetStatus::Ingesting.as_str()),
        )
        .filter(batch_member::Column::BatchId.eq(batch_id))
        .filter(batch_member::Column::SpaceId.eq(row.space_id))
        .filter(batch_member::Column::AssetId.eq(row.id.as_str()))
        .filter(batch_member::Column::Status.eq(AssetStatus::Waiting.as_str()))
        .exec(connection)
        .await?;
    Ok(())
}

impl Domain {
    pub fn queue_settings(&self) -> &QueueSettings {
        &self.inner.queue
    }

    /// Claims the next job that is due, for `worker`; `None` when there is none.
    pub async fn claim_job(&self, worker: &str) -> Result<Option<ClaimedJob>> {
        self.claim(worker, None).await
    }

    /// Claims one particular job if it is queued and due (a registration that waits for its
    /// own processing); `None` when a worker has it, it waits for a retry, or it is gone.
    pub async fn claim_job_by_id(&self, worker: &str, id: i64) -> Result<Option<ClaimedJob>> {
        self.claim(worker, Some(id)).await
    }

    async fn claim(&self, worker: &str, id: Option<i64>) -> Result<Option<ClaimedJob>> {
        let now = Utc::now();
        let txn = self.begin_write().await?;
        let mut query = job::Entity::find().filter(job::Column::State.eq(QUEUED));
        query = match id {
            Some(id) => query
                .filter(job::Column::Id.eq(id))
                .filter(job::Column::RunAfter.lte(now)),
            None => query
                .filter(job::Column::RunAfter.lte(now))
                .order_by_asc(job::Column::RunAfter)
                .order_by_asc(job::Column::Id),
        };
        // SQLite has no row locks (its write transaction already excludes other claimers);
        // sea-query leaves the clause out there
        let Some(found) = query
            .limit(1)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .one(&txn)
            .await?
        else {
            return Ok(None);
        };
        let attempt = found.attempts + 1;
        let mut claimed = found.into_active_model();
        claimed.state = Set(RUNNING.to_owned());
        claimed.locked_by = Set(Some(worker.to_owned()));
        claimed.heartbeat_at = Set(Some(now));
        claimed.attempts = Set(attempt);
        claimed.updated = Set(now);
        let claimed = claimed.update(&txn).await?;
        // PostgreSQL: a registration changing this asset holds its row and then wants the job;
        // waiting for the asset here would deadlock, so leave the job for the next round
        let Some(row) = asset::Entity::find_by_id((
            claimed.customer_id,
            claimed.space_id,
            claimed.asset_id.clone(),
        ))
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
        .one(&txn)
        .await?
        else {
            if asset_of(&txn, &claimed).await?.is_some() {
                return Ok(None); // rolled back: the job stays queued
            }
            // the asset went without its job (deletion removes both, so only in a race)
            drop_orphan(&txn, &claimed).await?;
            txn.commit().await?;
            return Ok(None);
        };
        let owner = customer::Entity::find_by_id(row.customer_id)
            .one(&txn)
            .await?
            .ok_or_else(|| Error::internal("asset without customer"))?;
        let mut ingesting = row.into_active_model();
        ingesting.status = Set(AssetStatus::Ingesting.as_str().to_owned());
        ingesting.finished = Set(None);
        let row = ingesting.update(&txn).await?;
        if let Some(batch_id) = claimed.batch_id {
            member_ingesting(&txn, batch_id, &row).await?;
        }
        txn.commit().await?;
        claimed_job(claimed, row, &owner.name, worker).map(Some)
    }

    /// A job `worker` already holds, read back (by a process of its own that runs the job its
    /// parent claimed); `None` when the job is not running under that worker's name.
    pub async fn held_job(&self, worker: &str, id: i64) -> Result<Option<ClaimedJob>> {
        let Some(held) = job::Entity::find_by_id(id)
            .filter(job::Column::State.eq(RUNNING))
            .filter(job::Column::LockedBy.eq(worker))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let Some(row) = asset_of(self.db(), &held).await? else {
            return Ok(None);
        };
        let owner = customer::Entity::find_by_id(row.customer_id)
            .one(self.db())
            .await?
            .ok_or_else(|| Error::internal("asset without customer"))?;
        claimed_job(held, row, &owner.name, worker).map(Some)
    }

    /// Tells the queue the worker still holds the job; `false` when it no longer does.
    pub async fn heartbeat(&self, job: &ClaimedJob) -> Result<bool> {
        let updated = job::Entity::update_many()
            .col_expr(job::Column::HeartbeatAt, Expr::value(Some(Utc::now())))
            .filter(job::Column::Id.eq(job.id))
            .filter(job::Column::State.eq(RUNNING))
            .filter(job::Column::LockedBy.eq(job.worker.as_str()))
            .exec(self.db())
            .await?;
        Ok(updated.rows_affected == 1)
    }

    /// Records how an attempt ended: the asset's new state, its batch member and counters, and
    /// the job's removal or its next attempt, in one transaction.
    pub async fn finish_job(&self, job: &ClaimedJob, outcome: JobOutcome) -> Result<JobEnd> {
        let txn = self.begin_write().await?;
        // locks in the order registrations take them (the asset, then its job), so a
        // re-registration either commits first (and this job is gone: Lost) or waits for this
        let asset = &job.asset;
        let Some(row) =
            asset::Entity::find_by_id((asset.customer_id, asset.space, asset.id.clone()))
                .lock_exclusive()
                .one(&txn)
                .await?
        else {
            if let Some(orphan) = job::Entity::find_by_id(job.id).one(&txn).await? {
                drop_orphan(&txn, &orphan).await?;
                txn.commit().await?;
            }
            return Ok(JobEnd::Lost);
        };
        let Some(current) = job::Entity::find_by_id(job.id)
            .filter(job::Column::State.eq(RUNNING))
            .filter(job::Column::LockedBy.eq(job.worker.as_str()))
            .lock_exclusive()
            .one(&txn)
            .await?
        else {
            return Ok(JobEnd::Lost);
        };
        let end = self.record_outcome(&txn, current, row, outcome).await?;
        txn.commit().await?;
        Ok(end)
    }

    async fn record_outcome(
        &self,
        txn: &sea_orm::DatabaseTransaction,
        current: job::Model,
        row: asset::Model,
        outcome: JobOutcome,
    ) -> Result<JobEnd> {
        let now = Utc::now();
        let customer_name = customer::Entity::find_by_id(row.customer_id)
            .one(txn)
            .await?
            .map(|owner| owner.name)
            .ok_or_else(|| Error::internal("asset without customer"))?;
        let mut asset_row = row.clone().into_active_model();
        match outcome {
            JobOutcome::Failed { reason, transient }
                if transient && current.attempts < current.max_attempts =>
            {
                let wait = self.inner.queue.backoff(current.attempts);
                let reason = clean_reason(&reason);
                let note = format!(
                    "{reason} (attempt {} of {} failed; retrying)",
                    current.attempts, current.max_attempts
                );
                let mut retry = current.into_active_model();
                retry.state = Set(QUEUED.to_owned());
                retry.locked_by = Set(None);
                retry.heartbeat_at = Set(None);
                retry.run_after = Set(now + chrono::Duration::from_std(wait).unwrap_or_default());
                retry.last_error = Set(Some(reason));
                retry.updated = Set(now);
                retry.update(txn).await?;
                asset_row.status = Set(AssetStatus::Waiting.as_str().to_owned());
                asset_row.error = Set(Some(note));
                let updated = asset_row.update(txn).await?;
                Ok(JobEnd::Retrying(
                    Asset::from_row(updated, &customer_name)?,
                    wait,
                ))
            }
            JobOutcome::Failed { reason, .. } => {
                let reason = clean_reason(&reason);
                asset_row.status = Set(AssetStatus::Error.as_str().to_owned());
                asset_row.error = Set(Some(reason.clone()));
                asset_row.finished = Set(Some(now));
                let updated = asset_row.update(txn).await?;
                if let Some(batch_id) = current.batch_id {
                    settle_member(
                        txn,
                        batch_id,
                        (row.space_id, &row.id),
                        AssetStatus::Error,
                        Some(&reason),
                    )
                    .await?;
                }
                job::Entity::delete_by_id(current.id).exec(txn).await?;
                Ok(JobEnd::Finished(Asset::from_row(updated, &customer_name)?))
            }
            JobOutcome::Done(facts) => {
                asset_row.status = Set(AssetStatus::Ready.as_str().to_owned());
                asset_row.error = Set(None);
                asset_row.finished = Set(Some(now));
                asset_row.width = Set(facts.width);
                asset_row.height = Set(facts.height);
                asset_row.duration = Set(facts.duration);
                asset_row.pyramid_levels = Set(facts.pyramid_levels);
                asset_row.tile_size = Set(facts.tile_size);
                asset_row.thumbnail_sizes = Set(Some(encode_list(&facts.thumbnail_sizes)));
                asset_row.bytes_stored = Set(Some(facts.bytes_stored));
                let updated = asset_row.update(txn).await?;
                if let Some(batch_id) = current.batch_id {
                    settle_member(
                        txn,
                        batch_id,
                        (row.space_id, &row.id),
                        AssetStatus::Ready,
                        None,
                    )
                    .await?;
                }
                job::Entity::delete_by_id(current.id).exec(txn).await?;
                Ok(JobEnd::Finished(Asset::from_row(updated, &customer_name)?))
            }
        }
    }

    /// Takes back running jobs whose worker has not sent a heartbeat within the job timeout.
    /// The first time, the job is queued again without counting the attempt and marked to run
    /// in a process of its own; the second time it ends in ERROR as
    /// poisoned: a master that kills its worker is never retried blindly. Returns how many
    /// jobs were taken back.
    pub async fn reclaim_stale_jobs(&self) -> Result<u64> {
        let timeout = chrono::Duration::from_std(self.inner.queue.job_timeout)
            .map_err(|_| Error::internal("job timeout out of range"))?;
        let cutoff = Utc::now() - timeout;
        let stale = job::Entity::find()
            .filter(job::Column::State.eq(RUNNING))
            .filter(job::Column::HeartbeatAt.lt(cutoff))
            .all(self.db())
            .await?;
        let mut reclaimed = 0;
        for found in stale {
            let txn = self.begin_write().await?;
            // still stale now that the write lock is held?
            let Some(current) = job::Entity::find_by_id(found.id)
                .filter(job::Column::State.eq(RUNNING))
                .filter(job::Column::HeartbeatAt.lt(cutoff))
                .one(&txn)
                .await?
            else {
                continue;
            };
            if current.crashes >= 1 {
                tracing::warn!(job = current.id, worker = ?current.locked_by, asset = %current.asset_id, crashes = current.crashes + 1, "a worker died again while holding a job; the job is poisoned, not retried");
                if let Some(row) = asset_of(&txn, &current).await? {
                    let outcome = JobOutcome::Failed {
                        reason: poisoned_reason(current.crashes + 1),
                        transient: false,
                    };
                    self.record_outcome(&txn, current, row, outcome).await?;
                } else {
                    drop_orphan(&txn, &current).await?;
                }
            } else {
                // the first death may be the node's, not the master's (a killed or restarted
                // server): the attempt does not count, and the job runs in a process of its own
                tracing::warn!(job = current.id, worker = ?current.locked_by, asset = %current.asset_id, "reclaiming a job whose worker stopped answering");
                let attempts = current.attempts;
                let mut queued = current.into_active_model();
                queued.state = Set(QUEUED.to_owned());
                queued.locked_by = Set(None);
                queued.heartbeat_at = Set(None);
                queued.attempts = Set(Ord::max(attempts - 1, 0));
                queued.crashes = Set(1);
                queued.run_after = Set(Utc::now());
                queued.updated = Set(Utc::now());
                queued.update(&txn).await?;
            }
            txn.commit().await?;
            reclaimed += 1;
        }
        Ok(reclaimed)
    }

    /// Gives a job back to the queue without counting the attempt (the worker is stopping).
    pub async fn release_job(&self, job: &ClaimedJob) -> Result<()> {
        job::Entity::update_many()
            .col_expr(job::Column::State, Expr::value(QUEUED))
            .col_expr(job::Column::LockedBy, Expr::value(Option::<String>::None))
            .col_expr(
                job::Column::Attempts,
                Expr::col(job::Column::Attempts).sub(1),
            )
            .col_expr(job::Column::RunAfter, Expr::value(Utc::now()))
            .filter(job::Column::Id.eq(job.id))
            .filter(job::Column::State.eq(RUNNING))
            .filter(job::Column::LockedBy.eq(job.worker.as_str()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// The job an asset is waiting on, if any (for a registration that waits).
    pub async fn pending_job(&self, asset: &Asset) -> Result<Option<i64>> {
        let found: Option<i64> = job::Entity::find()
            .select_only()
            .column(job::Column::Id)
            .filter(job::Column::CustomerId.eq(asset.customer_id))
            .filter(job::Column::SpaceId.eq(asset.space))
            .filter(job::Column::AssetId.eq(asset.id.as_str()))
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(found)
    }

    /// How many jobs are queued or running (metrics, tests).
    pub async fn jobs_outstanding(&self) -> Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(job::Entity::find().count(self.db()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = QueueSettings {
            max_attempts: 5,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(10),
            job_timeout: Duration::from_secs(60),
        };
        assert_eq!(settings.backoff(1), Duration::from_secs(2));
        assert_eq!(settings.backoff(2), Duration::from_secs(4));
        assert_eq!(settings.backoff(3), Duration::from_secs(8));
        assert_eq!(settings.backoff(4), Duration::from_secs(10));
        assert_eq!(settings.backoff(100), Duration::from_secs(10));
    }
}
