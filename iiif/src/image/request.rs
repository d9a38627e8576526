//! A whole image request: parsed from either version's URL, resolved against an image into the
//! one canonical, version-independent form that rendering and caching use.

use std::fmt;

use super::ApiVersion;
use super::error::{ImageError, Result};
use super::quality::{Format, Quality, parse_quality_format};
use super::region::Region;
use super::rotation::Rotation;
use super::size::{Size, SizeKind};

/// The server's output limits, declared in info.json and enforced on every request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_width: Option<u32>,
    /// When unset with `max_width` set, equal to it (3.0 §5.3).
    pub max_height: Option<u32>,
    pub max_area: Option<u64>,
    /// Whether sizes larger than the region are served (`sizeUpscaling`).
    pub upscaling: bool,
}

impl Limits {
    fn max_height(&self) -> Option<u32> {
        self.max_height.or(self.max_width)
    }

    /// Whether an output of `width` x `height` is within every limit.
    pub fn allows(&self, width: u64, height: u64) -> bool {
        self.max_width.is_none_or(|max| width <= u64::from(max))
            && self.max_height().is_none_or(|max| height <= u64::from(max))
            && self.max_area.is_none_or(|max| width * height <= max)
    }

    /// The largest scale of a `width` x `height` region that stays within every limit, or
    /// `None` when nothing is limited.
    pub(crate) fn largest_scale(&self, width: u32, height: u32) -> Option<f64> {
        let (w, h) = (f64::from(width), f64::from(height));
        let mut scales = Vec::with_capacity(3);
        if let Some(max) = self.max_width {
            scales.push(f64::from(max) / w);
        }
        if let Some(max) = self.max_height() {
            scales.push(f64::from(max) / h);
        }
        if let Some(max) = self.max_area {
            scales.push((max as f64 / (w * h)).sqrt());
        }
        let mut scale = scales.into_iter().reduce(f64::min)?;
        // rounding up a side could cross a limit by a pixel: step down until it does not
        while scale > 0.0 && !self.allows((w * scale).round() as u64, (h * scale).round() as u64) {
            scale *= 0.9999;
        }
        Some(scale)
    }
}

/// A rectangle of the full-resolution image, in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PixelRect {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// An image request as a client wrote it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageRequest {
    pub version: ApiVersion,
    pub region: Region,
    pub size: Size,
    pub rotation: Rotation,
    pub quality: Quality,
    pub format: Format,
}

impl ImageRequest {
    /// Parses the four parameter segments of an image URL (already percent-decoded).
    pub fn parse(
        version: ApiVersion,
        region: &str,
        size: &str,
        rotation: &str,
        quality_format: &str,
    ) -> Result<Self> {
        let (quality, format) = parse_quality_format(quality_format)?;
        Ok(Self {
            version,
            region: Region::parse(region)?,
            size: Size::parse(size, version)?,
            rotation: Rotation::parse(rotation)?,
            quality,
            format,
        })
    }

    /// Works out exactly which pixels and what output size this request means for an image of
    /// `width` x `height`, or why it cannot be served.
    pub fn resolve(&self, width: u32, height: u32, limits: &Limits) -> Result<ResolvedRequest> {
        if width == 0 || height == 0 {
            return Err(ImageError::bad_request("the image has no pixels"));
        }
        let region = self.region.resolve(width, height)?;
        let (mut output_width, mut output_height) =
            self.size.resolve(region.width, region.height, limits)?;
        // the limits bound the image returned, which is the rotated one: a 45-degree turn
        // nearly doubles the area. `max` shrinks to fit; an explicit size over them is refused
        let (rotated_width, rotated_height) =
            self.rotation.rotated_size(output_width, output_height);
        if !limits.allows(u64::from(rotated_width), u64::from(rotated_height)) {
            if self.size.kind != SizeKind::Max {
                return Err(ImageError::bad_request(format!(
                    "size {output_width}x{output_height} at rotation {} is {rotated_width}x{rotated_height}, over the server's limits",
                    self.rotation
                )));
            }
            (output_width, output_height) = self
                .rotation
                .largest_within(output_width, output_height, limits)
                .ok_or_else(|| {
                    ImageError::bad_request(
                        "no size of this region fits the server's limits once rotated",
                    )
                })?;
        }
        Ok(ResolvedRequest {
            region,
            width: output_width,
            height: output_height,
            rotation: self.rotation,
            quality: self.quality,
            format: self.format,
            image_width: width,
            image_height: height,
        })
    }
}

/// A request reduced to pixels: the same for every URL that means the same image. Its
/// `Display` is the canonical cache key.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ResolvedRequest {
    /// The pixels of the full image to take.
    pub region: PixelRect,
    /// The output size before rotation.
    pub width: u32,
    pub height: u32,
    pub rotation: Rotation,
    pub quality: Quality,
    pub format: Format,
    image_width: u32,
    image_height: u32,
}

