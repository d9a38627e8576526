//! Building the derivatives of an image: the tile pyramid and the stored thumbnails.

use rayon::prelude::*;

use crate::codec::encode_jpeg;
use crate::error::Result;
use crate::layout::PyramidLayout;
use crate::raster::{Channels, Raster};
use crate::tiff_writer::{LevelTiles, write_tiff};

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

/// The derivatives of one image.
#[derive(Debug)]
pub struct BuiltPyramid {
    /// The tiled pyramidal TIFF.
    pub tiff: Vec<u8>,
    pub layout: PyramidLayout,
    /// Thumbnails, smallest first.
    pub thumbnails: Vec<Thumbnail>,
}

/// Builds the pyramid of `raster`, full resolution first, each level half the one before,
/// down to a level that fits in one tile; tiles are encoded on every core. Only one level's
/// pixels are held at a time, besides the encoded tiles.
pub fn build_pyramid(raster: Raster, options: &PyramidOptions) -> Result<BuiltPyramid> {
    let (full_width, full_height) = (raster.width, raster.height);
    let channels = if raster.channels == Channels::Gray {
        Channels::Gray
    } else {
        Channels::Rgb
    };
    let mut level = if raster.channels == Channels::Rgba {
        raster.to_rgb()
    } else {
        raster
    };
    let mut pending: Vec<(u32, u32)> = {
        let mut sizes: Vec<(u32, u32)> = options
            .thumbnail_sizes
            .iter()
            .filter_map(|size| iiif::image::thumbnail_size(full_width, full_height, *size))
            .collect();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    };
    let mut thumbnails = Vec::with_capacity(pending.len());
    let mut levels = Vec::new();
    loop {
        levels.push(encode_level(&level, options)?);
        let last = level.width <= options.tile_size && level.height <= options.tile_size;
        let (next_width, next_height) = (level.width.div_ceil(2), level.height.div_ceil(2));
        // each thumbnail comes from the smallest level that still covers it
        let (due, later): (Vec<_>, Vec<_>) = pending
            .into_iter()
            .partition(|(w, h)| last || next_width < *w || next_height < *h);
        for (width, height) in due {
            let jpeg = encode_jpeg(&level.resize(width, height)?, options.jpeg_quality)?;
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
    let (tiff, layout) = write_tiff(levels, options.tile_size, channels)?;
    Ok(BuiltPyramid {
        tiff,
        layout,
        thumbnails,
    })
}

fn encode_level(level: &Raster, options: &PyramidOptions) -> Result<LevelTiles> {
    let tile = options.tile_size;
    let (across, down) = (level.width.div_ceil(tile), level.height.div_ceil(tile));
    let tiles = (0..across * down)
        .into_par_iter()
        .map(|index| {
            let (column, row) = (index % across, index / across);
            let pixels = level.crop_padded(column * tile, row * tile, tile, tile);
            encode_jpeg(&pixels, options.jpeg_quality)
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(LevelTiles {
        width: level.width,
        height: level.height,
        tiles,
    })
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

    #[test]
    fn corrupt_tiffs_are_reported() {
        assert!(PyramidLayout::first_ifd_offset(b"MM\x00\x2a\x00\x00\x00\x08").is_err());
        assert!(PyramidLayout::parse(&[1, 0, 0, 0], 8).is_err());
    }
}
