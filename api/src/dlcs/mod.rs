//! The registration REST API in the shape of the DLCS API (`/api/customers/{customer}/...`):
//! customers, spaces, images, the queue and its batches, as hydra JSON-LD, with HTTP Basic
//! credentials (the same API keys as GraphQL) and the same tenancy.
//!
//! A second door onto the same domain: every handler calls the domain operation the GraphQL
//! resolver calls, and maps its result into the DLCS representation.

mod images;
mod openapi;
mod queue;
mod resources;
mod spaces;

use std::net::IpAddr;

use auth::Principal;
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::Data;
use poem::{Body, Endpoint, IntoResponse, Request, Response, Route, get, handler};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;

use crate::error::RestError;
use crate::graphql::RequestContext;
use crate::state::AppState;

/// Page size when the client names none, as in the DLCS.
const DEFAULT_PAGE_SIZE: i32 = 100;

/// The routes, to mount under the configured prefix (`/api` by default).
pub fn routes() -> impl Endpoint {
    let customer = "/customers/:customer";
    let space = "/customers/:customer/spaces/:space";
    let batch = "/customers/:customer/queue/batches/:batch";
    Route::new()
        .at("/", get(entry_point))
        .at("/openapi.json", get(openapi::document))
        .at("/customers", get(spaces::get_customers))
        .at(customer, get(spaces::get_customer))
        .at(
            format!("{customer}/spaces"),
            get(spaces::list).post(spaces::create),
        )
        .at(
            space,
            get(spaces::get)
                .put(spaces::put)
                .patch(spaces::patch)
                .delete(spaces::delete),
        )
        .at(
            format!("{space}/images"),
            get(images::list)
                .post(images::create)
                .patch(images::patch_many),
        )
        .at(
            format!("{space}/images/:image"),
            get(images::get)
                .put(images::put)
                .patch(images::patch)
                .delete(images::delete),
        )
        .at(
            format!("{customer}/queue"),
            get(queue::counts).post(queue::submit),
        )
        .at(format!("{customer}/queue/batches"), get(queue::batches))
        .at(format!("{customer}/queue/active"), get(queue::active))
        .at(format!("{customer}/queue/recent"), get(queue::recent))
        .at(batch, get(queue::one_batch))
        .at(format!("{batch}/images"), get(queue::batch_images))
        .at(
            format!("{batch}/completedImages"),
            get(queue::completed_images),
        )
        .at(format!("{batch}/errorImages"), get(queue::error_images))
}

/// The entry point: where the customers are, and the description of every route.
#[handler]
async fn entry_point(state: Data<&AppState>, request: &Request) -> Response {
    let base = api_base(&state, request.headers());
    json(
        StatusCode::OK,
        &serde_json::json!({
            "@context": resources::HYDRA_CONTEXT,
            "@id": format!("{base}/"),
            "@type": "vocab:EntryPoint",
            "customers": format!("{base}/customers"),
            "openapi": format!("{base}/openapi.json"),
        }),
    )
}

/// The API's own base URL: the public base and the configured prefix.
pub(crate) fn api_base(state: &AppState, headers: &HeaderMap) -> String {
    format!(
        "{}{}",
        crate::public_url::public_base(state, headers),
        state.config.rest_api_prefix
    )
}

/// Who is calling, for which customer, and the bases of the URLs its answer holds.
pub(crate) struct Caller {
    pub principal: Principal,
    pub customer: domain::Customer,
    /// `{public base}{prefix}`: the base of every API URL.
    pub api: String,
    /// The base of public (IIIF) URLs.
    pub public: String,
}

impl Caller {
    /// Authenticates the request (HTTP Basic or a Bearer token) and resolves `{customer}`
    /// (its number or its name) within the credential's reach.
    pub async fn of(state: &AppState, request: &Request, customer: &str) -> Result<Self, ApiError> {
        let principal = authenticate(state, request).await?;
        let customer = state
            .domain
            .customer_by_reference(&principal, customer)
            .await?;
        Ok(Self {
            principal,
            customer,
            api: api_base(state, request.headers()),
            public: crate::public_url::public_base(state, request.headers()),
        })
    }

    /// The customer's name, which the domain addresses it by.
    pub fn name(&self) -> &str {
        &self.customer.name
    }

    /// `{api}/customers/{number}`: every resource of the customer lives under it.
    pub fn customer_url(&self) -> String {
        format!("{}/customers/{}", self.api, self.customer.id)
    }

    pub fn space_url(&self, space: i32) -> String {
        format!("{}/spaces/{space}", self.customer_url())
    }

    pub fn batch_url(&self, batch: i64) -> String {
        format!("{}/queue/batches/{batch}", self.customer_url())
    }
}

/// The request's principal; a request without credentials is refused (401), since every
/// route of this API acts for a customer.
async fn authenticate(state: &AppState, request: &Request) -> Result<Principal, ApiError> {
    let peer: Option<IpAddr> = request
        .remote_addr()
        .as_socket_addr()
        .map(|address| address.ip());
    let context = RequestContext::from_headers(state, request.headers(), peer).await;
    match context.authentication() {
        Ok(Principal::Anonymous) => Err(domain::Error::unauthenticated(
            "this API needs an API key and secret as HTTP Basic credentials",
        )
        .into()),
        Ok(principal) => Ok(principal),
        Err(error) => Err(error.into()),
    }
}

