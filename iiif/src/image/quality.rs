//! Quality and format: the last path segment, `{quality}.{format}`.

use std::fmt;

use super::error::{ImageError, Result};

/// The colour treatment of the output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Quality {
    Default,
    Color,
    Gray,
    Bitonal,
}

impl Quality {
    pub fn as_str(self) -> &'static str {
        match self {
            Quality::Default => "default",
            Quality::Color => "color",
            Quality::Gray => "gray",
            Quality::Bitonal => "bitonal",
        }
    }
}

/// The encoded output formats this server produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    Jpg,
    Png,
    Webp,
    Gif,
    Tif,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Jpg,
        Format::Png,
        Format::Webp,
        Format::Gif,
        Format::Tif,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
            Format::Gif => "gif",
            Format::Tif => "tif",
        }
    }

    pub fn media_type(self) -> &'static str {
        match self {
            Format::Jpg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
            Format::Gif => "image/gif",
            Format::Tif => "image/tiff",
        }
    }
}

impl fmt::Display for Quality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

/// Parses `{quality}.{format}`.
pub(crate) fn parse_quality_format(text: &str) -> Result<(Quality, Format)> {
    let Some((quality, format)) = text.rsplit_once('.') else {
        return Err(ImageError::bad_request(format!(
            "{text:?} must be quality.format"
        )));
    };
    let quality = match quality {
        "default" => Quality::Default,
        "color" => Quality::Color,
        "gray" => Quality::Gray,
        "bitonal" => Quality::Bitonal,
        other => {
            return Err(ImageError::bad_request(format!(
                "unknown quality {other:?}"
            )));
        }
    };
    let format = match format {
        "jpg" => Format::Jpg,
        "png" => Format::Png,
        "webp" => Format::Webp,
        "gif" => Format::Gif,
        "tif" => Format::Tif,
        "jp2" | "pdf" => {
            return Err(ImageError::bad_request(format!(
                "format {format:?} is not offered by this server"
            )));
        }
        other => return Err(ImageError::bad_request(format!("unknown format {other:?}"))),
    };
    Ok((quality, format))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_offered_pair() {
        assert_eq!(
            parse_quality_format("default.jpg").unwrap(),
            (Quality::Default, Format::Jpg)
        );
        assert_eq!(
            parse_quality_format("gray.png").unwrap(),
            (Quality::Gray, Format::Png)
        );
        assert_eq!(
            parse_quality_format("bitonal.tif").unwrap(),
            (Quality::Bitonal, Format::Tif)
        );
        assert_eq!(
            parse_quality_format("color.webp").unwrap(),
            (Quality::Color, Format::Webp)
        );
    }

    /// 3.0 §4.4-4.5: unknown qualities and unsupported formats are 400s.
    #[test]
    fn rejects_unknown_qualities_and_formats() {
        for bad in [
            "default",
            "native.jpg",
            "default.jpeg",
            "default.jp2",
            "default.pdf",
            "Default.jpg",
            ".jpg",
            "default.",
        ] {
            assert!(parse_quality_format(bad).is_err(), "{bad:?}");
        }
    }
}
