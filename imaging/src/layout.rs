//! Where every tile of a pyramid lives in its TIFF, read back from the TIFF's own IFDs.

use crate::error::{Error, ErrorKind, Result};
use crate::raster::Channels;

/// One level of the pyramid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelLayout {
    pub width: u32,
    pub height: u32,
    pub tile_width: u32,
    pub tile_height: u32,
    pub tiles_across: u32,
    pub tiles_down: u32,
    /// Byte offset of each tile in the file, row by row.
    pub offsets: Vec<u64>,
    /// Byte length of each tile.
    pub lengths: Vec<u32>,
}

impl LevelLayout {
    pub(crate) fn new(
        width: u32,
        height: u32,
        tile_width: u32,
        tile_height: u32,
        offsets: Vec<u64>,
        lengths: Vec<u32>,
    ) -> Self {
        Self {
            width,
            height,
            tile_width,
            tile_height,
            tiles_across: width.div_ceil(tile_width),
            tiles_down: height.div_ceil(tile_height),
            offsets,
            lengths,
        }
    }

    /// The byte range of tile `index` in the file.
    pub fn tile_range(&self, index: usize) -> std::ops::Range<u64> {
        self.offsets[index]..self.offsets[index] + u64::from(self.lengths[index])
    }
}

/// The whole pyramid: full resolution first, each level half the one before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PyramidLayout {
    pub width: u32,
    pub height: u32,
    pub channels: Channels,
    pub tile_size: u32,
    pub levels: Vec<LevelLayout>,
}

fn corrupt(message: &str) -> Error {
    Error::new(
        ErrorKind::CorruptDerivative,
        format!("pyramid TIFF: {message}"),
    )
}

impl PyramidLayout {
    pub(crate) fn from_levels(
        channels: Channels,
        tile_size: u32,
        levels: Vec<LevelLayout>,
    ) -> Self {
        Self {
            width: levels[0].width,
            height: levels[0].height,
            channels,
            tile_size,
            levels,
        }
    }

    /// The scale factor of each level: 1, 2, 4, ...
    pub fn scale_factors(&self) -> Vec<u32> {
        (0..self.levels.len()).map(|level| 1 << level).collect()
    }

    /// Where the first IFD starts, from the file's 8-byte header.
    pub fn first_ifd_offset(header: &[u8]) -> Result<u64> {
        if header.len() < 8 || &header[..4] != b"II\x2a\x00" {
            return Err(corrupt("not a little-endian classic TIFF"));
        }
        Ok(u64::from(u32::from_le_bytes([
            header[4], header[5], header[6], header[7],
        ])))
    }

    /// Reads every level from `tail`, the bytes of the file from `tail_start` to its end,
    /// which hold all the IFDs (as this crate writes them).
    pub fn parse(tail: &[u8], tail_start: u64) -> Result<Self> {
        let read = |offset: u64, length: usize| -> Result<&[u8]> {
            let start = offset
                .checked_sub(tail_start)
                .ok_or_else(|| corrupt("IFD before the tail"))? as usize;
            tail.get(start..start + length)
                .ok_or_else(|| corrupt("IFD past the end"))
        };
        let u16_at = |bytes: &[u8], at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]);
        let u32_at = |bytes: &[u8], at: usize| {
            u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };

        let mut levels = Vec::new();
        let mut channels = Channels::Rgb;
        let mut tile_size = 0;
        let mut ifd = tail_start;
        while ifd != 0 {
            if levels.len() > 32 {
                return Err(corrupt("too many levels"));
            }
            let count = usize::from(u16_at(read(ifd, 2)?, 0));
            let table = read(ifd + 2, count * 12 + 4)?;
            let (mut width, mut height, mut tile_width, mut tile_height, mut samples) =
                (0, 0, 0, 0, 1);
            let (mut offsets, mut lengths) = (Vec::new(), Vec::new());
            for entry in table[..count * 12].chunks_exact(12) {
                let (tag, kind, values) = (
                    u16_at(entry, 0),
                    u16_at(entry, 2),
                    u32_at(entry, 4) as usize,
                );
                let size = match kind {
                    SHORT => 2,
                    LONG => 4,
                    _ => continue,
                };
                let bytes = if values * size <= 4 {
                    &entry[8..8 + values * size]
                } else {
                    read(u64::from(u32_at(entry, 8)), values * size)?
                };
                let numbers: Vec<u64> = bytes
                    .chunks_exact(size)
                    .map(|chunk| {
                        if size == 2 {
                            u64::from(u16_at(chunk, 0))
                        } else {
                            u64::from(u32_at(chunk, 0))
                        }
                    })
                    .collect();
                let first = numbers.first().copied().unwrap_or(0) as u32;
                match tag {
                    256 => width = first,
                    257 => height = first,
                    277 => samples = first,
                    322 => tile_width = first,
                    323 => tile_height = first,
                    324 => offsets = numbers,
                    325 => lengths = numbers.into_iter().map(|n| n as u32).collect(),
                    _ => {}
                }
            }
            if width == 0 || height == 0 || tile_width == 0 || tile_height == 0 {
                return Err(corrupt("a level has no size or is not tiled"));
            }
            let level = LevelLayout::new(width, height, tile_width, tile_height, offsets, lengths);
            if level.offsets.len() != (level.tiles_across * level.tiles_down) as usize
                || level.lengths.len() != level.offsets.len()
            {
                return Err(corrupt("tile tables do not match the level size"));
            }
            channels = if samples == 1 {
                Channels::Gray
            } else {
                Channels::Rgb
            };
            tile_size = tile_width;
            levels.push(level);
            ifd = u64::from(u32_at(table, count * 12));
        }
        if levels.is_empty() {
            return Err(corrupt("no levels"));
        }
        Ok(Self::from_levels(channels, tile_size, levels))
    }
}

const SHORT: u16 = 3;
const LONG: u16 = 4;
