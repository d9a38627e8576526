//! Reading masters a band of rows at a time, so that building a pyramid never holds the whole
//! image: baseline JPEG line by line (libjpeg's scanline decoder, through mozjpeg), PNG row by
//! row, TIFF strip by strip or tile row by tile row, and tiled JPEG 2000 a row of tiles at a
//! time (OpenJPEG decoding areas of a few tiles); a PNG or TIFF in a file is read from the
//! file as it goes, a JPEG or JPEG 2000 from memory. Rows come out as the whole-image path
//! makes them: 8-bit grey or RGB, transparency laid on white, 16-bit samples reduced to 8, an
//! RGB master's ICC profile converted to sRGB. Masters these readers do not take (progressive
//! or CMYK JPEG, interlaced PNG, planar, palette, YCbCr or rotated TIFF, other formats) go the
//! whole-image way, bounded by the memory budget.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

use image::metadata::Orientation;
use image::{ImageDecoder, ImageFormat};

use crate::decode::{
    check_jpeg_complete, decode_jpeg2000_file, is_jpeg2000, jpeg_structure, jpeg2000_file,
    jpeg2000_header, reader, to_srgb,
};
use crate::error::{Error, ErrorKind, Result};
use crate::master::{Master, MasterReader};
use crate::raster::{Channels, Raster};

/// A master that can be read in bands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StreamInfo {
    pub width: u32,
    pub height: u32,
    /// What the bands hold: grey or RGB.
    pub channels: Channels,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Jpeg,
    Png,
    Tiff,
    /// JPEG 2000 decoded a row of its tiles at a time, a few tiles across at a time.
    Jpeg2000 {
        tile_width: u32,
        tile_height: u32,
    },
}

impl StreamInfo {
    /// What the codec holds while it reads a band, besides the bands: for JPEG 2000 the row
    /// of tiles being put together, and for each decoding lane the area OpenJPEG decodes to
    /// 32-bit samples, the tile it works on and the area's pixels.
    pub(crate) fn codec_memory(&self) -> u64 {
        match self.kind {
            Kind::Jpeg2000 {
                tile_width,
                tile_height,
            } => {
                let channels = self.channels.count() as u64;
                let row = u64::from(self.width) * u64::from(tile_height) * channels;
                let lanes = jpeg2000_lanes();
                let area = u64::from(jpeg2000_area_width(self.width, tile_width, lanes))
                    * u64::from(tile_height)
                    * channels;
                row + lanes as u64 * area * (4 + 2 + 1)
            }
            _ => 0,
        }
    }
}

/// Whether the master can be read in bands, from its header; `None` sends it the whole-image
/// way. Errors are masters that are not whole (a JPEG cut short, a TIFF whose strips overlap
/// or run past the end).
/// A file is read in bands only if it is PNG or TIFF (a JPEG is read from memory).
pub(crate) fn streamable(master: Master<'_>) -> Result<Option<StreamInfo>> {
    if let Master::Bytes(bytes) = master
        && is_jpeg2000(bytes)
    {
        return jpeg2000_info(bytes);
    }
    let format = match master {
        Master::Bytes(bytes) => match reader(bytes) {
            Ok(reader) => reader.format(),
            Err(_) => return Ok(None),
        },
        Master::File(_) => master.file_format()?,
    };
    match (format, master) {
        (Some(ImageFormat::Jpeg), Master::Bytes(bytes)) => jpeg_info(bytes),
        (Some(ImageFormat::Png), _) => png_info(master),
        (Some(ImageFormat::Tiff), _) => tiff_info(master),
        _ => Ok(None),
    }
}

