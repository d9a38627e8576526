//! Input rules shared by every way in (GraphQL, CSV, command line). Each returns the error the
//! caller sees, with the kind the issue tracker promises.

use crate::error::{Error, ErrorKind, Result};

/// Longest asset id, in bytes.
pub const MAX_ID_BYTES: usize = 255;
/// Longest string1-3 value, in characters.
pub const MAX_REFERENCE_CHARS: usize = 1024;
/// Most tags or roles on one asset or space.
pub const MAX_LABELS: usize = 100;
/// Longest tag or role, in characters.
pub const MAX_LABEL_CHARS: usize = 100;

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

fn has_surrounding_whitespace(text: &str) -> bool {
    text.trim() != text
}

/// An asset id: 1 to 255 bytes, no `/`, no control characters, no leading or trailing
/// whitespace (ids appear as one segment of every IIIF URL).
pub fn asset_id(id: &str) -> Result<()> {
    let problem = if id.is_empty() {
        Some("must not be empty")
    } else if id.len() > MAX_ID_BYTES {
        Some("must be at most 255 bytes")
    } else if id.contains('/') {
        Some("must not contain '/'")
    } else if id == "." || id == ".." {
        Some("must not be '.' or '..' (URLs cannot address them)")
    } else if has_control(id) {
        Some("must not contain control characters")
    } else if has_surrounding_whitespace(id) {
        Some("must not start or end with whitespace")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::new(
            ErrorKind::InvalidId,
            format!("asset id {problem}"),
        )),
        None => Ok(()),
    }
}

/// A customer name: the URL segment that addresses the tenant; 1 to 64 characters of `a-z`,
/// `0-9`, `-` and `_`, starting with a letter or digit.
pub fn customer_name(name: &str) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if first_ok && rest_ok && name.len() <= 64 {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::InvalidName,
        "customer name must be 1 to 64 characters of a-z, 0-9, '-' and '_', starting with a letter or digit",
    ))
}

/// A human-readable name (display names, space names): 1 to 255 characters, no control
/// characters, no surrounding whitespace.
pub fn display_text(field: &str, text: &str) -> Result<()> {
    if text.is_empty()
        || text.chars().count() > 255
        || has_control(text)
        || has_surrounding_whitespace(text)
    {
        return Err(Error::new(
            ErrorKind::InvalidName,
            format!(
                "{field} must be 1 to 255 characters without control characters or surrounding whitespace"
            ),
        ));
    }
    Ok(())
}

fn is_token_char(c: char) -> bool {
    // RFC 6838 restricted-name characters
    c.is_ascii_alphanumeric() || "!#$&-^_.+".contains(c)
}

/// A media type `type/subtype` (RFC 6838), without parameters.
pub fn media_type(media_type: &str) -> Result<()> {
    let valid = media_type.split_once('/').is_some_and(|(kind, subtype)| {
        let part_ok = |part: &str| {
            !part.is_empty()
                && part.len() <= 127
                && part.starts_with(|c: char| c.is_ascii_alphanumeric())
                && part.chars().all(is_token_char)
        };
        part_ok(kind) && part_ok(subtype)
    });
    if valid {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::InvalidMediaType,
            format!("media type {media_type:?} is not of the form type/subtype"),
        ))
    }
}

/// The media type of a registration: a valid one, or empty for "read it from the bytes"
/// (the worker records what it finds before processing).
pub fn declared_media_type(media_type: &str) -> Result<()> {
    if media_type.is_empty() {
        return Ok(());
    }
    self::media_type(media_type)
}

/// An origin: an absolute URL whose scheme is http, https, s3 or file.
pub fn origin(origin: &str) -> Result<()> {
    let invalid = |why: &str| Error::new(ErrorKind::InvalidOrigin, format!("origin {why}"));
    if origin.len() > 4096 {
        return Err(invalid("must be at most 4096 bytes"));
    }
    if has_control(origin) || has_surrounding_whitespace(origin) {
        return Err(invalid(
            "must not contain control characters or surrounding whitespace",
        ));
    }
    let parsed = url::Url::parse(origin)
        .map_err(|error| invalid(&format!("is not an absolute URL: {error}")))?;
    match parsed.scheme() {
        "http" | "https" | "s3" if parsed.host_str().is_none_or(str::is_empty) => {
            Err(invalid("must name a host"))
        }
        "http" | "https" | "s3" | "file" => Ok(()),
        "gs" | "az" => Err(invalid(&format!(
            "scheme {:?} is not supported; serve the master over https (with an origin rule for its credentials) or from s3:// with an S3 origin rule",
            parsed.scheme()
        ))),
        other => Err(invalid(&format!(
            "scheme {other:?} is not one of http, https, s3, file"
        ))),
    }
}

/// Whether a lookup value can name a stored record at all. PostgreSQL refuses NUL in text, so
/// such values are answered as "no match" before they reach the database.
pub fn storable(text: &str) -> bool {
    !text.contains('\0')
}

/// A free reference value (string1-3).
pub fn reference(field: &str, value: &str) -> Result<()> {
    if value.chars().count() > MAX_REFERENCE_CHARS || has_control(value) {
        return Err(Error::invalid_input(format!(
            "{field} must be at most {MAX_REFERENCE_CHARS} characters without control characters"
        )));
    }
    Ok(())
}

