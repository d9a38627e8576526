//! A customer's queue: submitting a collection of images as one batch, and following batches
//! and their images until they finish.

use poem::http::{StatusCode, header};
use poem::web::{Data, Path, Query};
use poem::{Body, Request, Response, handler};

use super::resources::{
    Batch, BatchImage, Collection, ImageCollectionBody, MemberProblem, Queue, Status,
};
use super::spaces::PageQuery;
use super::{ApiError, ApiResult, BatchPath, Caller, CustomerPath, json, json_body, respond};
use crate::state::AppState;

/// What the customer's queue holds now.
#[utoipa::path(
    operation_id = "getQueue",get, path = "/customers/{customer}/queue", tag = "queue",
    params(CustomerPath),
    responses((status = 200, body = Queue), (status = 401, body = Status),
        (status = 403, body = Status)))]
#[handler]
pub async fn counts(
    state: Data<&AppState>,
    request: &Request,
    Path(CustomerPath { customer }): Path<CustomerPath>,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let counts = state
                .domain
                .queue_counts(&caller.principal, caller.name())
                .await?;
            Ok(json(StatusCode::OK, &Queue::new(&caller, counts)))
        }
        .await,
    )
}

/// Submits a hydra Collection of images (each with its `space`) as one batch: 201 with the
/// batch. The batch is all or nothing: when any member is invalid nothing is registered and
/// the answer lists every problem. Existing images take the member's properties and are
/// processed again.
#[utoipa::path(
    operation_id = "postQueue",post, path = "/customers/{customer}/queue", tag = "queue",
    params(CustomerPath),
    request_body = ImageCollectionBody,
    responses((status = 201, body = Batch), (status = 400, body = Status),
        (status = 401, body = Status), (status = 403, body = Status)))]
#[handler]
pub async fn submit(
    state: Data<&AppState>,
    request: &Request,
    Path(CustomerPath { customer }): Path<CustomerPath>,
    body: Body,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let body: ImageCollectionBody = json_body(&state, body).await?;
            let mut unplaced: Vec<MemberProblem> = Vec::new();
            let members = body
                .member
                .into_iter()
                .enumerate()
                .map(|(index, member)| {
                    let space = member.space.unwrap_or_else(|| {
                        unplaced.push(
                            domain::MemberProblem {
                                index,
                                field: Some("space"),
                                field_key: None,
                                error: domain::Error::invalid_input(
                                    "each member of a queue submission needs its space",
                                ),
                            }
                            .into(),
                        );
                        0
                    });
                    domain::BatchMemberInput {
                        space,
                        asset: member.registration_under_own_id(),
                        line: None,
                    }
                })
                .collect::<Vec<_>>();
            // a queue submission is one DLCS batch: over the limit it is refused, not split
            if members.len() > domain::MAX_BATCH_MEMBERS {
                return Err(ApiError::new(
                    "invalid-input",
                    format!(
                        "a batch has at most {} members, this one has {}",
                        domain::MAX_BATCH_MEMBERS,
                        members.len()
                    ),
                ));
            }
            if !unplaced.is_empty() {
                // every other problem too, but not "no space 0" for a member that gave none
                let placeless: Vec<usize> = unplaced.iter().map(|problem| problem.index).collect();
                let mut problems = unplaced;
                let others = state
                    .domain
                    .check_batch(&caller.principal, caller.name(), &members)
                    .await?;
                problems.extend(
                    others
                        .into_iter()
                        .filter(|problem| {
                            !(placeless.contains(&problem.index) && problem.field == Some("space"))
                        })
                        .map(Into::into),
                );
                problems.sort_by_key(|problem| problem.index);
                return Err(refused().with_problems(problems));
            }
            let batch = state
                .domain
                .create_batch(&caller.principal, caller.name(), members)
                .await?
                .map_err(|problems| {
                    refused().with_problems(problems.into_iter().map(Into::into).collect())
                })?;
            state.processing.job_queued();
            let batch = batch
                .into_iter()
                .next()
                .expect("one batch of at most the limit");
            let batch = Batch::new(&caller, batch);
            let mut response = json(StatusCode::CREATED, &batch);
            if let Ok(location) = batch.at_id.parse() {
                response.headers_mut().insert(header::LOCATION, location);
            }
            Ok(response)
        }
        .await,
    )
}

fn refused() -> ApiError {
    ApiError::new(
        "invalid-input",
        "the batch was not created: nothing was registered; see problems",
    )
}

/// Every batch of the customer, newest first.
#[utoipa::path(
    operation_id = "listBatches",get, path = "/customers/{customer}/queue/batches", tag = "queue",
    params(CustomerPath, PageQuery),
    responses((status = 200, body = Collection<Batch>), (status = 401, body = Status),
        (status = 403, body = Status)))]
#[handler]
pub async fn batches(
    state: Data<&AppState>,
    request: &Request,
    Path(CustomerPath { customer }): Path<CustomerPath>,
    Query(query): Query<PageQuery>,
) -> Response {
    let listing = domain::BatchListing::All;
    respond(listed(&state, request, &customer, &query, listing, "batches").await)
}

/// The batches not finished yet, newest first.
#[utoipa::path(
    operation_id = "listActiveBatches",get, path = "/customers/{customer}/queue/active", tag = "queue",
    params(CustomerPath, PageQuery),
    responses((status = 200, body = Collection<Batch>), (status = 401, body = Status),
        (status = 403, body = Status)))]
#[handler]
pub async fn active(
    state: Data<&AppState>,
    request: &Request,
    Path(CustomerPath { customer }): Path<CustomerPath>,
    Query(query): Query<PageQuery>,
) -> Response {
    let listing = domain::BatchListing::Active;
    respond(listed(&state, request, &customer, &query, listing, "active").await)
}

