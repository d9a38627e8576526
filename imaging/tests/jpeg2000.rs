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
        let target = dir.path().join(name);
        let status = Command::new("opj_compress")
            .arg("-i")
            .arg(&source)
            .arg("-o")
            .arg(&target)
            .args(&extra)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let bytes = std::fs::read(&target).unwrap();
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
