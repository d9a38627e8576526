//! The IIIF Image API 3.0 (`/iiif/3/...`) and 2.1 (`/iiif/2/...`): info.json, images, the base
//! URI redirect, CORS, HEAD and OPTIONS, caching headers and conditional requests.

mod delivery;

use chrono::{DateTime, Utc};
use iiif::image::{
    ApiVersion, ImageInfo, ImageRequest, ResolvedRequest, TileSpec, info_v2, info_v3,
};
use poem::http::{HeaderMap, HeaderValue, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, get, handler};
use sha2::{Digest, Sha256};

pub use delivery::{DeliveryError, DeliverySettings, ImageDelivery};

use crate::public_url::{asset_path, public_base};
use crate::server::AppState;

const IMAGE_CACHE_CONTROL: &str = "public, max-age=86400";
const INFO_CACHE_CONTROL: &str = "public, max-age=3600";

/// The routes of one version, to mount under `/iiif/3` or `/iiif/2`.
pub fn routes(version: ApiVersion) -> impl Endpoint {
    Route::new()
        .at(
            "/:customer/:space/:asset",
            get(base).head(base).options(preflight),
        )
        .at(
            "/:customer/:space/:asset/info.json",
            get(info).head(info).options(preflight),
        )
        .at(
            "/:customer/:space/:asset/:region/:size/:rotation/:quality",
            get(image).head(image).options(preflight),
        )
        .data(version)
}

/// Every IIIF response carries `Access-Control-Allow-Origin: *`, errors included.
pub(crate) fn with_cors(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

pub(crate) fn error_response(error: DeliveryError) -> Response {
    let body = serde_json::json!({ "code": error.code, "message": error.message }).to_string();
    with_cors(
        Response::builder()
            .status(error.status)
            .content_type("application/json")
            .body(body),
    )
}

fn version_path(version: ApiVersion) -> &'static str {
    match version {
        ApiVersion::V2 => "2",
        ApiVersion::V3 => "3",
    }
}

/// The service's id: `{base}/iiif/{v}/{customer}/{space}/{asset}`.
fn service_id(
    state: &AppState,
    headers: &HeaderMap,
    version: ApiVersion,
    customer: &str,
    space: i32,
    asset: &str,
) -> String {
    format!(
        "{}/iiif/{}/{}",
        public_base(state, headers),
        version_path(version),
        asset_path(customer, space, asset)
    )
}

pub(crate) fn parse_space(space: &str) -> Result<i32, DeliveryError> {
    space.parse::<i32>().map_err(|_| {
        DeliveryError::new(
            StatusCode::NOT_FOUND,
            "not-found",
            format!("no space {space:?}"),
        )
    })
}

/// `{base}` redirects to its info.json (baseUriRedirect).
#[handler]
async fn base(
    version: Data<&ApiVersion>,
    Path((customer, space, asset)): Path<(String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    let space = match parse_space(&space) {
        Ok(space) => space,
        Err(error) => return error_response(error),
    };
    let location = format!(
        "{}/info.json",
        service_id(&state, headers, **version, &customer, space, &asset)
    );
    with_cors(
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, location)
            .finish(),
    )
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
    let digest = Sha256::digest(format!("{stamp}|{what}").as_bytes());
    let hex: String = digest[..12]
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect();
    format!("\"{hex}\"")
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

#[handler]
async fn info(
    version: Data<&ApiVersion>,
    Path((customer, space, asset)): Path<(String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    match info_response(**version, &customer, &space, &asset, &state, headers).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

async fn info_response(
    version: ApiVersion,
    customer: &str,
    space: &str,
    id: &str,
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Response, DeliveryError> {
    let space = parse_space(space)?;
    let delivery = &state.images;
    let asset = delivery.image_asset(customer, space, id).await?;
    let layout = delivery.layout(&asset).await?;
    let service = service_id(state, headers, version, customer, space, id);
    let tag = etag(
        &ImageDelivery::stamp(&asset),
        &format!("info/{}/{service}", version_path(version)),
    );
    if not_modified(headers, &tag, asset.finished) {
        return Ok(with_cors(
            unchanged(&tag, asset.finished, INFO_CACHE_CONTROL).finish(),
        ));
    }
    let description = ImageInfo {
        id: service,
        width: layout.width,
        height: layout.height,
        sizes: asset.thumbnail_dimensions(),
        tiles: vec![TileSpec {
            width: layout.tile_size,
            height: layout.tile_size,
            scale_factors: layout.scale_factors(),
        }],
        limits: delivery.limits,
        has_color: layout.channels != imaging::Channels::Gray,
        services: Vec::new(),
    };
    let document = match version {
        ApiVersion::V3 => info_v3(&description),
        ApiVersion::V2 => info_v2(&description),
    };
    let response = validators(
        Response::builder(),
        &tag,
        asset.finished,
        INFO_CACHE_CONTROL,
    )
    .header(
        header::CONTENT_TYPE,
        json_media_type(version.context(), version == ApiVersion::V3, headers),
    )
    .header(
        header::LINK,
        format!("<{}>;rel=\"profile\"", version.level2_profile()),
    )
    .body(document.to_string());
    Ok(with_cors(response))
}

#[handler]
async fn image(
    version: Data<&ApiVersion>,
    Path((customer, space, asset, region, size, rotation, quality)): Path<(
        String,
        String,
        String,
        String,
        String,
        String,
        String,
    )>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    let parameters = [
        region.as_str(),
        size.as_str(),
        rotation.as_str(),
        quality.as_str(),
    ];
    match image_response(
        **version, &customer, &space, &asset, parameters, &state, headers,
    )
    .await
    {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

async fn image_response(
    version: ApiVersion,
    customer: &str,
    space: &str,
    id: &str,
    [region, size, rotation, quality]: [&str; 4],
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Response, DeliveryError> {
    let space = parse_space(space)?;
    let delivery = &state.images;
    let asset = delivery.image_asset(customer, space, id).await?;
    let request = ImageRequest::parse(version, region, size, rotation, quality)?;
    let (width, height) = (
        asset.width.unwrap_or(0) as u32,
        asset.height.unwrap_or(0) as u32,
    );
    let resolved: ResolvedRequest = request.resolve(width, height, &delivery.limits)?;
    let tag = etag(&ImageDelivery::stamp(&asset), &resolved.to_string());
    let service = service_id(state, headers, version, customer, space, id);
    let link = format!(
        "<{service}/{}>;rel=\"canonical\",<{}>;rel=\"profile\"",
        resolved.canonical_path(version),
        version.level2_profile()
    );
    if not_modified(headers, &tag, asset.finished) {
        let response =
            unchanged(&tag, asset.finished, IMAGE_CACHE_CONTROL).header(header::LINK, link);
        return Ok(with_cors(response.finish()));
    }
    let bytes = delivery.image(&asset, &resolved).await?;
    let response = validators(
        Response::builder(),
        &tag,
        asset.finished,
        IMAGE_CACHE_CONTROL,
    )
    .header(header::CONTENT_TYPE, resolved.format.media_type())
    .header(header::LINK, link)
    .body(bytes);
    Ok(with_cors(response.into_response()))
}
