//! Acting on a batch after it was created: queueing its failed members again, and cancelling
//! the ones still waiting for a worker. Each runs in one transaction that leaves the batch's
//! counters equal to its members' states, and doing either again when there is nothing left to
//! do changes nothing.

use std::collections::{BTreeMap, HashSet};

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use crate::assets::ingest_kind;
use crate::batches::{Batch, insert_chunked, owned_batch};
use crate::entities::{asset, batch, batch_member, job};
use crate::error::Result;
use crate::model::AssetStatus;
use crate::queue;
use crate::{Domain, Principal};

/// Why a member that was still waiting ended when its batch was cancelled.
pub const CANCELLED_REASON: &str = "cancelled: the batch was cancelled";

/// Rows looked up or changed per statement when many assets are acted on at once.
const ID_CHUNK: usize = 500;

impl Domain {
    /// Queues again every member of a batch whose asset ended in ERROR (cancelled ones
    /// included), each with a new job whose attempts start from 0; the batch's `errors` goes
    /// down by as many and it is no longer finished. Members READY or still waiting are left
    /// alone, and so are members whose asset was deleted or taken over by a later batch. With
    /// no failed member it changes nothing. Returns the batch as it now stands.
    pub async fn retry_failed_batch(
        &self,
        principal: &Principal,
        customer: &str,
        batch_id: i64,
    ) -> Result<Batch> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let txn = self.begin_write().await?;
        owned_batch(&txn, &owner, batch_id).await?;
        let failed: Vec<(i32, String)> = batch_member::Entity::find()
            .select_only()
            .column(batch_member::Column::SpaceId)
            .column(batch_member::Column::AssetId)
            .filter(batch_member::Column::BatchId.eq(batch_id))
            .filter(batch_member::Column::Status.eq(AssetStatus::Error.as_str()))
            .into_tuple()
            .all(&txn)
            .await?;
        let max_attempts = self.queue_settings().max_attempts;
        let mut requeued = Vec::new();
        let members = failed.iter().map(|(space, id)| (*space, id.as_str()));
        for (space, asset_ids) in chunks_by_space(members) {
            // held until the commit, so a registration or a worker cannot change them halfway;
            // an asset no longer in ERROR, or no longer this batch's, is not retried
            let rows = asset::Entity::find()
                .filter(asset::Column::CustomerId.eq(owner.id))
                .filter(asset::Column::SpaceId.eq(space))
                .filter(asset::Column::Id.is_in(asset_ids))
                .filter(asset::Column::Status.eq(AssetStatus::Error.as_str()))
                .filter(asset::Column::BatchId.eq(batch_id))
                .order_by_asc(asset::Column::Id)
                .lock_exclusive()
                .all(&txn)
                .await?;
            if rows.is_empty() {
                continue;
            }
            asset::Entity::update_many()
                .col_expr(
                    asset::Column::Status,
                    Expr::value(AssetStatus::Waiting.as_str()),
                )
                .col_expr(asset::Column::Error, Expr::value(None::<String>))
                .col_expr(
                    asset::Column::Finished,
                    Expr::value(None::<chrono::DateTime<chrono::Utc>>),
                )
                .filter(asset::Column::CustomerId.eq(owner.id))
                .filter(asset::Column::SpaceId.eq(space))
                .filter(asset::Column::Id.is_in(rows.iter().map(|row| row.id.as_str())))
                .exec(&txn)
                .await?;
            queue_for_batch(&txn, &rows, batch_id, max_attempts).await?;
            requeued.extend(rows.into_iter().map(|row| (space, row.id)));
        }
        let reopened = reopen_failed_members(&txn, batch_id, &requeued).await?;
        let current = owned_batch(&txn, &owner, batch_id).await?;
        txn.commit().await?;
        if reopened > 0 {
            tracing::info!(
                customer = %owner.name,
                batch = batch_id,
                members = reopened,
                "failed batch members queued again"
            );
        }
        Ok(Batch::from_row(current, &owner.name))
    }

    /// Cancels the members of a batch that still wait for a worker: their jobs are removed,
    /// and they and their assets end in ERROR ([`CANCELLED_REASON`]), counted as errors so the
    /// batch can finish. Members being processed are left to finish. On a batch with nothing
    /// waiting (a finished one, say) it changes nothing. Returns the batch as it now stands.
    pub async fn cancel_batch(
        &self,
        principal: &Principal,
        customer: &str,
        batch_id: i64,
    ) -> Result<Batch> {
        let owner = self.customer_in_scope(principal, customer).await?;
        let txn = self.begin_write().await?;
        owned_batch(&txn, &owner, batch_id).await?;
        let cancelled = cancel_queued_jobs(&txn, owner.id, batch_id, CANCELLED_REASON).await?;
        let current = owned_batch(&txn, &owner, batch_id).await?;
        txn.commit().await?;
        if cancelled > 0 {
            tracing::info!(
                customer = %owner.name,
                batch = batch_id,
                members = cancelled,
                "waiting batch members cancelled"
            );
        }
        Ok(Batch::from_row(current, &owner.name))
    }
}