/// The finished batches, the most recently finished first.
#[utoipa::path(
    operation_id = "listRecentBatches",get, path = "/customers/{customer}/queue/recent", tag = "queue",
    params(CustomerPath, PageQuery),
    responses((status = 200, body = Collection<Batch>), (status = 401, body = Status),
        (status = 403, body = Status)))]
#[handler]
pub async fn recent(
    state: Data<&AppState>,
    request: &Request,
    Path(CustomerPath { customer }): Path<CustomerPath>,
    Query(query): Query<PageQuery>,
) -> Response {
    let listing = domain::BatchListing::Recent;
    respond(listed(&state, request, &customer, &query, listing, "recent").await)
}

async fn listed(
    state: &AppState,
    request: &Request,
    customer: &str,
    query: &PageQuery,
    listing: domain::BatchListing,
    path: &str,
) -> ApiResult {
    let caller = Caller::of(state, request, customer).await?;
    let paging = query.paging()?;
    let page = state
        .domain
        .batches(&caller.principal, caller.name(), listing, &paging.request())
        .await?;
    let member = page
        .items
        .into_iter()
        .map(|(_, batch)| Batch::new(&caller, batch))
        .collect();
    let url = format!("{}/queue/{path}", caller.customer_url());
    Ok(json(
        StatusCode::OK,
        &Collection::page(&url, member, page.total_count, paging),
    ))
}

/// One batch and its counters.
#[utoipa::path(
    operation_id = "getBatch",get, path = "/customers/{customer}/queue/batches/{batch}", tag = "queue",
    params(BatchPath),
    responses((status = 200, body = Batch), (status = 401, body = Status),
        (status = 403, body = Status), (status = 404, body = Status)))]
#[handler]
pub async fn one_batch(
    state: Data<&AppState>,
    request: &Request,
    Path(BatchPath { customer, batch }): Path<BatchPath>,
) -> Response {
    respond(
        async {
            let caller = Caller::of(&state, request, &customer).await?;
            let number = batch_number(&batch)?;
            let batch = state
                .domain
                .batch(&caller.principal, caller.name(), number)
                .await?;
            Ok(json(StatusCode::OK, &Batch::new(&caller, batch)))
        }
        .await,
    )
}

fn batch_number(batch: &str) -> Result<i64, ApiError> {
    batch
        .parse::<i64>()
        .map_err(|_| ApiError::new("not-found", format!("no batch {batch:?}")))
}

/// Every image of a batch, in submission order, whatever its state.
#[utoipa::path(
    operation_id = "listBatchImages",get, path = "/customers/{customer}/queue/batches/{batch}/images", tag = "queue",
    params(BatchPath, PageQuery),
    responses((status = 200, body = Collection<BatchImage>), (status = 401, body = Status),
        (status = 403, body = Status), (status = 404, body = Status)))]
#[handler]
pub async fn batch_images(
    state: Data<&AppState>,
    request: &Request,
    Path(BatchPath { customer, batch }): Path<BatchPath>,
    Query(query): Query<PageQuery>,
) -> Response {
    respond(members(&state, request, (&customer, &batch), &query, None, "images").await)
}

/// The images of a batch that are ready.
#[utoipa::path(
    operation_id = "listBatchCompletedImages",get, path = "/customers/{customer}/queue/batches/{batch}/completedImages",
    tag = "queue",
    params(BatchPath, PageQuery),
    responses((status = 200, body = Collection<BatchImage>), (status = 401, body = Status),
        (status = 403, body = Status), (status = 404, body = Status)))]
#[handler]
pub async fn completed_images(
    state: Data<&AppState>,
    request: &Request,
    Path(BatchPath { customer, batch }): Path<BatchPath>,
    Query(query): Query<PageQuery>,
) -> Response {
    let ready = Some(domain::AssetStatus::Ready);
    respond(
        members(
            &state,
            request,
            (&customer, &batch),
            &query,
            ready,
            "completedImages",
        )
        .await,
    )
}

/// The images of a batch that failed, each with its `error`.
#[utoipa::path(
    operation_id = "listBatchErrorImages",get, path = "/customers/{customer}/queue/batches/{batch}/errorImages",
    tag = "queue",
    params(BatchPath, PageQuery),
    responses((status = 200, body = Collection<BatchImage>), (status = 401, body = Status),
        (status = 403, body = Status), (status = 404, body = Status)))]
#[handler]
pub async fn error_images(
    state: Data<&AppState>,
    request: &Request,
    Path(BatchPath { customer, batch }): Path<BatchPath>,
    Query(query): Query<PageQuery>,
) -> Response {
    let failed = Some(domain::AssetStatus::Error);
    respond(
        members(
            &state,
            request,
            (&customer, &batch),
            &query,
            failed,
            "errorImages",
        )
        .await,
    )
}

async fn members(
    state: &AppState,
    request: &Request,
    (customer, batch): (&str, &str),
    query: &PageQuery,
    status: Option<domain::AssetStatus>,
    path: &str,
) -> ApiResult {
    let caller = Caller::of(state, request, customer).await?;
    let paging = query.paging()?;
    let number = batch_number(batch)?;
    let page = state
        .domain
        .batch_assets(
            &caller.principal,
            caller.name(),
            number,
            status,
            &paging.request(),
        )
        .await?;
    let member = page
        .items
        .into_iter()
        .map(|(_, (member, asset))| BatchImage::new(&caller, member, asset, number))
        .collect();
    let url = format!("{}/{path}", caller.batch_url(number));
    Ok(json(
        StatusCode::OK,
        &Collection::page(&url, member, page.total_count, paging),
    ))
}
