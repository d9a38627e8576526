//! The IIIF model, without I/O: the Image API request grammar of versions 3.0 and 2.1 (parsed
//! into one canonical, version-independent request whose `Display` is the cache key), info.json,
//! Presentation 3.0 and 2.1, Content Search 2.0 and 1.0, and Authorization Flow 2.0 JSON types.
//!
//! This crate must not know HTTP, storage, databases or codecs: it turns text into typed values
//! and typed values into JSON. Its code arrives with the image-delivery work.