/// Reads the master's rows in order and hands them on in bands of `band_rows` (the last band
/// may be shorter); `emit` returning false stops the reading early.
pub(crate) fn read_bands(
    master: Master<'_>,
    info: &StreamInfo,
    band_rows: u32,
    emit: &mut dyn FnMut(Vec<u8>) -> bool,
) -> Result<()> {
    let mut bands = Bands {
        row_bytes: info.width as usize * info.channels.count(),
        band_rows: band_rows as usize,
        current: Vec::new(),
        emit,
        stopped: false,
    };
    match (info.kind, master) {
        (Kind::Jpeg, Master::Bytes(bytes)) => read_jpeg(bytes, info, &mut bands)?,
        (
            Kind::Jpeg2000 {
                tile_width,
                tile_height,
            },
            Master::Bytes(bytes),
        ) => read_jpeg2000(bytes, info, (tile_width, tile_height), &mut bands)?,
        (Kind::Jpeg | Kind::Jpeg2000 { .. }, Master::File(_)) => {
            return Err(Error::new(
                ErrorKind::Internal,
                "a JPEG or JPEG 2000 is read in bands from memory only",
            ));
        }
        (Kind::Png, _) => read_png(master, info, &mut bands)?,
        (Kind::Tiff, _) => read_tiff(master, info, &mut bands)?,
    }
    bands.flush();
    Ok(())
}

/// Gathers rows into bands.
struct Bands<'e> {
    row_bytes: usize,
    band_rows: usize,
    current: Vec<u8>,
    emit: &'e mut dyn FnMut(Vec<u8>) -> bool,
    stopped: bool,
}

impl Bands<'_> {
    fn band_bytes(&self) -> usize {
        self.row_bytes * self.band_rows
    }

    fn push(&mut self, mut rows: &[u8]) {
        while !rows.is_empty() && !self.stopped {
            if self.current.capacity() == 0 {
                self.current.reserve_exact(self.band_bytes());
            }
            let room = self.band_bytes() - self.current.len();
            let (now, later) = rows.split_at(room.min(rows.len()));
            self.current.extend_from_slice(now);
            rows = later;
            if self.current.len() == self.band_bytes() {
                let band = std::mem::take(&mut self.current);
                self.stopped = !(self.emit)(band);
            }
        }
    }

    /// Hands on a band read whole, without copying it when it starts a band.
    fn push_owned(&mut self, rows: Vec<u8>) {
        if self.current.is_empty() && !self.stopped && rows.len() <= self.band_bytes() {
            if rows.len() == self.band_bytes() {
                self.stopped = !(self.emit)(rows);
            } else {
                self.current = rows;
            }
        } else {
            self.push(&rows);
        }
    }

    fn flush(&mut self) {
        if !self.current.is_empty() && !self.stopped {
            let band = std::mem::take(&mut self.current);
            self.stopped = !(self.emit)(band);
        }
    }
}

/// Decoded samples as a codec gives them, before they become grey or RGB.
struct Native<'a> {
    /// Samples per pixel: 1 (grey), 2 (grey and alpha), 3 (RGB) or 4 (RGBA).
    samples: usize,
    icc_profile: Option<&'a [u8]>,
}

impl Native<'_> {
    /// Turns `rows` of 8-bit samples into the band's channels the way the whole-image path
    /// does: alpha laid on white (through RGBA), the profile applied to RGB without alpha.
    fn convert(&self, width: u32, mut rows: Vec<u8>, gray: bool) -> Result<Vec<u8>> {
        let count = rows.len() / (width as usize * self.samples);
        let height = count as u32;
        match self.samples {
            1 => Ok(rows),
            3 => {
                if let Some(profile) = self.icc_profile {
                    to_srgb(profile, &mut rows);
                }
                Ok(rows)
            }
            2 | 4 => {
                let rgba = if self.samples == 2 {
                    rows.chunks_exact(2)
                        .flat_map(|p| [p[0], p[0], p[0], p[1]])
                        .collect()
                } else {
                    rows
                };
                let rgb = Raster::new(width, height, Channels::Rgba, rgba)?.to_rgb();
                Ok(if gray {
                    rgb.to_gray().pixels
                } else {
                    rgb.pixels
                })
            }
            _ => Err(Error::new(ErrorKind::Unsupported, "unexpected samples")),
        }
    }
}

/// 16-bit samples to 8, rounded.
fn to_8_bits(samples: impl Iterator<Item = u16>) -> Vec<u8> {
    samples
        .map(|sample| ((u32::from(sample) + 128) / 257) as u8)
        .collect()
}

fn too_short(what: &str, error: impl std::fmt::Display) -> Error {
    Error::new(
        ErrorKind::Truncated,
        format!("the {what} data ends early: {error}"),
    )
}

// --- JPEG --------------------------------------------------------------------------------

