//! Reading masters: any supported format to 8-bit grey or RGB, upright, refusing pixel bombs
//! and masters that would take more memory than the job's budget before decoding them, and
//! masters whose data ends early.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};

use crate::error::{Error, ErrorKind, Result};
use crate::master::Master;
use crate::raster::{Channels, Raster};

/// What decoding one master may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Largest master, in pixels.
    pub max_pixels: u64,
    /// Most memory, in bytes, that decoding the master and building its pyramid may hold at
    /// once (see [`memory_needed`]).
    pub memory_budget: u64,
}

impl DecodeLimits {
    /// Only a pixel limit: the memory budget is unbounded (tools and tests).
    pub fn pixels(max_pixels: u64) -> Self {
        Self {
            max_pixels,
            memory_budget: u64::MAX,
        }
    }
}

pub(crate) fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>> {
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
pub(crate) fn is_jpeg2000(bytes: &[u8]) -> bool {
    bytes.starts_with(&[
        0, 0, 0, 0x0C, b'j', b'P', b' ', b' ', 0x0D, 0x0A, 0x87, 0x0A,
    ]) || bytes.starts_with(&[0xFF, 0x4F, 0xFF, 0x51])
}

/// A JPEG 2000 image's header: its size and its components' count and sample bytes.
pub(crate) struct Jpeg2000Header {
    pub width: u32,
    pub height: u32,
    pub components: u64,
    sample_bytes: u64,
    /// The tiles' width and height, when the image can be decoded a row of tiles at a time:
    /// tiled, grey or RGB, every component at full resolution, and no offsets on the grid.
    pub tiles: Option<(u32, u32)>,
}

/// The header of a JPEG 2000 image from its SIZ marker (`FF 4F FF 51`: start of codestream
/// and image size), found without decoding.
pub(crate) fn jpeg2000_header(bytes: &[u8]) -> Result<Jpeg2000Header> {
    let unreadable = || Error::new(ErrorKind::Unsupported, "cannot read the JPEG 2000 header");
    let start = bytes
        .windows(4)
        .take(1 << 20)
        .position(|window| window == [0xFF, 0x4F, 0xFF, 0x51])
        .ok_or_else(unreadable)?;
    // Lsiz, Rsiz, Xsiz, Ysiz, XOsiz, YOsiz, XTsiz, YTsiz, XTOsiz, YTOsiz, Csiz
    let siz = bytes
        .get(start + 4..start + 4 + 2 + 2 + 32 + 2)
        .ok_or_else(unreadable)?;
    let number = |at: usize| u32::from_be_bytes([siz[at], siz[at + 1], siz[at + 2], siz[at + 3]]);
    let (width, height) = (
        number(4).saturating_sub(number(12)),
        number(8).saturating_sub(number(16)),
    );
    let components = u64::from(u16::from_be_bytes([siz[36], siz[37]]));
    if width == 0 || height == 0 || components == 0 {
        return Err(unreadable());
    }
    // the standard numbers tiles with 16 bits; OpenJPEG would allocate for each one claimed
    let (tile_width, tile_height) = (number(20), number(24));
    let tiles = |size: u32, offset: u32, tile: u32| {
        u64::from(size.saturating_sub(offset)).div_ceil(u64::from(tile.max(1)))
    };
    let tile_count = tiles(number(4), number(28), tile_width).saturating_mul(tiles(
        number(8),
        number(32),
        tile_height,
    ));
    if tile_width == 0 || tile_height == 0 || tile_count > 65_535 {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the JPEG 2000 image claims {tile_count} tiles of {tile_width}x{tile_height}, over the 65,535 the standard allows"
            ),
        ));
    }
    // each component's Ssiz: bit depth minus one in the low 7 bits
    let depths = bytes
        .get(start + 4 + 38..start + 4 + 38 + 3 * components as usize)
        .ok_or_else(unreadable)?;
    let deepest = depths
        .chunks(3)
        .map(|component| (component[0] & 0x7F) + 1)
        .max()
        .unwrap_or(8);
    let in_tile_rows = tile_count > 1
        && tile_height < height
        && matches!(components, 1 | 3)
        && [12, 16, 28, 32].iter().all(|at| number(*at) == 0)
        && depths.chunks(3).all(|component| component[1..] == [1, 1]);
    Ok(Jpeg2000Header {
        width,
        height,
        components,
        sample_bytes: if deepest > 8 { 2 } else { 1 },
        tiles: in_tile_rows.then_some((tile_width, tile_height)),
    })
}

