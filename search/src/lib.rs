//! Full-text search over annotations with tantivy: the index of annotation text with its
//! canvas region or time, phrase queries across annotations, hits located with their context,
//! autocomplete terms; and the OCR and caption formats annotations are imported from. The
//! index is derived from the database and can always be rebuilt.
//!
//! This crate does not know the database, HTTP or GraphQL.

pub mod analysis;
pub mod formats;
mod index;
mod layout;
mod locate;

pub use analysis::Analysis;
pub use index::{
    AssetText, Completion, Entry, Filters, Matched, Results, SearchIndex, Source, asset_key,
};
pub use locate::{Located, Part, clauses};

/// What can go wrong with the index.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("search index: {0}")]
    Index(String),
    #[error("search index folder {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

impl Error {
    fn index(message: impl Into<String>) -> Self {
        Error::Index(message.into())
    }

    fn io(path: &std::path::Path, source: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            source,
        }
    }

    fn poisoned() -> Self {
        Error::index("the index writer was poisoned by a panic")
    }
}

impl From<tantivy::TantivyError> for Error {
    fn from(error: tantivy::TantivyError) -> Self {
        Error::Index(error.to_string())
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Error::Index(error.to_string())
    }
}

pub type Result<T> = std::result::Result<T, Error>;
