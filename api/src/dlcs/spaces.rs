//! Customers and their spaces.

use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Body, Request, Response, handler};
use serde::Deserialize;
use utoipa::IntoParams;

use super::resources::{Collection, Customer, Space, SpaceBody, Status};
use super::{
    ApiError, ApiResult, Caller, CustomerPath, Paging, SpacePath, json, json_body, respond,
    space_number,
};
use crate::state::AppState;

/// `?page=` and `?pageSize=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The page, from 1.
    pub page: Option<String>,
    /// Members per page (1 to 1000; default 100).
    #[serde(rename = "pageSize")]
    #[param(rename = "pageSize")]
    pub page_size: Option<String>,
}

impl PageQuery {
    pub fn paging(&self) -> Result<Paging, ApiError> {
        Paging::from_query(self.page.as_deref(), self.page_size.as_deref())
    }
}

/// The customers the credential may act for: every one for an admin key, its own for a
/// customer's key.
#[utoipa::path(
    operation_id = "listCustomers",get, path = "/customers", tag = "customers",
    params(PageQuery),
    responses((status = 200, body = Collection<Customer>), (status = 401, body = Status)))]
#[handler]
pub async fn get_customers(
    state: Data<&AppState>,
    request: &Request,
    Query(query): Query<PageQuery>,
) -> Response {
    respond(list_customers(&state, request, &query).await)
}

async fn list_customers(state: &AppState, request: &Request, query: &PageQuery) -> ApiResult {
    let principal = super::authenticate(state, request).await?;
    let paging = query.paging()?;
    let api = super::api_base(state, request.headers());
    let (customers, total) = match &principal {
        auth::Principal::Customer { customer, .. } => {
            let own = state.domain.customer(&principal, customer).await?;
            (if paging.page == 1 { vec![own] } else { vec![] }, 1)
        }
        _ => {
            let page = state
                .domain
                .customers(&principal, &paging.request())
                .await?;
            let total = page.total_count;
            (page.items.into_iter().map(|(_, c)| c).collect(), total)
        }
    };
    let member = customers
        .iter()
        .map(|customer| Customer::new(&api, customer))
        .collect();
    let url = format!("{api}/customers");
    Ok(json(
        StatusCode::OK,
        &Collection::page(&url, member, total, paging),
    ))
}

/// One customer, by its number or its name.
#[utoipa::path(
    operation_id = "getCustomer",get, path = "/customers/{customer}", tag = "customers",
    params(CustomerPath),
    responses((status = 200, body = Customer), (status = 401, body = Status),
        (status = 403, body = Status), (status = 404, body = Status)))]
#[handler]
pub async fn get_customer(
    state: Data<&AppState>,
    request: &Request,
    Path(CustomerPath { customer }): Path<CustomerPath>,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            Ok(json(
                StatusCode::OK,
                &Customer::new(&caller.api, &caller.customer),
            ))
        }
        .await,
    )
}

/// A space with its approximate number of images.
async fn space_resource(state: &AppState, caller: &Caller, space: domain::Space) -> ApiResult {
    let resource = counted(state, caller, space).await?;
    Ok(json(StatusCode::OK, &resource))
}

async fn counted(
    state: &AppState,
    caller: &Caller,
    space: domain::Space,
) -> Result<Space, ApiError> {
    let none = domain::PageRequest::new(Some(0), None);
    let images = state
        .domain
        .assets(
            &caller.principal,
            caller.name(),
            space.id,
            &domain::AssetFilter::default(),
            domain::AssetOrder::default(),
            &none,
        )
        .await?
        .total_count;
    Ok(Space::new(caller, space, images))
}

/// The customer's spaces, by number.
#[utoipa::path(
    operation_id = "listSpaces",get, path = "/customers/{customer}/spaces", tag = "spaces",
    params(CustomerPath, PageQuery),
    responses((status = 200, body = Collection<Space>), (status = 401, body = Status),
        (status = 403, body = Status)))]
#[handler]
pub async fn list(
    state: Data<&AppState>,
    request: &Request,
    Path(CustomerPath { customer }): Path<CustomerPath>,
    Query(query): Query<PageQuery>,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let paging = query.paging()?;
            let page = state
                .domain
                .spaces(&caller.principal, caller.name(), &paging.request())
                .await?;
            let mut member = Vec::with_capacity(page.items.len());
            for (_, space) in page.items {
                member.push(counted(&state, &caller, space).await?);
            }
            let url = format!("{}/spaces", caller.customer_url());
            Ok(json(
                StatusCode::OK,
                &Collection::page(&url, member, page.total_count, paging),
            ))
        }
        .await,
    )
}

/// Creates a space with the customer's next number (201, with its URL in `Location`).
#[utoipa::path(
    operation_id = "createSpace",post, path = "/customers/{customer}/spaces", tag = "spaces",
    params(CustomerPath),
    request_body = SpaceBody,
    responses((status = 201, body = Space), (status = 400, body = Status),
        (status = 401, body = Status), (status = 403, body = Status),
        (status = 409, body = Status)))]