fn jpeg_info(bytes: &[u8]) -> Result<Option<StreamInfo>> {
    let structure = jpeg_structure(bytes)?;
    if structure.progressive || !matches!(structure.components, 1 | 3) {
        return Ok(None);
    }
    check_jpeg_complete(bytes)?;
    let Ok(mut decoder) = reader(bytes)?.into_decoder() else {
        return Ok(None);
    };
    if !matches!(
        decoder.orientation().unwrap_or(Orientation::NoTransforms),
        Orientation::NoTransforms
    ) {
        return Ok(None);
    }
    let (width, height) = decoder.dimensions();
    Ok(Some(StreamInfo {
        width,
        height,
        channels: if structure.components == 1 {
            Channels::Gray
        } else {
            Channels::Rgb
        },
        kind: Kind::Jpeg,
    }))
}

fn read_jpeg(bytes: &[u8], info: &StreamInfo, bands: &mut Bands<'_>) -> Result<()> {
    let icc_profile = reader(bytes)?
        .into_decoder()
        .ok()
        .and_then(|mut decoder| decoder.icc_profile().ok().flatten());
    let failed = |message: String| {
        Error::new(
            ErrorKind::Unsupported,
            format!("cannot decode the JPEG: {message}"),
        )
    };
    // libjpeg reports a corrupt stream by unwinding out of the decoder (mozjpeg's design)
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| -> Result<()> {
        let decompress =
            mozjpeg::Decompress::new_mem(bytes).map_err(|error| failed(error.to_string()))?;
        let mut started = if info.channels == Channels::Gray {
            decompress.grayscale()
        } else {
            decompress.rgb()
        }
        .map_err(|error| failed(error.to_string()))?;
        if (started.width(), started.height()) != (info.width as usize, info.height as usize) {
            return Err(failed("its size changed while decoding".to_owned()));
        }
        let row_bytes = info.width as usize * info.channels.count();
        let mut left = info.height as usize;
        while left > 0 && !bands.stopped {
            let rows = left.min(bands.band_rows);
            // each band is read into a buffer of its own and handed on without a copy
            let mut band = vec![0u8; rows * row_bytes];
            started
                .read_scanlines_into::<u8>(&mut band)
                .map_err(|error| too_short("JPEG", error))?;
            if let (Some(profile), Channels::Rgb) = (&icc_profile, info.channels) {
                to_srgb(profile, &mut band);
            }
            bands.push_owned(band);
            left -= rows;
        }
        if !bands.stopped {
            started
                .finish()
                .map_err(|error| failed(error.to_string()))?;
        }
        Ok(())
    }));
    match outcome {
        Ok(result) => result,
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "the decoder failed".to_owned());
            Err(failed(message))
        }
    }
}

// --- JPEG 2000 ---------------------------------------------------------------------------

/// A tiled JPEG 2000 is read a row of tiles at a time (OpenJPEG decodes only the tiles an
/// area covers); one of a single tile, with offsets, subsampled components or alpha is
/// decoded whole.
fn jpeg2000_info(bytes: &[u8]) -> Result<Option<StreamInfo>> {
    let header = jpeg2000_header(bytes)?;
    Ok(header.tiles.map(|(tile_width, tile_height)| StreamInfo {
        width: header.width,
        height: header.height,
        channels: if header.components == 1 {
            Channels::Gray
        } else {
            Channels::Rgb
        },
        kind: Kind::Jpeg2000 {
            tile_width,
            tile_height,
        },
    }))
}

/// How many areas of a row of JPEG 2000 tiles are decoded at once: OpenJPEG's own threads
/// keep only about one and a third cores busy on a tile, so each core takes an area of its
/// own (at most four, for the memory each holds).
fn jpeg2000_lanes() -> usize {
    std::thread::available_parallelism().map_or(1, |cores| cores.get().min(4))
}

/// How wide an area of a JPEG 2000 one decoding takes, about: narrower areas cost more,
/// since OpenJPEG reads the codestream's headers again for each.
const AREA_PIXELS: usize = 2048;

