//! Annotations: W3C Web Annotations with a text body on an asset's canvas, targeting a region
//! (`xywh`), a time range (`t`) or the whole canvas.
//!
//! - this file: the annotation model and its limits
//! - `check`: the checks an annotation's fields pass against its asset
//! - `editing`: creating, changing, deleting and listing annotations under a principal
//! - `import`: ALTO, hOCR, WebVTT and W3C files imported as annotations
//! - `published`: an asset's public annotation page
//! - `change_log`: the log of changed assets the search indexes follow

mod change_log;
mod check;
mod editing;
mod import;
mod published;

use chrono::{DateTime, Utc};

use crate::entities::annotation;

pub(crate) use change_log::delete_for_asset;
pub use search::formats::{Format as ImportFormat, Granularity};

/// Longest annotation body, in characters.
pub const MAX_ANNOTATION_CHARS: usize = 100_000;

/// The motivations of the W3C Web Annotation model, and IIIF's `supplementing`.
pub const MOTIVATIONS: &[&str] = &[
    "assessing",
    "bookmarking",
    "classifying",
    "commenting",
    "describing",
    "editing",
    "highlighting",
    "identifying",
    "linking",
    "moderating",
    "questioning",
    "replying",
    "supplementing",
    "tagging",
];

/// Most annotations one import may create.
pub const MAX_IMPORT_ANNOTATIONS: usize = 200_000;

/// The body formats an annotation may have.
pub const BODY_FORMATS: &[&str] = &["text/plain", "text/html"];

/// A rectangle of the canvas, in the asset's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// A stretch of a recording, in seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeRange {
    pub start: f64,
    pub end: f64,
}

/// An annotation as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub id: i64,
    pub customer: String,
    pub space: i32,
    pub asset: String,
    pub motivation: String,
    pub value: String,
    pub format: String,
    pub language: Option<String>,
    pub region: Option<Region>,
    pub time: Option<TimeRange>,
    pub creator: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
}

impl Annotation {
    fn from_row(row: annotation::Model, customer: &str) -> Self {
        let (region, time) = (row_region(&row), row_time(&row));
        Self {
            id: row.id,
            customer: customer.to_owned(),
            space: row.space_id,
            asset: row.asset_id,
            motivation: row.motivation,
            value: row.value,
            format: row.format,
            language: row.language,
            region,
            time,
            creator: row.creator,
            created: row.created,
            updated: row.updated,
        }
    }
}

/// A row's region, when it has all four numbers.
pub(crate) fn row_region(row: &annotation::Model) -> Option<Region> {
    match (row.x, row.y, row.w, row.h) {
        (Some(x), Some(y), Some(w), Some(h)) => Some(Region { x, y, w, h }),
        _ => None,
    }
}

/// A row's time range, when it has both ends.
pub(crate) fn row_time(row: &annotation::Model) -> Option<TimeRange> {
    match (row.time_start, row.time_end) {
        (Some(start), Some(end)) => Some(TimeRange { start, end }),
        _ => None,
    }
}

/// A new annotation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnnotationInput {
    /// Default `commenting`.
    pub motivation: Option<String>,
    pub value: String,
    /// Default `text/plain`.
    pub format: Option<String>,
    pub language: Option<String>,
    pub region: Option<Region>,
    pub time: Option<TimeRange>,
    pub creator: Option<String>,
}

/// Changes to an annotation; `None` leaves a field, `Some(None)` clears an optional one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnnotationPatch {
    pub motivation: Option<String>,
    pub value: Option<String>,
    pub format: Option<String>,
    pub language: Option<Option<String>>,
    pub region: Option<Option<Region>>,
    pub time: Option<Option<TimeRange>>,
    pub creator: Option<Option<String>>,
}
