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
