//! JPEG 2000 masters (made here with OpenJPEG's `opj_compress`, Debian libopenjp2-tools;
//! `.ci/run` installs it) decode like any other master, tiled or not.

use std::process::Command;

mod common;
use common::tool_available;

use vitrine_imaging::{Channels, decode_master, probe};

#[test]
fn jpeg2000_masters_decode_tiled_and_untiled() {
    if !tool_available("opj_compress") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("source.png");
    let image = image::RgbImage::from_fn(600, 400, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
    });
    image.save(&source).unwrap();
    for (name, extra) in [
        ("plain.jp2", vec![]),
        ("tiled.jp2", vec!["-t", "256,256"]),
        ("stream.j2k", vec![]),
    ] {
        let bytes = compress(&source, dir.path(), name, &extra);
        assert_eq!(probe(&bytes).unwrap(), (600, 400), "{name}");
        let raster =
            decode_master(&bytes, &vitrine_imaging::DecodeLimits::pixels(1_000_000)).unwrap();
        assert_eq!(
            (raster.width, raster.height, raster.channels),
            (600, 400, Channels::Rgb),
            "{name}"
        );
        let at = ((100 * 600 + 200) * 3) as usize;
        assert!(
            raster.pixels[at].abs_diff(200) <= 2 && raster.pixels[at + 1].abs_diff(100) <= 2,
            "{name}"
        );
        assert_eq!(
            decode_master(&bytes, &vitrine_imaging::DecodeLimits::pixels(1000))
                .unwrap_err()
                .kind,
            vitrine_imaging::ErrorKind::TooLarge,
            "{name}"
        );
    }
}

/// `opj_compress` of `source` into `dir/name` with extra arguments.
fn compress(
    source: &std::path::Path,
    dir: &std::path::Path,
    name: &str,
    extra: &[&str],
) -> Vec<u8> {
    let target = dir.join(name);
    let output = Command::new("opj_compress")
        .arg("-i")
        .arg(source)
        .arg("-o")
        .arg(&target)
        .args(extra)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read(&target).unwrap()
}

/// A tiled JPEG 2000 is built a row of its tiles at a time (OpenJPEG decoding only the tiles
/// each band covers), into the pyramid the whole image gives, tile for tile; one of a single
/// tile is decoded whole. One cut short fails as truncated.
#[test]
fn tiled_jpeg2000_masters_are_built_a_row_of_tiles_at_a_time() {
    use vitrine_imaging::{PyramidOptions, build_pyramid, build_pyramid_file, memory_needed};
    if !tool_available("opj_compress") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let rgb = image::RgbImage::from_fn(700, 530, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x * y) % 251) as u8])
    });
    let (rgb_source, grey_source) = (dir.path().join("rgb.png"), dir.path().join("grey.png"));
    rgb.save(&rgb_source).unwrap();
    image::DynamicImage::ImageRgb8(rgb)
        .to_luma8()
        .save(&grey_source)
        .unwrap();
    // wider than two decoded areas (about 2,048 pixels each): a row of tiles in three or more
    let wide_source = dir.path().join("wide.png");
    image::GrayImage::from_fn(4600, 150, |x, y| {
        image::Luma([((x / 3 + y * 7) % 256) as u8])
    })
    .save(&wide_source)
    .unwrap();
    let options = PyramidOptions {
        tile_size: 256,
        jpeg_quality: 80,
        thumbnail_sizes: vec![100, 400],
    };
    let limits = vitrine_imaging::DecodeLimits::pixels(10_000_000);
    let band_estimate = 24 * 1024 * 1024;
    for (name, source, extra) in [
        ("rgb.jp2", &rgb_source, vec!["-t", "256,96"]),
        ("grey.j2k", &grey_source, vec!["-t", "200,128", "-r", "10"]),
        ("single.jp2", &rgb_source, vec![]),
        ("wide.j2k", &wide_source, vec!["-t", "1024,64"]),
    ] {
        let bytes = compress(source, dir.path(), name, &extra);
        // the estimate tells the path taken: bands hold a whole level of up to 16 MP aside
        let streamed = memory_needed(&bytes).unwrap() > band_estimate;
        assert_eq!(streamed, name != "single.jp2", "{name}");
        let (tiff, built) =
            build_pyramid_file(&bytes, &limits, &options, std::io::Cursor::new(Vec::new()))
                .unwrap();
        let tiff = tiff.into_inner();
        let decoded = decode_master(&bytes, &limits).unwrap();
        if !extra.contains(&"-r") {
            // opj_compress is lossless unless given a rate: the decoder's samples come back
            let source = image::open(source).unwrap();
            let expected = if decoded.channels == vitrine_imaging::Channels::Gray {
                source.to_luma8().into_raw()
            } else {
                source.to_rgb8().into_raw()
            };
            assert!(
                decoded.pixels == expected,
                "{name}: pixels differ from the source"
            );
        }
        let whole = build_pyramid(decoded, &options).unwrap();
        assert_eq!(built.layout, whole.layout, "{name}");
        assert_eq!(built.thumbnails, whole.thumbnails, "{name}");
        for (ours, theirs) in built.layout.levels.iter().zip(&whole.layout.levels) {
            for index in 0..ours.offsets.len() {
                let (a, b) = (ours.tile_range(index), theirs.tile_range(index));
                assert_eq!(
                    tiff[a.start as usize..a.end as usize],
                    whole.tiff[b.start as usize..b.end as usize],
                    "{name}: level {}x{}, tile {index}",
                    ours.width,
                    ours.height
                );
            }
        }
        let cut = &bytes[..bytes.len() * 2 / 3];
        let error = build_pyramid_file(cut, &limits, &options, std::io::Cursor::new(Vec::new()))
            .unwrap_err();
        assert_eq!(
            error.kind,
            vitrine_imaging::ErrorKind::Truncated,
            "{name}: {error}"
        );
    }
}
