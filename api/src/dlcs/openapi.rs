//! The OpenAPI 3 description of the routes, generated from the handlers' own annotations and
//! the resources' types: `/api/openapi.json`.

use poem::http::StatusCode;
use poem::web::Data;
use poem::{Request, Response, handler};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{SecurityRequirement, ServerBuilder};
use utoipa::{Modify, OpenApi};

use super::{images, queue, spaces};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Vitrine registration API (DLCS-compatible)",
        description = "Customers, spaces, images and the queue in the shape of the DLCS API. \
            Every route takes an API key and secret as HTTP Basic credentials."
    ),
    paths(
        spaces::get_customers,
        spaces::get_customer,
        spaces::list,
        spaces::create,
        spaces::get,
        spaces::put,
        spaces::patch,
        spaces::delete,
        images::list,
        images::create,
        images::patch_many,
        images::get,
        images::put,
        images::patch,
        images::delete,
        queue::counts,
        queue::submit,
        queue::batches,
        queue::active,
        queue::recent,
        queue::one_batch,
        queue::batch_images,
        queue::completed_images,
        queue::error_images,
    ),
    modifiers(&BasicCredentials),
    tags(
        (name = "customers", description = "The tenants"),
        (name = "spaces", description = "Where images are registered"),
        (name = "images", description = "Registered images, audio, video and files"),
        (name = "queue", description = "Batches of images processed in the background"),
    )
)]
pub struct ApiDoc;

/// Every operation needs HTTP Basic credentials.
struct BasicCredentials;

impl Modify for BasicCredentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "basic",
            Vec::<String>::new(),
        )]);
    }
}

/// The description, with this server's API base as its server.
#[handler]
pub async fn document(state: Data<&AppState>, request: &Request) -> Response {
    let mut description = ApiDoc::openapi();
    description.servers = Some(vec![
        ServerBuilder::new()
            .url(super::api_base(&state, request.headers()))
            .build(),
    ]);
    super::json(StatusCode::OK, &description)
}
