//! The size parameter: how large the extracted region is returned.

use std::fmt;

use super::ApiVersion;
use super::error::{ImageError, Result};
use super::number::{canonical_decimal, decimal, pixels};
use super::request::Limits;

/// A size as requested. `upscale` is the 3.0 `^` prefix; in 2.1 upscaling is implicit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Size {
    pub kind: SizeKind,
    pub upscale: bool,
}

/// The size forms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SizeKind {
    /// `max` (and 2.1 `full`): the region's own size, within the server's limits.
    Max,
    /// `w,`: this width, height by aspect ratio.
    Width(u32),
    /// `,h`: this height, width by aspect ratio.
    Height(u32),
    /// `pct:n`: both sides scaled by n percent.
    Percent(f64),
    /// `w,h`: exactly this, distorting if need be.
    Exact(u32, u32),
    /// `!w,h`: the largest size that fits in the box, keeping the aspect ratio.
    BestFit(u32, u32),
}

impl Size {
    /// Parses the size segment of a request of `version`.
    pub fn parse(text: &str, version: ApiVersion) -> Result<Self> {
        let (upscale, body) = match (version, text.strip_prefix('^')) {
            (ApiVersion::V3, Some(rest)) => (true, rest),
            (ApiVersion::V2, Some(_)) => {
                return Err(ImageError::bad_request(
                    "'^' sizes are not part of Image API 2.1",
                ));
            }
            (_, None) => (version == ApiVersion::V2, text),
        };
        let kind = match body {
            "max" => SizeKind::Max,
            // 2.1's unscaled form; 3.0 dropped it
            "full" if version == ApiVersion::V2 => SizeKind::Max,
            _ => parse_kind(body)?,
        };
        // 2.1 `max` and `full` never upscale
        let upscale = upscale && !(version == ApiVersion::V2 && kind == SizeKind::Max);
        Ok(Self { kind, upscale })
    }

    /// The output size for a region of `region_width` x `region_height`, or the error the
    /// spec prescribes: 400 for sizes over the region without `^`, under 1 px or over the
    /// limits; 501 for upscaling when the server does not upscale.
    pub(crate) fn resolve(
        &self,
        region_width: u32,
        region_height: u32,
        limits: &Limits,
    ) -> Result<(u32, u32)> {
        let (rw, rh) = (f64::from(region_width), f64::from(region_height));
        let scaled = |scale: f64| (round_size(rw * scale), round_size(rh * scale));
        let (width, height) = match self.kind {
            // `^max` is served as `max`: the region at its own size, within the limits. Scaling
            // a small region up to the whole limit (100 MP here) on request is an easy way to
            // exhaust a server, and the official validator expects exactly this (size_up).
            SizeKind::Max => {
                let scale = limits
                    .largest_scale(region_width, region_height)
                    .unwrap_or(1.0)
                    .min(1.0);
                return Ok(scaled(scale));
            }
            SizeKind::Width(width) => (
                u64::from(width),
                round_size(rh * f64::from(width) / rw) as u64,
            ),
            SizeKind::Height(height) => (
                round_size(rw * f64::from(height) / rh) as u64,
                u64::from(height),
            ),
            SizeKind::Percent(percent) => {
                let (w, h) = scaled(percent / 100.0);
                if percent <= 0.0 {
                    return Err(ImageError::bad_request("size percentage must be above 0"));
                }
                (u64::from(w), u64::from(h))
            }
            SizeKind::Exact(width, height) => (u64::from(width), u64::from(height)),
            SizeKind::BestFit(box_width, box_height) => {
                let scale = (f64::from(box_width) / rw).min(f64::from(box_height) / rh);
                let (w, h) = (
                    round_size(rw * scale).min(box_width),
                    round_size(rh * scale).min(box_height),
                );
                (u64::from(w), u64::from(h))
            }
        };
        if width == 0 || height == 0 {
            return Err(ImageError::bad_request("requested size is under 1 pixel"));
        }
        if (width > u64::from(region_width) || height > u64::from(region_height)) && !self.upscale {
            return Err(ImageError::bad_request(format!(
                "size {width}x{height} is larger than the region ({region_width}x{region_height}); use ^ to upscale"
            )));
        }
        if (width > u64::from(region_width) || height > u64::from(region_height))
            && !limits.upscaling
        {
            return Err(ImageError::not_implemented("this server does not upscale"));
        }
        if !limits.allows(width, height) {
            return Err(ImageError::bad_request(format!(
                "size {width}x{height} is over the server's limits"
            )));
        }
        Ok((width as u32, height as u32))
    }
}

/// Rounds a computed side to whole pixels, at least 1 (a 1-pixel side is never lost).
fn round_size(value: f64) -> u32 {
    value.round().clamp(1.0, f64::from(u32::MAX)) as u32
}

fn parse_kind(text: &str) -> Result<SizeKind> {
    if let Some(percent) = text.strip_prefix("pct:") {
        return Ok(SizeKind::Percent(decimal(percent, "size percentage")?));
    }
    let (best_fit, dimensions) = match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let Some((width, height)) = dimensions.split_once(',') else {
        return Err(ImageError::bad_request(format!(
            "size {text:?} is not a size"
        )));
    };
    match (width.is_empty(), height.is_empty(), best_fit) {
        (false, true, false) => Ok(SizeKind::Width(pixels(width, "size width")?)),
        (true, false, false) => Ok(SizeKind::Height(pixels(height, "size height")?)),
        (false, false, false) => Ok(SizeKind::Exact(
            pixels(width, "size width")?,
            pixels(height, "size height")?,
        )),
        (false, false, true) => Ok(SizeKind::BestFit(
            pixels(width, "size width")?,
            pixels(height, "size height")?,
        )),
        _ => Err(ImageError::bad_request(format!(
            "size {text:?} is not a size"
        ))),
    }
}

