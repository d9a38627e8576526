//! Building the derivatives of an image: the tile pyramid and the stored thumbnails.

use rayon::prelude::*;

use std::io::{Cursor, Seek, Write};

use crate::codec::encode_jpeg;
use crate::decode::{DecodeLimits, decode_master, over_budget, streaming_memory, too_many_pixels};
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{LevelLayout, PyramidLayout};
use crate::master::Master;
use crate::raster::{Channels, Raster};
use crate::tiff_writer::TiffWriter;

/// How to build a pyramid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyramidOptions {
    /// Tile width and height in pixels.
    pub tile_size: u32,
    /// JPEG quality of tiles and thumbnails (1-100).
    pub jpeg_quality: u8,
    /// Longest-edge sizes of the thumbnails to store; sizes over the image are skipped.
    pub thumbnail_sizes: Vec<u32>,
}

/// A stored thumbnail of the full image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

/// The derivatives of one image, built in memory.
#[derive(Debug)]
pub struct BuiltPyramid {
    /// The tiled pyramidal TIFF.
    pub tiff: Vec<u8>,
    pub layout: PyramidLayout,
    /// Thumbnails, smallest first.
    pub thumbnails: Vec<Thumbnail>,
}

/// The derivatives of one image whose TIFF was written to the caller's output.
#[derive(Debug)]
pub struct PyramidFile {
    pub layout: PyramidLayout,
    /// Bytes of the TIFF.
    pub bytes: u64,
    /// Thumbnails, smallest first.
    pub thumbnails: Vec<Thumbnail>,
}

/// Levels up to this many pixels are held whole (to make thumbnails from, and the levels
/// below); larger levels pass through a band of one tile row at a time.
pub(crate) const WHOLE_LEVEL_PIXELS: u64 = 16 * 1024 * 1024;

/// Builds the pyramid of `raster` in memory, full resolution first, each level half the one
/// before, down to a level that fits in one tile.
pub fn build_pyramid(raster: Raster, options: &PyramidOptions) -> Result<BuiltPyramid> {
    let (width, height) = (raster.width, raster.height);
    let mut builder = PyramidBuilder::new(
        width,
        height,
        raster.channels,
        options,
        Cursor::new(Vec::new()),
        WHOLE_LEVEL_PIXELS,
    )?;
    let row_bytes = width as usize * raster.channels.count();
    for band in raster
        .pixels
        .chunks(row_bytes * builder.band_rows() as usize)
    {
        builder.push(band.to_vec())?;
    }
    drop(raster);
    let (tiff, built) = builder.finish()?;
    Ok(BuiltPyramid {
        tiff: tiff.into_inner(),
        layout: built.layout,
        thumbnails: built.thumbnails,
    })
}

/// Masters decoded whole (the formats that cannot be read in bands) stop at this many pixels
/// whatever the configured limit: their decoding holds every pixel at once.
pub const WHOLE_IMAGE_MAX_PIXELS: u64 = 1_000_000_000;

/// Builds the pyramid of an encoded master into `out`, the way ingest does: masters that can
/// be read in bands (baseline JPEG, PNG, most TIFFs) are decoded on one thread while their
/// tiles are encoded on every core, in memory that grows with the width, not the height;
/// others are decoded whole (up to [`WHOLE_IMAGE_MAX_PIXELS`]). Limits are checked from the
/// header before any pixel is decoded. A PNG or TIFF in a file is read from the file as it is
/// decoded; any other master in a file is read into memory first.
pub fn build_pyramid_file<'m, W: Write + Seek>(
    master: impl Into<Master<'m>>,
    limits: &DecodeLimits,
    options: &PyramidOptions,
    out: W,
) -> Result<(W, PyramidFile)> {
    build_file(master.into(), limits, options, out, WHOLE_LEVEL_PIXELS)
}

