//! The ingest worker: claim a job, fetch the origin, probe it, build derivatives, index, and
//! finish the asset and its batch, retrying transient failures with backoff.
//!
//! This crate must not know HTTP serving or GraphQL. Its code arrives with the ingest work.