/// The areas, left and right, that a row of JPEG 2000 tiles is decoded in: whole tiles, about
/// [`AREA_PIXELS`] wide, as many as a multiple of `lanes` (when the row has that many tiles)
/// and as even as the tiles allow, so that the lanes finish a row together.
fn jpeg2000_areas(width: u32, tile_width: u32, lanes: usize) -> Vec<(u32, u32)> {
    let tiles = width.div_ceil(tile_width) as usize;
    let count = (width as usize)
        .div_ceil(AREA_PIXELS)
        .next_multiple_of(lanes.max(1))
        .min(tiles);
    let (each, more) = (tiles / count, tiles % count);
    let mut first = 0;
    (0..count)
        .map(|index| {
            let last = first + each + usize::from(index < more);
            let area = (
                first as u32 * tile_width,
                (last as u32 * tile_width).min(width),
            );
            first = last;
            area
        })
        .collect()
}

/// The widest area [`jpeg2000_areas`] gives.
fn jpeg2000_area_width(width: u32, tile_width: u32, lanes: usize) -> u32 {
    jpeg2000_areas(width, tile_width, lanes)
        .iter()
        .map(|(left, right)| right - left)
        .max()
        .unwrap_or(0)
}

fn read_jpeg2000(
    bytes: &[u8],
    info: &StreamInfo,
    (tile_width, tile_height): (u32, u32),
    bands: &mut Bands<'_>,
) -> Result<()> {
    let file = jpeg2000_file(bytes)?;
    let channels = info.channels.count();
    let row_bytes = info.width as usize * channels;
    let lanes = jpeg2000_lanes();
    let areas = jpeg2000_areas(info.width, tile_width, lanes);
    let band_rows = bands.band_rows;
    let mut top = 0;
    while top < info.height && !bands.stopped {
        let bottom = (top + tile_height).min(info.height);
        // the row is put together in the bands it is handed on in, so none is copied again
        let rows = (bottom - top) as usize;
        let pieces: Vec<Mutex<Vec<u8>>> = (0..rows)
            .step_by(band_rows)
            .map(|first| Mutex::new(vec![0u8; (rows - first).min(band_rows) * row_bytes]))
            .collect();
        let next = AtomicUsize::new(0);
        // each lane takes the next area of the row until none is left, and copies its pixels
        // into their columns of the bands
        let lane = || -> Result<()> {
            while let Some(&(left, right)) = areas.get(next.fetch_add(1, Ordering::Relaxed)) {
                let pixels = decode_jpeg2000_area(bytes, &file, info, (left, top, right, bottom))
                    .inspect_err(|_| next.store(areas.len(), Ordering::Relaxed))?;
                let area_row = (right - left) as usize * channels;
                let start = left as usize * channels;
                for (piece, lines) in pieces.iter().zip(pixels.chunks(area_row * band_rows)) {
                    let mut piece = piece.lock().unwrap_or_else(PoisonError::into_inner);
                    for (y, line) in lines.chunks_exact(area_row).enumerate() {
                        piece[y * row_bytes + start..][..area_row].copy_from_slice(line);
                    }
                }
            }
            Ok(())
        };
        std::thread::scope(|scope| {
            let others: Vec<_> = (1..lanes.min(areas.len()))
                .map(|_| scope.spawn(lane))
                .collect();
            others.into_iter().fold(lane(), |outcome, other| {
                let joined = other.join().unwrap_or_else(|_| {
                    Err(Error::new(
                        ErrorKind::Internal,
                        "a JPEG 2000 decoding thread failed",
                    ))
                });
                outcome.and(joined)
            })
        })?;
        for piece in pieces {
            bands.push_owned(piece.into_inner().unwrap_or_else(PoisonError::into_inner));
        }
        top = bottom;
    }
    Ok(())
}

/// Decodes the area from (left, top) to (right, bottom) of a JPEG 2000 into grey or RGB rows.
fn decode_jpeg2000_area(
    bytes: &[u8],
    file: &tempfile::NamedTempFile,
    info: &StreamInfo,
    (left, top, right, bottom): (u32, u32, u32, u32),
) -> Result<Vec<u8>> {
    let area = jpeg2k::DecodeArea::new(left, top, right, bottom);
    let image = decode_jpeg2000_file(bytes, file, Some(area))?;
    if (image.width(), image.height()) != (right - left, bottom - top) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "the JPEG 2000 decoder gave {}x{} pixels for the area from ({left}, {top}) to ({right}, {bottom})",
                image.width(),
                image.height()
            ),
        ));
    }
    Ok(match info.channels {
        Channels::Gray => image.into_luma8().into_raw(),
        _ => image.into_rgb8().into_raw(),
    })
}

