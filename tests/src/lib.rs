//! Test sandboxes shared by the integration suites: [`TestApp`] runs a real server on an
//! ephemeral port over a temporary data dir; [`TestDatabase`] gives each domain test a fresh
//! database on SQLite or PostgreSQL and drops it afterwards.

mod app;
pub mod conformance;
mod database;
mod fault_proxy;
pub mod images;
mod node;
mod origin;
mod pg_cluster;
mod s3;
pub mod visitor;

pub use app::{
    ADMIN_KEY, ADMIN_SECRET, Auth, BACKEND_VARIABLE, GraphqlResponse, TEST_SIGNING_SECRET, TestApp,
    TestAppBuilder,
};
pub use database::{Backend, TestDatabase, with_database};
pub use fault_proxy::FaultProxy;
pub use node::NodeProcess;
pub use origin::Origin;
pub use pg_cluster::PostgresCluster;
pub use s3::{S3Server, STORAGE_BUCKET, STORAGE_URL, store_in_bucket};

/// The bytes of one of the ingest crate's media fixtures (`ingest/fixtures/media`).
pub fn media_fixture(name: &str) -> Vec<u8> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../ingest/fixtures/media/");
    std::fs::read(format!("{path}{name}")).expect("media fixture")
}
