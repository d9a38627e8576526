//! What each GraphQL request carries: who is calling, and the base of the URLs it returns.

use async_graphql::Context;
use auth::{ApiKeyCredential, Principal};
use poem::http::{HeaderMap, header};

use crate::error::graphql_error;
use crate::server::AppState;

/// Per-request data: the outcome of authentication and the public base URL.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    authentication: Result<Principal, domain::Error>,
    pub base_url: String,
}

impl RequestContext {
    /// Authenticates the `Authorization` header (Basic key:secret or a Bearer token). A bad
    /// credential is remembered, not raised: operations that need none (`login`) still work.
    pub(crate) async fn from_headers(state: &AppState, headers: &HeaderMap) -> Self {
        let authentication = match headers.get(header::AUTHORIZATION) {
            None => Ok(Principal::Anonymous),
            Some(value) => match value.to_str() {
                Ok(value) => authenticate(&state.domain, value).await,
                Err(_) => Err(domain::Error::unauthenticated(
                    "authorization header is not text",
                )),
            },
        };
        if let Err(error) = &authentication {
            tracing::info!(%error, "management credential refused");
        }
        Self {
            authentication,
            base_url: crate::public_url::public_base(state, headers),
        }
    }

    /// Authenticates an `Authorization` value given another way (a WebSocket's
    /// `connection_init` payload).
    pub(crate) async fn from_authorization(
        state: &AppState,
        value: &str,
        base_url: String,
    ) -> Self {
        let authentication = authenticate(&state.domain, value).await;
        if let Err(error) = &authentication {
            tracing::info!(%error, "management credential refused");
        }
        Self {
            authentication,
            base_url,
        }
    }
}

async fn authenticate(domain: &domain::Domain, value: &str) -> Result<Principal, domain::Error> {
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let credential = ApiKeyCredential::parse_basic(rest).map_err(domain::Error::from)?;
        domain.authenticate_key(&credential).await
    } else if scheme.eq_ignore_ascii_case("bearer") {
        domain.authenticate_token(rest.trim()).await
    } else {
        Err(domain::Error::unauthenticated(
            "authorization must be Basic or Bearer",
        ))
    }
}

/// The caller's principal, or the authentication failure as a GraphQL error.
pub(crate) fn principal(ctx: &Context<'_>) -> async_graphql::Result<Principal> {
    let request = request_context(ctx)?;
    request.authentication.clone().map_err(graphql_error)
}

pub(crate) fn request_context<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a RequestContext> {
    ctx.data::<RequestContext>()
}

pub(crate) fn domain<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a domain::Domain> {
    ctx.data::<domain::Domain>()
}

/// Runs a domain call with the caller's principal and maps its error.
pub(crate) async fn call<T, F, Fut>(ctx: &Context<'_>, operation: F) -> async_graphql::Result<T>
where
    F: FnOnce(domain::Domain, Principal) -> Fut,
    Fut: Future<Output = domain::Result<T>>,
{
    let principal = principal(ctx)?;
    let domain = domain(ctx)?.clone();
    operation(domain, principal).await.map_err(graphql_error)
}

/// The bytes of an uploaded file (GraphQL multipart), read off the async runtime.
pub(crate) async fn read_upload(
    ctx: &Context<'_>,
    file: async_graphql::Upload,
) -> async_graphql::Result<Vec<u8>> {
    let unreadable = |error: String| {
        graphql_error(domain::Error::bad_request(format!(
            "the upload cannot be read: {error}"
        )))
    };
    let upload = file
        .value(ctx)
        .map_err(|error| unreadable(error.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut upload.into_read(), &mut bytes).map(|_| bytes)
    })
    .await
    .map_err(|error| {
        graphql_error(domain::Error::internal(format!(
            "upload task failed: {error}"
        )))
    })?
    .map_err(|error| unreadable(error.to_string()))
}
