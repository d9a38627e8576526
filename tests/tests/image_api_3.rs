//! Image API 3.0 conformance beyond the official validator, in the order of the spec's
//! sections: URIs, region, size, rotation, quality, format, canonical form, info.json, HTTP
//! behaviour; then the render path (stored bytes served as they are) and caching.

use serde_json::Value;
use vitrine_tests::images::{ImageFixture, grid_colour, grid_png};
use vitrine_tests::{Auth, TestApp};

const W: u32 = 1000;
const H: u32 = 700;

fn size(image: &image::DynamicImage) -> (u32, u32) {
    (image.width(), image.height())
}

/// §2.2: "the base URI SHOULD result in a 303 redirect to the image information document".
#[tokio::test]
async fn base_uri_redirects_to_info_json() {
    let fixture = ImageFixture::start(W, H).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(fixture.app.url("/iiif/3/acme/1/grid"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"].to_str().unwrap();
    assert_eq!(
        location,
        format!("{}/iiif/3/acme/1/grid/info.json", fixture.app.base_url)
    );
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
}

/// §2.1 / §9: identifiers arrive percent-encoded; `%2D` is `-`.
#[tokio::test]
async fn percent_encoded_identifiers_are_decoded() {
    let fixture = ImageFixture::start(W, H).await;
    fixture
        .app
        .register_image(&fixture.acme, "acme", 1, "page-1 b", &grid_png(100, 100))
        .await;
    let response = fixture
        .app
        .get("/iiif/3/acme/1/page%2D1%20b/info.json")
        .await;
    assert_eq!(response.status(), 200);
    let info: Value = response.json().await.unwrap();
    assert_eq!(
        info["id"],
        format!("{}/iiif/3/acme/1/page-1%20b", fixture.app.base_url)
    );
}

/// §4.1 Region: full, square, pixels, percent; cropped at the edge; empty or outside is 400.
#[tokio::test]
async fn regions() {
    let fixture = ImageFixture::start(W, H).await;
    assert_eq!(
        size(&fixture.image(3, "full/max/0/default.png").await),
        (W, H)
    );
    assert_eq!(
        size(&fixture.image(3, "square/max/0/default.png").await),
        (H, H)
    );
    assert_eq!(
        size(&fixture.image(3, "100,50,300,200/max/0/default.png").await),
        (300, 200)
    );
    assert_eq!(
        size(&fixture.image(3, "pct:10,10,50,50/max/0/default.png").await),
        (500, 350)
    );
    // partly outside: cropped, not padded
    assert_eq!(
        size(&fixture.image(3, "900,600,300,300/max/0/default.png").await),
        (100, 100)
    );
    let region = fixture
        .image(3, "200,100,100,100/max/0/default.png")
        .await
        .to_rgb8();
    let expected = grid_colour(W, H, 250, 150);
    let actual = region.get_pixel(50, 50).0;
    assert!(
        actual.iter().zip(expected).all(|(a, e)| a.abs_diff(e) <= 3),
        "{actual:?} vs {expected:?}"
    );
    for bad in [
        "0,0,0,10",
        "1000,0,10,10",
        "0,700,10,10",
        "pct:0,0,0,5",
        "a,b,c,d",
        "1,2,3",
        "-1,0,5,5",
        "pct:x",
    ] {
        assert_eq!(
            fixture.status(3, &format!("{bad}/max/0/default.jpg")).await,
            400,
            "{bad}"
        );
    }
}

/// §4.2 Size: every form, `^` to upscale, 400 for sizes over the region without it and over
/// the limits.
#[tokio::test]
async fn sizes() {
    let fixture = ImageFixture::start(W, H).await;
    let cases = [
        ("full/max/0/default.jpg", (W, H)),
        ("full/500,/0/default.jpg", (500, 350)),
        ("full/,350/0/default.jpg", (500, 350)),
        ("full/pct:25/0/default.jpg", (250, 175)),
        ("full/300,300/0/default.jpg", (300, 300)),
        ("full/!300,300/0/default.jpg", (300, 210)),
        ("full/^1500,/0/default.jpg", (1500, 1050)),
        ("full/^,1400/0/default.jpg", (2000, 1400)),
        ("full/^pct:150/0/default.jpg", (1500, 1050)),
        ("full/^1200,800/0/default.jpg", (1200, 800)),
        ("full/^!2000,2000/0/default.jpg", (2000, 1400)),
    ];
    for (path, expected) in cases {
        assert_eq!(size(&fixture.image(3, path).await), expected, "{path}");
    }
    for bad in [
        "full/1500,/0/default.jpg",
        "full/pct:150/0/default.jpg",
        "full/!2000,3000/0/default.jpg",
        "full/1001,700/0/default.jpg",
        "full/full/0/default.jpg",
        "full/0,/0/default.jpg",
        "full/^20000,/0/default.jpg",
        "full/,^240/0/default.jpg",
        "full/big/0/default.jpg",
    ] {
        assert_eq!(fixture.status(3, bad).await, 400, "{bad}");
    }
}

/// §4.3 Rotation: right angles swap sides; mirroring flips; other angles grow the box and
/// leave transparent corners in PNG; out of range is 400.
#[tokio::test]
async fn rotations() {
    let fixture = ImageFixture::start(W, H).await;
    assert_eq!(
        size(&fixture.image(3, "full/500,/90/default.png").await),
        (350, 500)
    );
    assert_eq!(
        size(&fixture.image(3, "full/500,/180/default.png").await),
        (500, 350)
    );
    let mirrored = fixture.image(3, "full/500,/!0/default.png").await.to_rgb8();
    let expected = grid_colour(W, H, W - 1, 0);
    assert!(
        mirrored
            .get_pixel(5, 5)
            .0
            .iter()
            .zip(expected)
            .all(|(a, e)| a.abs_diff(e) <= 3)
    );
    let rotated = fixture
        .image(3, "full/100,100/45/default.png")
        .await
        .to_rgba8();
    assert_eq!((rotated.width(), rotated.height()), (141, 141));
    assert_eq!(
        rotated.get_pixel(0, 0).0[3],
        0,
        "corners outside the image are transparent"
    );
    for bad in ["-90", "361", "abc", "!!90"] {
        assert_eq!(
            fixture
                .status(3, &format!("full/max/{bad}/default.jpg"))
                .await,
            400,
            "{bad}"
        );
    }
}

/// §4.4 Quality: color, gray, bitonal and default; anything else is 400.
#[tokio::test]
async fn qualities() {
    let fixture = ImageFixture::start(W, H).await;
    let gray = fixture.image(3, "full/200,/0/gray.png").await;
    assert!(!gray.color().has_color(), "gray is single-channel");
    let bitonal = fixture.image(3, "full/200,/0/bitonal.png").await.to_luma8();
    assert!(
        bitonal.pixels().all(|p| p.0[0] == 0 || p.0[0] == 255),
        "bitonal is black and white only"
    );
    fixture.image(3, "full/200,/0/color.jpg").await;
    assert_eq!(fixture.status(3, "full/200,/0/native.jpg").await, 400);
}

/// §4.5 Format: jpg, png, webp, gif, tif with their media types; jp2 and pdf are not offered.
#[tokio::test]
async fn formats() {
    let fixture = ImageFixture::start(W, H).await;
    for (extension, media_type) in [
        ("jpg", "image/jpeg"),
        ("png", "image/png"),
        ("webp", "image/webp"),
        ("gif", "image/gif"),
        ("tif", "image/tiff"),
    ] {
        let response = fixture
            .get(3, &format!("full/120,/0/default.{extension}"))
            .await;
        assert_eq!(response.status(), 200, "{extension}");
        assert_eq!(response.headers()["content-type"], media_type);
        let decoded = image::load_from_memory(&response.bytes().await.unwrap()).unwrap();
        assert_eq!(size(&decoded), (120, 84), "{extension}");
    }
    for bad in ["jp2", "pdf", "bmp", "jpeg"] {
        assert_eq!(
            fixture
                .status(3, &format!("full/max/0/default.{bad}"))
                .await,
            400,
            "{bad}"
        );
    }
}

/// §4.7 Canonical URI: sent as a Link header with the profile, in one header.
#[tokio::test]
async fn canonical_and_profile_link_header() {
    let fixture = ImageFixture::start(W, H).await;
    let response = fixture
        .get(3, "pct:0,0,100,100/!500,500/0.0/color.jpg")
        .await;
    assert_eq!(response.status(), 200);
    let links: Vec<_> = response.headers().get_all("link").iter().collect();
    assert_eq!(links.len(), 1, "one Link header");
    let base = format!("{}/iiif/3/acme/1/grid", fixture.app.base_url);
    assert_eq!(
        links[0].to_str().unwrap(),
        format!(
            "<{base}/full/500,350/0/color.jpg>;rel=\"canonical\",<http://iiif.io/api/image/3/level2.json>;rel=\"profile\""
        )
    );
    let unscaled = fixture.get(3, "square/max/0/default.jpg").await;
    assert!(
        unscaled.headers()["link"]
            .to_str()
            .unwrap()
            .contains("/150,0,700,700/max/0/default.jpg>")
    );
}

/// §5 Image information: required keys, sizes from the thumbnails, tiles from the pyramid,
/// limits, extras; JSON-LD media type by default and plain JSON on request.
#[tokio::test]
async fn info_json() {
    let fixture = ImageFixture::start(W, H).await;
    let response = fixture.get(3, "info.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/ld+json;profile=\"http://iiif.io/api/image/3/context.json\""
    );
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    assert!(
        response.headers()["link"]
            .to_str()
            .unwrap()
            .contains("level2.json>;rel=\"profile\"")
    );
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["@context"], "http://iiif.io/api/image/3/context.json");
    assert_eq!(
        info["id"],
        format!("{}/iiif/3/acme/1/grid", fixture.app.base_url)
    );
    assert_eq!(info["type"], "ImageService3");
    assert_eq!(info["protocol"], "http://iiif.io/api/image");
    assert_eq!(info["profile"], "level2");
    assert_eq!(
        (info["width"].as_u64(), info["height"].as_u64()),
        (Some(1000), Some(700))
    );
    assert_eq!(
        info["sizes"],
        serde_json::json!([{"width": 100, "height": 70}, {"width": 200, "height": 140}, {"width": 400, "height": 280}])
    );
    assert_eq!(
        info["tiles"],
        serde_json::json!([{"width": 256, "height": 256, "scaleFactors": [1, 2, 4]}])
    );
    assert!(info["maxWidth"].as_u64().is_some() && info["maxArea"].as_u64().is_some());
    assert!(
        info["extraFeatures"]
            .as_array()
            .unwrap()
            .contains(&Value::from("sizeUpscaling"))
    );
    // every advertised size is served
    for size in info["sizes"].as_array().unwrap() {
        let (w, h) = (
            size["width"].as_u64().unwrap(),
            size["height"].as_u64().unwrap(),
        );
        assert_eq!(
            fixture
                .status(3, &format!("full/{w},{h}/0/default.jpg"))
                .await,
            200
        );
    }
    let plain = fixture
        .get_with(3, "info.json", &[("accept", "application/json")])
        .await;
    assert_eq!(plain.headers()["content-type"], "application/json");
}

/// §7 HTTP: errors carry CORS too; OPTIONS answers preflights; HEAD answers like GET.
#[tokio::test]
async fn http_methods_and_errors() {
    let fixture = ImageFixture::start(W, H).await;
    let missing = fixture
        .app
        .get("/iiif/3/acme/1/nope/full/max/0/default.jpg")
        .await;
    assert_eq!(missing.status(), 404);
    assert_eq!(missing.headers()["access-control-allow-origin"], "*");
    assert_eq!(missing.json::<Value>().await.unwrap()["code"], "not-found");
    assert_eq!(
        fixture
            .app
            .get("/iiif/3/ghost/1/grid/info.json")
            .await
            .status(),
        404
    );
    assert_eq!(
        fixture
            .app
            .get("/iiif/3/acme/9/grid/info.json")
            .await
            .status(),
        404
    );
    assert_eq!(
        fixture
            .app
            .get("/iiif/3/acme/x/grid/info.json")
            .await
            .status(),
        404
    );

    let preflight = fixture
        .app
        .client
        .request(
            reqwest::Method::OPTIONS,
            fixture.app.url("/iiif/3/acme/1/grid/info.json"),
        )
        .header("origin", "https://viewer.example.org")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");

    let head = fixture
        .app
        .client
        .head(
            fixture
                .app
                .url("/iiif/3/acme/1/grid/full/100,/0/default.jpg"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(head.headers()["content-type"], "image/jpeg");
    assert!(head.bytes().await.unwrap().is_empty());
}

/// §7: assets not READY are 404 with a message saying why.
#[tokio::test]
async fn assets_not_ready_are_404_with_the_reason() {
    let app = TestApp::start().await;
    let acme = app.customer_with_key("acme").await;
    app.create_space(&acme, "acme", "images").await;
    // this server runs no background workers: the asset stays WAITING
    app.graphql(&acme, "mutation { registerAsset(customer: \"acme\", space: 1, input: {id: \"later\", mediaType: \"image/png\", origin: \"https://example.org/x.png\"}) { id } }", serde_json::json!({})).await.data();
    let waiting = app.get("/iiif/3/acme/1/later/info.json").await;
    assert_eq!(waiting.status(), 404);
    assert!(
        waiting.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("still being processed")
    );
    // an origin outside the import roots ends in ERROR, and says so
    let failed = app
        .graphql(&acme, "mutation { registerAsset(customer: \"acme\", space: 1, wait: true, input: {id: \"bad\", mediaType: \"image/png\", origin: \"file:///etc/hostname\"}) { status error } }", serde_json::json!({}))
        .await;
    assert_eq!(failed.data()["registerAsset"]["status"], "ERROR");
    assert!(
        failed.data()["registerAsset"]["error"]
            .as_str()
            .unwrap()
            .contains("origin-forbidden")
    );
    let error = app.get("/iiif/3/acme/1/bad/full/max/0/default.jpg").await;
    assert_eq!(error.status(), 404);
    assert!(
        error.json::<Value>().await.unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("could not be processed")
    );
    // bytes that are no image end in ERROR too: they are not what their media type says
    let origin = app.add_master("not-an-image.png", b"this is text");
    let garbage = app
        .graphql(&acme, "mutation($o: String!) { registerAsset(customer: \"acme\", space: 1, wait: true, input: {id: \"junk\", mediaType: \"image/png\", origin: $o}) { status error } }", serde_json::json!({ "o": origin }))
        .await;
    assert_eq!(garbage.data()["registerAsset"]["status"], "ERROR");
    assert!(
        garbage.data()["registerAsset"]["error"]
            .as_str()
            .unwrap()
            .starts_with("wrong-media-type")
    );
}

/// Render path: a request naming exactly one interior tile, or one stored thumbnail, is
/// answered with the stored bytes.
#[tokio::test]
async fn stored_tiles_and_thumbnails_are_served_byte_for_byte() {
    let fixture = ImageFixture::start(W, H).await;
    let tiff = fixture.app.stored_derivative("1/1/i.grid", "pyramid").await;
    let tile = fixture
        .get(3, "256,256,256,256/256,256/0/default.jpg")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(
        contains(&tiff, &tile),
        "the tile's bytes are the stored tile's"
    );
    let scaled = fixture
        .get(3, "0,0,512,512/256,256/0/default.jpg")
        .await
        .bytes()
        .await
        .unwrap();
    assert!(contains(&tiff, &scaled), "a level-1 tile is stored too");
    let thumbnail = fixture
        .get(3, "full/200,140/0/default.jpg")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(
        &thumbnail[..],
        &fixture
            .app
            .stored_derivative("1/1/i.grid", "thumb-200x140")
            .await[..]
    );
    // the same requests through 2.1 URLs are the same bytes
    assert_eq!(
        fixture
            .get(2, "256,256,256,256/256,/0/default.jpg")
            .await
            .bytes()
            .await
            .unwrap(),
        tile
    );
    // an edge tile is rendered at its own size
    let edge = fixture
        .image(3, "768,512,232,188/232,188/0/default.jpg")
        .await;
    assert_eq!(size(&edge), (232, 188));
}

/// Render path: renders reuse the tiles earlier renders decoded, and answer exactly as a
/// server that decodes every tile again.
#[tokio::test]
async fn renders_from_kept_tiles_match_fresh_renders() {
    let keeping = ImageFixture::start(W, H).await;
    let fresh = ImageFixture::on(
        TestApp::builder()
            .config(|config| config.decoded_tile_cache_bytes = 0)
            .start()
            .await,
        W,
        H,
    )
    .await;
    // overlapping regions at two levels, each render after the first under tiles kept
    let paths = [
        "100,100,600,400/300,/0/default.png",
        "150,120,600,400/300,/0/default.png",
        "0,0,900,650/!200,200/0/default.png",
        "50,60,800,600/150,/90/gray.png",
        "120,90,500,500/500,/0/default.jpg",
    ];
    for path in paths {
        let kept = keeping.get(3, path).await;
        let status = kept.status();
        let kept = kept.bytes().await.unwrap();
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&kept));
        let again = fresh.get(3, path).await;
        assert_eq!(kept, again.bytes().await.unwrap(), "{path}");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.len() > 100
        && haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// Caching: ETag, Last-Modified and Cache-Control on images and info.json; 304 when the
/// client's copy is current.
#[tokio::test]
async fn caching_headers_and_conditional_requests() {
    let fixture = ImageFixture::start(W, H).await;
    for path in ["full/300,/0/default.jpg", "info.json"] {
        let first = fixture.get(3, path).await;
        let etag = first.headers()["etag"].to_str().unwrap().to_owned();
        let modified = first.headers()["last-modified"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            first.headers()["cache-control"]
                .to_str()
                .unwrap()
                .contains("max-age")
        );
        assert!(etag.starts_with('"'));
        let unchanged = fixture.get_with(3, path, &[("if-none-match", &etag)]).await;
        assert_eq!(unchanged.status(), 304, "{path}");
        assert!(unchanged.bytes().await.unwrap().is_empty());
        assert_eq!(
            fixture
                .get_with(3, path, &[("if-modified-since", &modified)])
                .await
                .status(),
            304,
            "{path}"
        );
        assert_eq!(
            fixture
                .get_with(3, path, &[("if-none-match", "\"other\"")])
                .await
                .status(),
            200,
            "{path}"
        );
        assert_eq!(
            fixture
                .get_with(
                    3,
                    path,
                    &[("if-modified-since", "Mon, 01 Jan 2001 00:00:00 GMT")]
                )
                .await
                .status(),
            200,
            "{path}"
        );
    }
    // the same image through another URL form has the same validator
    let a = fixture.get(3, "full/300,/0/default.jpg").await.headers()["etag"].clone();
    let b = fixture
        .get(3, "0,0,1000,700/300,210/0/default.jpg")
        .await
        .headers()["etag"]
        .clone();
    assert_eq!(a, b);
}

/// Masters over the pixel limit are refused before decoding, with IMAGE_TOO_LARGE.
#[tokio::test]
async fn pixel_bombs_are_refused() {
    let app = TestApp::builder().max_image_pixels(500 * 500).start().await;
    let acme = app.customer_with_key("acme").await;
    app.create_space(&acme, "acme", "images").await;
    let refused = app
        .register_image(&acme, "acme", 1, "huge", &grid_png(600, 600))
        .await;
    assert_eq!(refused["status"], "ERROR");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .starts_with("image-too-large"),
        "{refused}"
    );
    let accepted = app
        .register_image(&acme, "acme", 1, "fine", &grid_png(500, 500))
        .await;
    assert_eq!(accepted["status"], "READY");
}

/// 3.0 §5.3 (and 2.1 §5): maxWidth, maxHeight and maxArea bound the image returned, which is
/// the rotated one. A rotation that takes an explicit size over them is a 400, the error any
/// size over the limits gets; `max` shrinks until the rotated image fits.
#[tokio::test]
async fn rotation_does_not_escape_the_size_limits() {
    let app = TestApp::builder()
        .config(|config| {
            config.image_max_width = 1000;
            config.image_max_area = 500_000;
        })
        .start()
        .await;
    let fixture = ImageFixture::on(app, 800, 600).await;
    // unrotated, the whole image is within every limit
    assert_eq!(
        size(&fixture.image(3, "full/max/0/default.png").await),
        (800, 600)
    );
    for (version, path) in [
        (3, "full/^800,600/45/default.tif"),
        (3, "full/800,600/45/default.jpg"),
        (3, "full/800,/!30/default.gif"),
        (2, "full/800,600/45/default.tif"),
        (2, "full/800,/45/default.png"),
    ] {
        let response = fixture.get(version, path).await;
        assert_eq!(response.status(), 400, "/iiif/{version}/{path}");
        let body = response.text().await.unwrap();
        assert!(body.contains("over the server's limits"), "{path}: {body}");
    }
    for (version, path) in [
        (3, "full/max/45/default.png"),
        (2, "full/full/45/default.png"),
        (2, "full/full/!90/default.jpg"),
    ] {
        let (width, height) = size(&fixture.image(version, path).await);
        assert!(
            width <= 1000 && height <= 1000 && width * height <= 500_000,
            "/iiif/{version}/{path}: {width}x{height}"
        );
    }
}

/// A render that passes its deadline (`render_timeout_ms`) is answered 503 with Retry-After
/// and the code render-timeout, in both versions.
#[tokio::test]
async fn renders_past_their_deadline_get_503_with_retry_after() {
    let app = TestApp::builder()
        .config(|config| config.render_timeout_ms = 1)
        .start()
        .await;
    let fixture = ImageFixture::on(app, 1000, 700).await;
    for (version, path) in [
        (3, "full/max/30/default.png"),
        (2, "full/full/60/default.png"),
    ] {
        let response = fixture.get(version, path).await;
        assert_eq!(response.status(), 503, "/iiif/{version}/{path}");
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retry_after >= 1);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["code"], "render-timeout", "{body}");
    }
    // stored tiles and thumbnails need no render
    assert_eq!(
        fixture.status(3, "0,0,256,256/256,256/0/default.jpg").await,
        200
    );
}