impl ResolvedRequest {
    /// Whether the whole image is taken.
    pub fn is_full_region(&self) -> bool {
        self.region
            == PixelRect {
                x: 0,
                y: 0,
                width: self.image_width,
                height: self.image_height,
            }
    }

    /// Whether the output is the region at its own size.
    pub fn is_unscaled(&self) -> bool {
        self.width == self.region.width && self.height == self.region.height
    }

    /// Whether the output is larger than the region in some direction.
    pub fn is_upscaled(&self) -> bool {
        self.width > self.region.width || self.height > self.region.height
    }

    /// The size of the returned image, after rotation.
    pub fn output_size(&self) -> (u32, u32) {
        self.rotation.rotated_size(self.width, self.height)
    }

    /// The canonical parameter path of this request in `version`'s URL grammar
    /// (`{region}/{size}/{rotation}/{quality}.{format}`), for the canonical Link header.
    pub fn canonical_path(&self, version: ApiVersion) -> String {
        let region = if self.is_full_region() {
            "full".to_owned()
        } else {
            let PixelRect {
                x,
                y,
                width,
                height,
            } = self.region;
            format!("{x},{y},{width},{height}")
        };
        let size = match version {
            ApiVersion::V3 if self.is_unscaled() => "max".to_owned(),
            ApiVersion::V3 if self.is_upscaled() => format!("^{},{}", self.width, self.height),
            ApiVersion::V3 => format!("{},{}", self.width, self.height),
            ApiVersion::V2 if self.is_unscaled() => "full".to_owned(),
            ApiVersion::V2 if self.keeps_aspect_ratio() => format!("{},", self.width),
            ApiVersion::V2 => format!("{},{}", self.width, self.height),
        };
        format!(
            "{region}/{size}/{}/{}.{}",
            self.rotation, self.quality, self.format
        )
    }

    /// Whether the height is what `w,` would give: the aspect ratio is kept.
    fn keeps_aspect_ratio(&self) -> bool {
        let width_only = Size {
            kind: SizeKind::Width(self.width),
            upscale: true,
        };
        let unlimited = Limits {
            max_width: None,
            max_height: None,
            max_area: None,
            upscaling: true,
        };
        width_only
            .resolve(self.region.width, self.region.height, &unlimited)
            .map(|(_, h)| h)
            == Ok(self.height)
    }
}