#[handler]
pub async fn create(
    state: Data<&AppState>,
    request: &Request,
    Path(CustomerPath { customer }): Path<CustomerPath>,
    body: Body,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let body: SpaceBody = json_body(&state, body).await?;
            let name = body
                .name
                .ok_or_else(|| ApiError::new("invalid-name", "a space needs a name"))?;
            let input = domain::SpaceInput {
                name,
                default_roles: body.default_roles.unwrap_or_default(),
                default_tags: body.default_tags.unwrap_or_default(),
                default_max_unauthorised: body.max_unauthorised,
                ..Default::default()
            };
            let space = state
                .domain
                .create_space(&caller.principal, caller.name(), input)
                .await?;
            let resource = Space::new(&caller, space, 0);
            let mut response = json(StatusCode::CREATED, &resource);
            if let Ok(location) = resource.at_id.parse() {
                response
                    .headers_mut()
                    .insert(poem::http::header::LOCATION, location);
            }
            Ok(response)
        }
        .await,
    )
}

/// One space.
#[utoipa::path(
    operation_id = "getSpace",get, path = "/customers/{customer}/spaces/{space}", tag = "spaces",
    params(SpacePath),
    responses((status = 200, body = Space), (status = 401, body = Status),
        (status = 403, body = Status), (status = 404, body = Status)))]
#[handler]
pub async fn get(
    state: Data<&AppState>,
    request: &Request,
    Path(SpacePath { customer, space }): Path<SpacePath>,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let number = space_number(&space)?;
            let space = state
                .domain
                .space(&caller.principal, caller.name(), number)
                .await?;
            space_resource(&state, &caller, space).await
        }
        .await,
    )
}

/// Replaces a space's name and defaults; properties left out take their defaults. Spaces are
/// numbered by the server: a PUT to a number the customer does not have is 404 (POST to
/// the spaces collection creates one).
#[utoipa::path(
    operation_id = "putSpace",put, path = "/customers/{customer}/spaces/{space}", tag = "spaces",
    params(SpacePath),
    request_body = SpaceBody,
    responses((status = 200, body = Space), (status = 400, body = Status),
        (status = 401, body = Status), (status = 403, body = Status),
        (status = 404, body = Status), (status = 409, body = Status)))]
#[handler]
pub async fn put(
    state: Data<&AppState>,
    request: &Request,
    Path(SpacePath { customer, space }): Path<SpacePath>,
    body: Body,
) -> Response {
    respond(change(&state, request, &customer, &space, body, true).await)
}

/// Changes the properties a body names and leaves the others.
#[utoipa::path(
    operation_id = "patchSpace",patch, path = "/customers/{customer}/spaces/{space}", tag = "spaces",
    params(SpacePath),
    request_body = SpaceBody,
    responses((status = 200, body = Space), (status = 400, body = Status),
        (status = 401, body = Status), (status = 403, body = Status),
        (status = 404, body = Status), (status = 409, body = Status)))]
#[handler]
pub async fn patch(
    state: Data<&AppState>,
    request: &Request,
    Path(SpacePath { customer, space }): Path<SpacePath>,
    body: Body,
) -> Response {
    respond(change(&state, request, &customer, &space, body, false).await)
}

async fn change(
    state: &AppState,
    request: &Request,
    customer: &str,
    space: &str,
    body: Body,
    replace: bool,
) -> ApiResult {
    let caller = Caller::of(state, request, customer).await?;
    let number = space_number(space)?;
    let body: SpaceBody = json_body(state, body).await?;
    if replace && body.name.is_none() {
        return Err(ApiError::new("invalid-name", "a space needs a name"));
    }
    let changes = if replace {
        domain::SpacePatch {
            name: body.name,
            default_roles: Some(body.default_roles.unwrap_or_default()),
            default_tags: Some(body.default_tags.unwrap_or_default()),
            default_max_unauthorised: Some(body.max_unauthorised.unwrap_or(-1)),
            ..Default::default()
        }
    } else {
        domain::SpacePatch {
            name: body.name,
            default_roles: body.default_roles,
            default_tags: body.default_tags,
            default_max_unauthorised: body.max_unauthorised,
            ..Default::default()
        }
    };
    let space = state
        .domain
        .update_space(&caller.principal, caller.name(), number, changes)
        .await?;
    space_resource(state, &caller, space).await
}

/// Deletes an empty space (204); a space that still holds images is refused (409).
#[utoipa::path(
    operation_id = "deleteSpace",delete, path = "/customers/{customer}/spaces/{space}", tag = "spaces",
    params(SpacePath),
    responses((status = 204), (status = 401, body = Status), (status = 403, body = Status),
        (status = 404, body = Status), (status = 409, body = Status)))]
#[handler]
pub async fn delete(
    state: Data<&AppState>,
    request: &Request,
    Path(SpacePath { customer, space }): Path<SpacePath>,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let number = space_number(&space)?;
            state
                .domain
                .delete_space(&caller.principal, caller.name(), number)
                .await?;
            Ok(StatusCode::NO_CONTENT.into())
        }
        .await,
    )
}
