//! Encoding and decoding: JPEG tiles (the pyramid's and most responses), and the other output
//! formats of the Image API.

use std::io::Cursor;

use iiif::image::Format;
use image::codecs::gif::GifEncoder;
use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::codecs::tiff::TiffEncoder;
use image::codecs::webp::WebPEncoder;
use image::{ExtendedColorType, ImageEncoder};

use crate::error::{Error, ErrorKind, Result};
use crate::raster::{Channels, Raster};

/// Encodes RGB or grey pixels as a baseline JPEG with libjpeg's SIMD encoder (mozjpeg set to
/// libjpeg-turbo's fastest defaults: baseline, the standard tables, 4:2:0 for colour). RGBA is
/// laid on white.
pub fn encode_jpeg(raster: &Raster, quality: u8) -> Result<Vec<u8>> {
    use mozjpeg::{ColorSpace, Compress};
    let flattened;
    let raster = if raster.channels == Channels::Rgba {
        flattened = raster.to_rgb();
        &flattened
    } else {
        raster
    };
    let (width, height) = (dimension(raster.width)?, dimension(raster.height)?);
    let failed = |message: String| {
        Error::new(
            ErrorKind::Internal,
            format!("jpeg encoding failed: {message}"),
        )
    };
    let color = match raster.channels {
        Channels::Gray => ColorSpace::JCS_GRAYSCALE,
        _ => ColorSpace::JCS_RGB,
    };
    // libjpeg reports errors by unwinding out of the encoder (mozjpeg's design)
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut compress = Compress::new(color);
        compress.set_fastest_defaults();
        compress.set_size(usize::from(width), usize::from(height));
        compress.set_quality(f32::from(quality));
        let mut started = compress.start_compress(Vec::with_capacity(raster.pixels.len() / 8))?;
        started.write_scanlines(&raster.pixels)?;
        started.finish()
    }));
    match outcome {
        Ok(Ok(bytes)) => Ok(exact(bytes)),
        Ok(Err(error)) => Err(failed(error.to_string())),
        Err(_) => Err(failed("the encoder failed".to_owned())),
    }
}

fn dimension(value: u32) -> Result<u16> {
    u16::try_from(value).map_err(|_| {
        Error::new(
            ErrorKind::Internal,
            format!("{value} px is over JPEG's 65535 limit"),
        )
    })
}

/// Decodes a JPEG tile into `channels` (grey or RGB) with zune-jpeg.
pub(crate) fn decode_jpeg(bytes: &[u8], channels: Channels) -> Result<Raster> {
    use zune_core::bytestream::ZCursor;
    use zune_core::colorspace::ColorSpace;
    use zune_core::options::DecoderOptions;
    use zune_jpeg::JpegDecoder;

    let colorspace = if channels == Channels::Gray {
        ColorSpace::Luma
    } else {
        ColorSpace::RGB
    };
    let options = DecoderOptions::default().jpeg_set_out_colorspace(colorspace);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let pixels = decoder.decode().map_err(|error| {
        Error::new(
            ErrorKind::CorruptDerivative,
            format!("cannot decode a tile: {error:?}"),
        )
    })?;
    let info = decoder
        .info()
        .ok_or_else(|| Error::new(ErrorKind::CorruptDerivative, "tile has no header"))?;
    Raster::new(
        u32::from(info.width),
        u32::from(info.height),
        channels,
        pixels,
    )
}

