//! Where an asset's objects live: `{customer number}/{space}/{asset segment}/...`.
//!
//! Asset ids are the user's and may hold any character but `/`; a segment must be safe as a
//! file name on every backend, so ids of plain characters are kept readable (`i.{id}`) and any
//! other is replaced by its SHA-256 (`h.{hex}`).

use sha2::{Digest, Sha256};

/// Longest id kept readable in a key (file names stop at 255 bytes).
const MAX_READABLE_ID: usize = 128;

fn id_segment(id: &str) -> String {
    let readable = id.len() <= MAX_READABLE_ID
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if readable {
        return format!("i.{id}");
    }
    let digest = Sha256::digest(id.as_bytes());
    let hex: String = digest.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("h.{hex}")
}

/// The prefix under which every object of an asset is stored.
pub fn asset_prefix(customer_id: i32, space: i32, asset_id: &str) -> String {
    format!("{customer_id}/{space}/{}", id_segment(asset_id))
}

/// The tiled pyramidal TIFF of an image.
pub fn pyramid(customer_id: i32, space: i32, asset_id: &str) -> String {
    format!("{}/pyramid.tif", asset_prefix(customer_id, space, asset_id))
}

/// A stored thumbnail of an image.
pub fn thumbnail(customer_id: i32, space: i32, asset_id: &str, width: u32, height: u32) -> String {
    format!(
        "{}/thumb-{width}x{height}.jpg",
        asset_prefix(customer_id, space, asset_id)
    )
}

/// The master as uploaded (uploads have no origin to fetch again).
pub fn master(customer_id: i32, space: i32, asset_id: &str) -> String {
    format!("{}/master", asset_prefix(customer_id, space, asset_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ids_stay_readable_and_others_are_hashed() {
        assert_eq!(
            pyramid(3, 1, "page-001.tif"),
            "3/1/i.page-001.tif/pyramid.tif"
        );
        let odd = asset_prefix(3, 1, "page 1/ü?");
        assert!(
            odd.starts_with("3/1/h.") && odd.len() == "3/1/h.".len() + 64,
            "{odd}"
        );
        assert_ne!(asset_prefix(3, 1, ".hidden"), "3/1/i..hidden");
        assert_eq!(thumbnail(1, 2, "a", 100, 75), "1/2/i.a/thumb-100x75.jpg");
        // distinct ids never share a prefix
        assert_ne!(asset_prefix(1, 1, "A"), asset_prefix(1, 1, "a"));
    }
}
