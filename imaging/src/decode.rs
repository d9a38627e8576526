//! Reading masters: any supported format to 8-bit grey or RGB, upright, refusing pixel bombs
//! before decoding them.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader};

use crate::error::{Error, ErrorKind, Result};
use crate::raster::{Channels, Raster};

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| {
            Error::new(
                ErrorKind::Unsupported,
                format!("cannot read the image: {error}"),
            )
        })?;
    if reader.format().is_none() {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "the bytes are not an image format this server decodes",
        ));
    }
    Ok(reader)
}

/// Whether the bytes are JPEG 2000 (a JP2 file or a bare codestream).
fn is_jpeg2000(bytes: &[u8]) -> bool {
    bytes.starts_with(&[
        0, 0, 0, 0x0C, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A,
    ]) || bytes.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
}

/// The size of a JPEG 2000 image from its SIZ marker (`FF 4F FF 51`: start of codestream and
/// image size), found without decoding.
fn jpeg2000_size(bytes: &[u8]) -> Result<(u32, u32)> {
    let unreadable = || Error::new(ErrorKind::Unsupported, "cannot read the JPEG 2000 header");
    let start = bytes
        .windows(4)
        .take(1 << 20)
        .position(|window| window == [0xFF, 0x4F, 0xFF, 0x51])
        .ok_or_else(unreadable)?;
    let siz = bytes
        .get(start + 4..start + 4 + 2 + 2 + 16)
        .ok_or_else(unreadable)?;
    let number = |at: usize| u32::from_be_bytes([siz[at], siz[at + 1], siz[at + 2], siz[at + 3]]);
    // Lsiz, Rsiz, then Xsiz, Ysiz, XOsiz, YOsiz
    let (width, height) = (
        number(4).saturating_sub(number(12)),
        number(8).saturating_sub(number(16)),
    );
    if width == 0 || height == 0 {
        return Err(unreadable());
    }
    Ok((width, height))
}

/// Decodes JPEG 2000 with OpenJPEG. From a file, not from memory: jpeg2k's in-memory stream
/// mishandles skips in tiled files.
fn decode_jpeg2000(bytes: &[u8]) -> Result<DynamicImage> {
    let failed = |error: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::Unsupported,
            format!("cannot decode the JPEG 2000 image: {error}"),
        )
    };
    let temporary =
        |error: std::io::Error| Error::new(ErrorKind::Internal, format!("temporary file: {error}"));
    // OpenJPEG tells a JP2 file from a bare codestream by the file's extension
    let extension = if bytes.starts_with(&[0xFF, 0x4F]) {
        ".j2k"
    } else {
        ".jp2"
    };
    let mut file = tempfile::Builder::new()
        .suffix(extension)
        .tempfile()
        .map_err(temporary)?;
    std::io::Write::write_all(&mut file, bytes).map_err(temporary)?;
    let image = jpeg2k::Image::from_file(file.path()).map_err(|error| failed(&error))?;
    DynamicImage::try_from(&image).map_err(|error| failed(&error))
}

/// The pixel size of a master, read from its header only.
pub fn probe(bytes: &[u8]) -> Result<(u32, u32)> {
    if is_jpeg2000(bytes) {
        return jpeg2000_size(bytes);
    }
    reader(bytes)?.into_dimensions().map_err(|error| {
        Error::new(
            ErrorKind::Unsupported,
            format!("cannot read the image header: {error}"),
        )
    })
}

/// Decodes a master to 8-bit grey or RGB, with its EXIF orientation applied, transparency
/// laid on white and 16-bit samples reduced to 8. Masters over `max_pixels` are refused
/// before any pixel is decoded.
pub fn decode_master(bytes: &[u8], max_pixels: u64) -> Result<Raster> {
    let (width, height) = probe(bytes)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > max_pixels {
        return Err(Error::new(
            ErrorKind::TooLarge,
            format!(
                "the image is {width}x{height} ({pixels} pixels), over the limit of {max_pixels}"
            ),
        ));
    }
    let (image, icc_profile) = if is_jpeg2000(bytes) {
        (decode_jpeg2000(bytes)?, None)
    } else {
        let unsupported = |error: image::ImageError| {
            Error::new(
                ErrorKind::Unsupported,
                format!("cannot decode the image: {error}"),
            )
        };
        let mut decoder = reader(bytes)?.into_decoder().map_err(unsupported)?;
        let orientation = decoder.orientation().map_err(unsupported)?;
        // a profile that cannot be read is ignored: the pixels are then taken as sRGB
        let icc_profile = decoder.icc_profile().ok().flatten();
        let mut image = DynamicImage::from_decoder(decoder).map_err(unsupported)?;
        image.apply_orientation(orientation);
        (image, icc_profile)
    };
    let has_alpha = image.color().has_alpha();
    let is_gray = !image.color().has_color();
    let (width, height) = (image.width(), image.height());
    let raster = match (is_gray, has_alpha) {
        (true, false) => Raster::new(width, height, Channels::Gray, image.into_luma8().into_raw())?,
        (false, false) => {
            let mut pixels = image.into_rgb8().into_raw();
            if let Some(profile) = &icc_profile {
                to_srgb(profile, &mut pixels);
            }
            Raster::new(width, height, Channels::Rgb, pixels)?
        }
        (_, true) => {
            let rgb =
                Raster::new(width, height, Channels::Rgba, image.into_rgba8().into_raw())?.to_rgb();
            if is_gray { rgb.to_gray() } else { rgb }
        }
    };
    Ok(raster)
}

