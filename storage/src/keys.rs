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

/// The version of one processing's derivatives: its job and attempt (which order versions:
/// a later job's are newer), and a random part so two writers never share a key.
pub fn derivative_version(job: i64, attempt: i32, nonce: u32) -> String {
    format!("v{job}-{attempt}-{nonce:08x}")
}

/// The order of a version made by [`derivative_version`]: (job, attempt).
pub fn version_order(version: &str) -> Option<(i64, i32)> {
    let mut parts = version.strip_prefix('v')?.split('-');
    let job = parts.next()?.parse().ok()?;
    let attempt = parts.next()?.parse().ok()?;
    Some((job, attempt))
}

/// `-{version}` when there is one: derivatives stored before versions have none.
fn version_suffix(version: Option<&str>) -> String {
    version
        .map(|version| format!("-{version}"))
        .unwrap_or_default()
}

/// The tiled pyramidal TIFF of an image, as processing `version` stored it.
pub fn pyramid(customer_id: i32, space: i32, asset_id: &str, version: Option<&str>) -> String {
    format!(
        "{}/pyramid{}.tif",
        asset_prefix(customer_id, space, asset_id),
        version_suffix(version)
    )
}

/// A stored thumbnail of an image, as processing `version` stored it.
pub fn thumbnail(
    customer_id: i32,
    space: i32,
    asset_id: &str,
    version: Option<&str>,
    (width, height): (u32, u32),
) -> String {
    format!(
        "{}/thumb-{width}x{height}{}.jpg",
        asset_prefix(customer_id, space, asset_id),
        version_suffix(version)
    )
}

/// What an object under an asset's prefix is, from its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredObject<'a> {
    /// The master (uploaded, or fetched for audio and video).
    Master,
    /// A pyramid or thumbnail, of a version or (stored before versions) of none.
    Derivative(Option<&'a str>),
    /// Anything else.
    Other,
}

/// Splits a key into its asset prefix and what the object is; `None` for a key outside any
/// asset's prefix.
pub fn classify(key: &str) -> Option<(&str, StoredObject<'_>)> {
    let (prefix, name) = key.rsplit_once('/')?;
    if prefix.split('/').count() != 3 {
        return None;
    }
    // what follows a derivative's stem: "" or "-{version}"
    let suffix = name
        .strip_suffix(".tif")
        .and_then(|stem| stem.strip_prefix("pyramid"))
        .or_else(|| {
            let size_and_version = name.strip_suffix(".jpg")?.strip_prefix("thumb-")?;
            Some(
                size_and_version
                    .find('-')
                    .map_or("", |at| &size_and_version[at..]),
            )
        });
    let object = match suffix {
        _ if name == "master" => StoredObject::Master,
        Some("") => StoredObject::Derivative(None),
        Some(suffix) => suffix
            .strip_prefix('-')
            .map_or(StoredObject::Other, |version| {
                StoredObject::Derivative(Some(version))
            }),
        None => StoredObject::Other,
    };
    Some((prefix, object))
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
            pyramid(3, 1, "page-001.tif", None),
            "3/1/i.page-001.tif/pyramid.tif"
        );
        let odd = asset_prefix(3, 1, "page 1/ü?");
        assert!(
            odd.starts_with("3/1/h.") && odd.len() == "3/1/h.".len() + 64,
            "{odd}"
        );
        assert_ne!(asset_prefix(3, 1, ".hidden"), "3/1/i..hidden");
        assert_eq!(
            thumbnail(1, 2, "a", None, (100, 75)),
            "1/2/i.a/thumb-100x75.jpg"
        );
        // distinct ids never share a prefix
        assert_ne!(asset_prefix(1, 1, "A"), asset_prefix(1, 1, "a"));
    }

    #[test]
    fn versions_are_in_keys_and_read_back() {
        let version = derivative_version(12, 3, 0xbeef);
        assert_eq!(version, "v12-3-0000beef");
        assert_eq!(version_order(&version), Some((12, 3)));
        assert_eq!(version_order("pyramid"), None);
        let pyramid = pyramid(1, 2, "a", Some(&version));
        assert_eq!(pyramid, "1/2/i.a/pyramid-v12-3-0000beef.tif");
        let thumb = thumbnail(1, 2, "a", Some(&version), (100, 75));
        assert_eq!(thumb, "1/2/i.a/thumb-100x75-v12-3-0000beef.jpg");
        for key in [pyramid.as_str(), thumb.as_str()] {
            assert_eq!(
                classify(key),
                Some(("1/2/i.a", StoredObject::Derivative(Some(version.as_str()))))
            );
        }
        assert_eq!(
            classify("1/2/i.a/pyramid.tif"),
            Some(("1/2/i.a", StoredObject::Derivative(None)))
        );
        assert_eq!(
            classify("1/2/i.a/thumb-100x75.jpg"),
            Some(("1/2/i.a", StoredObject::Derivative(None)))
        );
        assert_eq!(
            classify("1/2/i.a/master"),
            Some(("1/2/i.a", StoredObject::Master))
        );
        assert_eq!(
            classify("1/2/i.a/notes.txt"),
            Some(("1/2/i.a", StoredObject::Other))
        );
        assert_eq!(classify("1/2/master"), None);
    }
}