/// [`build_pyramid_file`], holding levels whole from `whole_level_pixels` down (tests pass
/// small images through bands with a small figure).
fn build_file<W: Write + Seek>(
    master: Master<'_>,
    limits: &DecodeLimits,
    options: &PyramidOptions,
    out: W,
    whole_level_pixels: u64,
) -> Result<(W, PyramidFile)> {
    let streamed = crate::stream::streamable(master)?;
    let info = match (streamed, master) {
        (Some(info), _) => info,
        (None, Master::File(_)) => {
            let bytes = master.read_all()?;
            return build_file(
                Master::Bytes(&bytes),
                limits,
                options,
                out,
                whole_level_pixels,
            );
        }
        (None, Master::Bytes(master)) => {
            let limits = DecodeLimits {
                max_pixels: limits.max_pixels.min(WHOLE_IMAGE_MAX_PIXELS),
                ..*limits
            };
            let raster = decode_master(master, &limits)?;
            let mut builder = PyramidBuilder::new(
                raster.width,
                raster.height,
                raster.channels,
                options,
                out,
                whole_level_pixels,
            )?;
            let row_bytes = raster.width as usize * raster.channels.count();
            for band in raster
                .pixels
                .chunks(row_bytes * builder.band_rows() as usize)
            {
                builder.push(band.to_vec())?;
            }
            drop(raster);
            return builder.finish();
        }
    };
    let pixels = u64::from(info.width) * u64::from(info.height);
    if pixels > limits.max_pixels {
        return Err(too_many_pixels(info.width, info.height, limits.max_pixels));
    }
    let needed = streaming_memory(info.width, info.channels, master.held()?)
        .saturating_add(info.codec_memory());
    if needed > limits.memory_budget {
        return Err(over_budget(
            info.width,
            info.height,
            needed,
            limits.memory_budget,
        ));
    }
    let mut builder = PyramidBuilder::new(
        info.width,
        info.height,
        info.channels,
        options,
        out,
        whole_level_pixels,
    )?;
    let band_rows = builder.band_rows();
    let (built, read) = std::thread::scope(|scope| {
        // one band waits while the next is read and the one before is tiled
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<u8>>(1);
        let info = &info;
        let reading = scope.spawn(move || {
            crate::stream::read_bands(master, info, band_rows, &mut |band| send.send(band).is_ok())
        });
        let mut built = Ok(());
        for band in receive {
            built = builder.push(band);
            if built.is_err() {
                break;
            }
        }
        let read = reading.join().unwrap_or_else(|_| {
            Err(Error::new(
                ErrorKind::Internal,
                "the decoding thread failed",
            ))
        });
        (built, read)
    });
    read?;
    built?;
    builder.finish()
}

/// Builds a pyramid from rows pushed a band at a time (see [`PyramidBuilder::band_rows`]):
/// each level larger than the whole-level threshold holds one band, encodes its tiles on every
/// core as soon as the band is full, writes them out and passes the band halved to the next
/// level; the first level small enough is kept whole and finished as an in-memory pyramid,
/// with the thumbnails. Memory is a few bands of the full width, whatever the height.
pub(crate) struct PyramidBuilder<'o, W: Write + Seek> {
    options: &'o PyramidOptions,
    /// What the pushed rows hold, and what the pyramid holds (grey or RGB).
    input: Channels,
    channels: Channels,
    /// Rows received so far, and still to come, per band-passed level.
    levels: Vec<BandLevel>,
    /// The first level held whole, as its rows arrive.
    whole: Raster,
    whole_rows: u32,
    thumbnail_sizes: Vec<(u32, u32)>,
    writer: TiffWriter<W>,
}

/// A level passed through in bands of one tile row.
struct BandLevel {
    width: u32,
    height: u32,
    rows_done: u32,
    pending: Vec<u8>,
    offsets: Vec<u64>,
    lengths: Vec<u32>,
}

