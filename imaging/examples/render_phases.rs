//! Times the phases of rendering random regions (as the W3 benchmark asks them) from a
//! pyramid built from one master: where a render's time goes.
//!
//! [QUALITY=85] [TILE=256] cargo run --release -p vitrine-imaging --example render_phases -- MASTER [COUNT]

use std::time::{Duration, Instant};

use iiif::image::{ApiVersion, ImageRequest, Limits};
use vitrine_imaging::{DecodeLimits, PyramidOptions, build_pyramid, decode_master, plan, render};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let master = args.next().ok_or("usage: render_phases MASTER [COUNT]")?;
    let count: u32 = args.next().map(|v| v.parse()).transpose()?.unwrap_or(200);
    let raster = decode_master(
        &std::fs::read(&master)?,
        &DecodeLimits::pixels(2_000_000_000),
    )?;
    // the JPEG quality of tiles and output, as the server's jpeg_quality
    let quality: u8 = std::env::var("QUALITY")
        .ok()
        .and_then(|q| q.parse().ok())
        .unwrap_or(85);
    let tile_size: u32 = std::env::var("TILE")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(256);
    let options = PyramidOptions {
        tile_size,
        jpeg_quality: quality,
        thumbnail_sizes: vec![],
    };
    let built = build_pyramid(raster, &options)?;
    let (width, height) = (built.layout.width, built.layout.height);
    let limits = Limits {
        max_width: Some(12_000),
        max_height: None,
        max_area: None,
        upscaling: true,
    };
    let mut seed = 42u64;
    let mut next = move |bound: u32| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) % u64::from(bound.max(1))) as u32
    };
    let (mut total, mut tiles) = (Duration::ZERO, 0usize);
    let mut bytes_out = 0usize;
    for _ in 0..count {
        let out = 300 + next(900);
        let region_width = out + next(width.saturating_sub(out).max(1));
        let region_height = (region_width * 3 / 4).min(height);
        let (x, y) = (
            next(width - region_width + 1),
            next(height - region_height + 1),
        );
        let request = ImageRequest::parse(
            ApiVersion::V3,
            &format!("{x},{y},{region_width},{region_height}"),
            &format!("{out},"),
            "0",
            "default.jpg",
        )?
        .resolve(width, height, &limits)?;
        let started = Instant::now();
        let plan = plan(&built.layout, &request);
        let tile_bytes: Vec<&[u8]> = plan
            .tiles
            .iter()
            .map(|tile| {
                let range = built.layout.levels[tile.level].tile_range(tile.index);
                &built.tiff[range.start as usize..range.end as usize]
            })
            .collect();
        tiles += tile_bytes.len();
        let encoded = render(&built.layout, &plan, &tile_bytes, &request, quality)?;
        bytes_out += encoded.len();
        total += started.elapsed();
    }
    println!(
        "{count} renders: {:.2} ms each, {:.1} tiles each, {:.0} KiB each",
        total.as_secs_f64() * 1000.0 / f64::from(count),
        tiles as f64 / f64::from(count),
        bytes_out as f64 / 1024.0 / f64::from(count)
    );
    Ok(())
}