impl fmt::Display for ResolvedRequest {
    /// `x,y,w,h/w,h/rotation/quality.format`: every request that means the same image has the
    /// same key, whichever version or form it was written in.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let PixelRect {
            x,
            y,
            width,
            height,
        } = self.region;
        write!(
            f,
            "{x},{y},{width},{height}/{},{}/{}/{}.{}",
            self.width, self.height, self.rotation, self.quality, self.format
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_width: Some(10_000),
        max_height: None,
        max_area: Some(100_000_000),
        upscaling: true,
    };

    fn resolve(
        version: ApiVersion,
        path: &str,
        width: u32,
        height: u32,
    ) -> Result<ResolvedRequest> {
        let parts: Vec<&str> = path.split('/').collect();
        ImageRequest::parse(version, parts[0], parts[1], parts[2], parts[3])?
            .resolve(width, height, &LIMITS)
    }

    /// 3.0 §4.6: "125,15,120,140/90,/!345/gray.jpg" is applied region, size, rotation, quality.
    #[test]
    fn applies_parameters_in_order() {
        let resolved =
            resolve(ApiVersion::V3, "125,15,120,140/90,/!345/gray.jpg", 300, 200).unwrap();
        assert_eq!(
            resolved.region,
            PixelRect {
                x: 125,
                y: 15,
                width: 120,
                height: 140
            }
        );
        assert_eq!((resolved.width, resolved.height), (90, 105));
        assert_eq!(resolved.to_string(), "125,15,120,140/90,105/!345/gray.jpg");
    }

    #[test]
    fn the_same_image_has_one_key_across_versions_and_forms() {
        let keys = [
            resolve(ApiVersion::V3, "full/max/0/default.jpg", 400, 300),
            resolve(ApiVersion::V3, "0,0,400,300/400,/0/default.jpg", 400, 300),
            resolve(
                ApiVersion::V3,
                "pct:0,0,100,100/pct:100/0/default.jpg",
                400,
                300,
            ),
            resolve(ApiVersion::V2, "full/full/0/default.jpg", 400, 300),
            resolve(ApiVersion::V2, "full/400,300/360/default.jpg", 400, 300),
        ];
        for key in &keys {
            assert_eq!(
                key.as_ref().unwrap().to_string(),
                "0,0,400,300/400,300/0/default.jpg"
            );
        }
    }

    /// 3.0 §4.7: canonical region is `full` or `x,y,w,h`; size `max`, `w,h` or `^w,h`.
    #[test]
    fn canonical_paths_in_3_0() {
        let cases = [
            ("full/max/0/default.jpg", "full/max/0/default.jpg"),
            ("square/max/0/default.jpg", "50,0,200,200/max/0/default.jpg"),
            (
                "pct:50,50,50,50/100,/90.0/color.png",
                "150,100,150,100/100,67/90/color.png",
            ),
            ("full/^600,/!0/gray.webp", "full/^600,400/!0/gray.webp"),
            (
                "0,0,300,200/!100,100/0/default.jpg",
                "full/100,67/0/default.jpg",
            ),
        ];
        for (request, canonical) in cases {
            assert_eq!(
                resolve(ApiVersion::V3, request, 300, 200)
                    .unwrap()
                    .canonical_path(ApiVersion::V3),
                canonical
            );
        }
    }

    /// 2.1 §4.7: canonical size is `full`, `w,` when the aspect ratio is kept, else `w,h`.
    #[test]
    fn canonical_paths_in_2_1() {
        let cases = [
            ("full/full/0/default.jpg", "full/full/0/default.jpg"),
            ("full/,100/0/default.jpg", "full/150,/0/default.jpg"),
            ("full/150,50/0/default.jpg", "full/150,50/0/default.jpg"),
            ("full/pct:50/0/default.jpg", "full/150,/0/default.jpg"),
        ];
        for (request, canonical) in cases {
            assert_eq!(
                resolve(ApiVersion::V2, request, 300, 200)
                    .unwrap()
                    .canonical_path(ApiVersion::V2),
                canonical
            );
        }
    }

    #[test]
    fn limits_cap_sides_and_area() {
        let limits = Limits {
            max_width: Some(1000),
            max_height: None,
            max_area: Some(500_000),
            upscaling: true,
        };
        assert!(limits.allows(1000, 500));
        assert!(!limits.allows(1001, 1));
        assert!(!limits.allows(1, 1001), "max height defaults to max width");
        assert!(!limits.allows(1000, 501));
        let scale = limits.largest_scale(4000, 1000).unwrap();
        assert!(limits.allows(
            (4000.0 * scale).round() as u64,
            (1000.0 * scale).round() as u64
        ));
        assert!(
            Limits {
                max_width: None,
                max_height: None,
                max_area: None,
                upscaling: false
            }
            .largest_scale(10, 10)
            .is_none()
        );
    }

    /// The limits bound the image returned, after rotation (3.0 §5.3: maxWidth, maxHeight,
    /// maxArea are of the image returned).
    #[test]
    fn rotation_keeps_the_output_within_the_limits() {
        let limits = Limits {
            max_width: Some(12_000),
            max_height: None,
            max_area: Some(100_000_000),
            upscaling: true,
        };
        let resolve = |path: &str, version: ApiVersion| {
            let parts: Vec<&str> = path.split('/').collect();
            ImageRequest::parse(version, parts[0], parts[1], parts[2], parts[3])?
                .resolve(11_547, 8_660, &limits)
        };
        // unrotated, the whole image is within the limits
        let plain = resolve("full/^11547,8660/0/default.tif", ApiVersion::V3).unwrap();
        assert!(limits.allows(11_547, 8_660), "{plain}");
        for (path, version) in [
            ("full/^11547,8660/45/default.tif", ApiVersion::V3),
            ("full/11547,8660/45/default.gif", ApiVersion::V2),
            ("full/11547,/!45/default.png", ApiVersion::V2),
        ] {
            let error = resolve(path, version).unwrap_err();
            assert_eq!(
                error.kind,
                super::super::ImageErrorKind::BadRequest,
                "{path}"
            );
            assert!(
                error.message.contains("over the server's limits"),
                "{error:?}"
            );
        }
        // `max` shrinks until the rotated image fits
        for (path, version) in [
            ("full/max/45/default.jpg", ApiVersion::V3),
            ("full/full/30/default.jpg", ApiVersion::V2),
            ("full/^max/!45/default.jpg", ApiVersion::V3),
        ] {
            let resolved = resolve(path, version).unwrap();
            let (width, height) = resolved.output_size();
            assert!(
                limits.allows(u64::from(width), u64::from(height)),
                "{path}: {width}x{height}"
            );
            assert!(u64::from(width) * u64::from(height) > 90_000_000, "{path}");
            let ratio = f64::from(resolved.width) / f64::from(resolved.height);
            assert!((ratio - 11_547.0 / 8_660.0).abs() < 0.01, "{path}");
        }
    }

    #[test]
    fn rotated_output_size() {
        let resolved = resolve(ApiVersion::V3, "full/max/90/default.jpg", 300, 200).unwrap();
        assert_eq!(resolved.output_size(), (200, 300));
    }
}
