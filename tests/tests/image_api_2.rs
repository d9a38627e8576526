//! Image API 2.1 conformance beyond the official validator, in the order of the spec's
//! sections: the 2.1 size grammar (`full`, implicit upscaling, no `^`), canonical forms,
//! info.json's 2.1 shape and media types, and the profile link.

use serde_json::Value;
use vitrine_tests::images::ImageFixture;

const W: u32 = 1000;
const H: u32 = 700;

fn size(image: &image::DynamicImage) -> (u32, u32) {
    (image.width(), image.height())
}

/// §4.2 Size: `full` is the unscaled region, `max` too; sizes above the region are served
/// (sizeAboveFull) without any `^`, which 2.1 does not have.
#[tokio::test]
async fn size_grammar_of_2_1() {
    let fixture = ImageFixture::start(W, H).await;
    assert_eq!(
        size(&fixture.image(2, "full/full/0/default.jpg").await),
        (W, H)
    );
    assert_eq!(
        size(&fixture.image(2, "full/max/0/default.jpg").await),
        (W, H)
    );
    assert_eq!(
        size(&fixture.image(2, "full/1500,/0/default.jpg").await),
        (1500, 1050)
    );
    assert_eq!(
        size(&fixture.image(2, "full/pct:150/0/default.jpg").await),
        (1500, 1050)
    );
    assert_eq!(
        size(&fixture.image(2, "full/!2000,2000/0/default.jpg").await),
        (2000, 1400)
    );
    assert_eq!(
        size(&fixture.image(2, "square/100,100/0/default.jpg").await),
        (100, 100)
    );
    for bad in ["^max", "^500,", "full,", "0,", "pct:0"] {
        assert_eq!(
            fixture
                .status(2, &format!("full/{bad}/0/default.jpg"))
                .await,
            400,
            "{bad}"
        );
    }
    assert_eq!(
        fixture.status(2, "full/20000,/0/default.jpg").await,
        400,
        "over the limits"
    );
}

/// §4.7 Canonical form: size `full`, `w,` when the aspect ratio is kept, `w,h` otherwise;
/// the profile is the 2.1 level 2 URI.
#[tokio::test]
async fn canonical_link_headers_of_2_1() {
    let fixture = ImageFixture::start(W, H).await;
    let base = format!("{}/iiif/2/acme/1/grid", fixture.app.base_url);
    let cases = [
        ("full/max/0/default.jpg", "full/full/0/default.jpg"),
        ("full/,350/0/default.jpg", "full/500,/0/default.jpg"),
        ("full/500,100/0/default.jpg", "full/500,100/0/default.jpg"),
        (
            "0,0,500,500/pct:50/!90/gray.png",
            "0,0,500,500/250,/!90/gray.png",
        ),
    ];
    for (request, canonical) in cases {
        let response = fixture.get(2, request).await;
        assert_eq!(response.status(), 200, "{request}");
        assert_eq!(
            response.headers()["link"].to_str().unwrap(),
            format!(
                "<{base}/{canonical}>;rel=\"canonical\",<http://iiif.io/api/image/2/level2.json>;rel=\"profile\""
            ),
            "{request}"
        );
    }
}

/// §5 Information request: `@context` 2, `@id`, the profile array with the level first and
/// the limits inside it; JSON by default, JSON-LD on request.
#[tokio::test]
async fn info_json_of_2_1() {
    let fixture = ImageFixture::start(W, H).await;
    let response = fixture.get(2, "info.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let info: Value = response.json().await.unwrap();
    assert_eq!(info["@context"], "http://iiif.io/api/image/2/context.json");
    assert_eq!(
        info["@id"],
        format!("{}/iiif/2/acme/1/grid", fixture.app.base_url)
    );
    assert_eq!(info["protocol"], "http://iiif.io/api/image");
    assert!(info.get("id").is_none() && info.get("type").is_none());
    assert_eq!(info["profile"][0], "http://iiif.io/api/image/2/level2.json");
    let description = &info["profile"][1];
    assert!(description["maxWidth"].as_u64().is_some());
    assert!(
        description["qualities"]
            .as_array()
            .unwrap()
            .contains(&Value::from("bitonal"))
    );
    assert!(
        description["formats"]
            .as_array()
            .unwrap()
            .contains(&Value::from("webp"))
    );
    assert!(
        description["supports"]
            .as_array()
            .unwrap()
            .contains(&Value::from("sizeAboveFull"))
    );
    assert_eq!(
        info["tiles"][0]["scaleFactors"],
        serde_json::json!([1, 2, 4])
    );
    assert_eq!(info["sizes"].as_array().unwrap().len(), 3);
    // sizes are requested as `w,` in 2.1: served from the stored thumbnails
    for size in info["sizes"].as_array().unwrap() {
        let width = size["width"].as_u64().unwrap();
        assert_eq!(
            fixture
                .status(2, &format!("full/{width},/0/default.jpg"))
                .await,
            200
        );
    }
    let ld = fixture
        .get_with(2, "info.json", &[("accept", "application/ld+json")])
        .await;
    assert!(
        ld.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/ld+json")
    );
}

/// §2 Base URI: redirects to the 2.1 info.json.
#[tokio::test]
async fn base_uri_redirects_within_2_1() {
    let fixture = ImageFixture::start(W, H).await;
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let response = client
        .get(fixture.app.url("/iiif/2/acme/1/grid"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .ends_with("/iiif/2/acme/1/grid/info.json")
    );
}
