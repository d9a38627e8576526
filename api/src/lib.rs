//! The HTTP face of Vitrine and the `vitrine` command: configuration, the poem server, one
//! module per API surface, and the one mapping from error codes to HTTP and GraphQL.
//!
//! Business rules live in `domain`; this crate only authenticates, parses, calls and maps.

pub mod config;
mod connections;
pub mod cors;
mod dlcs;
pub mod error;
pub mod graphql;
mod http;
mod iiif_auth;
mod iiif_image;
mod iiif_presentation;
mod iiif_search;
mod media;
mod ops;
mod portal;
pub mod processing;
pub mod public_url;
pub mod server;
pub mod state;
pub mod telemetry;
mod visitor_access;

pub use config::Config;
pub use server::{RunningServer, start};
