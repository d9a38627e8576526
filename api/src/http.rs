//! What every REST surface shares: CORS for the public routes, error responses, preflight,
//! caching validators and conditional requests, JSON-LD media types and path parsing.

use chrono::{DateTime, Utc};
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::{IntoResponse, Response, handler};
use sha2::{Digest, Sha256};

use crate::error::RestError;

/// Images: shared caches may keep them a day.
pub(crate) const IMAGE_CACHE_CONTROL: &str = "public, max-age=86400";
/// Descriptions (info.json, manifests): an hour.
pub(crate) const INFO_CACHE_CONTROL: &str = "public, max-age=3600";
/// Restricted images and descriptions: the visitor's browser may keep them, shared caches not.
pub(crate) const RESTRICTED_CACHE_CONTROL: &str = "private, max-age=300";

/// Every IIIF response carries `Access-Control-Allow-Origin: *`, errors included.
pub(crate) fn with_cors(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

/// A public (IIIF) route's error: the JSON body, with CORS.
pub(crate) fn error_response(error: RestError) -> Response {
    with_cors(error.into_response())
}

/// A space number in a path; anything else names no space.
pub(crate) fn parse_space(space: &str) -> Result<i32, RestError> {
    space
        .parse::<i32>()
        .map_err(|_| RestError::new("not-found", format!("no space {space:?}")))
}

/// CORS preflight and plain OPTIONS.
#[handler]
pub(crate) async fn preflight(headers: &HeaderMap) -> Response {
    let mut response = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::ALLOW, "GET, HEAD, OPTIONS")
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, HEAD, OPTIONS")
        .header(header::ACCESS_CONTROL_MAX_AGE, "86400")
        .finish();
    let requested = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    let allowed = requested.unwrap_or_else(|| HeaderValue::from_static("authorization"));
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allowed);
    with_cors(response)
}

/// A strong validator for a response: the derivatives' version and what was asked of them.
pub(crate) fn etag(stamp: &str, what: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digest = Sha256::new()
        .chain_update(stamp)
        .chain_update("|")
        .chain_update(what)
        .finalize();
    let mut tag = String::with_capacity(26);
    tag.push('"');
    for byte in &digest[..12] {
        tag.push(char::from(HEX[usize::from(byte >> 4)]));
        tag.push(char::from(HEX[usize::from(byte & 15)]));
    }
    tag.push('"');
    tag
}

/// Whether the client's copy is current (If-None-Match wins over If-Modified-Since).
pub(crate) fn not_modified(
    headers: &HeaderMap,
    etag: &str,
    modified: Option<DateTime<Utc>>,
) -> bool {
    if let Some(candidates) = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
    {
        return candidates.split(',').map(str::trim).any(|candidate| {
            candidate == "*" || candidate == etag || candidate.strip_prefix("W/") == Some(etag)
        });
    }
    let since = headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| httpdate::parse_http_date(value).ok());
    match (since, modified) {
        (Some(since), Some(modified)) => {
            let modified_seconds = modified.timestamp();
            let since_seconds = since
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            modified_seconds <= since_seconds
        }
        _ => false,
    }
}

pub(crate) fn validators(
    response: poem::ResponseBuilder,
    etag: &str,
    modified: Option<DateTime<Utc>>,
    cache_control: &str,
) -> poem::ResponseBuilder {
    let mut response = response
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, cache_control);
    if let Some(modified) = modified {
        let system_time = std::time::UNIX_EPOCH
            + std::time::Duration::from_secs(modified.timestamp().max(0) as u64);
        response = response.header(header::LAST_MODIFIED, httpdate::fmt_http_date(system_time));
    }
    response
}

/// A 304 with the validators the full response would carry.
pub(crate) fn unchanged(
    etag: &str,
    modified: Option<DateTime<Utc>>,
    cache_control: &str,
) -> poem::ResponseBuilder {
    validators(
        Response::builder().status(StatusCode::NOT_MODIFIED),
        etag,
        modified,
        cache_control,
    )
}

/// A JSON-LD document's media type: `application/ld+json` with the context as profile, or
/// plain `application/json`. `ld_by_default` says which one a client that asks for neither
/// gets (3.0 documents: JSON-LD; 2.1 documents: plain JSON).
pub(crate) fn json_media_type(context: &str, ld_by_default: bool, headers: &HeaderMap) -> String {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("");
    let wants_ld = accept.contains("application/ld+json");
    let wants_json = accept
        .split(',')
        .any(|part| part.trim().starts_with("application/json"));
    let ld = if ld_by_default {
        wants_ld || !wants_json
    } else {
        wants_ld
    };
    if ld {
        format!("application/ld+json;profile=\"{context}\"")
    } else {
        "application/json".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_the_first_twelve_bytes_of_the_sha256_of_stamp_and_request_in_hex() {
        // pinned: a changed tag would make every client's cached copy look stale
        assert_eq!(
            etag("1733600000000000", "full/max/0/default.jpg"),
            "\"df91e798280891167e3beabf\""
        );
        assert_ne!(
            etag("1733600000000001", "full/max/0/default.jpg"),
            etag("1733600000000000", "full/max/0/default.jpg")
        );
    }
}