/// Heavy renders (large or slow-format outputs) have a pool of their own: while they hold
/// it, an ordinary region request is answered without waiting for them.
#[tokio::test]
async fn heavy_renders_do_not_stall_ordinary_ones() {
    let app = TestApp::builder()
        .config(|config| {
            config.render_threads = 1;
            config.heavy_render_threads = 1;
            config.heavy_render_pixels = 100_000;
        })
        .start()
        .await;
    let fixture = std::sync::Arc::new(ImageFixture::on(app, 1600, 1200).await);
    let started = std::time::Instant::now();
    let heavy: Vec<_> = [10, 20, 30, 40]
        .into_iter()
        .map(|degrees| {
            let fixture = fixture.clone();
            tokio::spawn(async move {
                let status = fixture
                    .status(3, &format!("full/max/{degrees}/default.png"))
                    .await;
                (status, started.elapsed())
            })
        })
        .collect();
    // the heavy renders are under way (or waiting for their pool) before the ordinary one
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let ordinary = fixture.image(3, "100,100,500,400/250,/0/default.jpg").await;
    let ordinary_done = started.elapsed();
    assert_eq!(size(&ordinary), (250, 200));
    let mut last_heavy = std::time::Duration::ZERO;
    for task in heavy {
        let (status, done) = task.await.unwrap();
        assert_eq!(status, 200);
        last_heavy = last_heavy.max(done);
    }
    assert!(
        ordinary_done < last_heavy,
        "the ordinary render took {ordinary_done:?}, the heavy ones were done at {last_heavy:?}"
    );
}

