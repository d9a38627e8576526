//! The rotation parameter: optional mirroring, then clockwise degrees.

use std::fmt;

use super::error::{ImageError, Result};
use super::number::{canonical_decimal, decimal};

/// Mirror (about the vertical axis) first, then rotate clockwise by `degrees` in [0, 360).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rotation {
    pub mirror: bool,
    pub degrees: f64,
}

impl Rotation {
    pub const NONE: Rotation = Rotation {
        mirror: false,
        degrees: 0.0,
    };

    pub fn parse(text: &str) -> Result<Self> {
        let (mirror, number) = match text.strip_prefix('!') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let degrees = decimal(number, "rotation")?;
        if !(0.0..=360.0).contains(&degrees) {
            return Err(ImageError::bad_request(format!(
                "rotation must be between 0 and 360, got {number}"
            )));
        }
        // 360 turns the image back where it was
        Ok(Self {
            mirror,
            degrees: if degrees == 360.0 { 0.0 } else { degrees },
        })
    }

    /// Whether the rotation is a multiple of 90 degrees (no resampling, no background).
    pub fn is_right_angle(&self) -> bool {
        self.degrees % 90.0 == 0.0
    }

    /// The size of a `width` x `height` image after this rotation: the bounding box of the
    /// rotated image.
    pub fn rotated_size(&self, width: u32, height: u32) -> (u32, u32) {
        match self.degrees {
            0.0 | 180.0 => (width, height),
            90.0 | 270.0 => (height, width),
            degrees => {
                let radians = degrees.to_radians();
                let (sin, cos) = (radians.sin().abs(), radians.cos().abs());
                let (w, h) = (f64::from(width), f64::from(height));
                let rotated_width = (w * cos + h * sin).round().max(1.0);
                let rotated_height = (h * cos + w * sin).round().max(1.0);
                (rotated_width as u32, rotated_height as u32)
            }
        }
    }
}

impl Rotation {
    /// The largest size, keeping the aspect ratio of `width` x `height` (at most that size),
    /// whose rotated bounding box is within `limits`; `None` when not even 1 px fits.
    pub(crate) fn largest_within(
        &self,
        width: u32,
        height: u32,
        limits: &super::request::Limits,
    ) -> Option<(u32, u32)> {
        let (rotated_width, rotated_height) = self.rotated_size(width, height);
        let mut scale = limits
            .largest_scale(rotated_width, rotated_height)
            .unwrap_or(1.0)
            .min(1.0);
        let (w, h) = (f64::from(width), f64::from(height));
        let scaled = |scale: f64| {
            (
                (w * scale).round().max(1.0) as u32,
                (h * scale).round().max(1.0) as u32,
            )
        };
        // the bounding box grows by rounding: step down until it fits
        while scale > 0.0 {
            let (scaled_width, scaled_height) = scaled(scale);
            let (box_width, box_height) = self.rotated_size(scaled_width, scaled_height);
            if limits.allows(u64::from(box_width), u64::from(box_height)) {
                return Some((scaled_width, scaled_height));
            }
            if (scaled_width, scaled_height) == (1, 1) {
                return None;
            }
            scale *= 0.999;
        }
        None
    }
}

impl fmt::Display for Rotation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mirror {
            f.write_str("!")?;
        }
        f.write_str(&canonical_decimal(self.degrees))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mirroring_and_degrees() {
        assert_eq!(Rotation::parse("0").unwrap(), Rotation::NONE);
        assert_eq!(
            Rotation::parse("!90").unwrap(),
            Rotation {
                mirror: true,
                degrees: 90.0
            }
        );
        assert_eq!(Rotation::parse("22.5").unwrap().degrees, 22.5);
        assert_eq!(Rotation::parse("360").unwrap(), Rotation::NONE);
    }

    /// 3.0 §4.3: degrees from 0 to 360; anything else is a 400.
    #[test]
    fn rejects_out_of_range_and_malformed() {
        for bad in ["", "-90", "361", "!!90", "90!", "abc", "1e2", "!"] {
            assert!(Rotation::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn canonical_text_drops_trailing_zeros() {
        assert_eq!(Rotation::parse("90.0").unwrap().to_string(), "90");
        assert_eq!(Rotation::parse("!22.50").unwrap().to_string(), "!22.5");
    }

    /// 3.0 §4.3: the rotated image fits whole in a grown bounding box.
    #[test]
    fn rotated_size_is_the_bounding_box() {
        assert_eq!(
            Rotation::parse("90").unwrap().rotated_size(300, 200),
            (200, 300)
        );
        assert_eq!(
            Rotation::parse("180").unwrap().rotated_size(300, 200),
            (300, 200)
        );
        assert_eq!(
            Rotation::parse("45").unwrap().rotated_size(100, 100),
            (141, 141)
        );
    }
}
