//! The IIIF model, without I/O: the Image API request grammar of versions 3.0 and 2.1, parsed
//! into one canonical, version-independent request whose `Display` is the cache key, and the
//! image information documents (info.json) of both versions; the Presentation API 3.0 and 2.1
//! documents (manifests, canvases, collections) from one version-neutral model.
//!
//! This crate must not know HTTP, storage, databases or codecs: it turns text into typed values
//! and typed values into JSON.

pub mod auth;
pub mod image;
pub mod presentation;
pub mod search;
pub mod url;
