//! Rendering an image request from the pyramid: pick the level that just covers the output,
//! take only the tiles under the region, then crop, resize, mirror, rotate, apply the quality
//! and encode.

use std::time::Instant;

use iiif::image::{Format, Quality, ResolvedRequest};

use crate::codec::{decode_jpeg, encode};
use crate::error::{Error, ErrorKind, Result};
use crate::layout::PyramidLayout;
use crate::raster::{Channels, Raster};

/// One tile of one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TileRequest {
    pub level: usize,
    pub index: usize,
}

/// The tiles a request needs and where its region lies on their level.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderPlan {
    pub level: usize,
    /// Tiles to fetch, row by row.
    pub tiles: Vec<TileRequest>,
    /// The area of the level the tiles cover: first column and row, and pixel origin.
    first_column: u32,
    first_row: u32,
    columns: u32,
    rows: u32,
}

/// The pixels of a plan's tiles a render reads: the region and, around it, as far as the
/// resize filter reaches (Lanczos3 takes three source pixels each side per output pixel's
/// width), in pixels of the tiles' span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Window {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

impl Window {
    /// `region` is (left, top, width, height) on the tiles' span of `span` pixels, resized to
    /// `output` pixels.
    fn around(region: (f64, f64, f64, f64), output: (u32, u32), span: (u32, u32)) -> Window {
        let (left, top, width, height) = region;
        let reach =
            |length: f64, output: u32| (3.0 * (length / f64::from(output)).max(1.0)).ceil() + 2.0;
        let (reach_x, reach_y) = (reach(width, output.0), reach(height, output.1));
        let from = |start: f64, reach: f64| (start - reach).floor().max(0.0) as u32;
        let to = |end: f64, reach: f64, span: u32| ((end + reach).ceil() as u32).min(span);
        let (x, y) = (from(left, reach_x), from(top, reach_y));
        let right = to(left + width, reach_x, span.0).max(x + 1);
        let bottom = to(top + height, reach_y, span.1).max(y + 1);
        Window {
            x,
            y,
            width: right - x,
            height: bottom - y,
        }
    }

    /// The window's pixels, copied row by row out of the tiles (`columns` to a row) that
    /// cover it, each byte once.
    fn copy_from(
        self,
        tiles: &[impl AsRef<Raster>],
        columns: u32,
        (tile_width, tile_height): (u32, u32),
        channels: Channels,
    ) -> Result<Raster> {
        let count = channels.count();
        let mut pixels = Vec::with_capacity(self.width as usize * self.height as usize * count);
        let (first_column, last_column) =
            (self.x / tile_width, (self.x + self.width - 1) / tile_width);
        for y in self.y..self.y + self.height {
            let (tile_row, tile_y) = (y / tile_height, (y % tile_height) as usize);
            for column in first_column..=last_column {
                let tile = tiles[(tile_row * columns + column) as usize].as_ref();
                let tile_left = column * tile_width;
                let start = self.x.max(tile_left) - tile_left;
                let end = (self.x + self.width).min(tile_left + tile_width) - tile_left;
                let row = tile_y * tile_width as usize * count;
                pixels.extend_from_slice(
                    &tile.pixels[row + start as usize * count..row + end as usize * count],
                );
            }
        }
        Raster::new(self.width, self.height, channels, pixels)
    }
}

/// Output rows resized at a time: a band's canvas is about this many rows of the level for
/// each output row (two at most, as a plan picks its level), times the region's width.
const BAND_ROWS: u32 = 256;

/// The stored tile that answers a request exactly, byte for byte: a whole interior tile of
/// one level at its own size, unrotated, in the pyramid's own quality, as JPEG.
pub fn exact_tile(layout: &PyramidLayout, request: &ResolvedRequest) -> Option<TileRequest> {
    let natural_quality = match layout.channels {
        Channels::Gray => matches!(
            request.quality,
            Quality::Default | Quality::Gray | Quality::Color
        ),
        _ => matches!(request.quality, Quality::Default | Quality::Color),
    };
    if request.format != Format::Jpg
        || request.rotation.mirror
        || request.rotation.degrees != 0.0
        || !natural_quality
    {
        return None;
    }
    let region = request.region;
    let tile = layout.tile_size;
    layout
        .levels
        .iter()
        .enumerate()
        .find_map(|(level_index, level)| {
            let scale = 1u32 << level_index;
            let span = tile.checked_mul(scale)?;
            let (column, row) = (region.x / span, region.y / span);
            let aligned = region.x.is_multiple_of(span)
                && region.y.is_multiple_of(span)
                && region.width == span
                && region.height == span;
            let interior = (column + 1) * tile <= level.width && (row + 1) * tile <= level.height;
            (aligned && interior && request.width == tile && request.height == tile).then_some(
                TileRequest {
                    level: level_index,
                    index: (row * level.tiles_across + column) as usize,
                },
            )
        })
}