/// `{customer}` in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct CustomerPath {
    /// The customer's number or name.
    pub customer: String,
}

/// `{customer}` and `{space}` in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct SpacePath {
    /// The customer's number or name.
    pub customer: String,
    /// The space's number.
    #[param(value_type = i32)]
    pub space: String,
}

/// `{customer}`, `{space}` and `{image}` in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct ImagePath {
    /// The customer's number or name.
    pub customer: String,
    /// The space's number.
    #[param(value_type = i32)]
    pub space: String,
    /// The image's id.
    pub image: String,
}

/// `{customer}` and `{batch}` in a path.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub(crate) struct BatchPath {
    /// The customer's number or name.
    pub customer: String,
    /// The batch's number.
    #[param(value_type = i64)]
    pub batch: String,
}

/// An error in the hydra `Status` shape, carrying Vitrine's stable code, and for a refused
/// batch every problem of its members.
#[derive(Debug)]
pub(crate) struct ApiError {
    error: RestError,
    problems: Vec<resources::MemberProblem>,
}

impl ApiError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        RestError::new(code, message).into()
    }

    pub fn with_problems(mut self, problems: Vec<resources::MemberProblem>) -> Self {
        self.problems = problems;
        self
    }
}

impl From<RestError> for ApiError {
    fn from(error: RestError) -> Self {
        Self {
            error,
            problems: Vec::new(),
        }
    }
}

impl From<domain::Error> for ApiError {
    fn from(error: domain::Error) -> Self {
        RestError::from(error).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.error.status();
        let body = resources::Status {
            context: resources::HYDRA_CONTEXT,
            kind: "Status",
            status_code: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            description: self.error.message.clone(),
            code: self.error.code.to_owned(),
            message: self.error.message,
            problems: self.problems,
        };
        let mut response = json(status, &body);
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Basic realm=\"Vitrine\""),
            );
        }
        if let Some(seconds) = self.error.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

pub(crate) type ApiResult = Result<Response, ApiError>;

/// A JSON answer with its status.
pub(crate) fn json(status: StatusCode, body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => Response::builder()
            .status(status)
            .content_type("application/ld+json")
            .body(bytes),
        Err(error) => {
            RestError::internal(format!("cannot encode the answer: {error}")).into_response()
        }
    }
}

/// A handler's outcome as the response.
pub(crate) fn respond(result: ApiResult) -> Response {
    result.unwrap_or_else(IntoResponse::into_response)
}

/// The request body as JSON of type `T`, whatever its `Content-Type` says: clients in the
/// wild send JSON as `text/plain` or with no type at all. Properties `T` does not name are
/// ignored. Bodies are read only once the caller is authenticated, up to `max_request_bytes`.
pub(crate) async fn json_body<T: DeserializeOwned>(
    state: &AppState,
    body: Body,
) -> Result<T, ApiError> {
    let limit = state.config.max_request_bytes;
    let bytes = body
        .into_bytes_limit(limit)
        .await
        .map_err(|error| match error {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::new(
                "payload-too-large",
                format!("the body is over {limit} bytes (max_request_bytes)"),
            ),
            other => ApiError::new("bad-request", format!("cannot read the body: {other}")),
        })?;
    serde_json::from_slice(&bytes).map_err(|error| {
        ApiError::new(
            "invalid-input",
            format!("the body is not valid JSON for this resource: {error}"),
        )
    })
}

/// `?page=` and `?pageSize=` of a paged collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Paging {
    pub page: u64,
    pub page_size: i32,
}

impl Paging {
    pub fn from_query(page: Option<&str>, page_size: Option<&str>) -> Result<Self, ApiError> {
        let page = match page {
            None => 1,
            Some(text) => text
                .parse::<u64>()
                .ok()
                .filter(|page| (1..=i64::MAX as u64 / 1000).contains(page))
                .ok_or_else(|| {
                    ApiError::new(
                        "bad-request",
                        format!("page must be a number from 1, not {text:?}"),
                    )
                })?,
        };
        let limit = domain::paging::MAX_PAGE_SIZE as i32;
        let page_size = match page_size {
            None => DEFAULT_PAGE_SIZE,
            Some(text) => text
                .parse::<i32>()
                .ok()
                .filter(|size| (1..=limit).contains(size))
                .ok_or_else(|| {
                    ApiError::new(
                        "bad-request",
                        format!("pageSize must be a number from 1 to {limit}, not {text:?}"),
                    )
                })?,
        };
        Ok(Self { page, page_size })
    }

    pub fn request(self) -> domain::PageRequest {
        domain::PageRequest::numbered(self.page, self.page_size)
    }
}

/// A space number in a path: anything else names no space.
pub(crate) fn space_number(space: &str) -> Result<i32, ApiError> {
    Ok(crate::http::parse_space(space)?)
}
