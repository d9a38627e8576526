//! The region parameter: which part of the full image to take.

use std::fmt;

use super::error::{ImageError, Result};
use super::number::{canonical_decimal, decimal, pixels};
use super::request::PixelRect;

/// A region as requested.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Region {
    /// `full`: the whole image.
    Full,
    /// `square`: the largest centred square.
    Square,
    /// `x,y,w,h` in pixels.
    Pixels {
        x: u32,
        y: u32,
        width: u32,
        height: u32,
    },
    /// `pct:x,y,w,h` in percent of the full image.
    Percent {
        x: f64,
        y: f64,
        width: f64,
        height: f64,
    },
}

impl Region {
    /// Parses the region segment (the same grammar in 3.0 and 2.1).
    pub fn parse(text: &str) -> Result<Self> {
        match text {
            "full" => return Ok(Region::Full),
            "square" => return Ok(Region::Square),
            _ => {}
        }
        if let Some(percent) = text.strip_prefix("pct:") {
            let [x, y, width, height] = four(percent, |part| decimal(part, "region percentage"))?;
            return Ok(Region::Percent {
                x,
                y,
                width,
                height,
            });
        }
        let [x, y, width, height] = four(text, |part| pixels(part, "region value"))?;
        Ok(Region::Pixels {
            x,
            y,
            width,
            height,
        })
    }

    /// The pixels of a `width` x `height` image this region takes: cropped at the image's
    /// edges; empty or wholly outside is an error.
    pub(crate) fn resolve(&self, width: u32, height: u32) -> Result<PixelRect> {
        let rect = match *self {
            Region::Full => PixelRect {
                x: 0,
                y: 0,
                width,
                height,
            },
            Region::Square => {
                let side = width.min(height);
                PixelRect {
                    x: (width - side) / 2,
                    y: (height - side) / 2,
                    width: side,
                    height: side,
                }
            }
            Region::Pixels {
                x,
                y,
                width: w,
                height: h,
            } => {
                if w == 0 || h == 0 {
                    return Err(ImageError::bad_request(
                        "region width and height must be above 0",
                    ));
                }
                crop(
                    u64::from(x),
                    u64::from(y),
                    u64::from(x) + u64::from(w),
                    u64::from(y) + u64::from(h),
                    width,
                    height,
                )?
            }
            Region::Percent {
                x,
                y,
                width: w,
                height: h,
            } => {
                if w <= 0.0 || h <= 0.0 {
                    return Err(ImageError::bad_request(
                        "region width and height must be above 0",
                    ));
                }
                // round the edges, not the sizes, so that adjacent regions tile without gaps
                let edge =
                    |percent: f64, full: u32| (percent * f64::from(full) / 100.0).round() as u64;
                crop(
                    edge(x, width),
                    edge(y, height),
                    edge(x + w, width),
                    edge(y + h, height),
                    width,
                    height,
                )?
            }
        };
        Ok(rect)
    }
}

fn crop(
    left: u64,
    top: u64,
    right: u64,
    bottom: u64,
    width: u32,
    height: u32,
) -> Result<PixelRect> {
    let (width, height) = (u64::from(width), u64::from(height));
    if left >= width || top >= height {
        return Err(ImageError::bad_request("region lies outside the image"));
    }
    let (right, bottom) = (right.min(width), bottom.min(height));
    if right <= left || bottom <= top {
        return Err(ImageError::bad_request("region is empty"));
    }
    // every value is within the image's u32 dimensions here
    Ok(PixelRect {
        x: left as u32,
        y: top as u32,
        width: (right - left) as u32,
        height: (bottom - top) as u32,
    })
}