/// A JPEG 2000 master in a temporary file, for OpenJPEG to read: jpeg2k's in-memory stream
/// mishandles skips in tiled files.
pub(crate) fn jpeg2000_file(bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
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
    Ok(file)
}

/// Decodes JPEG 2000 (all of it, or an area of it) with OpenJPEG, strictly: a codestream
/// that ends early is an error, not an image with its last parts missing.
pub(crate) fn decode_jpeg2000_file(
    bytes: &[u8],
    file: &tempfile::NamedTempFile,
    area: Option<jpeg2k::DecodeArea>,
) -> Result<DynamicImage> {
    let failed = |error: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::Unsupported,
            format!("cannot decode the JPEG 2000 image: {error}"),
        )
    };
    let strict = jpeg2k::DecodeParameters::new()
        .strict(true)
        .decode_area(area);
    let image = jpeg2k::Image::from_file_with(file.path(), strict).map_err(|error| {
        // a whole codestream ends with its EOC marker (FF D9)
        let ended = bytes
            .windows(2)
            .rev()
            .take(64)
            .any(|pair| pair == [0xFF, 0xD9]);
        if ended {
            failed(&error)
        } else {
            Error::new(
                ErrorKind::Truncated,
                format!("the JPEG 2000 data ends early: {error}"),
            )
        }
    })?;
    jpeg2000_pixels(&image).map_err(|error| failed(&error))
}

/// OpenJPEG's samples as 8-bit grey or RGB pixels. One or three unsigned components of up
/// to 8 bits, the same size, are interleaved here in one pass, scaled as the jpeg2k crate
/// scales them (its per-sample iterators cost a quarter of a tiled master's build); anything
/// else goes through the crate.
fn jpeg2000_pixels(
    image: &jpeg2k::Image,
) -> std::result::Result<DynamicImage, jpeg2k::error::Error> {
    use jpeg2k::ColorSpace;
    let components = image.components();
    let simple = matches!(components.len(), 1 | 3)
        && matches!(
            image.color_space(),
            ColorSpace::Unknown | ColorSpace::Unspecified | ColorSpace::SRGB | ColorSpace::Gray
        )
        && components.iter().all(|component| {
            (1..=8).contains(&component.precision())
                && !component.is_signed()
                && !component.is_alpha()
                && (component.width(), component.height())
                    == (components[0].width(), components[0].height())
        });
    if !simple {
        return DynamicImage::try_from(image);
    }
    let (width, height) = (components[0].width(), components[0].height());
    let channels = components.len();
    let mut pixels = vec![0u8; width as usize * height as usize * channels];
    for (index, component) in components.iter().enumerate() {
        let samples = pixels
            .chunks_exact_mut(channels)
            .map(|pixel| &mut pixel[index])
            .zip(component.data());
        let most = (1u64 << component.precision()) - 1;
        if most == 255 {
            samples.for_each(|(pixel, &sample)| *pixel = sample as u8);
        } else {
            samples.for_each(|(pixel, &sample)| {
                *pixel = (u64::from(sample as u32) * 255 / most) as u8;
            });
        }
    }
    Ok(if components.len() == 1 {
        DynamicImage::ImageLuma8(
            image::GrayImage::from_raw(width, height, pixels).expect("sized to the image"),
        )
    } else {
        DynamicImage::ImageRgb8(
            image::RgbImage::from_raw(width, height, pixels).expect("sized to the image"),
        )
    })
}

fn decode_jpeg2000(bytes: &[u8]) -> Result<DynamicImage> {
    decode_jpeg2000_file(bytes, &jpeg2000_file(bytes)?, None)
}

/// The pixel size of a master, read from its header only. Of a master in a file only the
/// first bytes are read (a TIFF's directory wherever it lies), unless the header runs past
/// them.
pub fn probe<'a>(master: impl Into<Master<'a>>) -> Result<(u32, u32)> {
    match master.into() {
        Master::Bytes(bytes) => probe_bytes(bytes),
        file => probe_file(file),
    }
}