// --- PNG ---------------------------------------------------------------------------------

fn png_decoder<'a>(master: Master<'a>) -> Result<png::Decoder<Box<dyn MasterReader + 'a>>> {
    let mut decoder = png::Decoder::new(master.open()?);
    decoder.set_transformations(png::Transformations::EXPAND);
    Ok(decoder)
}

fn png_info(master: Master<'_>) -> Result<Option<StreamInfo>> {
    let Ok(reader) = png_decoder(master)?.read_info() else {
        return Ok(None);
    };
    let info = reader.info();
    if info.interlaced || info.is_animated() {
        return Ok(None);
    }
    let (color, _) = reader.output_color_type();
    let gray = matches!(
        color,
        png::ColorType::Grayscale | png::ColorType::GrayscaleAlpha
    );
    Ok(Some(StreamInfo {
        width: info.width,
        height: info.height,
        channels: if gray { Channels::Gray } else { Channels::Rgb },
        kind: Kind::Png,
    }))
}

fn read_png(master: Master<'_>, info: &StreamInfo, bands: &mut Bands<'_>) -> Result<()> {
    let broken = |error: png::DecodingError| match error {
        png::DecodingError::IoError(error) => too_short("PNG", error),
        // the image data chunks end before the rows the header promises
        png::DecodingError::Format(error) if error.to_string().contains("enough data") => {
            too_short("PNG", error)
        }
        other => Error::new(
            ErrorKind::Unsupported,
            format!("cannot decode the PNG: {other}"),
        ),
    };
    let mut reader = png_decoder(master)?.read_info().map_err(broken)?;
    let (color, depth) = reader.output_color_type();
    let icc_profile = reader.info().icc_profile.as_ref().map(|p| p.to_vec());
    let native = Native {
        samples: color.samples(),
        icc_profile: icc_profile.as_deref(),
    };
    let gray = info.channels == Channels::Gray;
    let mut batch = Vec::new();
    let batch_rows = 64;
    let mut rows_in_batch = 0;
    for _ in 0..info.height {
        if bands.stopped {
            return Ok(());
        }
        let row = reader
            .next_row()
            .map_err(broken)?
            .ok_or_else(|| too_short("PNG", "fewer rows than its header says"))?;
        match depth {
            png::BitDepth::Sixteen => batch.extend(to_8_bits(
                row.data()
                    .chunks_exact(2)
                    .map(|pair| u16::from_be_bytes([pair[0], pair[1]])),
            )),
            _ => batch.extend_from_slice(row.data()),
        }
        rows_in_batch += 1;
        if rows_in_batch == batch_rows {
            bands.push(&native.convert(info.width, std::mem::take(&mut batch), gray)?);
            rows_in_batch = 0;
        }
    }
    if rows_in_batch > 0 {
        bands.push(&native.convert(info.width, batch, gray)?);
    }
    Ok(())
}

// --- TIFF --------------------------------------------------------------------------------

