//! The image information document (info.json) of both versions, from one description.

use serde_json::{Value, json};

use super::ApiVersion;
use super::quality::Format;
use super::request::Limits;

/// A tile size and the scale factors it is offered at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TileSpec {
    pub width: u32,
    pub height: u32,
    pub scale_factors: Vec<u32>,
}

/// What a server says about one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageInfo {
    /// The service's base URI (no trailing slash).
    pub id: String,
    pub width: u32,
    pub height: u32,
    /// Sizes of the full image that are served at once (stored thumbnails), smallest first.
    pub sizes: Vec<(u32, u32)>,
    pub tiles: Vec<TileSpec>,
    pub limits: Limits,
    /// Whether the image has colour; a grey image does not advertise the `color` quality.
    pub has_color: bool,
    /// Extra `service` entries (auth services), as JSON.
    pub services: Vec<Value>,
}

/// 3.0 features this server offers beyond level 2.
const EXTRA_FEATURES_3: &[&str] = &[
    "canonicalLinkHeader",
    "mirroring",
    "profileLinkHeader",
    "rotationArbitrary",
    "sizeUpscaling",
];

/// 2.1 `supports` values of this server (level 2 and beyond).
const SUPPORTS_2: &[&str] = &[
    "baseUriRedirect",
    "canonicalLinkHeader",
    "cors",
    "jsonldMediaType",
    "mirroring",
    "profileLinkHeader",
    "regionByPct",
    "regionByPx",
    "regionSquare",
    "rotationArbitrary",
    "rotationBy90s",
    "sizeAboveFull",
    "sizeByConfinedWh",
    "sizeByDistortedWh",
    "sizeByH",
    "sizeByPct",
    "sizeByW",
    "sizeByWh",
];

fn qualities(info: &ImageInfo) -> Vec<&'static str> {
    let mut qualities = Vec::with_capacity(3);
    if info.has_color {
        qualities.push("color");
    }
    qualities.extend(["gray", "bitonal"]);
    qualities
}

fn insert_limits(object: &mut serde_json::Map<String, Value>, limits: &Limits) {
    if let Some(max) = limits.max_width {
        object.insert("maxWidth".into(), json!(max));
    }
    if let Some(max) = limits.max_height {
        object.insert("maxHeight".into(), json!(max));
    }
    if let Some(max) = limits.max_area {
        object.insert("maxArea".into(), json!(max));
    }
}

/// `sizes` and `tiles`, the same in both versions; left out when empty.
fn insert_sizes_and_tiles(object: &mut serde_json::Map<String, Value>, info: &ImageInfo) {
    if !info.sizes.is_empty() {
        let sizes = info
            .sizes
            .iter()
            .map(|(w, h)| json!({ "width": w, "height": h }))
            .collect();
        object.insert("sizes".into(), Value::Array(sizes));
    }
    if !info.tiles.is_empty() {
        let tiles = info
            .tiles
            .iter()
            .map(|tile| json!({ "width": tile.width, "height": tile.height, "scaleFactors": tile.scale_factors }))
            .collect();
        object.insert("tiles".into(), Value::Array(tiles));
    }
}

/// info.json for Image API 3.0.
pub fn info_v3(info: &ImageInfo) -> Value {
    let extra_formats: Vec<&str> = Format::ALL
        .iter()
        .map(|format| format.extension())
        .filter(|ext| !matches!(*ext, "jpg" | "png"))
        .collect();
    let mut document = json!({
        "@context": ApiVersion::V3.context(),
        "id": info.id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": "level2",
        "width": info.width,
        "height": info.height,
    });
    let object = document.as_object_mut().expect("a JSON object");
    insert_limits(object, &info.limits);
    insert_sizes_and_tiles(object, info);
    object.insert("preferredFormats".into(), json!(["jpg"]));
    object.insert("extraFormats".into(), json!(extra_formats));
    object.insert("extraQualities".into(), json!(qualities(info)));
    object.insert("extraFeatures".into(), json!(EXTRA_FEATURES_3));
    if !info.services.is_empty() {
        object.insert("service".into(), Value::Array(info.services.clone()));
    }
    document
}

