//! Processing an asset: fetch its master from the origin (or take uploaded bytes), build its
//! derivatives, store them, and record the outcome. The job queue runs this same code.
//!
//! This crate must not know HTTP serving or GraphQL.

mod child;
mod error;
mod fetch;
mod probe;
mod process;
mod sweep;
mod worker;

pub use child::build_pyramid_command;
pub use error::{Error, ErrorKind};
pub use fetch::{Fetcher, OriginPolicy, OwnBucket, resolve_existing};
pub use probe::{MediaFacts, probe_av, same_media_type, sniff};
pub use process::{IngestOptions, Ingestor, Isolation, STALE_DERIVATIVES_GRACE};
pub use sweep::{ORPHAN_GRACE, SweepReport};
pub use worker::{JobSignal, Workers};