/// Tags or roles: at most 100, each 1 to 100 characters without control characters,
/// surrounding whitespace, `,` or `;` (the CSV list separators). Returns them deduplicated in
/// first-seen order.
pub fn labels(field: &str, labels: &[String]) -> Result<Vec<String>> {
    if labels.len() > MAX_LABELS {
        return Err(Error::invalid_input(format!(
            "{field} may hold at most {MAX_LABELS} values"
        )));
    }
    let mut unique: Vec<String> = Vec::with_capacity(labels.len());
    for label in labels {
        let bad = label.is_empty()
            || label.chars().count() > MAX_LABEL_CHARS
            || has_control(label)
            || has_surrounding_whitespace(label)
            || label.contains([',', ';']);
        if bad {
            return Err(Error::invalid_input(format!(
                "{field} value {label:?} must be 1 to {MAX_LABEL_CHARS} characters without control characters, surrounding whitespace, ',' or ';'"
            )));
        }
        if !unique.contains(label) {
            unique.push(label.clone());
        }
    }
    Ok(unique)
}

/// maxUnauthorised: -1 (all open), 0 (nothing open) or a longest-edge size in pixels.
pub fn max_unauthorised(value: i32) -> Result<()> {
    if value < -1 {
        return Err(Error::invalid_input(
            "maxUnauthorised must be -1, 0 or a positive size",
        ));
    }
    Ok(())
}

/// Thumbnail sizes: 1 to 10 longest-edge sizes from 16 to 4096 px; returned sorted, unique.
pub fn thumbnail_sizes(sizes: &[i32]) -> Result<Vec<i32>> {
    if sizes.is_empty() || sizes.len() > 10 || sizes.iter().any(|size| !(16..=4096).contains(size))
    {
        return Err(Error::invalid_input(
            "thumbnailSizes must list 1 to 10 sizes from 16 to 4096",
        ));
    }
    let mut sorted = sizes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    Ok(sorted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind<T: std::fmt::Debug>(result: Result<T>) -> ErrorKind {
        result.unwrap_err().kind
    }

    #[test]
    fn accepts_ordinary_asset_ids() {
        for id in ["page-001", "a", "Ünïcode id", "x.tif", &"a".repeat(255)] {
            asset_id(id).unwrap();
        }
    }

    #[test]
    fn rejects_bad_asset_ids() {
        for id in [
            "",
            "a/b",
            " lead",
            "trail ",
            "tab\tid",
            "nl\n",
            "\u{7f}",
            &"a".repeat(256),
        ] {
            assert_eq!(kind(asset_id(id)), ErrorKind::InvalidId, "{id:?}");
        }
        // 128 two-byte characters are 256 bytes
        assert_eq!(kind(asset_id(&"é".repeat(128))), ErrorKind::InvalidId);
    }

    #[test]
    fn checks_customer_names() {
        customer_name("acme").unwrap();
        customer_name("9-lives_museum").unwrap();
        for name in ["", "-lead", "Upper", "has space", "a/b", &"a".repeat(65)] {
            assert_eq!(
                kind(customer_name(name)),
                ErrorKind::InvalidName,
                "{name:?}"
            );
        }
    }

    #[test]
    fn checks_media_types() {
        for good in [
            "image/jpeg",
            "application/vnd.ms-excel",
            "audio/mp4",
            "image/svg+xml",
        ] {
            media_type(good).unwrap();
        }
        for bad in [
            "",
            "jpeg",
            "image/",
            "/jpeg",
            "image/jpeg; q=1",
            "image/jp eg",
            "a/b/c",
        ] {
            assert_eq!(
                kind(media_type(bad)),
                ErrorKind::InvalidMediaType,
                "{bad:?}"
            );
        }
    }

    #[test]
    fn checks_origins() {
        for good in [
            "https://example.org/a.jpg",
            "http://h/x",
            "s3://bucket/key",
            "file:///data/a.tif",
        ] {
            origin(good).unwrap();
        }
        for bad in [
            "",
            "relative/path.jpg",
            "ftp://host/x",
            "https://",
            "javascript:alert(1)",
            "s3:///nokey",
        ] {
            assert_eq!(kind(origin(bad)), ErrorKind::InvalidOrigin, "{bad:?}");
        }
    }

    #[test]
    fn labels_are_checked_and_deduplicated() {
        let owned = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
        assert_eq!(
            labels("tags", &owned(&["a", "b", "a"])).unwrap(),
            owned(&["a", "b"])
        );
        for bad in ["", " a", "a;b", "a,b", "\n"] {
            assert_eq!(
                kind(labels("tags", &owned(&[bad]))),
                ErrorKind::InvalidInput,
                "{bad:?}"
            );
        }
        assert!(labels("tags", &vec!["x".to_string(); 101]).is_err());
    }

    #[test]
    fn checks_max_unauthorised_and_thumbnail_sizes() {
        max_unauthorised(-1).unwrap();
        max_unauthorised(0).unwrap();
        assert!(max_unauthorised(-2).is_err());
        assert_eq!(thumbnail_sizes(&[400, 100, 100]).unwrap(), vec![100, 400]);
        assert!(thumbnail_sizes(&[]).is_err());
        assert!(thumbnail_sizes(&[8]).is_err());
    }
}