fn probe_file(master: Master<'_>) -> Result<(u32, u32)> {
    let unreadable = |error: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::Unsupported,
            format!("cannot read the image header: {error}"),
        )
    };
    if master.file_format()?.is_some() {
        // PNG and TIFF decoders read their header from the file, seeking where they must
        return ImageReader::new(master.open()?)
            .with_guessed_format()
            .map_err(|error| unreadable(&error))?
            .into_dimensions()
            .map_err(|error| unreadable(&error));
    }
    let mut head = Vec::with_capacity(PROBE_HEAD);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(master.open()?, PROBE_HEAD as u64),
        &mut head,
    )
    .map_err(|error| unreadable(&error))?;
    match probe_bytes(&head) {
        Err(_) if (head.len() as u64) < master.len()? => probe_bytes(&master.read_all()?),
        probed => probed,
    }
}

/// The first bytes of a file [`probe`] reads a JPEG's or JPEG 2000's header from.
const PROBE_HEAD: usize = 256 * 1024;

fn probe_bytes(bytes: &[u8]) -> Result<(u32, u32)> {
    if is_jpeg2000(bytes) {
        let header = jpeg2000_header(bytes)?;
        return Ok((header.width, header.height));
    }
    reader(bytes)?.into_dimensions().map_err(|error| {
        Error::new(
            ErrorKind::Unsupported,
            format!("cannot read the image header: {error}"),
        )
    })
}

/// What a master's header says about the memory its decoding takes, per pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cost {
    width: u32,
    height: u32,
    /// Bytes per pixel the codec holds besides the decoded image (coefficients, planes).
    codec: u64,
    /// Bytes per pixel of the decoded image as the codec returns it.
    decoded: u64,
    /// Bytes per pixel of the copies made on the way to 8-bit grey or RGB (alpha, 16 bits,
    /// orientation, colour profile).
    conversions: u64,
    /// Channels of the raster the pyramid is built from (1 or 3).
    channels: u64,
}

impl Cost {
    /// Peak bytes: the larger of the decoding (the codec, its output and the copies) and the
    /// pyramid build (the raster, the next level while it is made, and the encoded tiles,
    /// taken at a byte per pixel for the tiles and the TIFF they are copied into).
    fn peak(&self) -> u64 {
        let pixels = u64::from(self.width) * u64::from(self.height);
        // in quarters of a byte per pixel: the raster, its half-size level (a quarter of it)
        // and the encoded tiles
        let decoding = 4 * (self.codec + self.decoded + self.conversions);
        let building = 4 * self.channels + self.channels + 4;
        pixels.saturating_mul(decoding.max(building)) / 4
    }
}

/// The bytes per pixel a JPEG decoder holds besides its output: a progressive JPEG keeps
/// every coefficient (16 bits per sample) until the last scan.
fn jpeg_codec_bytes(structure: &JpegStructure) -> u64 {
    if structure.progressive {
        2 * u64::from(structure.components)
    } else {
        0
    }
}

fn cost_of(bytes: &[u8]) -> Result<Cost> {
    if is_jpeg2000(bytes) {
        let header = jpeg2000_header(bytes)?;
        let decoded = header.components * header.sample_bytes;
        let has_alpha = header.components == 2 || header.components >= 4;
        return Ok(Cost {
            width: header.width,
            height: header.height,
            // OpenJPEG decodes every component to 32-bit samples
            codec: 4 * header.components,
            decoded,
            conversions: conversions(has_alpha, header.sample_bytes > 1, false),
            channels: if header.components >= 3 { 3 } else { 1 },
        });
    }
    let unreadable = |error: image::ImageError| {
        Error::new(
            ErrorKind::Unsupported,
            format!("cannot read the image header: {error}"),
        )
    };
    let reader = reader(bytes)?;
    let format = reader.format();
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    let turned = !matches!(
        decoder.orientation().unwrap_or(Orientation::NoTransforms),
        Orientation::NoTransforms | Orientation::FlipHorizontal | Orientation::FlipVertical
    );
    let profiled = decoder.icc_profile().ok().flatten().is_some();
    let codec = match format {
        Some(ImageFormat::Jpeg) => jpeg_codec_bytes(&jpeg_structure(bytes)?),
        // an intermediate buffer (CMYK, planes, strips), a frame to compose on, YUV planes
        Some(ImageFormat::Tiff) => u64::from(color.bytes_per_pixel()) + 1,
        Some(ImageFormat::Gif) => 4,
        Some(ImageFormat::WebP) => 2,
        _ => 0,
    };
    let decoded = u64::from(color.bytes_per_pixel());
    let sixteen_bits = color.bytes_per_pixel() > color.channel_count();
    let rotated = if turned { decoded } else { 0 };
    Ok(Cost {
        width,
        height,
        codec,
        decoded,
        conversions: conversions(color.has_alpha(), sixteen_bits, profiled) + rotated,
        channels: if color.has_color() { 3 } else { 1 },
    })
}

