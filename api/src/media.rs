//! Audio, video and other files as they were registered:
//! `/media/{customer}/{space}/{asset}/{file}`, where `{file}` is `original` with any extension
//! (`original.mp4`). Single byte ranges are answered with 206 so players can seek; ETag and
//! Last-Modified let caches revalidate.
//!
//! Customer files share the origin with the auth pages, the token page and GraphiQL, so none
//! of them may ever run as a page of this origin: every answer carries `nosniff` and a sandbox
//! policy, and only images, audio, video and PDF are served inline; anything a browser would
//! render as a document (HTML, SVG, XML, text, ...) is sent as an attachment.

use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::web::{Data, Path, RemoteAddr};
use poem::{Body, Endpoint, EndpointExt, Response, Route, get, handler};

use crate::error::RestError;
use crate::http::{
    RESTRICTED_CACHE_CONTROL, error_response, etag, not_modified, parse_space, preflight,
    unchanged, validators, with_cors,
};
use crate::iiif_image::ImageDelivery;
use crate::state::AppState;
use crate::visitor_access::refusal;

const MEDIA_CACHE_CONTROL: &str = "public, max-age=86400";

pub fn routes() -> impl Endpoint {
    Route::new()
        .at(
            "/:customer/:space/:asset/:file",
            get(media).head(media).options(preflight),
        )
        .after(|answer: poem::Result<Response>| async move {
            let mut response = answer.unwrap_or_else(|error| error.into_response());
            confine(response.headers_mut());
            Ok(response)
        })
}

/// Headers on every media answer that keep a customer's file from acting as a page of this
/// origin, whatever its type: no sniffing, and a sandbox with no scripts, forms or same-origin
/// access should a browser render it anyway.
fn confine(headers: &mut HeaderMap) {
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("sandbox"),
    );
}

/// Whether a media type is served inline: images (but not SVG, which is a document that can
/// script), audio, video and PDF. Everything else is an attachment.
fn served_inline(media_type: &str) -> bool {
    let essence = domain::model::media_type_essence(media_type);
    let Some((kind, subtype)) = essence.split_once('/') else {
        return false;
    };
    match kind {
        "image" => !subtype.contains("svg") && !subtype.contains("xml"),
        "audio" | "video" => !subtype.contains("xml"),
        "application" => subtype == "pdf",
        _ => false,
    }
}

pub use domain::media_file_name as file_name;

/// A requested byte range, after reading it against the file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wanted {
    Whole,
    Part { start: u64, end: u64 },
    Unsatisfiable,
}

/// Reads a `Range` header. Only single `bytes` ranges are honoured; anything else (several
/// ranges, other units, nonsense) is answered with the whole file, as HTTP allows.
fn wanted(range: Option<&str>, length: u64) -> Wanted {
    let Some(spec) = range.and_then(|value| value.trim().strip_prefix("bytes=")) else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Wanted::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    let parsed = |text: &str| text.parse::<u64>().ok();
    match (first.is_empty(), last.is_empty()) {
        // the last N bytes
        (true, false) => match parsed(last) {
            Some(0) => Wanted::Unsatisfiable,
            Some(suffix) if length > 0 => Wanted::Part {
                start: length.saturating_sub(suffix),
                end: length - 1,
            },
            Some(_) => Wanted::Unsatisfiable,
            None => Wanted::Whole,
        },
        (false, _) => {
            let Some(start) = parsed(first) else {
                return Wanted::Whole;
            };
            let end = if last.is_empty() {
                Some(length.saturating_sub(1))
            } else {
                parsed(last)
            };
            match end {
                None => Wanted::Whole,
                Some(_) if start >= length => Wanted::Unsatisfiable,
                Some(end) if end < start => Wanted::Whole,
                Some(end) => Wanted::Part {
                    start,
                    end: end.min(length - 1),
                },
            }
        }
        (true, true) => Wanted::Whole,
    }
}

