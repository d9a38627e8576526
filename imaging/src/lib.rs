//! CPU work on images: decode masters, build the tiled pyramid, render an IIIF image request
//! from a pyramid, encode. Synchronous code that callers run on a bounded blocking pool.
//!
//! This crate must not read configuration, storage or the database: options travel in the
//! request. Its code arrives with the image-delivery work.