/// Bytes per pixel of the copies between a decoded image and its 8-bit grey or RGB raster.
fn conversions(has_alpha: bool, sixteen_bits: bool, profiled: bool) -> u64 {
    let mut bytes = 0;
    if has_alpha {
        // RGBA, then RGB laid on white
        bytes += 4 + 3;
    } else if sixteen_bits {
        bytes += 3;
    }
    if profiled {
        bytes += 3;
    }
    bytes
}

/// The most memory, in bytes, decoding this master and building its pyramid would hold at
/// once, from its header alone (the encoded bytes included).
///
/// A master read in bands (see [`crate::build_pyramid_file`]) needs a few bands of its full
/// width and the smaller levels, whatever its height; any other is decoded whole.
///
/// A master in a file is counted as its bands and whatever of the file is held: a PNG or TIFF
/// is read from the file as it is decoded, any other format is read into memory first.
pub fn memory_needed<'a>(master: impl Into<Master<'a>>) -> Result<u64> {
    let master = master.into();
    match crate::stream::streamable(master)? {
        Some(info) => Ok(streaming_memory(info.width, info.channels, master.held()?)
            .saturating_add(info.codec_memory())),
        None => match master {
            Master::Bytes(bytes) => whole_memory_needed(bytes),
            // a file of another format is read into memory, and may still be read in bands
            Master::File(_) => memory_needed(&master.read_all()?),
        },
    }
}

/// What decoding the master whole and building its pyramid from that takes.
fn whole_memory_needed(bytes: &[u8]) -> Result<u64> {
    Ok(cost_of(bytes)?.peak().saturating_add(bytes.len() as u64))
}

/// What building a pyramid from bands takes: the master's bytes held in memory (all of them,
/// or a file's read buffer), five bands of 512 rows of the
/// full width (the one being read, one waiting, the one being tiled, its half and the next
/// level's), and the first level held whole with its half and thumbnails.
pub(crate) fn streaming_memory(width: u32, channels: Channels, master_bytes: u64) -> u64 {
    let pixel = channels.count() as u64;
    let bands = 5 * 512 * u64::from(width) * pixel;
    let whole = 2 * crate::pyramid::WHOLE_LEVEL_PIXELS * pixel;
    master_bytes.saturating_add(bands).saturating_add(whole)
}

/// What walking a JPEG's markers tells: enough to price it and to see it is whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct JpegStructure {
    pub progressive: bool,
    pub components: u8,
    /// 8x8 blocks over every component: each costs at least a bit of entropy-coded data.
    blocks: u64,
    /// Bytes of entropy-coded data over every scan.
    scan_bytes: u64,
    /// Whether the end-of-image marker follows the scans.
    ended: bool,
}

/// Walks a JPEG's marker segments and scans (never decoding them).
pub(crate) fn jpeg_structure(bytes: &[u8]) -> Result<JpegStructure> {
    let corrupt = || Error::new(ErrorKind::Unsupported, "the JPEG's markers are corrupt");
    let mut structure = JpegStructure::default();
    let mut at = 2;
    while at + 1 < bytes.len() {
        if bytes[at] != 0xFF {
            // stray bytes before a marker: skipped, as decoders do
            at += 1;
            continue;
        }
        let marker = bytes[at + 1];
        at += 2;
        match marker {
            // fill bytes, and markers without a length
            0xFF => at -= 1,
            0x01 | 0xD0..=0xD7 => {}
            0xD9 => {
                structure.ended = true;
                break;
            }
            _ => {
                let length = bytes
                    .get(at..at + 2)
                    .map(|pair| usize::from(u16::from_be_bytes([pair[0], pair[1]])))
                    .ok_or_else(truncated_jpeg)?;
                let segment = bytes.get(at + 2..at + length).ok_or_else(truncated_jpeg)?;
                if matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
                    structure.progressive = matches!(marker, 0xC2 | 0xC6 | 0xCA | 0xCE);
                    structure.components = *segment.get(5).ok_or_else(corrupt)?;
                    structure.blocks = sof_blocks(segment).ok_or_else(corrupt)?;
                }
                at += length;
                if marker == 0xDA {
                    // entropy-coded data runs to the next marker that is not a stuffed 0xFF
                    // or a restart marker
                    let data = &bytes[at.min(bytes.len())..];
                    let length = data
                        .windows(2)
                        .position(|pair| {
                            pair[0] == 0xFF && pair[1] != 0 && !(0xD0..=0xD7).contains(&pair[1])
                        })
                        .unwrap_or(data.len());
                    structure.scan_bytes += length as u64;
                    at += length;
                }
            }
        }
    }
    Ok(structure)
}