fn four<T: Copy>(text: &str, parse: impl Fn(&str) -> Result<T>) -> Result<[T; 4]> {
    let parts: Vec<&str> = text.split(',').collect();
    let [x, y, w, h] = parts[..] else {
        return Err(ImageError::bad_request(format!(
            "region {text:?} must have four comma-separated values"
        )));
    };
    Ok([parse(x)?, parse(y)?, parse(w)?, parse(h)?])
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Region::Full => f.write_str("full"),
            Region::Square => f.write_str("square"),
            Region::Pixels {
                x,
                y,
                width,
                height,
            } => write!(f, "{x},{y},{width},{height}"),
            Region::Percent {
                x,
                y,
                width,
                height,
            } => write!(
                f,
                "pct:{},{},{},{}",
                canonical_decimal(*x),
                canonical_decimal(*y),
                canonical_decimal(*width),
                canonical_decimal(*height)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rect(x: u32, y: u32, width: u32, height: u32) -> PixelRect {
        PixelRect {
            x,
            y,
            width,
            height,
        }
    }

    #[test]
    fn parses_every_form() {
        assert_eq!(Region::parse("full").unwrap(), Region::Full);
        assert_eq!(Region::parse("square").unwrap(), Region::Square);
        assert_eq!(
            Region::parse("1,2,3,4").unwrap(),
            Region::Pixels {
                x: 1,
                y: 2,
                width: 3,
                height: 4
            }
        );
        assert_eq!(
            Region::parse("pct:10,20.5,30,40").unwrap(),
            Region::Percent {
                x: 10.0,
                y: 20.5,
                width: 30.0,
                height: 40.0
            }
        );
    }

    #[test]
    fn rejects_malformed_regions() {
        for bad in [
            "",
            "Full",
            "1,2,3",
            "1,2,3,4,5",
            "-1,0,10,10",
            "1.5,0,10,10",
            "pct:1,2,3",
            "pct:-1,0,1,1",
            "a,b,c,d",
            "pct:",
        ] {
            assert!(Region::parse(bad).is_err(), "{bad:?}");
        }
    }

    /// 3.0 §4.1: "If the requested region's height or width is zero, or if the region is entirely
    /// outside the bounds of the reported dimensions, then the server SHOULD return a 400".
    #[test]
    fn empty_or_outside_regions_are_refused() {
        for region in [
            "0,0,0,10",
            "0,0,10,0",
            "300,0,10,10",
            "0,200,10,10",
            "pct:0,0,0,10",
            "pct:100,0,10,10",
        ] {
            assert!(
                Region::parse(region).unwrap().resolve(300, 200).is_err(),
                "{region}"
            );
        }
    }

    /// 3.0 §4.1: a region partly outside is cropped: "125,15,200,200" on 300x200 is 175x185.
    #[test]
    fn regions_partly_outside_are_cropped() {
        let region = Region::parse("125,15,200,200").unwrap();
        assert_eq!(region.resolve(300, 200).unwrap(), rect(125, 15, 175, 185));
    }

    #[test]
    fn square_is_centred_on_the_longer_axis() {
        assert_eq!(
            Region::Square.resolve(300, 200).unwrap(),
            rect(50, 0, 200, 200)
        );
        assert_eq!(
            Region::Square.resolve(200, 301).unwrap(),
            rect(0, 50, 200, 200)
        );
    }

    #[test]
    fn percent_regions_scale_with_the_image_and_tile_without_gaps() {
        assert_eq!(
            Region::parse("pct:10,10,50,50")
                .unwrap()
                .resolve(1000, 1000)
                .unwrap(),
            rect(100, 100, 500, 500)
        );
        let left = Region::parse("pct:0,0,33.3,100")
            .unwrap()
            .resolve(1001, 10)
            .unwrap();
        let right = Region::parse("pct:33.3,0,66.7,100")
            .unwrap()
            .resolve(1001, 10)
            .unwrap();
        assert_eq!(left.x + left.width, right.x);
        assert_eq!(right.x + right.width, 1001);
    }

    #[test]
    fn displays_requested_form() {
        for text in ["full", "square", "1,2,3,4", "pct:10,20.5,30,40"] {
            assert_eq!(Region::parse(text).unwrap().to_string(), text);
        }
    }
}