#[handler]
async fn media(
    state: Data<&AppState>,
    Path((customer, space, id, file)): Path<(String, String, String, String)>,
    headers: &HeaderMap,
    remote: &RemoteAddr,
) -> Response {
    let not_found = |message: String| error_response(RestError::new("not-found", message));
    let space = match parse_space(&space) {
        Ok(space) => space,
        Err(error) => return error_response(error),
    };
    if file != "original" && !file.starts_with("original.") {
        return not_found(format!(
            "no file {file:?}; media is published as original.*"
        ));
    }
    let asset = match state.domain.visible_asset(&customer, space, &id).await {
        Ok(asset) => asset,
        Err(error) if error.kind == domain::ErrorKind::NotFound => return not_found(error.message),
        Err(error) => {
            return error_response(RestError::new("database-unavailable", error.message));
        }
    };
    if asset.family == domain::AssetFamily::Image {
        return not_found(format!(
            "{customer}/{space}/{id} is an image: it is served through the Image API"
        ));
    }
    if asset.status != domain::AssetStatus::Ready {
        return not_found(format!("{customer}/{space}/{id} is not ready"));
    }
    let peer = remote.as_socket_addr().map(|address| address.ip());
    let decision = match state
        .access
        .decide(&state.domain, &asset, auth::Requested::Other, headers, peer)
        .await
    {
        Ok(decision) => decision,
        Err(error) => return error_response(error),
    };
    if let Some(refused) = refusal(decision, &format!("{customer}/{space}/{id}")) {
        return error_response(refused);
    }
    let cache_control = if auth::is_open(&asset.roles, asset.max_unauthorised) {
        MEDIA_CACHE_CONTROL
    } else {
        RESTRICTED_CACHE_CONTROL
    };
    let key = storage::keys::master(asset.customer_id, asset.space, &asset.id);
    let length = match state.storage.size(&key).await {
        Ok(length) => length,
        Err(error) => return storage_error(error),
    };
    let tag = etag(&ImageDelivery::stamp(&asset), &format!("media|{length}"));
    if not_modified(headers, &tag, asset.finished) {
        return with_cors(unchanged(&tag, asset.finished, cache_control).finish());
    }
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok());
    // If-Range: a range only applies to the version the client already holds
    let range = match headers.get(header::IF_RANGE).and_then(|v| v.to_str().ok()) {
        Some(validator) if validator != tag => None,
        _ => range,
    };
    let disposition = if served_inline(&asset.media_type) {
        "inline".to_owned()
    } else {
        format!("attachment; filename=\"{}\"", file_name(&asset.media_type))
    };
    let builder = validators(Response::builder(), &tag, asset.finished, cache_control)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_DISPOSITION, disposition)
        .content_type(asset.media_type.clone());
    let response = match wanted(range, length) {
        Wanted::Unsatisfiable => builder
            .status(StatusCode::RANGE_NOT_SATISFIABLE)
            .header(header::CONTENT_RANGE, format!("bytes */{length}"))
            .finish(),
        Wanted::Whole => builder
            .status(StatusCode::OK)
            .header(header::CONTENT_LENGTH, length)
            .body(streamed(state.storage.clone(), key, 0..length)),
        Wanted::Part { start, end } => builder
            .status(StatusCode::PARTIAL_CONTENT)
            .header(
                header::CONTENT_RANGE,
                format!("bytes {start}-{end}/{length}"),
            )
            .header(header::CONTENT_LENGTH, end + 1 - start)
            .body(streamed(state.storage.clone(), key, start..end + 1)),
    };
    let mut response = with_cors(response);
    response.headers_mut().insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Content-Range, Accept-Ranges, ETag"),
    );
    response
}

/// Bytes read from storage per step of a streamed response.
const STREAM_CHUNK: u64 = 4 * 1024 * 1024;

/// A body that reads `range` of an object a chunk at a time, so a large video never sits in
/// memory whole (and a HEAD request, whose body is never polled, reads nothing).
fn streamed(storage: storage::BlobStore, key: String, range: std::ops::Range<u64>) -> Body {
    let chunks = futures::stream::unfold(range.start, move |next| {
        let storage = storage.clone();
        let key = key.clone();
        let end = range.end;
        async move {
            if next >= end {
                return None;
            }
            let until = (next + STREAM_CHUNK).min(end);
            let chunk = storage
                .get_range(&key, next..until)
                .await
                .map_err(|error| std::io::Error::other(error.to_string()));
            Some((chunk, until))
        }
    });
    Body::from_bytes_stream(chunks)
}

fn storage_error(error: storage::Error) -> Response {
    let code = match error.kind {
        storage::ErrorKind::NotFound => "not-found",
        _ => "storage-unavailable",
    };
    error_response(RestError::new(code, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_http_says() {
        let part = |start, end| Wanted::Part { start, end };
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-9"), 100), part(0, 9));
        assert_eq!(wanted(Some("bytes=90-"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=-10"), 100), part(90, 99));
        assert_eq!(wanted(Some("bytes=-500"), 100), part(0, 99));
        assert_eq!(wanted(Some("bytes=50-500"), 100), part(50, 99));
        assert_eq!(wanted(Some("bytes=100-"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=-0"), 100), Wanted::Unsatisfiable);
        assert_eq!(wanted(Some("bytes=0-1,5-6"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("items=0-1"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=9-3"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=x-3"), 100), Wanted::Whole);
        assert_eq!(wanted(Some("bytes=0-0"), 0), Wanted::Unsatisfiable);
    }

    #[test]
    fn only_images_audio_video_and_pdf_are_served_inline() {
        for inline in [
            "image/jpeg",
            "image/png",
            "audio/mpeg",
            "video/mp4",
            "application/pdf",
        ] {
            assert!(served_inline(inline), "{inline}");
        }
        assert!(served_inline("Video/MP4; codecs=avc1"));
        for attachment in [
            "text/html",
            "TEXT/HTML; charset=utf-8",
            "image/svg+xml",
            "application/xhtml+xml",
            "application/xml",
            "text/xml",
            "text/plain",
            "application/javascript",
            "application/octet-stream",
            "multipart/x-mixed-replace",
            "nonsense",
            "",
        ] {
            assert!(!served_inline(attachment), "{attachment}");
        }
    }

    #[test]
    fn file_names_follow_the_media_type() {
        assert_eq!(file_name("video/mp4"), "original.mp4");
        assert_eq!(file_name("audio/mpeg"), "original.mp3");
        assert_eq!(file_name("Audio/Ogg; codecs=opus"), "original.ogg");
        assert_eq!(file_name("application/x-unknown"), "original.bin");
    }
}