/// The 8x8 blocks of every component of a frame, from its SOF segment.
fn sof_blocks(segment: &[u8]) -> Option<u64> {
    let height = u64::from(u16::from_be_bytes([*segment.get(1)?, *segment.get(2)?]));
    let width = u64::from(u16::from_be_bytes([*segment.get(3)?, *segment.get(4)?]));
    let count = usize::from(*segment.get(5)?);
    let components = segment.get(6..6 + 3 * count)?;
    let sampling = |component: &[u8]| (u64::from(component[1] >> 4), u64::from(component[1] & 15));
    let (max_h, max_v) = components
        .chunks(3)
        .map(sampling)
        .fold((1, 1), |(h, v), (ch, cv)| (h.max(ch), v.max(cv)));
    Some(
        components
            .chunks(3)
            .map(|component| {
                let (h, v) = sampling(component);
                (width * h).div_ceil(max_h).div_ceil(8) * (height * v).div_ceil(max_v).div_ceil(8)
            })
            .sum(),
    )
}

fn truncated_jpeg() -> Error {
    Error::new(
        ErrorKind::Truncated,
        "the JPEG data ends early: the file is truncated",
    )
}

/// Refuses a JPEG whose data ends early: without its end marker, or with less entropy-coded
/// data than one bit per block, the least any complete JPEG has. Decoders paint the missing
/// part grey instead of failing.
pub(crate) fn check_jpeg_complete(bytes: &[u8]) -> Result<()> {
    let structure = jpeg_structure(bytes)?;
    if !structure.ended || structure.scan_bytes < structure.blocks / 8 {
        return Err(truncated_jpeg());
    }
    Ok(())
}