/// Which tiles of which level a request needs: the smallest level that still has at least the
/// output's resolution over the region.
pub fn plan(layout: &PyramidLayout, request: &ResolvedRequest) -> RenderPlan {
    let region = request.region;
    let level_index = (0..layout.levels.len())
        .rev()
        .find(|level| {
            let scale = f64::from(1u32 << level);
            f64::from(region.width) / scale >= f64::from(request.width)
                && f64::from(region.height) / scale >= f64::from(request.height)
        })
        .unwrap_or(0);
    let level = &layout.levels[level_index];
    let scale = 1u32 << level_index;
    let (left, top) = (region.x / scale, region.y / scale);
    let right = (region.x + region.width).div_ceil(scale).min(level.width);
    let bottom = (region.y + region.height).div_ceil(scale).min(level.height);
    let (first_column, first_row) = (left / level.tile_width, top / level.tile_height);
    let (last_column, last_row) = (
        (right - 1) / level.tile_width,
        (bottom - 1) / level.tile_height,
    );
    let tiles = (first_row..=last_row)
        .flat_map(|row| (first_column..=last_column).map(move |column| (row, column)))
        .map(|(row, column)| TileRequest {
            level: level_index,
            index: (row * level.tiles_across + column) as usize,
        })
        .collect();
    RenderPlan {
        level: level_index,
        tiles,
        first_column,
        first_row,
        columns: last_column - first_column + 1,
        rows: last_row - first_row + 1,
    }
}

/// Decodes one stored tile of a pyramid.
pub fn decode_tile(layout: &PyramidLayout, bytes: &[u8]) -> Result<Raster> {
    decode_jpeg(bytes, layout.channels)
}

/// Renders a request from the tiles its plan named (`tiles[i]` is the bytes of
/// `plan.tiles[i]`), and encodes it.
pub fn render(
    layout: &PyramidLayout,
    plan: &RenderPlan,
    tiles: &[impl AsRef<[u8]>],
    request: &ResolvedRequest,
    jpeg_quality: u8,
) -> Result<Vec<u8>> {
    let decoded = tiles
        .iter()
        .map(|bytes| decode_tile(layout, bytes.as_ref()))
        .collect::<Result<Vec<_>>>()?;
    render_decoded(layout, plan, &decoded, request, jpeg_quality)
}

/// Like [`render`], from tiles already decoded (`tiles[i]` is `plan.tiles[i]`, as
/// [`decode_tile`] made it): a server that keeps decoded tiles skips their decoding.
pub fn render_decoded(
    layout: &PyramidLayout,
    plan: &RenderPlan,
    tiles: &[impl AsRef<Raster>],
    request: &ResolvedRequest,
    jpeg_quality: u8,
) -> Result<Vec<u8>> {
    render_decoded_within(layout, plan, tiles, request, jpeg_quality, None)
}

/// Fails with [`ErrorKind::TimedOut`] once `deadline` has passed.
pub fn check_deadline(deadline: Option<Instant>) -> Result<()> {
    match deadline {
        Some(deadline) if Instant::now() >= deadline => Err(Error::new(
            ErrorKind::TimedOut,
            "the render took longer than its deadline",
        )),
        _ => Ok(()),
    }
}

