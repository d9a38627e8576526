//! The workers of one node: each claims a job, runs it and claims the next; one more task
//! takes back jobs whose worker died (on this node or another).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::task::JoinSet;

use crate::Ingestor;

/// Wakes idle workers when this node queues a job (other nodes' jobs are found by polling).
#[derive(Debug, Clone, Default)]
pub struct JobSignal(Arc<Notify>);

impl JobSignal {
    pub fn job_queued(&self) {
        self.0.notify_waiters();
    }
}

/// The running workers; dropping this does not stop them, [`Workers::shutdown`] does.
#[derive(Debug)]
pub struct Workers {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

/// How long an idle worker sleeps before it looks for due jobs again.
fn poll_interval(ingestor: &Ingestor) -> Duration {
    let settings = ingestor.domain().queue_settings();
    settings
        .retry_base
        .min(Duration::from_secs(1))
        .max(Duration::from_millis(50))
}

impl Workers {
    /// Starts `count` workers named `{node}/{n}`.
    pub fn start(ingestor: Ingestor, count: usize, node: &str, signal: JobSignal) -> Self {
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for n in 0..count {
            let name = format!("{node}/{n}");
            tasks.spawn(work(
                ingestor.clone(),
                name,
                signal.clone(),
                stopped.clone(),
            ));
        }
        if count > 0 {
            tasks.spawn(reclaim(ingestor, stopped));
        }
        Self { stop, tasks }
    }

    /// Stops claiming; jobs being processed are given back to the queue for the next start.
    pub async fn shutdown(mut self) {
        self.stop.send_replace(true);
        while self.tasks.join_next().await.is_some() {}
    }
}

async fn work(
    ingestor: Ingestor,
    name: String,
    signal: JobSignal,
    mut stopped: watch::Receiver<bool>,
) {
    let domain = ingestor.domain().clone();
    let poll = poll_interval(&ingestor);
    while !*stopped.borrow() {
        // registered before the claim, so a job queued in between still wakes this worker
        let woken = signal.0.notified();
        match domain.claim_job(&name).await {
            Ok(Some(job)) => {
                tokio::select! {
                    ended = ingestor.run_claimed(&job) => {
                        if let Err(error) = ended {
                            tracing::error!(job = job.id, %error, "cannot record a job's outcome");
                            tokio::time::sleep(poll).await;
                        }
                    }
                    _ = stopped.changed() => {
                        if let Err(error) = domain.release_job(&job).await {
                            tracing::warn!(job = job.id, %error, "cannot give a job back; it will be reclaimed");
                        }
                    }
                }
            }
            Ok(None) => {
                tokio::select! {
                    () = woken => {}
                    () = tokio::time::sleep(poll) => {}
                    _ = stopped.changed() => {}
                }
            }
            Err(error) => {
                tracing::warn!(%error, worker = %name, "cannot claim a job");
                tokio::select! {
                    () = tokio::time::sleep(poll.max(Duration::from_secs(1))) => {}
                    _ = stopped.changed() => {}
                }
            }
        }
    }
}

async fn reclaim(ingestor: Ingestor, mut stopped: watch::Receiver<bool>) {
    let domain = ingestor.domain().clone();
    let period = (domain.queue_settings().job_timeout / 2).max(Duration::from_millis(100));
    while !*stopped.borrow() {
        match domain.reclaim_stale_jobs().await {
            Ok(0) => {}
            Ok(count) => tracing::info!(count, "jobs of stopped workers queued again"),
            Err(error) => tracing::warn!(%error, "cannot reclaim stale jobs"),
        }
        tokio::select! {
            () = tokio::time::sleep(period) => {}
            _ = stopped.changed() => {}
        }
    }
}
