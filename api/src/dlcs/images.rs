//! The images of a space: listing with filters, registration (POST, and a synchronous PUT),
//! changes one at a time or as a collection, and deletion.

use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Body, Request, Response, handler};
use serde::Deserialize;
use utoipa::IntoParams;

use super::resources::{Collection, Image, ImageBody, ImageCollectionBody, MemberProblem, Status};
use super::{
    ApiError, Caller, ImagePath, Paging, SpacePath, json, json_body, respond, space_number,
};
use crate::state::AppState;

/// Paging and tags of a space's images; their reference filters (string1-3, number1-3) are
/// read by [`ImageQuery::filter`] as the domain names them.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImageQuery {
    /// The page, from 1.
    pub page: Option<String>,
    /// Members per page (1 to 1000; default 100).
    #[serde(rename = "pageSize")]
    #[param(rename = "pageSize")]
    pub page_size: Option<String>,
    /// Images carrying every one of these comma-separated tags.
    pub tags: Option<String>,
}

impl ImageQuery {
    /// The filter the request's query string asks for: these tags, and each reference it names.
    fn filter(&self, query_string: &str) -> Result<domain::AssetFilter, ApiError> {
        let mut references = domain::References::default();
        for (name, value) in url::form_urlencoded::parse(query_string.as_bytes()) {
            references.set_from_text(&name, &value)?;
        }
        Ok(domain::AssetFilter {
            references,
            tags: self
                .tags
                .iter()
                .flat_map(|tags| tags.split(','))
                .map(str::trim)
                .filter(|tag| !tag.is_empty())
                .map(str::to_owned)
                .collect(),
            ..Default::default()
        })
    }

    /// The filters as a query string, so that paging links keep them.
    fn filters_query(&self, filter: &domain::AssetFilter) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in filter.references.named_values() {
            query.append_pair(name, &value);
        }
        if let Some(tags) = &self.tags {
            query.append_pair("tags", tags);
        }
        query.finish()
    }
}

/// A space's images by id, filtered by string1-3, number1-3 and tags.
#[utoipa::path(
    operation_id = "listImages",get, path = "/customers/{customer}/spaces/{space}/images", tag = "images",
    params(SpacePath, ImageQuery, domain::References),
    responses((status = 200, body = Collection<Image>), (status = 400, body = Status),
        (status = 401, body = Status), (status = 403, body = Status),
        (status = 404, body = Status)))]
#[handler]
pub async fn list(
    state: Data<&AppState>,
    request: &Request,
    Path(SpacePath { customer, space }): Path<SpacePath>,
    Query(query): Query<ImageQuery>,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let paging = Paging::from_query(query.page.as_deref(), query.page_size.as_deref())?;
            let filter = query.filter(request.uri().query().unwrap_or_default())?;
            let number = space_number(&space)?;
            let page = state
                .domain
                .assets(
                    &caller.principal,
                    caller.name(),
                    number,
                    &filter,
                    domain::AssetOrder::default(),
                    &paging.request(),
                )
                .await?;
            let member = page
                .items
                .into_iter()
                .map(|(_, asset)| Image::new(&caller, asset))
                .collect();
            let mut url = format!("{}/images", caller.space_url(number));
            let filters = query.filters_query(&filter);
            if !filters.is_empty() {
                url = format!("{url}?{filters}");
            }
            Ok(json(
                StatusCode::OK,
                &Collection::page(&url, member, page.total_count, paging),
            ))
        }
        .await,
    )
}

/// Registers one image and queues its processing (201 at once, `ingesting: true`). Without an
/// `id` the server assigns one (a UUID).
#[utoipa::path(
    operation_id = "createImage",post, path = "/customers/{customer}/spaces/{space}/images", tag = "images",
    params(SpacePath),
    request_body = ImageBody,
    responses((status = 201, body = Image), (status = 400, body = Status),
        (status = 401, body = Status), (status = 403, body = Status),
        (status = 404, body = Status), (status = 409, body = Status)))]
