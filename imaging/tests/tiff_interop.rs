//! The pyramid is a standard TIFF: libtiff's `tiffinfo` and libvips read every level of it
//! (Debian packages libtiff-tools and libvips-tools; `.ci/run` installs them).

use std::path::Path;
use std::process::Command;

mod common;
use common::tool_available;

use vitrine_imaging::{Channels, PyramidOptions, Raster, build_pyramid};

fn photo(width: u32, height: u32, channels: Channels) -> Raster {
    let pixels = (0..height)
        .flat_map(|y| {
            (0..width).flat_map(move |x| [(x % 256) as u8, (y % 256) as u8, ((x * y) % 256) as u8])
        })
        .collect();
    let rgb = Raster::new(width, height, Channels::Rgb, pixels).unwrap();
    if channels == Channels::Gray {
        rgb.to_gray()
    } else {
        rgb
    }
}

fn write_pyramid(dir: &Path, channels: Channels) -> (std::path::PathBuf, Vec<(u32, u32)>) {
    let options = PyramidOptions {
        tile_size: 256,
        jpeg_quality: 85,
        thumbnail_sizes: vec![],
    };
    let built = build_pyramid(photo(1100, 700, channels), &options).unwrap();
    let path = dir.join(format!("{channels:?}.tif"));
    std::fs::write(&path, &built.tiff).unwrap();
    (
        path,
        built
            .layout
            .levels
            .iter()
            .map(|level| (level.width, level.height))
            .collect(),
    )
}

#[test]
fn tiffinfo_lists_every_level_without_complaint() {
    if !tool_available("tiffinfo") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for channels in [Channels::Rgb, Channels::Gray] {
        let (path, levels) = write_pyramid(dir.path(), channels);
        let output = Command::new("tiffinfo").arg(&path).output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(output.status.success(), "{text}");
        assert!(!text.to_lowercase().contains("error"), "{text}");
        for (width, height) in levels {
            assert!(
                text.contains(&format!("Image Width: {width} Image Length: {height}")),
                "{width}x{height} in {text}"
            );
        }
        assert!(text.contains("Tile Width: 256 Tile Length: 256"), "{text}");
        assert!(text.contains("Compression Scheme: JPEG"), "{text}");
    }
}

#[test]
fn libvips_decodes_every_level() {
    if !tool_available("vips") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for channels in [Channels::Rgb, Channels::Gray] {
        let (path, levels) = write_pyramid(dir.path(), channels);
        for (page, (width, height)) in levels.iter().enumerate() {
            let out = dir.path().join(format!("{channels:?}-{page}.png"));
            let status = Command::new("vips")
                .arg("copy")
                .arg(format!("{}[page={page}]", path.display()))
                .arg(&out)
                .output()
                .unwrap();
            assert!(
                status.status.success(),
                "{}",
                String::from_utf8_lossy(&status.stderr)
            );
            let decoded = image::open(&out).unwrap();
            assert_eq!((decoded.width(), decoded.height()), (*width, *height));
            if page == 0 && channels == Channels::Rgb {
                // the source's red channel is x % 256: libvips must see the same colours
                let pixel = decoded.to_rgb8().get_pixel(100, 50).0;
                assert!(
                    pixel[0].abs_diff(100) <= 8 && pixel[1].abs_diff(50) <= 8,
                    "{pixel:?}"
                );
            }
        }
    }
}
