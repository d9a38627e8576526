//! The management API: GraphQL over HTTP at `/graphql` (GraphiQL on GET).
//!
//! One `*Query` / `*Mutation` pair per resource, merged here. Resolvers are thin: they read the
//! caller's principal, call one domain function and map its result.

mod access;
mod annotations;
mod assets;
mod batches;
mod connection;
mod context;
mod csv_imports;
mod customers;
mod fields;
mod keys;
mod limits;
mod origin_rules;
mod presentation;
mod spaces;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::http::{GraphiQLSource, MultipartOptions};
use async_graphql::{MergedObject, Schema};
use async_graphql_poem::{GraphQLProtocol, GraphQLWebSocket};
use poem::http::{HeaderMap, StatusCode, header};
use poem::web::websocket::WebSocket;
use poem::web::{Data, Html, RemoteAddr};
use poem::{Body, IntoResponse, Response, handler};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::RestError;
use crate::state::AppState;
pub(crate) use context::RequestContext;

/// Every query, merged.
#[derive(MergedObject, Default, Debug)]
pub struct Query(
    customers::CustomerQuery,
    spaces::SpaceQuery,
    assets::AssetQuery,
    batches::BatchQuery,
    csv_imports::CsvImportQuery,
    presentation::NamedQueryQuery,
);

/// Every mutation, merged.
#[derive(MergedObject, Default, Debug)]
pub struct Mutation(
    customers::CustomerMutation,
    keys::KeyMutation,
    spaces::SpaceMutation,
    assets::AssetMutation,
    batches::BatchMutation,
    csv_imports::CsvImportMutation,
    origin_rules::OriginRuleMutation,
    presentation::NamedQueryMutation,
    annotations::AnnotationMutation,
    access::AccessMutation,
);

pub type VitrineSchema = Schema<Query, Mutation, batches::Subscription>;

/// Limits that protect the server from abusive queries.
#[derive(Debug, Clone, Copy)]
pub struct QueryLimits {
    pub max_depth: usize,
    pub max_complexity: usize,
    /// Aliased fields per operation, fragments expanded.
    pub max_aliases: usize,
}

/// Builds the schema; per-request data (domain, principal, base URL) is attached per request.
pub fn build_schema(limits: QueryLimits) -> VitrineSchema {
    Schema::build(Query::default(), Mutation::default(), batches::Subscription)
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .extension(limits::AliasLimit {
            max_aliases: limits.max_aliases,
        })
        .finish()
}

/// The SDL that `vitrine schema` prints and `schema.graphql` holds.
pub fn sdl() -> String {
    build_schema(QueryLimits {
        max_depth: usize::MAX,
        max_complexity: usize::MAX,
        max_aliases: usize::MAX,
    })
    .sdl()
}

/// Errors raised by the GraphQL engine itself (syntax, unknown fields, argument values of the
/// wrong type, depth and complexity limits) carry no code: they are the client's to fix, so
/// they get BAD_REQUEST. Every error a resolver raises comes through `graphql_error` with its
/// own code, INTERNAL included.
/// The body as a reader that fails once more than `limit` bytes arrive, with a flag telling
/// that this is why it failed.
fn bounded_reader(
    body: Body,
    limit: usize,
) -> (impl futures::AsyncRead + Send + Unpin, Arc<AtomicBool>) {
    use futures::TryStreamExt;
    let overflowed = Arc::new(AtomicBool::new(false));
    let flag = overflowed.clone();
    let mut seen = 0usize;
    let chunks = body.into_bytes_stream().and_then(move |chunk| {
        seen = seen.saturating_add(chunk.len());
        let over = seen > limit;
        if over {
            flag.store(true, Ordering::Relaxed);
        }
        std::future::ready(if over {
            Err(std::io::Error::other("request body is over the limit"))
        } else {
            Ok(chunk)
        })
    });
    (Box::pin(chunks).into_async_read(), overflowed)
}

fn give_every_error_a_code(errors: &mut [async_graphql::ServerError]) {
    for error in errors {
        let has_code = error
            .extensions
            .as_ref()
            .is_some_and(|extensions| extensions.get("code").is_some());
        if !has_code {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("code", "BAD_REQUEST");
        }
    }
}