#[handler]
pub async fn create(
    state: Data<&AppState>,
    request: &Request,
    Path(SpacePath { customer, space }): Path<SpacePath>,
    body: Body,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let number = space_number(&space)?;
            let body: ImageBody = json_body(&state, body).await?;
            let asset = state
                .domain
                .register_asset(
                    &caller.principal,
                    caller.name(),
                    number,
                    body.registration_under_own_id(),
                )
                .await?;
            let asset = state.processing.after_registration(asset, false).await?;
            Ok(created(Image::new(&caller, asset)))
        }
        .await,
    )
}

fn problem(index: usize, field: &'static str, error: domain::Error) -> MemberProblem {
    domain::MemberProblem {
        index,
        field: Some(field),
        field_key: None,
        error,
    }
    .into()
}

/// 201 with the image, and its URL in `Location`.
fn created(image: Image) -> Response {
    let mut response = json(StatusCode::CREATED, &image);
    if let Ok(location) = image.at_id.parse() {
        response.headers_mut().insert(header::LOCATION, location);
    }
    response
}

/// One image.
#[utoipa::path(
    operation_id = "getImage",get, path = "/customers/{customer}/spaces/{space}/images/{image}", tag = "images",
    params(ImagePath),
    responses((status = 200, body = Image), (status = 401, body = Status),
        (status = 403, body = Status), (status = 404, body = Status)))]
#[handler]
pub async fn get(
    state: Data<&AppState>,
    request: &Request,
    Path(ImagePath {
        customer,
        space,
        image,
    }): Path<ImagePath>,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let number = space_number(&space)?;
            let asset = state
                .domain
                .asset(&caller.principal, caller.name(), number, &image)
                .await?;
            Ok(json(StatusCode::OK, &Image::new(&caller, asset)))
        }
        .await,
    )
}

/// Registers an image under this id, or replaces every property of the one there, and
/// processes it **synchronously**: the answer comes once it is ready (or has failed, with
/// `error` saying why): 201 when it was created, 200 when it replaced one.
#[utoipa::path(
    operation_id = "putImage",put, path = "/customers/{customer}/spaces/{space}/images/{image}", tag = "images",
    params(ImagePath),
    request_body = ImageBody,
    responses((status = 201, body = Image), (status = 200, body = Image),
        (status = 400, body = Status), (status = 401, body = Status),
        (status = 403, body = Status), (status = 404, body = Status)))]
#[handler]
pub async fn put(
    state: Data<&AppState>,
    request: &Request,
    Path(ImagePath {
        customer,
        space,
        image,
    }): Path<ImagePath>,
    body: Body,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let number = space_number(&space)?;
            let body: ImageBody = json_body(&state, body).await?;
            let (asset, was_created) = state
                .domain
                .put_asset(
                    &caller.principal,
                    caller.name(),
                    number,
                    body.registration(image),
                )
                .await?;
            let asset = state.processing.after_registration(asset, true).await?;
            let image = Image::new(&caller, asset);
            Ok(if was_created {
                created(image)
            } else {
                json(StatusCode::OK, &image)
            })
        }
        .await,
    )
}

/// Changes the properties a body names and leaves the others; a new origin or media type
/// queues processing again.
#[utoipa::path(
    operation_id = "patchImage",patch, path = "/customers/{customer}/spaces/{space}/images/{image}", tag = "images",
    params(ImagePath),
    request_body = ImageBody,
    responses((status = 200, body = Image), (status = 400, body = Status),
        (status = 401, body = Status), (status = 403, body = Status),
        (status = 404, body = Status)))]
#[handler]
pub async fn patch(
    state: Data<&AppState>,
    request: &Request,
    Path(ImagePath {
        customer,
        space,
        image,
    }): Path<ImagePath>,
    body: Body,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let number = space_number(&space)?;
            let body: ImageBody = json_body(&state, body).await?;
            let asset = change(&state, &caller, number, &image, body).await?;
            Ok(json(StatusCode::OK, &Image::new(&caller, asset)))
        }
        .await,
    )
}

