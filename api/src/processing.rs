//! Processing registrations off the request: bounded by the node's worker count, and not at
//! all on a node configured with no workers (API-only nodes).

use std::sync::Arc;

use tokio::sync::Semaphore;

/// The ingestor and the permits of this node's background processing.
#[derive(Debug, Clone)]
pub struct Processing {
    pub ingestor: ingest::Ingestor,
    workers: Option<Arc<Semaphore>>,
}

impl Processing {
    pub fn new(ingestor: ingest::Ingestor, workers: usize) -> Self {
        Self {
            ingestor,
            workers: (workers > 0).then(|| Arc::new(Semaphore::new(workers))),
        }
    }

    /// Starts processing an asset in the background; on a node without workers the asset
    /// stays WAITING.
    pub fn in_background(&self, asset: domain::Asset, source: ingest::Source) {
        let Some(workers) = self.workers.clone() else {
            return;
        };
        let ingestor = self.ingestor.clone();
        tokio::spawn(async move {
            let Ok(_permit) = workers.acquire_owned().await else {
                return;
            };
            if let Err(error) = ingestor.process(&asset, source).await {
                tracing::error!(customer = %asset.customer, space = asset.space, asset = %asset.id, %error, "background processing failed");
            }
        });
    }
}