#[handler]
pub async fn graphiql() -> Html<String> {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .subscription_endpoint("/graphql/ws")
            .title("Vitrine GraphQL")
            .finish(),
    )
}

/// Runs one GraphQL request. The credential is checked before the body is read: a request
/// without a valid one may send a few kilobytes (enough for `login` and public queries) and no
/// files; file parts of a signed-in upload stream to temporary files, never to memory.
#[handler]
pub async fn execute(
    state: Data<&AppState>,
    headers: &HeaderMap,
    remote: &RemoteAddr,
    body: Body,
) -> Response {
    let peer = remote.as_socket_addr().map(|address| address.ip());
    let context = RequestContext::from_headers(&state, headers, peer).await;
    let is_multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        });
    let signed_in = context.signed_in();
    if is_multipart && !signed_in {
        return RestError::new(
            "unauthenticated",
            "uploads need a valid credential (an API key or a login token)",
        )
        .into_response();
    }
    let limit = match (signed_in, is_multipart) {
        (false, _) => state
            .config
            .max_anonymous_request_bytes
            .min(state.config.max_request_bytes),
        (true, true) => state.config.max_upload_bytes,
        (true, false) => state.config.max_request_bytes,
    };
    let too_large = || {
        let hint = if signed_in {
            ""
        } else {
            " without a valid credential"
        };
        RestError::new(
            "payload-too-large",
            format!("request body is over {limit} bytes{hint}"),
        )
        .into_response()
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        return too_large();
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok());
    // one reader for both kinds: JSON is read whole (within the limit), file parts stream to
    // temporary files
    let (reader, overflowed) = bounded_reader(body, limit);
    let options = MultipartOptions::default()
        .max_num_files(assets::MAX_UPLOAD_FILES)
        .max_file_size(limit);
    let request = match async_graphql::http::receive_body(content_type, reader, options).await {
        Ok(request) => request,
        Err(_) if overflowed.load(Ordering::Relaxed) => return too_large(),
        Err(error) => {
            return RestError::new("bad-request", format!("not a GraphQL request: {error}"))
                .into_response();
        }
    };
    let mut response = state
        .schema
        .execute(
            request
                .data(state.domain.clone())
                .data(state.processing.clone())
                .data(context),
        )
        .await;
    give_every_error_a_code(&mut response.errors);
    let body = match serde_json::to_string(&response) {
        Ok(body) => body,
        Err(error) => {
            return RestError::new("internal", format!("cannot encode response: {error}"))
                .into_response();
        }
    };
    Response::builder()
        .status(StatusCode::OK)
        .content_type("application/graphql-response+json; charset=utf-8")
        .body(body)
}

/// GraphQL subscriptions over WebSocket (`graphql-transport-ws` and the older `graphql-ws`).
/// The credential comes from the `Authorization` entry of the `connection_init` payload (as
/// browsers cannot set headers on a WebSocket), or else from the upgrade request's header.
#[handler]
pub async fn subscriptions(
    state: Data<&AppState>,
    headers: &HeaderMap,
    remote: &RemoteAddr,
    protocol: GraphQLProtocol,
    websocket: WebSocket,
) -> impl IntoResponse {
    let state = state.clone();
    let peer = remote.as_socket_addr().map(|address| address.ip());
    let client = context::client_key(&state, headers, peer);
    let from_headers = RequestContext::from_headers(&state, headers, peer).await;
    let base_url = from_headers.base_url.clone();
    websocket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |stream| {
            let schema = state.schema.clone();
            GraphQLWebSocket::new(stream, schema, protocol)
                .on_connection_init(move |payload| {
                    let state = state.clone();
                    let from_headers = from_headers.clone();
                    let base_url = base_url.clone();
                    let client = client.clone();
                    async move {
                        let authorization = payload
                            .get("Authorization")
                            .or_else(|| payload.get("authorization"))
                            .and_then(|value| value.as_str().map(str::to_owned));
                        let context = match authorization {
                            Some(value) => {
                                RequestContext::from_authorization(&state, &value, base_url, client)
                                    .await
                            }
                            None => from_headers,
                        };
                        let mut data = async_graphql::Data::default();
                        data.insert(state.domain.clone());
                        data.insert(state.processing.clone());
                        data.insert(context);
                        Ok(data)
                    }
                })
                .serve()
        })
}