/// Asset.imageService and Asset.thumbnails name URLs that answer.
#[tokio::test]
async fn asset_urls_answer() {
    let app = TestApp::start().await;
    let acme = app.customer_with_key("acme").await;
    app.create_space(&acme, "acme", "images").await;
    let asset = app
        .register_image(&acme, "acme", 1, "page", &grid_png(1200, 800))
        .await;
    assert_eq!(
        asset["imageService"],
        format!("{}/iiif/3/acme/1/page", app.base_url)
    );
    let thumbnails = asset["thumbnails"].as_array().unwrap();
    let sizes: Vec<(u64, u64)> = thumbnails
        .iter()
        .map(|t| (t["width"].as_u64().unwrap(), t["height"].as_u64().unwrap()))
        .collect();
    assert_eq!(sizes, [(100, 67), (200, 133), (400, 267), (1024, 683)]);
    for thumbnail in thumbnails {
        let url = thumbnail["url"].as_str().unwrap();
        let response = app.client.get(url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
    }
    let info = app
        .client
        .get(format!(
            "{}/info.json",
            asset["imageService"].as_str().unwrap()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
}

/// uploadAsset takes the master in a GraphQL multipart request.
#[tokio::test]
async fn uploads_are_processed() {
    let app = TestApp::start().await;
    let Auth::Basic { key, secret } = app.customer_with_key("acme").await else {
        unreachable!()
    };
    app.create_space(&Auth::basic(&key, &secret), "acme", "uploads")
        .await;
    let operations = serde_json::json!({
        "query": "mutation($file: Upload!) { uploadAsset(customer: \"acme\", space: 1, wait: true, input: {id: \"up\", mediaType: \"image/png\"}, file: $file) { status width height origin } }",
        "variables": { "file": null }
    });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", r#"{"0": ["variables.file"]}"#)
        .part(
            "0",
            reqwest::multipart::Part::bytes(grid_png(300, 200))
                .file_name("grid.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let response = app
        .client
        .post(app.url("/graphql"))
        .basic_auth(&key, Some(&secret))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["data"]["uploadAsset"],
        serde_json::json!({ "status": "READY", "width": 300, "height": 200, "origin": null }),
        "{body:#}"
    );
    assert_eq!(
        app.get("/iiif/3/acme/1/up/full/max/0/default.jpg")
            .await
            .status(),
        200
    );
}

/// Whether `id` is a UUID as the server assigns them (hyphenated, lowercase).
fn is_uuid(id: &str) -> bool {
    uuid::Uuid::parse_str(id).is_ok_and(|parsed| parsed.hyphenated().to_string() == id)
}

/// Registering or uploading without an id gets a new unique one (a UUID), as DLCS does.
#[tokio::test]
async fn registrations_without_an_id_get_a_new_one() {
    let app = TestApp::start().await;
    let acme = app.customer_with_key("acme").await;
    let space = app.create_space(&acme, "acme", "uploads").await;
    let Auth::Basic { key, secret } = &acme else {
        unreachable!()
    };
    // a GraphQL multipart request as acme, answered as JSON
    let post_form = |form: reqwest::multipart::Form| async {
        let response = app
            .client
            .post(app.url("/graphql"))
            .basic_auth(key, Some(secret))
            .multipart(form)
            .send()
            .await
            .unwrap();
        response.json::<Value>().await.unwrap()
    };
    // an upload with no id
    let operations = serde_json::json!({
        "query": "mutation($file: Upload!) { uploadAsset(customer: \"acme\", space: 1, wait: true, input: {mediaType: \"image/png\"}, file: $file) { id status } }",
        "variables": { "file": null }
    });
    let form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", r#"{"0": ["variables.file"]}"#)
        .part(
            "0",
            reqwest::multipart::Part::bytes(grid_png(300, 200))
                .file_name("grid.png")
                .mime_str("image/png")
                .unwrap(),
        );
    let body = post_form(form).await;
    let uploaded = &body["data"]["uploadAsset"];
    assert_eq!(uploaded["status"], "READY", "{body:#}");
    let id = uploaded["id"].as_str().unwrap();
    assert!(is_uuid(id), "{id}");
    assert_eq!(
        app.get(&format!("/iiif/3/acme/{space}/{id}/full/max/0/default.jpg"))
            .await
            .status(),
        200
    );
    // several uploads with no ids: each result names its new id
    let inputs = vec![serde_json::json!({ "mediaType": "image/png" }); 2];
    let body = post_form(uploads_form(inputs, 2)).await;
    let results = body["data"]["uploadAssets"].as_array().expect("results");
    let mut ids: Vec<String> = results
        .iter()
        .map(|result| result["id"].as_str().unwrap().to_owned())
        .collect();
    for result in results {
        assert_eq!(result["id"], result["asset"]["id"], "{body:#}");
    }
    // registrations with no id, twice: two new ids
    let origin = app.add_master("page.png", &grid_png(50, 40));
    for _ in 0..2 {
        let registered = app
            .graphql(
                &acme,
                "mutation($s: Int!, $o: String!) { registerAsset(customer: \"acme\", space: $s, input: {mediaType: \"image/png\", origin: $o}) { id } }",
                serde_json::json!({ "s": space, "o": origin }),
            )
            .await;
        ids.push(
            registered.data()["registerAsset"]["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    ids.push(id.to_owned());
    assert!(ids.iter().all(|id| is_uuid(id)), "{ids:?}");
    let distinct: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!(distinct.len(), 5, "every id is new: {ids:?}");
    // an empty id is still an invalid one, not a request for a new id
    let empty = app
        .graphql(
            &acme,
            "mutation($s: Int!, $o: String!) { registerAsset(customer: \"acme\", space: $s, input: {id: \"\", mediaType: \"image/png\", origin: $o}) { id } }",
            serde_json::json!({ "s": space, "o": origin }),
        )
        .await;
    assert_eq!(empty.error_code().as_deref(), Some("INVALID_ID"));
    app.stop().await;
}

/// The multipart form of an `uploadAssets` call with `count` PNG files and the given ids.
fn upload_form(ids: &[&str], count: usize) -> reqwest::multipart::Form {
    let inputs: Vec<_> = ids
        .iter()
        .map(|id| serde_json::json!({ "id": id, "mediaType": "image/png", "number1": 7 }))
        .collect();
    uploads_form(inputs, count)
}

/// The multipart form of an `uploadAssets` call with `count` PNG files and these inputs.
fn uploads_form(inputs: Vec<Value>, count: usize) -> reqwest::multipart::Form {
    let operations = serde_json::json!({
        "query": "mutation($inputs: [AssetInput!]!, $files: [Upload!]!) { uploadAssets(customer: \"acme\", space: 1, wait: true, inputs: $inputs, files: $files) { id code message asset { id status width number1 } } }",
        "variables": { "inputs": inputs, "files": vec![serde_json::Value::Null; count] }
    });
    let map: serde_json::Map<String, serde_json::Value> = (0..count)
        .map(|n| {
            (
                n.to_string(),
                serde_json::json!([format!("variables.files.{n}")]),
            )
        })
        .collect();
    let mut form = reqwest::multipart::Form::new()
        .text("operations", operations.to_string())
        .text("map", serde_json::Value::Object(map).to_string());
    for n in 0..count {
        form = form.part(
            n.to_string(),
            reqwest::multipart::Part::bytes(grid_png(40 + n as u32, 30))
                .file_name(format!("page-{n}.png"))
                .mime_str("image/png")
                .unwrap(),
        );
    }
    form
}

/// uploadAssets takes up to 10 files in one request, with one result per file.
#[tokio::test]
async fn several_files_are_uploaded_in_one_request() {
    let app = TestApp::start().await;
    let Auth::Basic { key, secret } = app.customer_with_key("acme").await else {
        unreachable!()
    };
    app.create_space(&Auth::basic(&key, &secret), "acme", "uploads")
        .await;
    let send = |form| {
        app.client
            .post(app.url("/graphql"))
            .basic_auth(&key, Some(&secret))
            .multipart(form)
            .send()
    };
    let body: Value = send(upload_form(&["a", "b", "c"], 3))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let results = body["data"]["uploadAssets"].as_array().unwrap();
    assert_eq!(results.len(), 3, "{body:#}");
    for (n, result) in results.iter().enumerate() {
        assert_eq!(result["asset"]["status"], "READY", "{body:#}");
        assert_eq!(result["asset"]["width"], 40 + n as u64);
        assert_eq!(result["asset"]["number1"], 7);
    }

    // each file succeeds or fails on its own: "a" exists already
    let body: Value = send(upload_form(&["d", "a"], 2))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let results = &body["data"]["uploadAssets"];
    assert_eq!(results[0]["asset"]["status"], "READY", "{body:#}");
    assert_eq!(results[1]["code"], "CONFLICT", "{body:#}");
    assert!(results[1]["asset"].is_null());

    // eleven files, or inputs that do not pair with the files, record nothing
    let ids: Vec<String> = (0..11).map(|n| format!("x{n}")).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    for form in [upload_form(&ids, 11), upload_form(&["y1", "y2"], 1)] {
        let body: Value = send(form).await.unwrap().json().await.unwrap();
        assert_eq!(
            body["errors"][0]["extensions"]["code"], "INVALID_INPUT",
            "{body:#}"
        );
    }
    let count = app
        .graphql(
            &Auth::basic(&key, &secret),
            "{ space(customer: \"acme\", id: 1) { assets { totalCount } } }",
            serde_json::json!({}),
        )
        .await;
    assert_eq!(count.data()["space"]["assets"]["totalCount"], 4);
    app.stop().await;
}
