//! Test sandboxes shared by the integration suites: [`TestApp`] runs a real server on an
//! ephemeral port over a temporary data dir; [`TestDatabase`] gives each domain test a fresh
//! database on SQLite or PostgreSQL and drops it afterwards.

mod app;
mod database;
pub mod images;
mod origin;

pub use app::{ADMIN_KEY, ADMIN_SECRET, Auth, GraphqlResponse, TestApp, TestAppBuilder};
pub use database::{Backend, TestDatabase, with_database};
pub use origin::Origin;
