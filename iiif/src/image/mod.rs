//! The IIIF Image API: request grammar (3.0 and 2.1), resolution against an image's size and the
//! server's limits, canonical forms, and info.json.

mod error;
mod info;
mod number;
mod quality;
mod region;
mod request;
mod rotation;
mod size;

pub use error::{ImageError, ImageErrorKind};
pub use info::{ImageInfo, TileSpec, info_v2, info_v3};
pub use quality::{Format, Quality};
pub use region::Region;
pub use request::{ImageRequest, Limits, PixelRect, ResolvedRequest};
pub use rotation::Rotation;
pub use size::Size;

/// The two Image API versions served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    V2,
    V3,
}

impl ApiVersion {
    /// The version's compliance-level URI for level 2, as profiles and Link headers name it.
    pub fn level2_profile(self) -> &'static str {
        match self {
            ApiVersion::V2 => "http://iiif.io/api/image/2/level2.json",
            ApiVersion::V3 => "http://iiif.io/api/image/3/level2.json",
        }
    }

    /// The JSON-LD context of the version's info.json.
    pub fn context(self) -> &'static str {
        match self {
            ApiVersion::V2 => "http://iiif.io/api/image/2/context.json",
            ApiVersion::V3 => "http://iiif.io/api/image/3/context.json",
        }
    }
}
