//! Writing the pyramid as a standard tiled TIFF: tile data first, then one IFD per level in a
//! top-level chain (full resolution first), so libtiff, libvips and IIPImage read every level.
//! Each tile is a complete JPEG stream, full tile size (edge tiles padded, as TIFF requires).

use std::io::{Seek, SeekFrom, Write};

use crate::error::{Error, ErrorKind, Result};
use crate::layout::{LevelLayout, PyramidLayout};
use crate::raster::Channels;

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

/// Writes a pyramid TIFF as its tiles come: the header first, each tile where the file ends
/// (levels may interleave, a reader follows the offsets), the IFDs last.
pub(crate) struct TiffWriter<W: Write + Seek> {
    out: W,
    position: u64,
}

impl<W: Write + Seek> TiffWriter<W> {
    pub(crate) fn new(mut out: W) -> Result<Self> {
        let mut header = Vec::with_capacity(8);
        header.extend_from_slice(b"II");
        header.extend_from_slice(&42u16.to_le_bytes());
        header.extend_from_slice(&0u32.to_le_bytes()); // first IFD offset, written by finish
        out.write_all(&header).map_err(write_failed)?;
        Ok(Self { out, position: 8 })
    }

    /// Appends one encoded tile and returns where it lies.
    pub(crate) fn append_tile(&mut self, tile: &[u8]) -> Result<(u64, u32)> {
        let offset = self.position;
        let length = u32::try_from(tile.len()).map_err(|_| too_large())?;
        self.out.write_all(tile).map_err(write_failed)?;
        self.position += u64::from(length);
        if u32::try_from(self.position).is_err() {
            return Err(too_large());
        }
        Ok((offset, length))
    }

    /// Writes one IFD per level (full resolution first) and returns the output, its length and
    /// the layout a reader will find in it.
    pub(crate) fn finish(
        mut self,
        levels: Vec<LevelLayout>,
        tile_size: u32,
        channels: Channels,
    ) -> Result<(W, u64, PyramidLayout)> {
        let mut tail = Vec::new();
        let mut previous_next_pointer: Option<usize> = None;
        for (index, level) in levels.iter().enumerate() {
            if tail.len() % 2 == 1 {
                tail.push(0);
            }
            let at = self.position + tail.len() as u64;
            let ifd_offset = u32::try_from(at).map_err(|_| too_large())?;
            match previous_next_pointer {
                Some(pointer) => {
                    tail[pointer..pointer + 4].copy_from_slice(&ifd_offset.to_le_bytes())
                }
                None => {
                    self.out.seek(SeekFrom::Start(4)).map_err(write_failed)?;
                    self.out
                        .write_all(&ifd_offset.to_le_bytes())
                        .map_err(write_failed)?;
                    self.out
                        .seek(SeekFrom::Start(self.position))
                        .map_err(write_failed)?;
                }
            }
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
            previous_next_pointer = Some(write_ifd(&mut tail, self.position, &entries));
        }
        let length = self.position + tail.len() as u64;
        if u32::try_from(length).is_err() {
            return Err(too_large());
        }
        self.out.write_all(&tail).map_err(write_failed)?;
        self.out.flush().map_err(write_failed)?;
        Ok((
            self.out,
            length,
            PyramidLayout::from_levels(channels, tile_size, levels),
        ))
    }
}

fn write_failed(error: std::io::Error) -> Error {
    Error::new(
        ErrorKind::Internal,
        format!("cannot write the pyramid: {error}"),
    )
}

fn channels_count(channels: Channels) -> usize {
    if channels == Channels::Gray { 1 } else { 3 }
}

/// Writes an IFD at the end of `tail` (which starts at file position `base`) with its
/// out-of-line values after it; returns the position in `tail` of its next-IFD pointer.
fn write_ifd(tail: &mut Vec<u8>, base: u64, entries: &[Entry]) -> usize {
    let at = base as usize + tail.len();
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
    let next_pointer = tail.len() + table.len();
    table.extend_from_slice(&0u32.to_le_bytes());
    tail.extend_from_slice(&table);
    tail.extend_from_slice(&extra);
    next_pointer
}
