//! Test masters and a server holding one READY image, for the Image API suites.

use std::io::Cursor;

use crate::{Auth, TestApp};

/// A `width` x `height` RGB PNG of a 10 x 10 grid of distinct colours (like the IIIF
/// validator's test image), so that positions can be told apart by colour.
pub fn grid_png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        let (column, row) = (x * 10 / width, y * 10 / height);
        image::Rgb([
            (column * 25) as u8,
            (row * 25) as u8,
            200 - ((column + row) * 10) as u8,
        ])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .expect("png");
    bytes
}

/// A JPEG of `width` x `height` pixels of noise (which compresses badly: many bytes to cut).
pub fn noise_jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut seed = 7u32;
    let image = image::RgbImage::from_fn(width, height, |_, _| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let [a, b, c, _] = seed.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg)
        .expect("jpeg");
    bytes
}

/// A decompression bomb: a 16 x 16 JPEG whose frame header claims `width` x `height`.
pub fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image::RgbImage::new(16, 16))
        .write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg)
        .expect("jpeg");
    let mut at = 2;
    while bytes[at + 1] != 0xC0 {
        at += 2 + usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
    }
    bytes[at + 5..at + 7].copy_from_slice(&height.to_be_bytes());
    bytes[at + 7..at + 9].copy_from_slice(&width.to_be_bytes());
    bytes
}

/// A decompression bomb: a 16 x 16 RGB PNG whose header claims `width` x `height` (with the
/// header's checksum made right).
pub fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = grid_png(16, 16);
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = !0u32;
    for byte in &bytes[12..29] {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    bytes[29..33].copy_from_slice(&(!crc).to_be_bytes());
    bytes
}

/// The colour the grid has at (`x`, `y`).
pub fn grid_colour(width: u32, height: u32, x: u32, y: u32) -> [u8; 3] {
    let (column, row) = (x * 10 / width, y * 10 / height);
    [
        (column * 25) as u8,
        (row * 25) as u8,
        200 - ((column + row) * 10) as u8,
    ]
}

/// A server with customer `acme`, space 1, and the READY image `grid` of the given size.
#[derive(Debug)]
pub struct ImageFixture {
    pub app: TestApp,
    pub acme: Auth,
    pub width: u32,
    pub height: u32,
}

impl ImageFixture {
    pub async fn start(width: u32, height: u32) -> Self {
        Self::on(TestApp::start().await, width, height).await
    }

    /// The fixture on a server started by the caller.
    pub async fn on(app: TestApp, width: u32, height: u32) -> Self {
        let acme = app.customer_with_key("acme").await;
        app.create_space(&acme, "acme", "images").await;
        let registered = app
            .register_image(&acme, "acme", 1, "grid", &grid_png(width, height))
            .await;
        assert_eq!(registered["status"], "READY", "{registered:#}");
        Self {
            app,
            acme,
            width,
            height,
        }
    }

    /// GET `/iiif/{version}/acme/1/grid/{rest}`.
    pub async fn get(&self, version: u8, rest: &str) -> reqwest::Response {
        self.app
            .get(&format!("/iiif/{version}/acme/1/grid/{rest}"))
            .await
    }

    /// GET with headers.
    pub async fn get_with(
        &self,
        version: u8,
        rest: &str,
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .app
            .client
            .get(self.app.url(&format!("/iiif/{version}/acme/1/grid/{rest}")));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.send().await.expect("request")
    }

    /// GET an image and decode it, checking the status is 200.
    pub async fn image(&self, version: u8, rest: &str) -> image::DynamicImage {
        let response = self.get(version, rest).await;
        let status = response.status();
        let bytes = response.bytes().await.expect("body");
        assert_eq!(status, 200, "{rest}: {}", String::from_utf8_lossy(&bytes));
        image::load_from_memory(&bytes).unwrap_or_else(|error| panic!("{rest}: {error}"))
    }

    /// The status of a GET.
    pub async fn status(&self, version: u8, rest: &str) -> u16 {
        self.get(version, rest).await.status().as_u16()
    }
}
