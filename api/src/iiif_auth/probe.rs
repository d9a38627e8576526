//! The probe service: always 200 with an `AuthProbeResult2`, decided from the bearer access
//! token only, offering a reduced-size image service where the asset allows one.

use auth::{Decision, Requested};
use domain::{AssetFamily, AssetStatus};
use iiif::auth::probe_result;
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::{Data, Path};
use poem::{Response, handler};
use serde_json::{Value, json};

use crate::error::RestError;
use crate::http::{parse_space, with_cors};
use crate::public_url::degraded_service_id;
use crate::state::AppState;

#[handler]
pub(super) async fn probe_page(
    state: Data<&AppState>,
    Path((customer, space, id)): Path<(String, String, String)>,
    headers: &HeaderMap,
) -> Response {
    let result = match probe_document(&state, &customer, &space, &id, headers).await {
        Ok(result) => result,
        Err(error) if error.status() == StatusCode::NOT_FOUND => {
            probe_result(404, None, Some("Not found"), Some(&error.message))
        }
        Err(error) => probe_result(503, None, Some("Unavailable"), Some(&error.message)),
    };
    let response = Response::builder()
        .content_type(format!(
            "application/ld+json;profile=\"{}\"",
            iiif::auth::CONTEXT_2
        ))
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization")
        .body(result.to_string());
    with_cors(response)
}

async fn probe_document(
    state: &AppState,
    customer: &str,
    space: &str,
    id: &str,
    headers: &HeaderMap,
) -> Result<Value, RestError> {
    let space = parse_space(space)?;
    let asset = state
        .domain
        .visible_asset(customer, space, id)
        .await
        .map_err(RestError::unavailable)?;
    if asset.status != AssetStatus::Ready {
        return Ok(probe_result(
            404,
            None,
            Some("Not available yet"),
            Some("This item is still being processed, or could not be."),
        ));
    }
    if auth::is_open(&asset.roles, asset.max_unauthorised) {
        return Ok(probe_result(200, None, None, None));
    }
    let access = &state.access;
    let held = access
        .token_roles(&state.domain, asset.customer_id, customer, headers)
        .await?
        .unwrap_or_default();
    let services = access
        .services(&state.domain, asset.customer_id, &asset.roles)
        .await?;
    let image = asset.family == AssetFamily::Image;
    let requested = match (image, asset.width, asset.height) {
        (true, Some(width), Some(height)) => {
            Requested::WholeImageAt(width.max(height).max(0) as u32)
        }
        _ => Requested::Other,
    };
    let decision = auth::decide(
        &asset.roles,
        asset.max_unauthorised,
        &held,
        !services.is_empty(),
        requested,
    );
    if decision == Decision::Allowed {
        return Ok(probe_result(200, None, None, None));
    }
    let substitute = (image && asset.max_unauthorised > 0).then(|| {
        json!({
            "id": degraded_service_id(state, headers, iiif::image::ApiVersion::V3, customer, space, id),
            "type": "ImageService3",
            "label": iiif::auth::language_map(&format!(
                "Reduced size (up to {} pixels)",
                asset.max_unauthorised
            )),
        })
    });
    let first = services.first().map(|(service, _)| service);
    let heading = first
        .and_then(|service| service.heading.clone())
        .unwrap_or_else(|| match decision {
            Decision::Forbidden => "Not available".to_owned(),
            _ => "Restricted".to_owned(),
        });
    let note = first
        .and_then(|service| service.note.clone())
        .unwrap_or_else(|| match decision {
            Decision::Forbidden => "You do not have access to this item.".to_owned(),
            _ => format!(
                "Access to this item is restricted by {}.",
                first.map_or("its owner", |service| service.label.as_str())
            ),
        });
    Ok(probe_result(
        decision.status(),
        substitute,
        Some(&heading),
        Some(&note),
    ))
}