impl<'o, W: Write + Seek> PyramidBuilder<'o, W> {
    /// `channels` is what the rows pushed hold (RGBA is laid on white as it comes).
    pub(crate) fn new(
        width: u32,
        height: u32,
        channels: Channels,
        options: &'o PyramidOptions,
        out: W,
        whole_level_pixels: u64,
    ) -> Result<Self> {
        if width == 0 || height == 0 || options.tile_size == 0 || options.tile_size % 2 == 1 {
            return Err(Error::new(
                ErrorKind::Internal,
                "a pyramid needs pixels and an even tile size",
            ));
        }
        let input = channels;
        let channels = if channels == Channels::Gray {
            Channels::Gray
        } else {
            Channels::Rgb
        };
        let mut thumbnail_sizes: Vec<(u32, u32)> = options
            .thumbnail_sizes
            .iter()
            .filter_map(|size| iiif::image::thumbnail_size(width, height, *size))
            .collect();
        thumbnail_sizes.sort_unstable();
        thumbnail_sizes.dedup();
        // the level held whole: the first small enough, and never past one a thumbnail needs
        let mut sizes = vec![(width, height)];
        while let Some(&(w, h)) = sizes.last() {
            if w <= options.tile_size && h <= options.tile_size {
                break;
            }
            sizes.push((w.div_ceil(2), h.div_ceil(2)));
        }
        let small_enough = sizes
            .iter()
            .position(|(w, h)| u64::from(*w) * u64::from(*h) <= whole_level_pixels)
            .unwrap_or(sizes.len() - 1);
        let covering = thumbnail_sizes
            .iter()
            .map(|(tw, th)| {
                sizes
                    .iter()
                    .rposition(|(w, h)| w >= tw && h >= th)
                    .unwrap_or(0)
            })
            .min()
            .unwrap_or(small_enough);
        let whole_level = small_enough.min(covering);
        let levels = sizes[..whole_level]
            .iter()
            .map(|&(width, height)| BandLevel {
                width,
                height,
                rows_done: 0,
                pending: Vec::new(),
                offsets: Vec::new(),
                lengths: Vec::new(),
            })
            .collect();
        let (whole_width, whole_height) = sizes[whole_level];
        Ok(Self {
            options,
            input,
            channels,
            levels,
            whole: Raster::filled(whole_width, whole_height, channels, 0),
            whole_rows: 0,
            thumbnail_sizes,
            writer: TiffWriter::new(out)?,
        })
    }

    /// Rows per band pushed: one tile row.
    pub(crate) fn band_rows(&self) -> u32 {
        self.options.tile_size
    }

    /// Takes the next band of full-resolution rows: [`Self::band_rows`] of them, fewer only
    /// for the last band. RGBA rows are laid on white.
    pub(crate) fn push(&mut self, band: Vec<u8>) -> Result<()> {
        let band = if self.input == Channels::Rgba {
            let rows = band.len() / (self.width() as usize * 4);
            Raster::new(self.width(), rows as u32, Channels::Rgba, band)?
                .to_rgb()
                .pixels
        } else {
            band
        };
        self.push_level(0, band)
    }

    fn width(&self) -> u32 {
        self.levels
            .first()
            .map_or(self.whole.width, |level| level.width)
    }

    fn push_level(&mut self, index: usize, rows: Vec<u8>) -> Result<()> {
        let Some(level) = self.levels.get_mut(index) else {
            return self.push_whole(rows);
        };
        if !rows
            .len()
            .is_multiple_of(level.width as usize * self.channels.count())
        {
            return Err(Error::new(
                ErrorKind::Internal,
                "a band is not a whole number of rows",
            ));
        }
        if level.pending.is_empty() {
            level.pending = rows;
        } else {
            level.pending.extend_from_slice(&rows);
        }
        self.drain_level(index, self.options.tile_size)
    }