/// Decodes a master to 8-bit grey or RGB, with its EXIF orientation applied, transparency
/// laid on white and 16-bit samples reduced to 8. Masters over `limits.max_pixels`, or whose
/// decoding would take more than `limits.memory_budget` (see [`memory_needed`]), are refused
/// from their header, before any pixel is decoded; so are JPEGs whose data ends early.
pub fn decode_master(bytes: &[u8], limits: &DecodeLimits) -> Result<Raster> {
    let (width, height) = probe(bytes)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(too_many_pixels(width, height, limits.max_pixels));
    }
    let needed = whole_memory_needed(bytes)?;
    if needed > limits.memory_budget {
        return Err(over_budget(width, height, needed, limits.memory_budget));
    }
    let (image, icc_profile) = if is_jpeg2000(bytes) {
        (decode_jpeg2000(bytes)?, None)
    } else {
        let unsupported = |error: image::ImageError| {
            let kind = match &error {
                image::ImageError::IoError(io)
                    if io.kind() == std::io::ErrorKind::UnexpectedEof =>
                {
                    ErrorKind::Truncated
                }
                _ => ErrorKind::Unsupported,
            };
            Error::new(kind, format!("cannot decode the image: {error}"))
        };
        let mut reader = reader(bytes)?;
        match reader.format() {
            Some(ImageFormat::Jpeg) => check_jpeg_complete(bytes)?,
            Some(ImageFormat::Tiff) => crate::stream::check_tiff_chunks(Master::Bytes(bytes))?,
            _ => {}
        }
        // the decoders that count their allocations stop at the budget too
        let mut decoder_limits = image::Limits::default();
        decoder_limits.max_alloc = Some(limits.memory_budget);
        reader.limits(decoder_limits);
        let mut decoder = reader.into_decoder().map_err(unsupported)?;
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

pub(crate) fn too_many_pixels(width: u32, height: u32, limit: u64) -> Error {
    let pixels = u64::from(width) * u64::from(height);
    Error::new(
        ErrorKind::TooLarge,
        format!("the image is {width}x{height} ({pixels} pixels), over the limit of {limit}"),
    )
}

pub(crate) fn over_budget(width: u32, height: u32, needed: u64, budget: u64) -> Error {
    const MIB: u64 = 1024 * 1024;
    Error::new(
        ErrorKind::TooLarge,
        format!(
            "the image is {width}x{height}: decoding it needs about {} MiB, over the memory budget of {} MiB per job",
            needed.div_ceil(MIB),
            budget / MIB
        ),
    )
}

/// Converts RGB pixels from an embedded ICC profile to sRGB, in place. Profiles that are not
/// RGB (a CMYK master is already converted to RGB by its decoder), that cannot be parsed, or
/// that are sRGB already leave the pixels as they are.
pub(crate) fn to_srgb(icc_profile: &[u8], pixels: &mut [u8]) {
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
pub(crate) mod tests {
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
            let raster =
                decode_master(&encoded(rgb.clone(), format), &DecodeLimits::pixels(1000)).unwrap();
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
        let raster = decode_master(
            &encoded(gray16, ImageFormat::Png),
            &DecodeLimits::pixels(1000),
        )
        .unwrap();
        assert_eq!(raster.channels, Channels::Gray);
        assert!(raster.pixels.iter().all(|v| *v == 255));

        let transparent =
            DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(2, 2, Rgba([0, 0, 0, 0])));
        let raster = decode_master(
            &encoded(transparent, ImageFormat::Png),
            &DecodeLimits::pixels(1000),
        )
        .unwrap();
        assert_eq!(raster.channels, Channels::Rgb);
        assert!(
            raster.pixels.iter().all(|v| *v == 255),
            "transparency is laid on white"
        );

        let gray_alpha =
            DynamicImage::ImageLumaA8(image::ImageBuffer::from_pixel(2, 2, LumaA([100u8, 255])));
        assert_eq!(
            decode_master(
                &encoded(gray_alpha, ImageFormat::Png),
                &DecodeLimits::pixels(1000)
            )
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
        let raster = decode_master(&bytes, &DecodeLimits::pixels(1000)).unwrap();
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
        let error = decode_master(
            &encoded(large, ImageFormat::Png),
            &DecodeLimits::pixels(9_999),
        )
        .unwrap_err();
        assert_eq!(error.kind, ErrorKind::TooLarge);
    }

    #[test]
    fn refuses_what_is_not_an_image() {
        assert_eq!(
            decode_master(b"%PDF-1.4 not an image", &DecodeLimits::pixels(1000))
                .unwrap_err()
                .kind,
            ErrorKind::Unsupported
        );
        let mut truncated = encoded(
            DynamicImage::ImageRgb8(image::RgbImage::new(50, 50)),
            ImageFormat::Png,
        );
        truncated.truncate(60);
        assert!(matches!(
            decode_master(&truncated, &DecodeLimits::pixels(10_000))
                .unwrap_err()
                .kind,
            ErrorKind::Unsupported | ErrorKind::Truncated
        ));
    }

    /// A JPEG (baseline, 3 components) whose header claims `width` x `height` and whose data
    /// is one small image's: what an 800-byte decompression bomb looks like.
    pub(crate) fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
        let mut bytes = encoded(
            DynamicImage::ImageRgb8(image::RgbImage::from_pixel(16, 16, Rgb([90, 90, 90]))),
            ImageFormat::Jpeg,
        );
        let mut at = 2;
        loop {
            let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
            if bytes[at + 1] == 0xC0 {
                bytes[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
                bytes[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
                return bytes;
            }
            at += 2 + length;
        }
    }

    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for byte in bytes {
            crc ^= u32::from(*byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// An RGB PNG whose IHDR claims `width` x `height` (with a valid checksum).
    pub(crate) fn png_claiming(width: u32, height: u32) -> Vec<u8> {
        let mut bytes = encoded(
            DynamicImage::ImageRgb8(image::RgbImage::new(16, 16)),
            ImageFormat::Png,
        );
        bytes[16..20].copy_from_slice(&width.to_be_bytes());
        bytes[20..24].copy_from_slice(&height.to_be_bytes());
        let crc = crc32(&bytes[12..29]);
        bytes[29..33].copy_from_slice(&crc.to_be_bytes());
        bytes
    }

    /// A bare JPEG 2000 codestream header: SOC and a SIZ of three 8-bit components.
    fn jpeg2000_claiming(width: u32, height: u32) -> Vec<u8> {
        jpeg2000_tiled(width, height, width, height)
    }

    /// The same with tiles of `tile_width` x `tile_height`.
    fn jpeg2000_tiled(width: u32, height: u32, tile_width: u32, tile_height: u32) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0x4F, 0xFF, 0x51, 0, 47, 0, 0];
        for number in [width, height, 0, 0, tile_width, tile_height, 0, 0] {
            bytes.extend_from_slice(&number.to_be_bytes());
        }
        bytes.extend_from_slice(&3u16.to_be_bytes());
        bytes.extend_from_slice(&[7, 1, 1, 7, 1, 1, 7, 1, 1]);
        bytes
    }

    const GIB: u64 = 1024 * 1024 * 1024;

    #[test]
    fn refuses_masters_over_the_memory_budget_from_their_header() {
        let limits = DecodeLimits {
            max_pixels: u64::MAX,
            memory_budget: GIB,
        };
        for (name, bomb) in [
            ("jpeg", jpeg_claiming(30_000, 30_000)),
            ("png", png_claiming(30_000, 30_000)),
            ("jpeg 2000", jpeg2000_claiming(30_000, 30_000)),
        ] {
            assert!(bomb.len() < 1000, "{name}: {} bytes", bomb.len());
            let needed = whole_memory_needed(&bomb).unwrap();
            assert!(needed >= 30_000 * 30_000 * 3, "{name}: {needed}");
            let error = decode_master(&bomb, &limits).unwrap_err();
            assert_eq!(error.kind, ErrorKind::TooLarge, "{name}: {error}");
            assert!(error.message.contains("memory budget"), "{error}");
        }
        // an ordinary master fits in the same budget
        let photo = encoded(
            DynamicImage::ImageRgb8(image::RgbImage::new(2000, 1500)),
            ImageFormat::Png,
        );
        assert!(whole_memory_needed(&photo).unwrap() < 64 * 1024 * 1024);
        decode_master(&photo, &limits).unwrap();
    }

    #[test]
    fn jpeg2000_claiming_more_tiles_than_the_standard_allows_is_refused_from_its_header() {
        let limits = DecodeLimits::pixels(u64::MAX);
        for (width, tile) in [(20_000, 1), (65_536, 16), (1_000, 0)] {
            let bomb = jpeg2000_tiled(width, width, tile, tile);
            let error = decode_master(&bomb, &limits).unwrap_err();
            assert_eq!(error.kind, ErrorKind::Unsupported, "{error}");
            assert!(error.message.contains("tiles"), "{error}");
            assert!(memory_needed(&bomb).is_err());
        }
        // 256 tiles of 1024 px pass the header check (and fail later for want of data)
        let ordinary = jpeg2000_tiled(16_384, 16_384, 1024, 1024);
        assert_eq!(probe(&ordinary).unwrap(), (16_384, 16_384));
    }

    #[test]
    fn the_budget_counts_what_decoding_holds() {
        let pixels = 1000 * 1000;
        let rgb = encoded(
            DynamicImage::ImageRgb8(image::RgbImage::new(1000, 1000)),
            ImageFormat::Png,
        );
        let rgba16 = encoded(
            DynamicImage::ImageRgba16(image::ImageBuffer::new(1000, 1000)),
            ImageFormat::Png,
        );
        let gray = encoded(
            DynamicImage::ImageLuma8(image::GrayImage::new(1000, 1000)),
            ImageFormat::Png,
        );
        let (rgb, rgba16, gray) = (
            whole_memory_needed(&rgb).unwrap(),
            whole_memory_needed(&rgba16).unwrap(),
            whole_memory_needed(&gray).unwrap(),
        );
        // RGB: the raster, its next level and the tiles; RGBA16: 8 bytes decoded, then RGBA
        // and RGB copies
        assert!((4 * pixels..6 * pixels).contains(&rgb), "{rgb}");
        assert!(rgba16 >= (8 + 4 + 3) * pixels, "{rgba16}");
        assert!(gray < rgb, "{gray} {rgb}");
    }

    fn noise(width: u32, height: u32) -> DynamicImage {
        let mut seed = 12345u32;
        DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |_, _| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let [a, b, c, _] = seed.to_le_bytes();
            Rgb([a, b, c])
        }))
    }

    /// Of a master in a file, `probe` reads the header from the file (a PNG's or TIFF's by
    /// their decoders, a JPEG's from its first bytes, or all of it when its header runs
    /// further) and finds the size the bytes give.
    #[test]
    fn masters_in_files_are_probed_from_their_headers() {
        use std::io::Write;
        let image = noise(300, 200);
        let jpeg = encoded(image.clone(), ImageFormat::Jpeg);
        // five application segments of 64 KB before the frame header: past the first bytes
        let mut padded = jpeg[..2].to_vec();
        for _ in 0..5 {
            padded.extend([0xFF, 0xE9]);
            padded.extend(65_000u16.to_be_bytes());
            padded.extend(vec![b'x'; 64_998]);
        }
        padded.extend(&jpeg[2..]);
        assert!(padded.len() > PROBE_HEAD);
        let cases = [
            ("png", encoded(image.clone(), ImageFormat::Png), (300, 200)),
            (
                "tiff",
                encoded(image.clone(), ImageFormat::Tiff),
                (300, 200),
            ),
            ("jpeg", jpeg, (300, 200)),
            ("jpeg with a long header", padded, (300, 200)),
            ("jpeg 2000", jpeg2000_claiming(4000, 3000), (4000, 3000)),
            ("png header", png_claiming(40_000, 30_000), (40_000, 30_000)),
        ];
        for (name, bytes, size) in cases {
            let mut file = tempfile::tempfile().unwrap();
            file.write_all(&bytes).unwrap();
            assert_eq!(probe(&bytes[..]).unwrap(), size, "{name}");
            assert_eq!(probe(&file).unwrap(), size, "{name}");
        }
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(b"not an image at all").unwrap();
        assert_eq!(probe(&file).unwrap_err().kind, ErrorKind::Unsupported);
    }

    #[test]
    fn truncated_masters_fail_instead_of_turning_grey() {
        let limits = DecodeLimits::pixels(u64::MAX);
        let jpeg = encoded(noise(300, 200), ImageFormat::Jpeg);
        decode_master(&jpeg, &limits).unwrap();
        let error = decode_master(&jpeg[..jpeg.len() / 2], &limits).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Truncated, "{error}");
        // an end marker does not make it whole: the data must be there for every block
        assert_eq!(
            decode_master(&jpeg_claiming(4000, 4000), &limits)
                .unwrap_err()
                .kind,
            ErrorKind::Truncated
        );
        // stray bytes between segments are skipped, as decoders skip them
        let first_segment = 4 + usize::from(u16::from_be_bytes([jpeg[4], jpeg[5]]));
        let mut stray = jpeg.clone();
        stray.splice(first_segment..first_segment, [1, 2, 3]);
        assert!(jpeg_structure(&stray).unwrap().ended);
        // bytes after the end marker are harmless
        let mut trailing = jpeg.clone();
        trailing.extend_from_slice(b"trailing bytes");
        decode_master(&trailing, &limits).unwrap();

        for format in [
            ImageFormat::Png,
            ImageFormat::Tiff,
            ImageFormat::Gif,
            ImageFormat::WebP,
        ] {
            let bytes = encoded(noise(300, 200), format);
            decode_master(&bytes, &limits).unwrap();
            assert!(
                decode_master(&bytes[..bytes.len() / 2], &limits).is_err(),
                "{format:?}"
            );
        }
    }

    /// `image` as a progressive JPEG at Q85.
    pub(crate) fn progressive_jpeg(image: &image::RgbImage) -> Vec<u8> {
        let mut progressive = Vec::new();
        let mut encoder = jpeg_encoder::Encoder::new(&mut progressive, 85);
        encoder.set_progressive(true);
        encoder
            .encode(
                image.as_raw(),
                image.width() as u16,
                image.height() as u16,
                jpeg_encoder::ColorType::Rgb,
            )
            .unwrap();
        progressive
    }

    #[test]
    fn progressive_jpegs_are_read_whole_and_refused_cut() {
        let progressive = progressive_jpeg(&noise(300, 200).into_rgb8());
        let structure = jpeg_structure(&progressive).unwrap();
        assert!(structure.progressive && structure.ended, "{structure:?}");
        let limits = DecodeLimits::pixels(u64::MAX);
        assert_eq!(decode_master(&progressive, &limits).unwrap().width, 300);
        assert_eq!(
            decode_master(&progressive[..progressive.len() / 2], &limits)
                .unwrap_err()
                .kind,
            ErrorKind::Truncated
        );
        assert!(memory_needed(&progressive).unwrap() >= 300 * 200 * (3 + 6));
    }
}
