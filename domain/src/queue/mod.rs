//! The durable job queue: one job per asset waiting to be processed, claimed by one worker at a
//! time (PostgreSQL: `FOR UPDATE SKIP LOCKED`; SQLite: the single writer), kept alive by
//! heartbeats, retried with backoff after transient failures, and reclaimed when its worker
//! died. A job's end, its asset's new state and its batch's counters are written in one
//! transaction, so they never disagree.
//!
//! - this file: the queue's settings and the jobs, outcomes and ends it deals in
//! - `bookkeeping`: the queue's writes inside other services' transactions: queuing an asset,
//!   dropping a deleted asset's job, and settling batch members
//! - `claims`: the workers' side: claiming, heartbeats, recording outcomes, reclaiming and
//!   releasing jobs

mod bookkeeping;
mod claims;

use std::time::Duration;

use crate::error::{Error, Result};
use crate::model::Asset;

pub(crate) use bookkeeping::{count_settled, enqueue, forget_asset, new_job};

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
    /// The version the stored pyramid and thumbnails carry in their keys.
    pub derivatives: Option<String>,
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