/// The strips' or tiles' byte ranges must lie inside the file and apart from each other: a
/// file whose chunks overlap or point past its end is refused before decoding.
pub(crate) fn check_tiff_chunks(master: Master<'_>) -> Result<()> {
    use tiff::tags::Tag;
    let Ok(mut decoder) = tiff_decoder(master)? else {
        return Ok(());
    };
    let (offsets, counts) = match decoder.get_chunk_type() {
        tiff::decoder::ChunkType::Strip => (Tag::StripOffsets, Tag::StripByteCounts),
        tiff::decoder::ChunkType::Tile => (Tag::TileOffsets, Tag::TileByteCounts),
    };
    let (Ok(offsets), Ok(counts)) = (
        decoder.get_tag_u64_vec(offsets),
        decoder.get_tag_u64_vec(counts),
    ) else {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "the TIFF does not say where its image data lies",
        ));
    };
    let mut ranges: Vec<(u64, u64)> = offsets
        .iter()
        .zip(&counts)
        .map(|(offset, count)| (*offset, offset.saturating_add(*count)))
        .collect();
    if ranges.len() != offsets.len().max(counts.len()) {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "the TIFF's chunk offsets and byte counts do not pair up",
        ));
    }
    // uncompressed chunks must hold every byte of their rows: a reader pads a short one
    let compression = decoder
        .find_tag_unsigned::<u16>(Tag::Compression)
        .ok()
        .flatten();
    let planar = decoder
        .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
        .ok()
        .flatten();
    if compression.unwrap_or(1) == 1 && planar.unwrap_or(1) == 1 {
        let bits: u64 = decoder
            .get_tag_u16_vec(Tag::BitsPerSample)
            .map(|bits| bits.iter().map(|b| u64::from(*b)).sum())
            .unwrap_or(8);
        let (width, height) = decoder.dimensions().unwrap_or((0, 0));
        let (chunk_width, chunk_height) = decoder.chunk_dimensions();
        let tiled = decoder.get_chunk_type() == tiff::decoder::ChunkType::Tile;
        for (index, count) in counts.iter().enumerate() {
            let rows = if tiled {
                chunk_height
            } else {
                chunk_height.min(height.saturating_sub(index as u32 * chunk_height))
            };
            let line = if tiled { chunk_width } else { width };
            let needed = (u64::from(line) * bits).div_ceil(8) * u64::from(rows);
            if *count < needed {
                return Err(Error::new(
                    ErrorKind::Truncated,
                    format!(
                        "the TIFF's strip or tile {index} holds {count} bytes of the {needed} its rows need"
                    ),
                ));
            }
        }
    }
    ranges.sort_unstable();
    let length = master.len()?;
    if let Some((_, end)) = ranges.iter().find(|(_, end)| *end > length) {
        return Err(Error::new(
            ErrorKind::Truncated,
            format!("the TIFF's image data runs to byte {end}, past its end at {length}"),
        ));
    }
    if ranges
        .windows(2)
        .any(|pair| pair[1].0 < pair[0].1 && pair[0].0 < pair[0].1)
    {
        return Err(Error::new(
            ErrorKind::Unsupported,
            "the TIFF's strips or tiles overlap: the file is corrupt",
        ));
    }
    Ok(())
}

/// A TIFF decoder of the master, or the decoder's refusal of it.
type TiffDecoder<'a> = tiff::TiffResult<tiff::decoder::Decoder<Box<dyn MasterReader + 'a>>>;

