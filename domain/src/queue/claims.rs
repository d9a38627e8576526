//! The workers' side of the queue: claiming a due job, heartbeats, recording how an attempt
//! ended (with its asset and batch member, in one transaction), taking back jobs whose worker
//! went silent, and giving jobs back when a worker stops.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::bookkeeping::settle_member;
use super::{
    ClaimedJob, JobEnd, JobKind, JobOutcome, QUEUED, QueueSettings, RUNNING, clean_reason,
    poisoned_reason,
};
use crate::Domain;
use crate::entities::{asset, batch_member, customer, job};
use crate::error::{Error, Result};
use crate::model::{Asset, AssetStatus, encode_list};

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
                asset_row.derivatives = Set(facts.derivatives.clone());
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