impl fmt::Display for Size {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.upscale {
            f.write_str("^")?;
        }
        match self.kind {
            SizeKind::Max => f.write_str("max"),
            SizeKind::Width(width) => write!(f, "{width},"),
            SizeKind::Height(height) => write!(f, ",{height}"),
            SizeKind::Percent(percent) => write!(f, "pct:{}", canonical_decimal(percent)),
            SizeKind::Exact(width, height) => write!(f, "{width},{height}"),
            SizeKind::BestFit(width, height) => write!(f, "!{width},{height}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V3: ApiVersion = ApiVersion::V3;
    const V2: ApiVersion = ApiVersion::V2;

    fn limits() -> Limits {
        Limits {
            max_width: Some(4000),
            max_height: Some(4000),
            max_area: Some(10_000_000),
            upscaling: true,
        }
    }

    fn resolve(size: &str, region: (u32, u32)) -> Result<(u32, u32)> {
        Size::parse(size, V3)?.resolve(region.0, region.1, &limits())
    }

    #[test]
    fn parses_every_3_0_form() {
        let cases = [
            ("max", SizeKind::Max, false),
            ("^max", SizeKind::Max, true),
            ("100,", SizeKind::Width(100), false),
            ("^100,", SizeKind::Width(100), true),
            (",50", SizeKind::Height(50), false),
            ("^,50", SizeKind::Height(50), true),
            ("pct:50", SizeKind::Percent(50.0), false),
            ("^pct:150", SizeKind::Percent(150.0), true),
            ("10,20", SizeKind::Exact(10, 20), false),
            ("!10,20", SizeKind::BestFit(10, 20), false),
            ("^!10,20", SizeKind::BestFit(10, 20), true),
        ];
        for (text, kind, upscale) in cases {
            assert_eq!(
                Size::parse(text, V3).unwrap(),
                Size { kind, upscale },
                "{text}"
            );
            assert_eq!(Size::parse(text, V3).unwrap().to_string(), text);
        }
    }

    #[test]
    fn rejects_malformed_sizes() {
        for bad in [
            "", "full", ",", "!,5", "!5,", "10", "10,20,30", "pct:", "pct:-5", "^^max", "-10,",
            ",^240", "w,h",
        ] {
            assert!(Size::parse(bad, V3).is_err(), "{bad:?}");
        }
        assert!(Size::parse("^max", V2).is_err(), "no ^ in 2.1");
        assert!(Size::parse("full", V2).is_ok());
    }

    /// 3.0 §4.2: without ^, a size must not exceed the extracted region.
    #[test]
    fn sizes_over_the_region_need_a_caret() {
        assert_eq!(resolve("100,", (200, 100)).unwrap(), (100, 50));
        assert_eq!(resolve(",50", (200, 100)).unwrap(), (100, 50));
        assert!(resolve("300,", (200, 100)).is_err());
        assert_eq!(resolve("^300,", (200, 100)).unwrap(), (300, 150));
        assert!(resolve("pct:120", (200, 100)).is_err());
        assert_eq!(resolve("^pct:150", (200, 100)).unwrap(), (300, 150));
        assert!(resolve("300,100", (200, 100)).is_err());
        assert_eq!(resolve("^300,100", (200, 100)).unwrap(), (300, 100));
    }

    /// The validators expect `!2000,3000` on a 1000x1000 image to be refused (size_noup).
    #[test]
    fn best_fit_over_the_region_needs_a_caret() {
        assert!(resolve("!2000,3000", (1000, 1000)).is_err());
        assert_eq!(resolve("^!2000,3000", (1000, 1000)).unwrap(), (2000, 2000));
        assert_eq!(resolve("!50,50", (200, 100)).unwrap(), (50, 25));
        assert_eq!(resolve("!50,10", (200, 100)).unwrap(), (20, 10));
    }

    #[test]
    fn max_stays_within_limits() {
        assert_eq!(resolve("max", (200, 100)).unwrap(), (200, 100));
        assert_eq!(resolve("max", (8000, 2000)).unwrap(), (4000, 1000));
        // 10 MP area limit
        assert_eq!(resolve("max", (5000, 4000)).unwrap(), (3536, 2828));
        assert_eq!(
            resolve("^max", (100, 50)).unwrap(),
            (100, 50),
            "^max does not scale up"
        );
        assert_eq!(resolve("^max", (8000, 2000)).unwrap(), (4000, 1000));
    }

    #[test]
    fn sizes_under_a_pixel_or_over_limits_are_refused() {
        assert!(resolve("0,", (200, 100)).is_err());
        assert!(resolve("pct:0", (200, 100)).is_err());
        assert!(resolve("^5000,", (4000, 100)).is_err());
        assert_eq!(resolve("1,", (1000, 10)).unwrap(), (1, 1));
    }

    /// 3.0 §4.2: upscaling on a server that does not upscale is a 501.
    #[test]
    fn upscaling_without_support_is_not_implemented() {
        let no_upscaling = Limits {
            upscaling: false,
            ..limits()
        };
        let error = Size::parse("^pct:120", V3)
            .unwrap()
            .resolve(100, 100, &no_upscaling)
            .unwrap_err();
        assert_eq!(error.kind, super::super::ImageErrorKind::NotImplemented);
    }

    #[test]
    fn version_2_upscales_implicitly_except_full() {
        let size = Size::parse("300,", V2).unwrap();
        assert_eq!(size.resolve(200, 100, &limits()).unwrap(), (300, 150));
        assert_eq!(
            Size::parse("full", V2)
                .unwrap()
                .resolve(200, 100, &limits())
                .unwrap(),
            (200, 100)
        );
    }
}
