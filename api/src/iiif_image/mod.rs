//! The IIIF Image API 3.0 (`/iiif/3/...`) and 2.1 (`/iiif/2/...`): info.json, images, the base
//! URI redirect, CORS, HEAD and OPTIONS, caching headers and conditional requests.

mod delivery;
mod disk_cache;
mod pools;

use iiif::image::{
    ApiVersion, ImageInfo, ImageRequest, ResolvedRequest, TileSpec, info_v2, info_v3,
};
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, Path, RemoteAddr};
use poem::{Endpoint, EndpointExt, IntoResponse, Response, Route, get, handler};

pub use delivery::{DeliverySettings, ImageDelivery};

use crate::error::RestError;
use crate::http::{
    IMAGE_CACHE_CONTROL, INFO_CACHE_CONTROL, RESTRICTED_CACHE_CONTROL, error_response, etag,
    json_media_type, not_modified, parse_space, preflight, unchanged, validators, with_cors,
};
use crate::public_url::{degraded_service_id, image_service_id, links};
use crate::state::AppState;
use crate::visitor_access::{refusal, requested_image};

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
        .at(
            "/:customer/:space/:asset/degraded",
            get(degraded_base).head(degraded_base).options(preflight),
        )
        .at(
            "/:customer/:space/:asset/degraded/info.json",
            get(degraded_info).head(degraded_info).options(preflight),
        )
        .at(
            "/:customer/:space/:asset/degraded/:region/:size/:rotation/:quality",
            get(degraded_image).head(degraded_image).options(preflight),
        )
        .data(version)
}

/// Which of an image's two services a request addresses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Full,
    Degraded,
}

impl Variant {
    fn service_id(
        self,
        state: &AppState,
        headers: &HeaderMap,
        version: ApiVersion,
        customer: &str,
        space: i32,
        asset: &str,
    ) -> String {
        match self {
            Variant::Full => image_service_id(state, headers, version, customer, space, asset),
            Variant::Degraded => {
                degraded_service_id(state, headers, version, customer, space, asset)
            }
        }
    }
}