fn tiff_decoder(master: Master<'_>) -> Result<TiffDecoder<'_>> {
    Ok(tiff::decoder::Decoder::new(master.open()?))
}

fn tiff_info(master: Master<'_>) -> Result<Option<StreamInfo>> {
    use tiff::tags::Tag;
    check_tiff_chunks(master)?;
    let Ok(mut decoder) = tiff_decoder(master)? else {
        return Ok(None);
    };
    let tag = |decoder: &mut tiff::decoder::Decoder<_>, tag| {
        decoder.find_tag_unsigned::<u16>(tag).ok().flatten()
    };
    let photometric = tag(&mut decoder, Tag::PhotometricInterpretation);
    let planar = tag(&mut decoder, Tag::PlanarConfiguration).unwrap_or(1);
    let orientation = tag(&mut decoder, Tag::Orientation).unwrap_or(1);
    let (Ok((width, height)), Ok(color)) = (decoder.dimensions(), decoder.colortype()) else {
        return Ok(None);
    };
    let gray = match (photometric, color) {
        (Some(1), tiff::ColorType::Gray(8 | 16) | tiff::ColorType::GrayA(8 | 16)) => true,
        (Some(2), tiff::ColorType::RGB(8 | 16) | tiff::ColorType::RGBA(8 | 16)) => false,
        _ => return Ok(None),
    };
    if planar != 1 || orientation != 1 {
        return Ok(None);
    }
    Ok(Some(StreamInfo {
        width,
        height,
        channels: if gray { Channels::Gray } else { Channels::Rgb },
        kind: Kind::Tiff,
    }))
}

fn read_tiff(master: Master<'_>, info: &StreamInfo, bands: &mut Bands<'_>) -> Result<()> {
    use tiff::decoder::{ChunkType, DecodingResult};
    let broken = |error: tiff::TiffError| match error {
        tiff::TiffError::IoError(error) => too_short("TIFF", error),
        other => Error::new(
            ErrorKind::Unsupported,
            format!("cannot decode the TIFF: {other}"),
        ),
    };
    let mut decoder = tiff_decoder(master)?.map_err(broken)?;
    let icc_profile = decoder.get_tag_u8_vec(tiff::tags::Tag::IccProfile).ok();
    let samples = match decoder.colortype().map_err(broken)? {
        tiff::ColorType::Gray(_) => 1,
        tiff::ColorType::GrayA(_) => 2,
        tiff::ColorType::RGB(_) => 3,
        _ => 4,
    };
    let native = Native {
        samples,
        icc_profile: icc_profile.as_deref(),
    };
    let gray = info.channels == Channels::Gray;
    let eight_bits = |result: DecodingResult| match result {
        DecodingResult::U8(samples) => Ok(samples),
        DecodingResult::U16(samples) => Ok(to_8_bits(samples.into_iter())),
        _ => Err(Error::new(
            ErrorKind::Unsupported,
            "the TIFF's samples are not 8 or 16-bit integers",
        )),
    };
    let (chunk_width, chunk_height) = decoder.chunk_dimensions();
    match decoder.get_chunk_type() {
        ChunkType::Strip => {
            let strips = decoder.strip_count().map_err(broken)?;
            for strip in 0..strips {
                if bands.stopped {
                    break;
                }
                let rows = eight_bits(decoder.read_chunk(strip).map_err(broken)?)?;
                bands.push(&native.convert(info.width, rows, gray)?);
            }
        }
        ChunkType::Tile => {
            let across = info.width.div_ceil(chunk_width);
            let down = info.height.div_ceil(chunk_height);
            for row in 0..down {
                if bands.stopped {
                    break;
                }
                let rows = chunk_height.min(info.height - row * chunk_height) as usize;
                let row_bytes = info.width as usize * samples;
                let mut band = vec![0u8; rows * row_bytes];
                for column in 0..across {
                    let index = row * across + column;
                    let tile = eight_bits(decoder.read_chunk(index).map_err(broken)?)?;
                    let (width, _) = decoder.chunk_data_dimensions(index);
                    let tile_row_bytes = width as usize * samples;
                    let left = column as usize * chunk_width as usize * samples;
                    for (y, line) in tile.chunks_exact(tile_row_bytes).take(rows).enumerate() {
                        band[y * row_bytes + left..y * row_bytes + left + tile_row_bytes]
                            .copy_from_slice(line);
                    }
                }
                bands.push(&native.convert(info.width, band, gray)?);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::jpeg2000_areas;

    #[test]
    fn rows_of_jpeg2000_tiles_are_shared_evenly_between_lanes() {
        assert_eq!(
            jpeg2000_areas(10240, 1024, 2),
            [
                (0, 2048),
                (2048, 4096),
                (4096, 6144),
                (6144, 8192),
                (8192, 9216),
                (9216, 10240)
            ]
        );
        for (width, tile, lanes) in [
            (40000, 1024, 2),
            (40000, 1024, 3),
            (4600, 1024, 2),
            (700, 256, 1),
            (700, 256, 2),
            (300, 512, 4),
            (24576, 4096, 4),
            (9000, 8192, 2),
        ] {
            let case = format!("{width} px, {tile}-px tiles, {lanes} lanes");
            let areas = jpeg2000_areas(width, tile, lanes);
            let tiles = width.div_ceil(tile) as usize;
            // whole tiles side by side, across the whole row
            assert_eq!(areas[0].0, 0, "{case}");
            assert_eq!(areas[areas.len() - 1].1, width, "{case}");
            assert!(
                areas.windows(2).all(|pair| pair[0].1 == pair[1].0),
                "{case}"
            );
            assert!(areas.iter().all(|(left, _)| left % tile == 0), "{case}");
            // as many as a multiple of the lanes unless the tiles run out, and even
            assert!(
                areas.len().is_multiple_of(lanes) || areas.len() == tiles,
                "{case}"
            );
            let counts: Vec<u32> = areas
                .iter()
                .map(|(left, right)| right.div_ceil(tile) - left / tile)
                .collect();
            let (fewest, most) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
            assert!(most - fewest <= 1, "{case}: {counts:?}");
            // about 2,048 px each
            assert!(
                areas
                    .iter()
                    .all(|(left, right)| right - left <= 2048.max(tile)),
                "{case}"
            );
        }
    }
}
