//! Writing the pyramid as a standard tiled TIFF: tile data first, then one IFD per level in a
//! top-level chain (full resolution first), so libtiff, libvips and IIPImage read every level.
//! Each tile is a complete JPEG stream, full tile size (edge tiles padded, as TIFF requires).

use crate::error::{Error, ErrorKind, Result};
use crate::layout::{LevelLayout, PyramidLayout};
use crate::raster::Channels;

/// The encoded tiles of one level, row by row.
pub(crate) struct LevelTiles {
    pub width: u32,
    pub height: u32,
    pub tiles: Vec<Vec<u8>>,
}

const SHORT: u16 = 3;
const LONG: u16 = 4;
const RATIONAL: u16 = 5;

const COMPRESSION_JPEG: u16 = 7;
const PHOTOMETRIC_MIN_IS_BLACK: u16 = 1;
const PHOTOMETRIC_YCBCR: u16 = 6;

/// One IFD entry: tag, type, count and the value bytes (little-endian).
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    value: Vec<u8>,
}

fn shorts(tag: u16, values: &[u16]) -> Entry {
    Entry {
        tag,
        kind: SHORT,
        count: values.len() as u32,
        value: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn longs(tag: u16, values: &[u32]) -> Entry {
    Entry {
        tag,
        kind: LONG,
        count: values.len() as u32,
        value: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn rationals(tag: u16, values: &[(u32, u32)]) -> Entry {
    let value = values
        .iter()
        .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
        .collect();
    Entry {
        tag,
        kind: RATIONAL,
        count: values.len() as u32,
        value,
    }
}

fn too_large() -> Error {
    Error::new(
        ErrorKind::Internal,
        "the pyramid is over 4 GiB, the limit of classic TIFF",
    )
}

/// Assembles the TIFF file and returns it with the layout a reader will find in it.
pub(crate) fn write_tiff(
    levels: Vec<LevelTiles>,
    tile_size: u32,
    channels: Channels,
) -> Result<(Vec<u8>, PyramidLayout)> {
    let data_bytes: usize = levels
        .iter()
        .flat_map(|level| level.tiles.iter().map(Vec::len))
        .sum();
    let mut file = Vec::with_capacity(8 + data_bytes + levels.len() * 1024);
    file.extend_from_slice(b"II");
    file.extend_from_slice(&42u16.to_le_bytes());
    file.extend_from_slice(&0u32.to_le_bytes()); // first IFD offset, filled in below

    let mut layouts = Vec::with_capacity(levels.len());
    for level in &levels {
        let mut offsets = Vec::with_capacity(level.tiles.len());
        let mut lengths = Vec::with_capacity(level.tiles.len());
        for tile in &level.tiles {
            offsets.push(file.len() as u64);
            lengths.push(u32::try_from(tile.len()).map_err(|_| too_large())?);
            file.extend_from_slice(tile);
        }
        layouts.push(LevelLayout::new(
            level.width,
            level.height,
            tile_size,
            tile_size,
            offsets,
            lengths,
        ));
    }
    drop(levels);

    let mut previous_next_pointer = 4usize;
    for (index, level) in layouts.iter().enumerate() {
        if file.len() % 2 == 1 {
            file.push(0);
        }
        let ifd_offset = u32::try_from(file.len()).map_err(|_| too_large())?;
        file[previous_next_pointer..previous_next_pointer + 4]
            .copy_from_slice(&ifd_offset.to_le_bytes());
        let offsets: Vec<u32> = level
            .offsets
            .iter()
            .map(|o| u32::try_from(*o).map_err(|_| too_large()))
            .collect::<Result<_>>()?;
        let mut entries = vec![
            longs(254, &[u32::from(index > 0)]), // NewSubfileType: reduced resolution
            longs(256, &[level.width]),
            longs(257, &[level.height]),
            shorts(258, &vec![8; channels_count(channels)]),
            shorts(259, &[COMPRESSION_JPEG]),
            shorts(
                262,
                &[if channels == Channels::Gray {
                    PHOTOMETRIC_MIN_IS_BLACK
                } else {
                    PHOTOMETRIC_YCBCR
                }],
            ),
            shorts(277, &[channels_count(channels) as u16]),
            shorts(284, &[1]), // PlanarConfiguration: contiguous
            longs(322, &[tile_size]),
            longs(323, &[tile_size]),
            longs(324, &offsets),
            longs(325, &level.lengths),
        ];
        if channels != Channels::Gray {
            // the tiles' JPEG streams are YCbCr 4:2:0
            entries.push(shorts(530, &[2, 2]));
            entries.push(rationals(
                532,
                &[(0, 1), (255, 1), (128, 1), (255, 1), (128, 1), (255, 1)],
            ));
        }
        previous_next_pointer = write_ifd(&mut file, ifd_offset as usize, &entries);
    }
    if u32::try_from(file.len()).is_err() {
        return Err(too_large());
    }
    Ok((
        file,
        PyramidLayout::from_levels(channels, tile_size, layouts),
    ))
}

fn channels_count(channels: Channels) -> usize {
    if channels == Channels::Gray { 1 } else { 3 }
}

/// Writes an IFD at `at` (the end of `file`) with its out-of-line values after it; returns
/// the position of its next-IFD pointer.
fn write_ifd(file: &mut Vec<u8>, at: usize, entries: &[Entry]) -> usize {
    let table_bytes = 2 + entries.len() * 12 + 4;
    let mut extra = Vec::new();
    let mut table = Vec::with_capacity(table_bytes);
    table.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    for entry in entries {
        table.extend_from_slice(&entry.tag.to_le_bytes());
        table.extend_from_slice(&entry.kind.to_le_bytes());
        table.extend_from_slice(&entry.count.to_le_bytes());
        if entry.value.len() <= 4 {
            let mut inline = [0u8; 4];
            inline[..entry.value.len()].copy_from_slice(&entry.value);
            table.extend_from_slice(&inline);
        } else {
            let offset = (at + table_bytes + extra.len()) as u32;
            table.extend_from_slice(&offset.to_le_bytes());
            extra.extend_from_slice(&entry.value);
            if extra.len() % 2 == 1 {
                extra.push(0);
            }
        }
    }
    let next_pointer = at + table.len();
    table.extend_from_slice(&0u32.to_le_bytes());
    file.extend_from_slice(&table);
    file.extend_from_slice(&extra);
    next_pointer
}
