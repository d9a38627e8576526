//! Builds the pyramid of one master the way ingest does (decode, tile, thumbnails) and writes
//! the TIFF: the command the ingest benchmark times against `vips tiffsave --tile --pyramid`.
//!
//! cargo run --release -p vitrine-imaging --example build_pyramid -- MASTER OUT.tif [TILE] [QUALITY]
//!
//! `MEMORY_BUDGET=bytes` refuses masters the way ingest's `ingest_memory_budget_bytes` does
//! (unbounded when unset); the estimate is printed, to compare with the peak RSS.
//! The master is read from its file as a large master's own build process reads it (a PNG or
//! TIFF as it is decoded); `MASTER_IN_MEMORY=1` reads the whole file first, as a build in the
//! server's process does.

use std::time::Instant;

use vitrine_imaging::{DecodeLimits, Master, PyramidOptions, build_pyramid_file, memory_needed};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(master), Some(output)) = (args.next(), args.next()) else {
        eprintln!("usage: build_pyramid MASTER OUT.tif [TILE_SIZE] [JPEG_QUALITY]");
        std::process::exit(2);
    };
    let tile_size = args
        .next()
        .map(|value| value.parse())
        .transpose()?
        .unwrap_or(256);
    let jpeg_quality = args
        .next()
        .map(|value| value.parse())
        .transpose()?
        .unwrap_or(85);
    let started = Instant::now();
    let file = std::fs::File::open(&master)?;
    let bytes = match std::env::var("MASTER_IN_MEMORY").as_deref() {
        Ok("1") => Some(std::fs::read(&master)?),
        _ => None,
    };
    let master = match &bytes {
        Some(bytes) => Master::Bytes(bytes),
        None => Master::File(&file),
    };
    let memory_budget = match std::env::var("MEMORY_BUDGET") {
        Ok(value) => value.parse()?,
        Err(_) => u64::MAX,
    };
    eprintln!("estimated peak: {} bytes", memory_needed(master)?);
    let limits = DecodeLimits {
        max_pixels: 4_000_000_000,
        memory_budget,
    };
    let options = PyramidOptions {
        tile_size,
        jpeg_quality,
        thumbnail_sizes: vec![100, 200, 400, 1024],
    };
    let file = std::io::BufWriter::new(std::fs::File::create(&output)?);
    let (_, built) = build_pyramid_file(master, &limits, &options, file)?;
    eprintln!(
        "{}x{}: {} levels, {} bytes, total {:.0} ms",
        built.layout.width,
        built.layout.height,
        built.layout.levels.len(),
        built.bytes,
        started.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
