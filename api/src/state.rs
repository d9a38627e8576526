//! What every handler can reach: the state the server builds once and hands to each route.

use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::Config;
use crate::graphql::VitrineSchema;
use crate::iiif_image::ImageDelivery;
use crate::iiif_presentation;
use crate::telemetry::Metrics;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub domain: domain::Domain,
    pub images: Arc<ImageDelivery>,
    /// Written Presentation documents, by a digest of their model.
    pub documents: Arc<iiif_presentation::DocumentCache>,
    /// Object storage, for media served as stored.
    pub storage: storage::BlobStore,
    pub processing: crate::processing::Processing,
    /// This node's search index over annotations.
    pub search: domain::Searcher,
    /// Access decisions for restricted assets, access tokens and failure throttles.
    pub access: Arc<crate::visitor_access::VisitorAccess>,
    pub schema: VitrineSchema,
    pub metrics: Arc<Metrics>,
    pub local_addr: SocketAddr,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}