/// Converts RGB pixels from an embedded ICC profile to sRGB, in place. Profiles that are not
/// RGB (a CMYK master is already converted to RGB by its decoder), that cannot be parsed, or
/// that are sRGB already leave the pixels as they are.
fn to_srgb(icc_profile: &[u8], pixels: &mut [u8]) {
    use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};
    let Ok(source) = ColorProfile::new_from_slice(icc_profile) else {
        return;
    };
    if source.color_space != DataColorSpace::Rgb {
        return;
    }
    let srgb = ColorProfile::new_srgb();
    let Ok(transform) =
        source.create_transform_8bit(Layout::Rgb, &srgb, Layout::Rgb, TransformOptions::default())
    else {
        return;
    };
    let mut converted = vec![0u8; pixels.len()];
    if transform.transform(pixels, &mut converted).is_ok() {
        pixels.copy_from_slice(&converted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Luma, LumaA, Rgb, Rgba};

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap();
        bytes
    }

    #[test]
    fn decodes_common_formats_to_8_bit() {
        let rgb = DynamicImage::ImageRgb8(image::RgbImage::from_pixel(8, 6, Rgb([10, 20, 30])));
        for format in [
            ImageFormat::Png,
            ImageFormat::Jpeg,
            ImageFormat::Tiff,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let raster = decode_master(&encoded(rgb.clone(), format), 1000).unwrap();
            assert_eq!(
                (raster.width, raster.height, raster.channels),
                (8, 6, Channels::Rgb),
                "{format:?}"
            );
        }
    }

    #[test]
    fn sixteen_bit_grey_and_alpha_are_reduced() {
        let gray16 =
            DynamicImage::ImageLuma16(image::ImageBuffer::from_pixel(4, 4, Luma([65535u16])));
        let raster = decode_master(&encoded(gray16, ImageFormat::Png), 1000).unwrap();
        assert_eq!(raster.channels, Channels::Gray);
        assert!(raster.pixels.iter().all(|v| *v == 255));

        let transparent =
            DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(2, 2, Rgba([0, 0, 0, 0])));
        let raster = decode_master(&encoded(transparent, ImageFormat::Png), 1000).unwrap();
        assert_eq!(raster.channels, Channels::Rgb);
        assert!(
            raster.pixels.iter().all(|v| *v == 255),
            "transparency is laid on white"
        );

        let gray_alpha =
            DynamicImage::ImageLumaA8(image::ImageBuffer::from_pixel(2, 2, LumaA([100u8, 255])));
        assert_eq!(
            decode_master(&encoded(gray_alpha, ImageFormat::Png), 1000)
                .unwrap()
                .channels,
            Channels::Gray
        );
    }

    #[test]
    fn cmyk_tiffs_become_rgb() {
        let mut bytes = Vec::new();
        let mut encoder = tiff::encoder::TiffEncoder::new(Cursor::new(&mut bytes)).unwrap();
        // pure cyan: no magenta, yellow or black
        let cmyk: Vec<u8> = (0..16).flat_map(|_| [255u8, 0, 0, 0]).collect();
        encoder
            .write_image::<tiff::encoder::colortype::CMYK8>(4, 4, &cmyk)
            .unwrap();
        let raster = decode_master(&bytes, 1000).unwrap();
        assert_eq!(raster.channels, Channels::Rgb);
        assert_eq!(&raster.pixels[..3], &[0, 255, 255]);
    }

    #[test]
    fn embedded_profiles_convert_to_srgb() {
        // an sRGB profile leaves pixels as they are; a wide-gamut one moves saturated colours
        let srgb = moxcms::ColorProfile::new_srgb().encode().unwrap();
        let mut pixels = vec![200, 30, 30];
        to_srgb(&srgb, &mut pixels);
        assert!(
            pixels
                .iter()
                .zip([200, 30, 30])
                .all(|(a, b): (&u8, u8)| a.abs_diff(b) <= 1),
            "{pixels:?}"
        );
        let display_p3 = moxcms::ColorProfile::new_display_p3().encode().unwrap();
        let mut pixels = vec![255, 0, 0];
        to_srgb(&display_p3, &mut pixels);
        assert_eq!(pixels[0], 255);
        assert!(pixels[1] < 10 && pixels[2] < 10);
        let mut untouched = vec![1, 2, 3];
        to_srgb(b"not a profile", &mut untouched);
        assert_eq!(untouched, vec![1, 2, 3]);
    }

    #[test]
    fn refuses_pixel_bombs_before_decoding() {
        let large = DynamicImage::ImageLuma8(image::GrayImage::new(100, 100));
        let error = decode_master(&encoded(large, ImageFormat::Png), 9_999).unwrap_err();
        assert_eq!(error.kind, ErrorKind::TooLarge);
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        assert_eq!(
            decode_master(b"%PDF-1.4 not an image", 1000)
                .unwrap_err()
                .kind,
            ErrorKind::Unsupported
        );
        let mut truncated = encoded(
            DynamicImage::ImageRgb8(image::RgbImage::new(50, 50)),
            ImageFormat::Png,
        );
        truncated.truncate(60);
        assert_eq!(
            decode_master(&truncated, 10_000).unwrap_err().kind,
            ErrorKind::Unsupported
        );
    }
}