/// info.json for Image API 2.1.
pub fn info_v2(info: &ImageInfo) -> Value {
    let mut description = serde_json::Map::new();
    description.insert(
        "formats".into(),
        json!(
            Format::ALL
                .iter()
                .map(|f| f.extension())
                .collect::<Vec<_>>()
        ),
    );
    let mut all_qualities = vec!["default"];
    all_qualities.extend(qualities(info));
    description.insert("qualities".into(), json!(all_qualities));
    description.insert("supports".into(), json!(SUPPORTS_2));
    insert_limits(&mut description, &info.limits);
    let mut document = json!({
        "@context": ApiVersion::V2.context(),
        "@id": info.id,
        "protocol": "http://iiif.io/api/image",
        "width": info.width,
        "height": info.height,
        "profile": [ApiVersion::V2.level2_profile(), Value::Object(description)],
    });
    let object = document.as_object_mut().expect("a JSON object");
    insert_sizes_and_tiles(object, info);
    if !info.services.is_empty() {
        object.insert("service".into(), Value::Array(info.services.clone()));
    }
    document
}

/// Turns an info.json into its degraded variant's: compliance level 0, so clients ask only
/// for the listed `sizes` (the `maxWidth`/`maxHeight` of its limits bound them); level 0 needs
/// no tiles, and a degraded service has none.
pub fn make_level0(document: &mut Value) {
    let Some(object) = document.as_object_mut() else {
        return;
    };
    object.remove("tiles");
    if object.contains_key("type") {
        object.insert("profile".into(), json!("level0"));
        object.remove("extraFeatures");
    } else if let Some(Value::Array(profile)) = object.get_mut("profile") {
        if let Some(first) = profile.first_mut() {
            *first = json!(ApiVersion::V2.level0_profile());
        }
        if let Some(Value::Object(description)) = profile.get_mut(1) {
            description.remove("supports");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ImageInfo {
        ImageInfo {
            id: "https://example.org/iiif/3/acme/1/page".into(),
            width: 4000,
            height: 3000,
            sizes: vec![(100, 75), (400, 300)],
            tiles: vec![TileSpec {
                width: 512,
                height: 512,
                scale_factors: vec![1, 2, 4, 8],
            }],
            limits: Limits {
                max_width: Some(10_000),
                max_height: Some(10_000),
                max_area: None,
                upscaling: true,
            },
            has_color: true,
            services: vec![],
        }
    }

    /// 3.0 §5: the required keys, with the context first.
    #[test]
    fn version_3_document() {
        let document = info_v3(&sample());
        assert_eq!(
            document.as_object().unwrap().keys().next().unwrap(),
            "@context"
        );
        assert_eq!(document["type"], "ImageService3");
        assert_eq!(document["protocol"], "http://iiif.io/api/image");
        assert_eq!(document["profile"], "level2");
        assert_eq!(document["id"], "https://example.org/iiif/3/acme/1/page");
        assert_eq!(document["sizes"][1], json!({ "width": 400, "height": 300 }));
        assert_eq!(document["tiles"][0]["scaleFactors"], json!([1, 2, 4, 8]));
        assert_eq!(document["maxWidth"], 10_000);
        assert_eq!(document["extraFormats"], json!(["webp", "gif", "tif"]));
        assert!(
            document["extraFeatures"]
                .as_array()
                .unwrap()
                .contains(&json!("sizeUpscaling"))
        );
    }

    /// 3.0 §5.4: servers with sizeUpscaling must declare maxWidth or maxArea.
    #[test]
    fn upscaling_servers_declare_a_limit() {
        let document = info_v3(&sample());
        assert!(document.get("maxWidth").is_some() || document.get("maxArea").is_some());
    }

    #[test]
    fn grey_images_do_not_offer_color() {
        let grey = ImageInfo {
            has_color: false,
            ..sample()
        };
        assert_eq!(info_v3(&grey)["extraQualities"], json!(["gray", "bitonal"]));
        assert_eq!(
            info_v2(&grey)["profile"][1]["qualities"],
            json!(["default", "gray", "bitonal"])
        );
    }

    /// 2.1 §5: `@id`, a profile array with the compliance URI first and limits inside.
    #[test]
    fn version_2_document() {
        let document = info_v2(&sample());
        assert_eq!(
            document["@context"],
            "http://iiif.io/api/image/2/context.json"
        );
        assert_eq!(document["@id"], "https://example.org/iiif/3/acme/1/page");
        assert_eq!(
            document["profile"][0],
            "http://iiif.io/api/image/2/level2.json"
        );
        assert_eq!(document["profile"][1]["maxWidth"], 10_000);
        assert!(document.get("maxWidth").is_none());
        assert!(
            document["profile"][1]["supports"]
                .as_array()
                .unwrap()
                .contains(&json!("sizeAboveFull"))
        );
    }
}
