//! Background processing on this node: the ingest workers (none on an API-only node) and the
//! signal that wakes them when a request queues a job.

use std::sync::Arc;

use tokio::sync::Mutex;

/// The ingestor, the signal to the workers, and the workers themselves.
#[derive(Debug, Clone)]
pub struct Processing {
    pub ingestor: ingest::Ingestor,
    signal: ingest::JobSignal,
    workers: Arc<Mutex<Option<ingest::Workers>>>,
    node: Arc<str>,
}

impl Processing {
    /// Starts `workers` ingest workers (0: this node only queues jobs).
    pub fn start(ingestor: ingest::Ingestor, workers: usize) -> Self {
        let node: Arc<str> = format!(
            "{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        )
        .into();
        let signal = ingest::JobSignal::default();
        let running = ingest::Workers::start(ingestor.clone(), workers, &node, signal.clone());
        Self {
            ingestor,
            signal,
            workers: Arc::new(Mutex::new(Some(running))),
            node,
        }
    }

    /// Wakes the workers: a job was queued.
    pub fn job_queued(&self) {
        self.signal.job_queued();
    }

    /// A name for a request that processes its own registration (`wait: true`).
    pub fn request_worker(&self) -> String {
        format!(
            "{}/request-{}",
            self.node,
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        )
    }

    /// After a registration queued its job: processes it in this request when the caller
    /// waits, otherwise wakes this node's workers and returns the asset as it is (WAITING).
    pub async fn after_registration(
        &self,
        asset: domain::Asset,
        wait: bool,
    ) -> domain::Result<domain::Asset> {
        if wait {
            let worker = self.request_worker();
            return self.ingestor.process_now(&asset, &worker).await;
        }
        self.job_queued();
        Ok(asset)
    }

    /// Removes the stored objects of an asset whose record was just deleted.
    pub async fn remove_stored(&self, deleted: &domain::Asset) -> domain::Result<()> {
        self.ingestor.remove_stored(deleted).await.map_err(|error| {
            domain::Error::internal(format!(
                "the asset's record is deleted, but not all of its stored objects: {error}"
            ))
        })
    }

    /// Stops the workers; jobs in progress go back to the queue.
    pub async fn shutdown(&self) {
        if let Some(workers) = self.workers.lock().await.take() {
            workers.shutdown().await;
        }
    }
}