/// Gives each asset (all of one space) a new job of the batch, replacing any job one of them
/// still has.
async fn queue_for_batch(
    txn: &sea_orm::DatabaseTransaction,
    rows: &[asset::Model],
    batch_id: i64,
    max_attempts: i32,
) -> Result<()> {
    let Some(first) = rows.first() else {
        return Ok(());
    };
    // an asset in ERROR has no job as a rule; the rare one that has is replaced one by one
    let with_job: HashSet<String> = job::Entity::find()
        .select_only()
        .column(job::Column::AssetId)
        .filter(job::Column::CustomerId.eq(first.customer_id))
        .filter(job::Column::SpaceId.eq(first.space_id))
        .filter(job::Column::AssetId.is_in(rows.iter().map(|row| row.id.as_str())))
        .into_tuple()
        .all(txn)
        .await?
        .into_iter()
        .collect();
    let now = chrono::Utc::now();
    let mut fresh = Vec::with_capacity(rows.len());
    for row in rows {
        let kind = ingest_kind(row);
        if with_job.contains(&row.id) {
            queue::enqueue(txn, row, kind, Some(batch_id), max_attempts).await?;
        } else {
            fresh.push(queue::new_job(row, kind, Some(batch_id), max_attempts, now));
        }
    }
    insert_chunked::<job::Entity, _>(txn, fresh).await
}

