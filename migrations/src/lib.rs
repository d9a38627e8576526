//! Database migrations, one concern per migration, written once for both SQLite (the embedded
//! default) and PostgreSQL (scale-out).
//!
//! This crate knows table shapes only: no business rules, no workspace crates.

use sea_orm_migration::prelude::*;

mod columns;
mod m20261122_000001_customers;
mod m20261122_000002_api_keys;
mod m20261122_000003_spaces;
mod m20261122_000004_assets;
mod m20261122_000005_batches;
mod m20261122_000006_jobs;
mod m20261122_000007_queue_lookups;
mod m20261122_000008_origin_rules;
mod m20261202_000009_presentation;
mod m20261202_000010_annotations;
mod m20261203_000011_annotation_changes;
mod m20261203_000012_access;
mod m20261206_000013_job_crashes;
mod m20261206_000014_origin_rule_strategies;
mod m20261206_000015_staged_imports;
mod m20261206_000016_derivative_versions;
mod m20261207_000017_batch_imports;
mod m20261207_000018_descriptive_metadata;

pub use sea_orm_migration::MigratorTrait;

/// Every migration, in the order they apply.
#[derive(Debug)]
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_customers::Migration),
            Box::new(m20261122_000002_api_keys::Migration),
            Box::new(m20261122_000003_spaces::Migration),
            Box::new(m20261122_000004_assets::Migration),
            Box::new(m20261122_000005_batches::Migration),
            Box::new(m20261122_000006_jobs::Migration),
            Box::new(m20261122_000007_queue_lookups::Migration),
            Box::new(m20261122_000008_origin_rules::Migration),
            Box::new(m20261202_000009_presentation::Migration),
            Box::new(m20261202_000010_annotations::Migration),
            Box::new(m20261203_000011_annotation_changes::Migration),
            Box::new(m20261203_000012_access::Migration),
            Box::new(m20261206_000013_job_crashes::Migration),
            Box::new(m20261206_000014_origin_rule_strategies::Migration),
            Box::new(m20261206_000015_staged_imports::Migration),
            Box::new(m20261206_000016_derivative_versions::Migration),
            Box::new(m20261207_000017_batch_imports::Migration),
            Box::new(m20261207_000018_descriptive_metadata::Migration),
        ]
    }
}
