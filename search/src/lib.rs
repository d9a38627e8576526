//! Full-text search over annotations with tantivy: index text with its canvas and region,
//! phrase and prefix queries, hit snippets and autocomplete terms. The index is derived from the
//! database and can always be rebuilt.
//!
//! This crate must not know the database, HTTP or GraphQL. Its code arrives with the search
//! work.