/// The members' asset ids grouped by space, each list in chunks of at most [`ID_CHUNK`].
fn chunks_by_space<'a>(
    members: impl IntoIterator<Item = (i32, &'a str)>,
) -> Vec<(i32, Vec<&'a str>)> {
    let mut by_space: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
    for (space, asset_id) in members {
        by_space.entry(space).or_default().push(asset_id);
    }
    by_space
        .into_iter()
        .flat_map(|(space, ids)| {
            ids.chunks(ID_CHUNK)
                .map(|chunk| (space, chunk.to_vec()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Cancels a batch's jobs that wait for a worker (queued, also those waiting for a retry;
/// running ones are left to finish): each job is removed, and its asset and member end in
/// ERROR with `reason`, counted as errors so the batch can finish. Returns how many members
/// were cancelled.
async fn cancel_queued_jobs(
    connection: &impl ConnectionTrait,
    customer_id: i32,
    batch_id: i64,
    reason: &str,
) -> Result<u64> {
    let waiting: Vec<(i32, String)> = job::Entity::find()
        .select_only()
        .column(job::Column::SpaceId)
        .column(job::Column::AssetId)
        .filter(job::Column::CustomerId.eq(customer_id))
        .filter(job::Column::BatchId.eq(batch_id))
        .filter(job::Column::State.eq(queue::QUEUED))
        .into_tuple()
        .all(connection)
        .await?;
    if waiting.is_empty() {
        return Ok(0);
    }
    let reason = queue::clean_reason(reason);
    let now = chrono::Utc::now();
    let ended = [AssetStatus::Ready.as_str(), AssetStatus::Error.as_str()];
    let mut cancelled = 0;
    let members = waiting.iter().map(|(space, id)| (*space, id.as_str()));
    for (space, asset_ids) in chunks_by_space(members) {
        // the assets before their jobs, the order registrations and workers take them in; a
        // worker that claimed one of these jobs meanwhile has it running now, and keeps it
        asset::Entity::find()
            .select_only()
            .column(asset::Column::Id)
            .filter(asset::Column::CustomerId.eq(customer_id))
            .filter(asset::Column::SpaceId.eq(space))
            .filter(asset::Column::Id.is_in(asset_ids.iter().copied()))
            .order_by_asc(asset::Column::Id)
            .lock_exclusive()
            .into_tuple::<String>()
            .all(connection)
            .await?;
        let still_queued: Vec<(i64, String)> = job::Entity::find()
            .select_only()
            .column(job::Column::Id)
            .column(job::Column::AssetId)
            .filter(job::Column::CustomerId.eq(customer_id))
            .filter(job::Column::SpaceId.eq(space))
            .filter(job::Column::AssetId.is_in(asset_ids.iter().copied()))
            .filter(job::Column::BatchId.eq(batch_id))
            .filter(job::Column::State.eq(queue::QUEUED))
            .lock_exclusive()
            .into_tuple()
            .all(connection)
            .await?;
        if still_queued.is_empty() {
            continue;
        }
        let job_ids = still_queued.iter().map(|(id, _)| *id);
        let stopped: Vec<&str> = still_queued.iter().map(|(_, id)| id.as_str()).collect();
        job::Entity::delete_many()
            .filter(job::Column::Id.is_in(job_ids))
            .exec(connection)
            .await?;
        asset::Entity::update_many()
            .col_expr(
                asset::Column::Status,
                Expr::value(AssetStatus::Error.as_str()),
            )
            .col_expr(asset::Column::Error, Expr::value(Some(reason.clone())))
            .col_expr(asset::Column::Finished, Expr::value(Some(now)))
            .filter(asset::Column::CustomerId.eq(customer_id))
            .filter(asset::Column::SpaceId.eq(space))
            .filter(asset::Column::Id.is_in(stopped.iter().copied()))
            .exec(connection)
            .await?;
        let settled = batch_member::Entity::update_many()
            .col_expr(
                batch_member::Column::Status,
                Expr::value(AssetStatus::Error.as_str()),
            )
            .col_expr(
                batch_member::Column::Error,
                Expr::value(Some(reason.clone())),
            )
            .filter(batch_member::Column::BatchId.eq(batch_id))
            .filter(batch_member::Column::SpaceId.eq(space))
            .filter(batch_member::Column::AssetId.is_in(stopped))
            .filter(batch_member::Column::Status.is_not_in(ended))
            .exec(connection)
            .await?;
        cancelled += settled.rows_affected;
    }
    queue::count_settled(connection, batch_id, AssetStatus::Error, cancelled).await?;
    Ok(cancelled)
}

/// Takes failed members of a batch back to WAITING because their assets were just queued
/// again: `errors` goes down by as many as were taken back and the batch is unfinished again.
/// Members not in ERROR are left alone. Returns how many were taken back.
async fn reopen_failed_members(
    connection: &impl ConnectionTrait,
    batch_id: i64,
    members: &[(i32, String)],
) -> Result<u64> {
    let mut reopened = 0;
    let members = members.iter().map(|(space, id)| (*space, id.as_str()));
    for (space, asset_ids) in chunks_by_space(members) {
        let updated = batch_member::Entity::update_many()
            .col_expr(
                batch_member::Column::Status,
                Expr::value(AssetStatus::Waiting.as_str()),
            )
            .col_expr(batch_member::Column::Error, Expr::value(None::<String>))
            .filter(batch_member::Column::BatchId.eq(batch_id))
            .filter(batch_member::Column::SpaceId.eq(space))
            .filter(batch_member::Column::AssetId.is_in(asset_ids))
            .filter(batch_member::Column::Status.eq(AssetStatus::Error.as_str()))
            .exec(connection)
            .await?;
        reopened += updated.rows_affected;
    }
    if reopened == 0 {
        return Ok(0);
    }
    batch::Entity::update_many()
        .col_expr(
            batch::Column::Errors,
            Expr::col(batch::Column::Errors).sub(reopened as i32),
        )
        .col_expr(
            batch::Column::Finished,
            Expr::value(None::<chrono::DateTime<chrono::Utc>>),
        )
        .filter(batch::Column::Id.eq(batch_id))
        .exec(connection)
        .await?;
    Ok(reopened)
}