    fn drain_level(&mut self, index: usize, tile: u32) -> Result<()> {
        let channels = self.channels;
        loop {
            let level = &mut self.levels[index];
            let row_bytes = level.width as usize * channels.count();
            let pending_rows = (level.pending.len() / row_bytes) as u32;
            let remaining = level.height - level.rows_done;
            if pending_rows > remaining {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    "the image has more rows than its header says",
                ));
            }
            let band_rows = if pending_rows >= tile {
                tile
            } else if pending_rows > 0 && pending_rows == remaining {
                pending_rows
            } else {
                return Ok(());
            };
            let rest = level.pending.split_off(band_rows as usize * row_bytes);
            let pixels = std::mem::replace(&mut level.pending, rest);
            level.rows_done += band_rows;
            let band = Raster::new(level.width, band_rows, channels, pixels)?;
            let tiles = encode_band(&band, self.options)?;
            let level = &mut self.levels[index];
            for tile in &tiles {
                let (offset, length) = self.writer.append_tile(tile)?;
                level.offsets.push(offset);
                level.lengths.push(length);
            }
            let halved = band.halve();
            drop(band);
            self.push_level(index + 1, halved.pixels)?;
        }
    }

    fn push_whole(&mut self, rows: Vec<u8>) -> Result<()> {
        let row_bytes = self.whole.width as usize * self.channels.count();
        let start = self.whole_rows as usize * row_bytes;
        let end = start + rows.len();
        if !rows.len().is_multiple_of(row_bytes) || end > self.whole.pixels.len() {
            return Err(Error::new(
                ErrorKind::Internal,
                "more rows than the image has",
            ));
        }
        self.whole.pixels[start..end].copy_from_slice(&rows);
        self.whole_rows += (rows.len() / row_bytes) as u32;
        Ok(())
    }

    /// Finishes the levels held whole and the thumbnails, then the TIFF's directories.
    pub(crate) fn finish(mut self) -> Result<(W, PyramidFile)> {
        if self.whole_rows != self.whole.height
            || self
                .levels
                .iter()
                .any(|level| level.rows_done != level.height)
        {
            return Err(Error::new(
                ErrorKind::Truncated,
                "the image ended before its last row",
            ));
        }
        let tile = self.options.tile_size;
        let mut layouts: Vec<LevelLayout> = std::mem::take(&mut self.levels)
            .into_iter()
            .map(|level| {
                LevelLayout::new(
                    level.width,
                    level.height,
                    tile,
                    tile,
                    level.offsets,
                    level.lengths,
                )
            })
            .collect();
        let mut pending = std::mem::take(&mut self.thumbnail_sizes);
        let mut thumbnails = Vec::with_capacity(pending.len());
        let mut level = std::mem::replace(&mut self.whole, Raster::filled(1, 1, Channels::Gray, 0));
        loop {
            let tiles = encode_band(&level, self.options)?;
            let mut offsets = Vec::with_capacity(tiles.len());
            let mut lengths = Vec::with_capacity(tiles.len());
            for tile in &tiles {
                let (offset, length) = self.writer.append_tile(tile)?;
                offsets.push(offset);
                lengths.push(length);
            }
            layouts.push(LevelLayout::new(
                level.width,
                level.height,
                tile,
                tile,
                offsets,
                lengths,
            ));
            let last = level.width <= tile && level.height <= tile;
            let (next_width, next_height) = (level.width.div_ceil(2), level.height.div_ceil(2));
            // each thumbnail comes from the smallest level that still covers it
            let (due, later): (Vec<_>, Vec<_>) = pending
                .into_iter()
                .partition(|(w, h)| last || next_width < *w || next_height < *h);
            for (width, height) in due {
                let jpeg = encode_jpeg(&level.resize(width, height)?, self.options.jpeg_quality)?;
                thumbnails.push(Thumbnail {
                    width,
                    height,
                    jpeg,
                });
            }
            pending = later;
            if last {
                break;
            }
            level = level.halve();
        }
        thumbnails.sort_by_key(|thumbnail| (thumbnail.width, thumbnail.height));
        let (out, bytes, layout) = self.writer.finish(layouts, tile, self.channels)?;
        Ok((
            out,
            PyramidFile {
                layout,
                bytes,
                thumbnails,
            },
        ))
    }
}

