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
pub use info::{ImageInfo, TileSpec, info_v2, info_v3, make_level0};
pub use quality::{Format, Quality};
pub use region::Region;
pub use request::{ImageRequest, Limits, PixelRect, ResolvedRequest};
pub use rotation::Rotation;
pub use size::{Size, SizeKind};

#[cfg(test)]
mod tests {
    use super::thumbnail_size;

    #[test]
    fn thumbnail_sizes_follow_the_longest_edge() {
        assert_eq!(thumbnail_size(4000, 3000, 400), Some((400, 300)));
        assert_eq!(thumbnail_size(3000, 4000, 100), Some((75, 100)));
        assert_eq!(thumbnail_size(1000, 10, 100), Some((100, 1)));
        assert_eq!(thumbnail_size(300, 200, 300), Some((300, 200)));
        assert_eq!(thumbnail_size(300, 200, 400), None);
    }
}

/// The size of a version of a `width` x `height` image whose longest edge is `size`, rounded
/// to whole pixels; `None` when that would be larger than the image. Stored thumbnails and the
/// `sizes` of info.json both use this, so they always agree.
pub fn thumbnail_size(width: u32, height: u32, size: u32) -> Option<(u32, u32)> {
    let longest = width.max(height);
    if width == 0 || height == 0 || size == 0 || size > longest {
        return None;
    }
    let scale = |edge: u32| {
        let scaled =
            (u64::from(edge) * u64::from(size) + u64::from(longest) / 2) / u64::from(longest);
        scaled.max(1) as u32
    };
    Some((scale(width), scale(height)))
}

/// The two Image API versions served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ApiVersion {
    V2,
    V3,
}

impl ApiVersion {
    /// The version's segment in URLs: `/iiif/3/...`, `/iiif/2/...`.
    pub fn path(self) -> &'static str {
        match self {
            ApiVersion::V2 => "2",
            ApiVersion::V3 => "3",
        }
    }

    /// The compliance level 0 profile of the version (degraded services).
    pub fn level0_profile(self) -> &'static str {
        match self {
            ApiVersion::V2 => "http://iiif.io/api/image/2/level0.json",
            ApiVersion::V3 => "http://iiif.io/api/image/3/level0.json",
        }
    }

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