/// Like [`render_decoded`], stopping with [`ErrorKind::TimedOut`] at the first step that
/// begins after `deadline`: a render that has overrun gives its slot back instead of
/// finishing an answer nobody waits for.
pub fn render_decoded_within(
    layout: &PyramidLayout,
    plan: &RenderPlan,
    tiles: &[impl AsRef<Raster>],
    request: &ResolvedRequest,
    jpeg_quality: u8,
    deadline: Option<Instant>,
) -> Result<Vec<u8>> {
    check_deadline(deadline)?;
    if tiles.len() != plan.tiles.len() {
        return Err(Error::new(
            ErrorKind::Internal,
            "tile count does not match the plan",
        ));
    }
    let level = &layout.levels[plan.level];
    let (tile_width, tile_height) = (level.tile_width, level.tile_height);
    let origin_x = plan.first_column * tile_width;
    let origin_y = plan.first_row * tile_height;
    let canvas_width = (plan.columns * tile_width).min(level.width - origin_x);
    let canvas_height = (plan.rows * tile_height).min(level.height - origin_y);
    // stored tiles are whole (edge tiles padded): anything else is not this pyramid's
    if let Some(stranger) = tiles.iter().map(AsRef::as_ref).find(|tile| {
        tile.channels != layout.channels || (tile.width, tile.height) != (tile_width, tile_height)
    }) {
        return Err(Error::new(
            ErrorKind::Internal,
            format!(
                "a decoded tile ({stranger:?}) is not one of this pyramid's {tile_width}x{tile_height} {:?} tiles",
                layout.channels
            ),
        ));
    }
    // the region on this level, to the sub-pixel
    let scale = f64::from(1u32 << plan.level);
    let region = request.region;
    let left = f64::from(region.x) / scale - f64::from(origin_x);
    let top = f64::from(region.y) / scale - f64::from(origin_y);
    let width = (f64::from(region.width) / scale).min(f64::from(canvas_width) - left);
    let height = (f64::from(region.height) / scale).min(f64::from(canvas_height) - top);
    // the output is resized a band of rows at a time, each from a canvas of only the tiles'
    // pixels its filter reads: a render holds a band of the level, not the whole region
    let channels = layout.channels.count();
    let (out_width, out_height) = (request.width, request.height);
    let source_rows_per_row = height / f64::from(out_height);
    let row_bytes = out_width as usize * channels;
    let mut output = vec![0; row_bytes * out_height as usize];
    for first_row in (0..out_height).step_by(BAND_ROWS as usize) {
        check_deadline(deadline)?;
        let rows = BAND_ROWS.min(out_height - first_row);
        let band_top = top + f64::from(first_row) * source_rows_per_row;
        // the last band ends where the region does, whatever the rounding
        let band_height = if first_row + rows == out_height {
            top + height - band_top
        } else {
            f64::from(rows) * source_rows_per_row
        };
        let window = Window::around(
            (left, band_top, width, band_height),
            (out_width, rows),
            (canvas_width, canvas_height),
        );
        let canvas = window.copy_from(
            tiles,
            plan.columns,
            (tile_width, tile_height),
            layout.channels,
        )?;
        let band = first_row as usize * row_bytes..(first_row + rows) as usize * row_bytes;
        canvas.resize_area_into(
            (
                left - f64::from(window.x),
                band_top - f64::from(window.y),
                width,
                band_height,
            ),
            (out_width, rows),
            &mut output[band],
        )?;
    }
    let mut image = Raster::new(out_width, out_height, layout.channels, output)?;
    check_deadline(deadline)?;

    if request.rotation.mirror {
        image = image.mirror();
    }
    if request.rotation.degrees != 0.0 {
        image = if request.rotation.is_right_angle() {
            image.rotate_right_angle(request.rotation.degrees as u32)
        } else {
            let (width, height) = request.output_size();
            image.rotate_arbitrary(request.rotation.degrees, width, height)
        };
    }
    check_deadline(deadline)?;
    image = match request.quality {
        Quality::Default | Quality::Color => image,
        Quality::Gray => image.to_gray(),
        Quality::Bitonal => image.to_bitonal(),
    };
    check_deadline(deadline)?;
    encode(&image, request.format, jpeg_quality)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pyramid::{PyramidOptions, build_pyramid};
    use iiif::image::{ApiVersion, ImageRequest, Limits};

    const LIMITS: Limits = Limits {
        max_width: Some(10_000),
        max_height: None,
        max_area: None,
        upscaling: true,
    };

    fn pyramid(width: u32, height: u32) -> crate::pyramid::BuiltPyramid {
        let pixels = (0..height)
            .flat_map(|y| (0..width).flat_map(move |x| [(x % 256) as u8, (y % 256) as u8, 90]))
            .collect();
        let raster = Raster::new(width, height, Channels::Rgb, pixels).unwrap();
        let options = PyramidOptions {
            tile_size: 256,
            jpeg_quality: 90,
            thumbnail_sizes: vec![],
        };
        build_pyramid(raster, &options).unwrap()
    }

    fn request(path: &str, width: u32, height: u32) -> ResolvedRequest {
        let parts: Vec<&str> = path.split('/').collect();
        ImageRequest::parse(ApiVersion::V3, parts[0], parts[1], parts[2], parts[3])
            .unwrap()
            .resolve(width, height, &LIMITS)
            .unwrap()
    }

    fn tiles_for(built: &crate::pyramid::BuiltPyramid, plan: &RenderPlan) -> Vec<Vec<u8>> {
        plan.tiles
            .iter()
            .map(|tile| {
                let range = built.layout.levels[tile.level].tile_range(tile.index);
                built.tiff[range.start as usize..range.end as usize].to_vec()
            })
            .collect()
    }

    fn decode(bytes: &[u8]) -> image::DynamicImage {
        image::load_from_memory(bytes).unwrap()
    }

    #[test]
    fn interior_tiles_are_exact_and_edge_tiles_are_not() {
        let built = pyramid(1000, 600);
        // level 0, tile (1, 1)
        let exact = exact_tile(
            &built.layout,
            &request("256,256,256,256/256,256/0/default.jpg", 1000, 600),
        );
        assert_eq!(
            exact,
            Some(TileRequest {
                level: 0,
                index: 4 + 1
            })
        );
        // level 1 (scale 2), tile (0, 0)
        let scaled = exact_tile(
            &built.layout,
            &request("0,0,512,512/256,256/0/default.jpg", 1000, 600),
        );
        assert_eq!(scaled, Some(TileRequest { level: 1, index: 0 }));
        // the right edge tile is padded in the TIFF: rendered instead
        assert_eq!(
            exact_tile(
                &built.layout,
                &request("768,0,232,256/232,256/0/default.jpg", 1000, 600)
            ),
            None
        );
        assert_eq!(
            exact_tile(
                &built.layout,
                &request("256,256,256,256/256,256/90/default.jpg", 1000, 600)
            ),
            None
        );
        assert_eq!(
            exact_tile(
                &built.layout,
                &request("256,256,256,256/256,256/0/gray.jpg", 1000, 600)
            ),
            None
        );
        assert_eq!(
            exact_tile(
                &built.layout,
                &request("256,256,256,256/256,256/0/default.png", 1000, 600)
            ),
            None
        );
    }

    #[test]
    fn plans_use_the_level_that_just_covers_the_output() {
        let built = pyramid(1000, 600);
        let full = plan(
            &built.layout,
            &request("full/250,/0/default.jpg", 1000, 600),
        );
        assert_eq!(full.level, 2);
        assert_eq!(full.tiles.len(), 1);
        let detail = plan(
            &built.layout,
            &request("300,300,100,100/max/0/default.jpg", 1000, 600),
        );
        assert_eq!(detail.level, 0);
        assert_eq!(detail.tiles, vec![TileRequest { level: 0, index: 5 }]);
        let upscaled = plan(
            &built.layout,
            &request("full/^2000,/0/default.jpg", 1000, 600),
        );
        assert_eq!(upscaled.level, 0);
        assert_eq!(upscaled.tiles.len(), 12);
    }

    #[test]
    fn renders_regions_sizes_rotations_and_qualities() {
        let built = pyramid(1000, 600);
        let cases = [
            ("full/max/0/default.jpg", (1000, 600)),
            ("full/250,/0/default.png", (250, 150)),
            ("768,0,232,256/232,256/0/default.jpg", (232, 256)),
            ("100,100,300,200/150,/90/gray.jpg", (100, 150)),
            ("square/100,100/!180/bitonal.png", (100, 100)),
            ("full/100,/45/default.png", (113, 113)),
            ("full/^1500,/0/default.webp", (1500, 900)),
        ];
        for (path, size) in cases {
            let request = request(path, 1000, 600);
            let plan = plan(&built.layout, &request);
            let bytes = render(
                &built.layout,
                &plan,
                &tiles_for(&built, &plan),
                &request,
                85,
            )
            .unwrap();
            let decoded = decode(&bytes);
            assert_eq!((decoded.width(), decoded.height()), size, "{path}");
        }
    }

    #[test]
    fn renders_from_decoded_tiles_match_renders_from_bytes() {
        let built = pyramid(1000, 600);
        for path in [
            "100,50,700,500/300,/0/default.jpg",
            "768,0,232,256/232,256/0/default.jpg",
            "full/!200,200/90/gray.png",
        ] {
            let request = request(path, 1000, 600);
            let plan = plan(&built.layout, &request);
            let stored = tiles_for(&built, &plan);
            let decoded: Vec<std::sync::Arc<Raster>> = stored
                .iter()
                .map(|bytes| std::sync::Arc::new(decode_tile(&built.layout, bytes).unwrap()))
                .collect();
            assert_eq!(
                render_decoded(&built.layout, &plan, &decoded, &request, 85).unwrap(),
                render(&built.layout, &plan, &stored, &request, 85).unwrap(),
                "{path}"
            );
        }
        // tiles that are not this pyramid's are refused, not pasted
        let request = request("full/100,/0/default.jpg", 1000, 600);
        let plan = plan(&built.layout, &request);
        let gray = vec![Raster::filled(256, 256, Channels::Gray, 0); plan.tiles.len()];
        assert!(render_decoded(&built.layout, &plan, &gray, &request, 85).is_err());
        let small = vec![Raster::filled(128, 256, Channels::Rgb, 0); plan.tiles.len()];
        let error = render_decoded(&built.layout, &plan, &small, &request, 85).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Internal, "{error:?}");
    }

    /// A level of a built pyramid as one raster, pasted from all its decoded tiles.
    fn whole_level(built: &crate::pyramid::BuiltPyramid, level: usize) -> Raster {
        let layout = &built.layout.levels[level];
        let mut whole = Raster::filled(layout.width, layout.height, Channels::Rgb, 0);
        for index in 0..layout.offsets.len() {
            let range = layout.tile_range(index);
            let tile = decode_tile(
                &built.layout,
                &built.tiff[range.start as usize..range.end as usize],
            )
            .unwrap();
            let (column, row) = (
                index as u32 % layout.tiles_across,
                index as u32 / layout.tiles_across,
            );
            whole.paste(&tile, column * layout.tile_width, row * layout.tile_height);
        }
        whole
    }

    #[test]
    fn regions_match_the_whole_level_resized_pixel_for_pixel() {
        // each band's canvas holds only the tiles' pixels its filter reaches, so a render must
        // be the same pixels as the region resized from its whole level at once: exactly, not
        // within a tolerance
        let built = pyramid(1500, 1100);
        for path in [
            "100,50,700,500/300,/0/default.png",
            "333,217,401,389/401,/0/default.png",
            "0,0,1500,1100/150,/0/default.png",
            "1100,900,400,200/37,/0/default.png",
            "700,300,90,60/^500,/0/default.png",
            "257,511,3,2/3,2/0/default.png",
            // outputs of more than one band of rows
            "100,50,1300,1000/650,/0/default.png",
            "10,10,600,1080/!540,540/0/default.png",
            "0,0,1500,1100/max/0/default.png",
        ] {
            check_region(&built, path);
        }
        // regions to the bottom edge in sizes whose bands add up to a hair more than the level
        let built = pyramid(1920, 1600);
        for path in [
            "281,0,1613,1600/976,/0/default.png",
            "48,0,1856,1600/!941,941/0/default.png",
            "230,0,1712,1600/!1072,1072/0/default.png",
        ] {
            check_region(&built, path);
        }
    }

    /// Renders `path` from its plan's tiles, as PNG and as JPEG, and compares both with the
    /// region resized from its whole level at once.
    fn check_region(built: &crate::pyramid::BuiltPyramid, path: &str) {
        let (width, height) = (built.layout.width, built.layout.height);
        let request = request(path, width, height);
        let plan = plan(&built.layout, &request);
        let tiles = tiles_for(built, &plan);
        let rendered = decode(
            &render(&built.layout, &plan, &tiles, &request, 85)
                .unwrap_or_else(|error| panic!("{path}: {error:?}")),
        )
        .to_rgb8();
        let scale = f64::from(1u32 << plan.level);
        let region = request.region;
        let expected = whole_level(built, plan.level)
            .resize_area(
                f64::from(region.x) / scale,
                f64::from(region.y) / scale,
                f64::from(region.width) / scale,
                f64::from(region.height) / scale,
                request.width,
                request.height,
            )
            .unwrap();
        assert_eq!(rendered.as_raw(), &expected.pixels, "{path}");
        let jpeg_request = self::request(&path.replace(".png", ".jpg"), width, height);
        let jpeg = render(&built.layout, &plan, &tiles, &jpeg_request, 85).unwrap();
        assert_eq!(
            jpeg,
            crate::codec::encode(&expected, Format::Jpg, 85).unwrap(),
            "{path} jpg"
        );
    }

    #[test]
    fn the_canvas_is_the_region_and_the_filters_reach() {
        // a 100 x 80 region at 2:1 on a span of four tiles: Lanczos3 reaches 6 pixels
        let window = Window::around((300.0, 200.0, 100.0, 80.0), (50, 40), (512, 512));
        assert_eq!(
            window,
            Window {
                x: 292,
                y: 192,
                width: 116,
                height: 96
            }
        );
        // clipped at the span's edges, never empty
        let edge = Window::around((0.0, 500.5, 512.0, 11.5), (512, 12), (512, 512));
        assert_eq!((edge.x, edge.width, edge.y + edge.height), (0, 512, 512));
        let corner = Window::around((511.9, 511.9, 0.1, 0.1), (1, 1), (512, 512));
        assert!(corner.width >= 1 && corner.height >= 1 && corner.x + corner.width <= 512);
    }

    #[test]
    fn renders_past_their_deadline_stop() {
        let built = pyramid(1000, 600);
        let request = request("full/max/45/default.png", 1000, 600);
        let plan = plan(&built.layout, &request);
        let decoded: Vec<Raster> = tiles_for(&built, &plan)
            .iter()
            .map(|bytes| decode_tile(&built.layout, bytes).unwrap())
            .collect();
        let passed = Instant::now();
        let error =
            render_decoded_within(&built.layout, &plan, &decoded, &request, 85, Some(passed))
                .unwrap_err();
        assert_eq!(error.kind, ErrorKind::TimedOut);
        assert_eq!(error.code(), "render-timeout");
        let later = Instant::now() + std::time::Duration::from_secs(600);
        assert_eq!(
            render_decoded_within(&built.layout, &plan, &decoded, &request, 85, Some(later))
                .unwrap(),
            render_decoded(&built.layout, &plan, &decoded, &request, 85).unwrap()
        );
    }

    #[test]
    fn rendered_pixels_come_from_the_right_place() {
        let built = pyramid(1000, 600);
        // the test image's red channel is x % 256 and green is y % 256
        let request = request("600,300,20,20/max/0/default.png", 1000, 600);
        let plan = plan(&built.layout, &request);
        let decoded = decode(
            &render(
                &built.layout,
                &plan,
                &tiles_for(&built, &plan),
                &request,
                85,
            )
            .unwrap(),
        )
        .to_rgb8();
        let pixel = decoded.get_pixel(10, 10);
        assert!(pixel[0].abs_diff((610 % 256) as u8) <= 6, "red {pixel:?}");
        assert!(pixel[1].abs_diff((310 % 256) as u8) <= 6, "green {pixel:?}");
        let mirrored = request_mirrored(&built);
        assert!(
            mirrored[0].abs_diff((629 % 256) as u8) <= 8,
            "mirrored red {mirrored:?}"
        );
    }

    fn request_mirrored(built: &crate::pyramid::BuiltPyramid) -> image::Rgb<u8> {
        let request = request("600,300,30,20/max/!0/default.png", 1000, 600);
        let plan = plan(&built.layout, &request);
        let decoded =
            decode(&render(&built.layout, &plan, &tiles_for(built, &plan), &request, 85).unwrap())
                .to_rgb8();
        *decoded.get_pixel(0, 10)
    }

    #[test]
    fn wrong_tile_counts_are_refused() {
        let built = pyramid(300, 300);
        let request = request("full/max/0/default.jpg", 300, 300);
        let plan = plan(&built.layout, &request);
        let none: Vec<Vec<u8>> = Vec::new();
        assert!(render(&built.layout, &plan, &none, &request, 85).is_err());
    }
}