/// Encodes the tiles of a band whose top is a tile row's (all of a level, or one tile row),
/// row by row, on every core; tiles past the right and bottom edges repeat the edge pixels.
fn encode_band(band: &Raster, options: &PyramidOptions) -> Result<Vec<Vec<u8>>> {
    let tile = options.tile_size;
    let (across, down) = (band.width.div_ceil(tile), band.height.div_ceil(tile));
    (0..across * down)
        .into_par_iter()
        .map(|index| {
            let (column, row) = (index % across, index / across);
            let pixels = band.crop_padded(column * tile, row * tile, tile, tile);
            encode_jpeg(&pixels, options.jpeg_quality)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn photo(width: u32, height: u32) -> Raster {
        let pixels = (0..height)
            .flat_map(|y| {
                (0..width)
                    .flat_map(move |x| [(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
            })
            .collect();
        Raster::new(width, height, Channels::Rgb, pixels).unwrap()
    }

    fn options() -> PyramidOptions {
        PyramidOptions {
            tile_size: 256,
            jpeg_quality: 85,
            thumbnail_sizes: vec![100, 200, 400, 1024],
        }
    }

    #[test]
    fn levels_halve_down_to_one_tile() {
        let built = build_pyramid(photo(1000, 600), &options()).unwrap();
        let sizes: Vec<(u32, u32)> = built
            .layout
            .levels
            .iter()
            .map(|level| (level.width, level.height))
            .collect();
        assert_eq!(sizes, [(1000, 600), (500, 300), (250, 150)]);
        assert_eq!(built.layout.scale_factors(), [1, 2, 4]);
        assert_eq!(built.layout.levels[0].tiles_across, 4);
        assert_eq!(built.layout.levels[0].tiles_down, 3);
    }

    #[test]
    fn the_layout_reads_back_from_the_tiff() {
        let built = build_pyramid(photo(700, 300), &options()).unwrap();
        let first = PyramidLayout::first_ifd_offset(&built.tiff[..8]).unwrap();
        let parsed = PyramidLayout::parse(&built.tiff[first as usize..], first).unwrap();
        assert_eq!(parsed, built.layout);
        for level in &parsed.levels {
            for index in 0..level.offsets.len() {
                let tile = &built.tiff
                    [level.tile_range(index).start as usize..level.tile_range(index).end as usize];
                assert_eq!(
                    &tile[..2],
                    &[0xFF, 0xD8],
                    "every tile is a complete JPEG stream"
                );
                assert_eq!(&tile[tile.len() - 2..], &[0xFF, 0xD9]);
            }
        }
    }

    #[test]
    fn thumbnails_at_the_asked_sizes_that_fit() {
        let built = build_pyramid(photo(1000, 600), &options()).unwrap();
        let sizes: Vec<(u32, u32)> = built
            .thumbnails
            .iter()
            .map(|t| (t.width, t.height))
            .collect();
        assert_eq!(sizes, [(100, 60), (200, 120), (400, 240)]);
        let decoded = image::load_from_memory(&built.thumbnails[2].jpeg).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (400, 240));
    }

    #[test]
    fn grey_images_make_grey_pyramids() {
        let gray = photo(300, 300).to_gray();
        let built = build_pyramid(gray, &options()).unwrap();
        assert_eq!(built.layout.channels, Channels::Gray);
        let first = PyramidLayout::first_ifd_offset(&built.tiff).unwrap();
        assert_eq!(
            PyramidLayout::parse(&built.tiff[first as usize..], first)
                .unwrap()
                .channels,
            Channels::Gray
        );
    }

    fn encoded(image: image::DynamicImage, format: image::ImageFormat) -> Vec<u8> {
        let mut bytes = Vec::new();
        image
            .write_to(&mut std::io::Cursor::new(&mut bytes), format)
            .unwrap();
        bytes
    }

    /// A photo-like master: smooth gradients with a little noise, so JPEG has real work.
    fn master(width: u32, height: u32) -> image::RgbImage {
        let mut seed = 7u32;
        image::RgbImage::from_fn(width, height, |x, y| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let noise = (seed >> 24) as u8 & 15;
            image::Rgb([
                (x * 255 / width) as u8 ^ noise,
                (y * 255 / height) as u8,
                ((x + y) % 256) as u8 / 2 + noise,
            ])
        })
    }

    /// Builds through bands: every level larger than 64 pixels passes one tile row at a time.
    fn streamed<'m>(master: impl Into<Master<'m>>) -> Result<(Vec<u8>, PyramidFile)> {
        let (out, built) = build_file(
            master.into(),
            &DecodeLimits::pixels(u64::MAX),
            &options(),
            Cursor::new(Vec::new()),
            64,
        )?;
        Ok((out.into_inner(), built))
    }

    /// A master's bytes in a temporary file.
    fn in_file(bytes: &[u8]) -> std::fs::File {
        let mut file = tempfile::tempfile().unwrap();
        file.write_all(bytes).unwrap();
        file
    }

    fn whole(master: &[u8]) -> BuiltPyramid {
        build_pyramid(
            decode_master(master, &DecodeLimits::pixels(u64::MAX)).unwrap(),
            &options(),
        )
        .unwrap()
    }

    /// Every tile's pixels, level by level, decoded.
    fn tile_pixels(tiff: &[u8], layout: &PyramidLayout) -> Vec<Vec<u8>> {
        layout
            .levels
            .iter()
            .flat_map(|level| {
                (0..level.offsets.len()).map(|index| {
                    let range = level.tile_range(index);
                    image::load_from_memory(&tiff[range.start as usize..range.end as usize])
                        .unwrap()
                        .into_bytes()
                })
            })
            .collect()
    }

    #[test]
    fn masters_read_in_bands_make_the_pyramid_the_whole_image_makes() {
        let rgb = image::DynamicImage::ImageRgb8(master(700, 1100));
        let rgba = image::DynamicImage::ImageRgba8(image::RgbaImage::from_fn(300, 530, |x, y| {
            image::Rgba([x as u8, y as u8, 90, ((x + y) % 256) as u8])
        }));
        let gray = image::DynamicImage::ImageLuma8(rgb.to_luma8());
        let cases = [
            ("png", encoded(rgb.clone(), image::ImageFormat::Png)),
            (
                "png with alpha",
                encoded(rgba.clone(), image::ImageFormat::Png),
            ),
            ("grey png", encoded(gray.clone(), image::ImageFormat::Png)),
            ("tiff", encoded(rgb.clone(), image::ImageFormat::Tiff)),
            ("tiff with alpha", encoded(rgba, image::ImageFormat::Tiff)),
            ("grey tiff", encoded(gray, image::ImageFormat::Tiff)),
            ("tiled tiff", tiled_tiff(&rgb.to_rgb8(), 128)),
        ];
        for (name, bytes) in cases {
            assert!(
                crate::stream::streamable(Master::Bytes(&bytes))
                    .unwrap()
                    .is_some(),
                "{name}"
            );
            let (tiff, built) = streamed(&bytes).unwrap();
            // read from a file as it is decoded, the same pyramid to the byte
            let file = in_file(&bytes);
            assert!(
                Master::File(&file).file_format().unwrap().is_some(),
                "{name}"
            );
            assert_eq!(streamed(&file).unwrap().0, tiff, "{name}");
            // and the file is not counted as held in memory, but its read buffer is
            assert_eq!(
                crate::memory_needed(&file).unwrap(),
                crate::memory_needed(&bytes[..]).unwrap() - bytes.len() as u64
                    + crate::master::FILE_BUFFER as u64,
                "{name}"
            );
            let expected = whole(&bytes);
            assert_eq!(
                built.layout.levels.len(),
                expected.layout.levels.len(),
                "{name}"
            );
            // the same pixels give the same tiles, byte for byte
            assert_eq!(
                tile_pixels(&tiff, &built.layout),
                tile_pixels(&expected.tiff, &expected.layout),
                "{name}"
            );
            assert_eq!(built.thumbnails, expected.thumbnails, "{name}");
            let first = PyramidLayout::first_ifd_offset(&tiff).unwrap();
            let parsed = PyramidLayout::parse(&tiff[first as usize..], first).unwrap();
            assert_eq!(parsed, built.layout, "{name}");
            assert_eq!(built.bytes, tiff.len() as u64, "{name}");
        }
    }

    #[test]
    fn jpeg_masters_read_line_by_line_match_the_whole_image_within_a_tolerance() {
        // libjpeg (bands) and zune-jpeg (whole) differ in their IDCT and upsampling by a few
        // levels, which re-encoding the tiles can carry a little further; the tolerance: no
        // sample more than 16 apart, and on average under 0.5 (0.02 when this was written)
        let bytes = encoded(
            image::DynamicImage::ImageRgb8(master(900, 1300)),
            image::ImageFormat::Jpeg,
        );
        assert!(
            crate::stream::streamable(Master::Bytes(&bytes))
                .unwrap()
                .is_some()
        );
        let (tiff, built) = streamed(&bytes).unwrap();
        let expected = whole(&bytes);
        assert_eq!(built.layout.levels.len(), expected.layout.levels.len());
        let (ours, theirs) = (
            tile_pixels(&tiff, &built.layout).concat(),
            tile_pixels(&expected.tiff, &expected.layout).concat(),
        );
        assert_eq!(ours.len(), theirs.len());
        let differences: Vec<u8> = ours
            .iter()
            .zip(&theirs)
            .map(|(a, b)| a.abs_diff(*b))
            .collect();
        let worst = *differences.iter().max().unwrap();
        let mean =
            differences.iter().map(|d| f64::from(*d)).sum::<f64>() / differences.len() as f64;
        assert!(worst <= 16 && mean < 0.5, "worst {worst}, mean {mean}");
        // a progressive JPEG goes the whole-image way
        let progressive = crate::decode::tests::progressive_jpeg(&master(300, 200));
        // a JPEG in a file is read into memory first: the same pyramid
        assert!(
            Master::File(&in_file(&bytes))
                .file_format()
                .unwrap()
                .is_none()
        );
        assert_eq!(streamed(&in_file(&bytes)).unwrap().0, tiff);
        assert!(
            crate::stream::streamable(Master::Bytes(&progressive))
                .unwrap()
                .is_none()
        );
        assert_eq!(streamed(&progressive).unwrap().1.layout.width, 300);
    }

    /// A tiled, uncompressed RGB TIFF written by hand (the tiff crate writes strips only).
    fn tiled_tiff(image: &image::RgbImage, tile: u32) -> Vec<u8> {
        let (width, height) = image.dimensions();
        let (across, down) = (width.div_ceil(tile), height.div_ceil(tile));
        let mut file = b"II\x2a\x00\x00\x00\x00\x00".to_vec();
        let (mut offsets, mut counts) = (Vec::new(), Vec::new());
        for row in 0..down {
            for column in 0..across {
                offsets.push(file.len() as u32);
                for y in 0..tile {
                    for x in 0..tile {
                        let (px, py) = (
                            (column * tile + x).min(width - 1),
                            (row * tile + y).min(height - 1),
                        );
                        file.extend_from_slice(&image.get_pixel(px, py).0);
                    }
                }
                counts.push(tile * tile * 3);
            }
        }
        let extra_at = |file: &mut Vec<u8>, values: &[u32]| {
            let at = file.len() as u32;
            for value in values {
                file.extend_from_slice(&value.to_le_bytes());
            }
            at
        };
        let offsets_at = extra_at(&mut file, &offsets);
        let counts_at = extra_at(&mut file, &counts);
        let bits_at = file.len() as u32;
        file.extend_from_slice(&[8, 0, 8, 0, 8, 0, 0, 0]);
        let ifd = file.len() as u32;
        file[4..8].copy_from_slice(&ifd.to_le_bytes());
        let entries: [(u16, u16, u32, u32); 10] = [
            (256, 4, 1, width),
            (257, 4, 1, height),
            (258, 3, 3, bits_at),
            (259, 3, 1, 1),
            (262, 3, 1, 2),
            (277, 3, 1, 3),
            (322, 4, 1, tile),
            (323, 4, 1, tile),
            (324, 4, offsets.len() as u32, offsets_at),
            (325, 4, counts.len() as u32, counts_at),
        ];
        file.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            file.extend_from_slice(&tag.to_le_bytes());
            file.extend_from_slice(&kind.to_le_bytes());
            file.extend_from_slice(&count.to_le_bytes());
            file.extend_from_slice(&value.to_le_bytes());
        }
        file.extend_from_slice(&0u32.to_le_bytes());
        file
    }

    /// Where a TIFF's tag keeps its LONG or SHORT values, and their size.
    fn tag_values(file: &[u8], tag: u16) -> Vec<(usize, usize)> {
        let number = |at: usize, size: usize| {
            file[at..at + size]
                .iter()
                .rev()
                .fold(0usize, |n, b| n << 8 | usize::from(*b))
        };
        let ifd = number(4, 4);
        let entries = number(ifd, 2);
        for entry in 0..entries {
            let at = ifd + 2 + 12 * entry;
            if number(at, 2) == usize::from(tag) {
                let size = if number(at + 2, 2) == 3 { 2 } else { 4 };
                let count = number(at + 4, 4);
                let values = if size * count <= 4 {
                    at + 8
                } else {
                    number(at + 8, 4)
                };
                return (0..count).map(|i| (values + i * size, size)).collect();
            }
        }
        panic!("no tag {tag}");
    }

    fn set(file: &mut [u8], (at, size): (usize, usize), value: usize) {
        file[at..at + size].copy_from_slice(&value.to_le_bytes()[..size]);
    }

    fn striped_tiff() -> Vec<u8> {
        let image = master(300, 200);
        let mut bytes = Vec::new();
        let mut encoder = tiff::encoder::TiffEncoder::new(Cursor::new(&mut bytes)).unwrap();
        let mut writing = encoder
            .new_image::<tiff::encoder::colortype::RGB8>(300, 200)
            .unwrap();
        writing.rows_per_strip(20).unwrap();
        writing.write_data(image.as_raw()).unwrap();
        bytes
    }

    #[test]
    fn broken_masters_fail_bounded() {
        let limits = DecodeLimits {
            max_pixels: 4_000_000_000,
            memory_budget: 512 * 1024 * 1024,
        };
        // each master is built from memory and from a file, with the same outcome
        let build = |bytes: &[u8]| {
            let from_memory =
                build_pyramid_file(bytes, &limits, &options(), Cursor::new(Vec::new()))
                    .map(|(_, built)| built);
            let file = in_file(bytes);
            let from_file = build_pyramid_file(&file, &limits, &options(), Cursor::new(Vec::new()))
                .map(|(_, built)| built);
            match (&from_memory, &from_file) {
                (Ok(memory), Ok(file)) => assert_eq!(memory.layout, file.layout),
                (Err(memory), Err(file)) => {
                    assert_eq!((memory.kind, &memory.message), (file.kind, &file.message))
                }
                _ => panic!("from memory: {from_memory:?}; from a file: {from_file:?}"),
            }
            from_memory
        };
        let whole_tiff = striped_tiff();
        assert_eq!(build(&whole_tiff).unwrap().layout.width, 300);
        let offsets = tag_values(&whole_tiff, 273);
        let counts = tag_values(&whole_tiff, 279);
        assert!(offsets.len() == 10 && counts.len() == 10);
        let value = |file: &[u8], (at, size): (usize, usize)| {
            file[at..at + size]
                .iter()
                .rev()
                .fold(0usize, |n, b| n << 8 | usize::from(*b))
        };

        // a strip that points past the end of the file
        let mut past_end = whole_tiff.clone();
        set(&mut past_end, counts[9], 20 * 300 * 3 + 1_000_000);
        let error = build(&past_end).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Truncated, "{error}");
        assert!(error.message.contains("past its end"), "{error}");
        // strips that overlap: the second starts inside the first
        let mut overlapping = whole_tiff.clone();
        let first = value(&whole_tiff, offsets[0]);
        set(&mut overlapping, offsets[1], first + 10);
        let error = build(&overlapping).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unsupported, "{error}");
        assert!(error.message.contains("overlap"), "{error}");
        // a strip cut short: it has fewer bytes than its rows need
        let mut short = whole_tiff.clone();
        set(&mut short, counts[4], 100);
        assert!(build(&short).is_err());
        // a file cut in the middle of its strips
        let cut = &whole_tiff[..value(&whole_tiff, offsets[5]) + 50];
        assert!(build(cut).is_err());

        // headers that lie: a PNG claiming 40,000 x 40,000 over a few hundred bytes stops at
        // its first missing row, within the budget; the same claim as a JPEG stops at once
        let error = build(&crate::decode::tests::png_claiming(40_000, 40_000)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Truncated, "{error}");
        let jpeg = crate::decode::tests::jpeg_claiming(40_000, 40_000);
        assert_eq!(build(&jpeg).unwrap_err().kind, ErrorKind::Truncated);
        // a claim of 100,000 x 100,000 is over the pixel limit before anything is read
        let error = build(&crate::decode::tests::png_claiming(100_000, 100_000)).unwrap_err();
        assert_eq!(error.kind, ErrorKind::TooLarge);
    }

    #[test]
    fn corrupt_tiffs_are_reported() {
        assert!(PyramidLayout::first_ifd_offset(b"MM\x00\x2a\x00\x00\x00\x08").is_err());
        assert!(PyramidLayout::parse(&[1, 0, 0, 0], 8).is_err());
    }
}