async fn change(
    state: &AppState,
    caller: &Caller,
    space: i32,
    id: &str,
    body: ImageBody,
) -> Result<domain::Asset, ApiError> {
    let asset = state
        .domain
        .update_asset(&caller.principal, caller.name(), space, id, body.patch())
        .await?;
    if asset.status == domain::AssetStatus::Waiting {
        state.processing.job_queued();
    }
    Ok(asset)
}

/// Changes several images at once: a hydra Collection whose members each carry their `id`
/// and the properties to change. All or none: when any member names no image of the space or
/// holds a bad value, nothing is changed and every problem is listed.
#[utoipa::path(
    operation_id = "patchImages",patch, path = "/customers/{customer}/spaces/{space}/images", tag = "images",
    params(SpacePath),
    request_body = ImageCollectionBody,
    responses((status = 200, body = Collection<Image>), (status = 400, body = Status),
        (status = 401, body = Status), (status = 403, body = Status),
        (status = 404, body = Status)))]
#[handler]
pub async fn patch_many(
    state: Data<&AppState>,
    request: &Request,
    Path(SpacePath { customer, space }): Path<SpacePath>,
    body: Body,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let number = space_number(&space)?;
            let body: ImageCollectionBody = json_body(&state, body).await?;
            let limit = domain::paging::MAX_PAGE_SIZE as usize;
            if body.member.len() > limit {
                return Err(ApiError::new(
                    "invalid-input",
                    format!("at most {limit} images can be changed at once"),
                ));
            }
            let mut unnamed = Vec::new();
            let mut patches = Vec::with_capacity(body.member.len());
            for (index, member) in body.member.into_iter().enumerate() {
                match member.given_id() {
                    Some(id) => patches.push((id, member.patch())),
                    None => unnamed.push(problem(
                        index,
                        "id",
                        domain::Error::new(
                            domain::ErrorKind::InvalidId,
                            "each member needs the id of the image it changes",
                        ),
                    )),
                }
            }
            let refused = |problems| {
                ApiError::new(
                    "invalid-input",
                    "no image was changed: some members name no image of this space or hold a bad value",
                )
                .with_problems(problems)
            };
            if !unnamed.is_empty() {
                return Err(refused(unnamed));
            }
            let total = patches.len();
            let changed = state
                .domain
                .update_assets(&caller.principal, caller.name(), number, patches)
                .await?
                .map_err(|problems| refused(problems.into_iter().map(Into::into).collect()))?;
            if changed
                .iter()
                .any(|asset| asset.status == domain::AssetStatus::Waiting)
            {
                state.processing.job_queued();
            }
            let member = changed
                .into_iter()
                .map(|asset| Image::new(&caller, asset))
                .collect();
            let url = format!("{}/images", caller.space_url(number));
            let paging = Paging {
                page: 1,
                page_size: total.max(1) as i32,
            };
            Ok(json(
                StatusCode::OK,
                &Collection::page(&url, member, total as u64, paging),
            ))
        }
        .await,
    )
}

/// Deletes an image and everything stored for it (204).
#[utoipa::path(
    operation_id = "deleteImage",delete, path = "/customers/{customer}/spaces/{space}/images/{image}", tag = "images",
    params(ImagePath),
    responses((status = 204), (status = 401, body = Status), (status = 403, body = Status),
        (status = 404, body = Status)))]
#[handler]
pub async fn delete(
    state: Data<&AppState>,
    request: &Request,
    Path(ImagePath {
        customer,
        space,
        image,
    }): Path<ImagePath>,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let number = space_number(&space)?;
            let deleted = state
                .domain
                .delete_asset(&caller.principal, caller.name(), number, &image)
                .await?;
            state.processing.remove_stored(&deleted).await?;
            Ok(StatusCode::NO_CONTENT.into())
        }
        .await,
    )
}