/// `{base}` redirects to its info.json (baseUriRedirect).
#[handler]
async fn base(
    version: Data<&ApiVersion>,
    Path((customer, space, asset)): Path<(String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    redirect_to_info(
        **version,
        Variant::Full,
        &customer,
        &space,
        &asset,
        &state,
        headers,
    )
}

#[handler]
async fn degraded_base(
    version: Data<&ApiVersion>,
    Path((customer, space, asset)): Path<(String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    redirect_to_info(
        **version,
        Variant::Degraded,
        &customer,
        &space,
        &asset,
        &state,
        headers,
    )
}

fn redirect_to_info(
    version: ApiVersion,
    variant: Variant,
    customer: &str,
    space: &str,
    asset: &str,
    state: &AppState,
    headers: &HeaderMap,
) -> Response {
    let space = match parse_space(space) {
        Ok(space) => space,
        Err(error) => return error_response(error),
    };
    let location = format!(
        "{}/info.json",
        variant.service_id(state, headers, version, customer, space, asset)
    );
    with_cors(
        Response::builder()
            .status(StatusCode::SEE_OTHER)
            .header(header::LOCATION, location)
            .finish(),
    )
}

#[handler]
async fn info(
    version: Data<&ApiVersion>,
    Path((customer, space, asset)): Path<(String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    let request = (
        **version,
        Variant::Full,
        customer.as_str(),
        space.as_str(),
        asset.as_str(),
    );
    match info_response(request, &state, headers).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

#[handler]
async fn degraded_info(
    version: Data<&ApiVersion>,
    Path((customer, space, asset)): Path<(String, String, String)>,
    state: Data<&AppState>,
    headers: &HeaderMap,
) -> Response {
    let request = (
        **version,
        Variant::Degraded,
        customer.as_str(),
        space.as_str(),
        asset.as_str(),
    );
    match info_response(request, &state, headers).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

/// The limits of an image's degraded service: its open size on both edges, within the
/// server's own limits.
fn degraded_limits(
    asset: &domain::Asset,
    server: &iiif::image::Limits,
) -> Option<iiif::image::Limits> {
    let edge = u32::try_from(asset.max_unauthorised)
        .ok()
        .filter(|edge| *edge > 0)?;
    if auth::is_open(&asset.roles, asset.max_unauthorised) {
        return None;
    }
    let within = |limit: Option<u32>| Some(limit.map_or(edge, |limit| limit.min(edge)));
    Some(iiif::image::Limits {
        max_width: within(server.max_width),
        max_height: within(server.max_height.or(server.max_width)),
        max_area: server.max_area,
        upscaling: false,
    })
}

fn no_degraded(customer: &str, space: i32, id: &str) -> RestError {
    RestError::new(
        "not-found",
        format!("{customer}/{space}/{id} has no degraded service: no sizes of it are open"),
    )
}

/// What an Auth 1.0 client gets for a restricted info.json, which is its probe.
enum Auth1 {
    Allowed,
    /// 302 to the degraded service's info.json.
    Degraded,
    /// 401 (or 403) with the whole document, so the client finds the login services.
    Refused(StatusCode),
}

async fn info_response(
    (version, variant, customer, space, id): (ApiVersion, Variant, &str, &str, &str),
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Response, RestError> {
    let space = parse_space(space)?;
    let delivery = &state.images;
    let asset = delivery.image_asset(customer, space, id).await?;
    let open = auth::is_open(&asset.roles, asset.max_unauthorised);
    let open_edge = u32::try_from(asset.max_unauthorised)
        .ok()
        .filter(|edge| *edge > 0);
    if variant == Variant::Degraded && (open || open_edge.is_none()) {
        return Err(no_degraded(customer, space, id));
    }
    let layout = delivery.layout(&asset).await?;
    let service = variant.service_id(state, headers, version, customer, space, id);
    // restricted descriptions depend on the auth services and (1.0) the token: not cached
    // by validators, and never stored by shared caches
    let services = if open {
        None
    } else {
        Some(
            state
                .access
                .services(&state.domain, asset.customer_id, &asset.roles)
                .await?,
        )
    };
    let auth1 = match (&services, version, variant) {
        (Some(services), ApiVersion::V2, Variant::Full) => {
            let held = state
                .access
                .token_roles(&state.domain, asset.customer_id, customer, headers)
                .await?
                .unwrap_or_default();
            let decision = auth::decide(
                &asset.roles,
                asset.max_unauthorised,
                &held,
                !services.is_empty(),
                auth::Requested::Other,
            );
            match decision {
                auth::Decision::Allowed => Auth1::Allowed,
                _ if open_edge.is_some() => Auth1::Degraded,
                refused => Auth1::Refused(
                    StatusCode::from_u16(refused.status()).unwrap_or(StatusCode::UNAUTHORIZED),
                ),
            }
        }
        _ => Auth1::Allowed,
    };
    if let Auth1::Degraded = auth1 {
        let location = format!(
            "{}/info.json",
            degraded_service_id(state, headers, version, customer, space, id)
        );
        return Ok(with_cors(
            Response::builder()
                .status(StatusCode::FOUND)
                .header(header::LOCATION, location)
                .header(header::CACHE_CONTROL, "no-store")
                .finish(),
        ));
    }
    let tag = etag(
        &ImageDelivery::stamp(&asset),
        &format!("info/{}/{service}", version.path()),
    );
    if services.is_none() && not_modified(headers, &tag, asset.finished) {
        return Ok(with_cors(
            unchanged(&tag, asset.finished, INFO_CACHE_CONTROL).finish(),
        ));
    }
    let mut description = ImageInfo {
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
    if let (Variant::Degraded, Some(edge)) = (variant, open_edge) {
        description.sizes.retain(|(w, h)| (*w).max(*h) <= edge);
        let scale = f64::from(edge) / f64::from(layout.width.max(layout.height));
        if scale < 1.0 {
            let size = (
                ((f64::from(layout.width) * scale).round() as u32).max(1),
                ((f64::from(layout.height) * scale).round() as u32).max(1),
            );
            if !description.sizes.contains(&size) {
                description.sizes.push(size);
            }
        }
        description.limits = degraded_limits(&asset, &delivery.limits).unwrap_or(delivery.limits);
    }
    let links = links(state, headers, iiif::presentation::Version::V3);
    let auth_2_context = match (&services, version, variant) {
        (Some(services), ApiVersion::V3, Variant::Full) => {
            let offered = links.access_services(customer, services);
            let probe = links.probe(customer, space, id);
            description.services = vec![iiif::auth::probe_service(&probe, &offered)];
            true
        }
        (Some(services), ApiVersion::V2, _) => {
            let offered = links.access_services(customer, services);
            description.services = iiif::auth::cookie_services_1(&offered);
            false
        }
        _ => false,
    };
    let mut document = match version {
        ApiVersion::V3 => info_v3(&description),
        ApiVersion::V2 => info_v2(&description),
    };
    if variant == Variant::Degraded {
        iiif::image::make_level0(&mut document);
    }
    if auth_2_context {
        document["@context"] = serde_json::json!([iiif::auth::CONTEXT_2, version.context()]);
    }
    let (status, cache_control) = match (&services, auth1) {
        (None, _) => (StatusCode::OK, INFO_CACHE_CONTROL),
        (Some(_), Auth1::Refused(status)) => (status, "no-store"),
        (Some(_), _) => (StatusCode::OK, RESTRICTED_CACHE_CONTROL),
    };
    let response = validators(
        Response::builder().status(status),
        &tag,
        asset.finished,
        cache_control,
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

type ImagePath = (String, String, String, String, String, String, String);

#[handler]
async fn image(
    version: Data<&ApiVersion>,
    Path(path): Path<ImagePath>,
    state: Data<&AppState>,
    headers: &HeaderMap,
    remote: &RemoteAddr,
) -> Response {
    let peer = remote.as_socket_addr().map(|address| address.ip());
    match image_response(**version, Variant::Full, &path, &state, headers, peer).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

#[handler]
async fn degraded_image(
    version: Data<&ApiVersion>,
    Path(path): Path<ImagePath>,
    state: Data<&AppState>,
    headers: &HeaderMap,
    remote: &RemoteAddr,
) -> Response {
    let peer = remote.as_socket_addr().map(|address| address.ip());
    match image_response(**version, Variant::Degraded, &path, &state, headers, peer).await {
        Ok(response) => response,
        Err(error) => error_response(error),
    }
}

async fn image_response(
    version: ApiVersion,
    variant: Variant,
    (customer, space, id, region, size, rotation, quality): &ImagePath,
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<std::net::IpAddr>,
) -> Result<Response, RestError> {
    let space = parse_space(space)?;
    let delivery = &state.images;
    let asset = delivery.image_asset(customer, space, id).await?;
    let request = ImageRequest::parse(version, region, size, rotation, quality)?;
    let (width, height) = (
        asset.width.unwrap_or(0) as u32,
        asset.height.unwrap_or(0) as u32,
    );
    // the degraded service has the open size as its limits: larger sizes are over them (400)
    let limits = match variant {
        Variant::Full => delivery.limits,
        Variant::Degraded => degraded_limits(&asset, &delivery.limits)
            .ok_or_else(|| no_degraded(customer, space, id))?,
    };
    let resolved: ResolvedRequest = request.resolve(width, height, &limits)?;
    // the access decision comes before anything that could tell a refused visitor more,
    // a 304 included; the degraded service serves only what is open to everyone
    let open = auth::is_open(&asset.roles, asset.max_unauthorised);
    let requested = requested_image(&resolved);
    let decision = match variant {
        Variant::Full => {
            state
                .access
                .decide(&state.domain, &asset, requested, headers, peer)
                .await?
        }
        Variant::Degraded => {
            auth::decide(&asset.roles, asset.max_unauthorised, &[], false, requested)
        }
    };
    if let Some(refused) = refusal(decision, &format!("{customer}/{space}/{id}")) {
        return Err(refused);
    }
    let cache_control = if open {
        IMAGE_CACHE_CONTROL
    } else {
        RESTRICTED_CACHE_CONTROL
    };
    let tag = etag(&ImageDelivery::stamp(&asset), &resolved.to_string());
    let service = variant.service_id(state, headers, version, customer, space, id);
    let link = format!(
        "<{service}/{}>;rel=\"canonical\",<{}>;rel=\"profile\"",
        resolved.canonical_path(version),
        version.level2_profile()
    );
    if not_modified(headers, &tag, asset.finished) {
        let response = unchanged(&tag, asset.finished, cache_control).header(header::LINK, link);
        return Ok(with_cors(response.finish()));
    }
    let bytes = delivery.image(&asset, &resolved).await?;
    let response = validators(Response::builder(), &tag, asset.finished, cache_control)
        .header(header::CONTENT_TYPE, resolved.format.media_type())
        .header(header::LINK, link)
        .body(bytes);
    Ok(with_cors(response.into_response()))
}