/// Encodes a rendered image in an Image API output format.
pub fn encode(raster: &Raster, format: Format, jpeg_quality: u8) -> Result<Vec<u8>> {
    if format == Format::Jpg {
        return encode_jpeg(raster, jpeg_quality);
    }
    let color = match raster.channels {
        Channels::Gray => ExtendedColorType::L8,
        Channels::Rgb => ExtendedColorType::Rgb8,
        Channels::Rgba => ExtendedColorType::Rgba8,
    };
    let failed = |error: image::ImageError| {
        Error::new(
            ErrorKind::Internal,
            format!("{format} encoding failed: {error}"),
        )
    };
    let (width, height) = (raster.width, raster.height);
    let mut bytes = Vec::new();
    match format {
        Format::Png => {
            PngEncoder::new_with_quality(&mut bytes, CompressionType::Fast, FilterType::Adaptive)
                .write_image(&raster.pixels, width, height, color)
                .map_err(failed)?
        }
        Format::Webp => {
            // the lossless encoder takes RGB(A) only
            let rgb;
            let (pixels, color) = if raster.channels == Channels::Gray {
                rgb = raster.to_rgb();
                (&rgb.pixels, ExtendedColorType::Rgb8)
            } else {
                (&raster.pixels, color)
            };
            WebPEncoder::new_lossless(&mut bytes)
                .write_image(pixels, width, height, color)
                .map_err(failed)?
        }
        Format::Gif => {
            let rgba = raster.to_rgba();
            GifEncoder::new_with_speed(&mut bytes, 10)
                .encode(&rgba.pixels, width, height, ExtendedColorType::Rgba8)
                .map_err(failed)?
        }
        Format::Tif => TiffEncoder::new(Cursor::new(&mut bytes))
            .write_image(&raster.pixels, width, height, color)
            .map_err(failed)?,
        Format::Jpg => unreachable!("handled above"),
    }
    Ok(exact(bytes))
}

/// An encoded image holding only its own bytes. Encoders reserve room ahead (the JPEG one an
/// eighth of the raw size, about twice what Q75 needs; the others by doubling), and caches
/// weigh what they keep by its length: without this, a render cache would hold up to twice its
/// budget.
fn exact(mut bytes: Vec<u8>) -> Vec<u8> {
    bytes.shrink_to_fit();
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient(width: u32, height: u32) -> Raster {
        let pixels = (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| [(x * 4) as u8, (y * 4) as u8, 128]))
            .collect();
        Raster::new(width, height, Channels::Rgb, pixels).unwrap()
    }

    #[test]
    fn encoded_images_hold_no_spare_capacity() {
        let image = gradient(300, 200);
        for format in [
            Format::Jpg,
            Format::Png,
            Format::Webp,
            Format::Gif,
            Format::Tif,
        ] {
            let bytes = encode(&image, format, 75).unwrap();
            assert_eq!(bytes.capacity(), bytes.len(), "{format}");
        }
    }

    #[test]
    fn jpeg_round_trips_closely() {
        let image = gradient(64, 48);
        let bytes = encode_jpeg(&image, 90).unwrap();
        assert_eq!(&bytes[..2], &[0xFF, 0xD8]);
        let decoded = decode_jpeg(&bytes, Channels::Rgb).unwrap();
        assert_eq!((decoded.width, decoded.height), (64, 48));
        let error: u64 = image
            .pixels
            .iter()
            .zip(&decoded.pixels)
            .map(|(a, b)| u64::from(a.abs_diff(*b)))
            .sum();
        assert!(
            error / (image.pixels.len() as u64) < 4,
            "mean error {}",
            error / image.pixels.len() as u64
        );
    }

    #[test]
    fn every_format_decodes_back() {
        let image = gradient(20, 10);
        for format in Format::ALL {
            let bytes = encode(&image, format, 85).unwrap();
            let decoded =
                image::load_from_memory(&bytes).unwrap_or_else(|e| panic!("{format}: {e}"));
            assert_eq!((decoded.width(), decoded.height()), (20, 10), "{format}");
        }
        let gray = image.to_gray();
        for format in Format::ALL {
            let bytes = encode(&gray, format, 85).unwrap();
            assert!(image::load_from_memory(&bytes).is_ok(), "grey {format}");
        }
    }

    #[test]
    fn corrupt_tiles_are_reported() {
        assert_eq!(
            decode_jpeg(b"not a jpeg", Channels::Rgb).unwrap_err().kind,
            ErrorKind::CorruptDerivative
        );
    }
}
