//! What each GraphQL request carries: who is calling, and the base of the URLs it returns.

use async_graphql::Context;
use auth::{ApiKeyCredential, Principal};
use poem::http::{HeaderMap, header};

use crate::error::graphql_error;
use crate::state::AppState;
use crate::visitor_access::VisitorAccess;
use std::net::IpAddr;
use std::sync::Arc;

/// Per-request data: the outcome of authentication and the public base URL.
#[derive(Debug, Clone)]
pub(crate) struct RequestContext {
    authentication: Result<Principal, domain::Error>,
    pub base_url: String,
    /// The client's address, for throttling failed credential checks.
    client: String,
    access: Arc<VisitorAccess>,
}

impl RequestContext {
    /// Authenticates the `Authorization` header (Basic key:secret or a Bearer token). A bad
    /// credential is remembered, not raised: operations that need none (`login`) still work.
    pub(crate) async fn from_headers(
        state: &AppState,
        headers: &HeaderMap,
        peer: Option<IpAddr>,
    ) -> Self {
        let client = client_key(state, headers, peer);
        let authentication = match headers.get(header::AUTHORIZATION) {
            None => Ok(Principal::Anonymous),
            Some(value) => match value.to_str() {
                Ok(value) => authenticate(state, &client, value).await,
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
            client,
            access: state.access.clone(),
        }
    }

    /// Who the request's credential names (anonymous without one), or why it was refused.
    pub(crate) fn authentication(&self) -> Result<Principal, domain::Error> {
        self.authentication.clone()
    }

    /// Whether the request presented a credential that holds.
    pub(crate) fn signed_in(&self) -> bool {
        matches!(&self.authentication, Ok(principal) if *principal != Principal::Anonymous)
    }

    /// Authenticates an `Authorization` value given another way (a WebSocket's
    /// `connection_init` payload).
    pub(crate) async fn from_authorization(
        state: &AppState,
        value: &str,
        base_url: String,
        client: String,
    ) -> Self {
        let authentication = authenticate(state, &client, value).await;
        if let Err(error) = &authentication {
            tracing::info!(%error, "management credential refused");
        }
        Self {
            authentication,
            base_url,
            client,
            access: state.access.clone(),
        }
    }

    /// Checks an API key like the `Authorization` header is checked, throttled the same way.
    pub(crate) async fn check_key(
        &self,
        domain: &domain::Domain,
        credential: &ApiKeyCredential,
    ) -> Result<Principal, domain::Error> {
        check_key_throttled(&self.access, &self.client, domain, credential).await
    }
}

/// The client's address as a throttle key (trusted proxies resolved).
pub(crate) fn client_key(state: &AppState, headers: &HeaderMap, peer: Option<IpAddr>) -> String {
    state
        .access
        .client_address(peer, headers)
        .map_or_else(|| "unknown".to_owned(), auth::throttle_address)
}

/// An API-key check that refuses clients and keys with too many recent failures, before any
/// hashing, so guessing secrets costs the guesser time and the server nothing.
async fn check_key_throttled(
    access: &VisitorAccess,
    client: &str,
    domain: &domain::Domain,
    credential: &ApiKeyCredential,
) -> Result<Principal, domain::Error> {
    // by address, and by key *from that address*: guesses from one address never lock the
    // key's owner out elsewhere (admin key included)
    let keys = [
        format!("address:{client}"),
        format!("key:{}@{client}", credential.key),
    ];
    let throttle = &access.key_failures;
    // Unlike viewer logins, API clients legitimately send many requests at once with the same
    // key, so attempts are not counted before the check (they would refuse a busy client's
    // own requests): failures are counted once known. A burst of parallel guesses is bounded
    // by the argon2 hashing, which runs on at most as many threads as there are cores.
    if let Some(wait) = keys.iter().find_map(|key| throttle.check(key).err()) {
        return Err(domain::Error::new(
            domain::ErrorKind::TooManyAttempts,
            format!(
                "too many failed credential checks; try again in {} s",
                wait.as_secs().max(1)
            ),
        ));
    }
    match domain.authenticate_key(credential).await {
        Ok(principal) => {
            // the address keeps its failures: one good key must not reset them
            throttle.clear(&keys[1]);
            Ok(principal)
        }
        Err(error) if error.kind == domain::ErrorKind::Unauthenticated => {
            for key in &keys {
                throttle.fail(key);
            }
            Err(error)
        }
        Err(error) => Err(error),
    }
}

async fn authenticate(
    state: &AppState,
    client: &str,
    value: &str,
) -> Result<Principal, domain::Error> {
    let domain = &state.domain;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("basic") {
        let credential = ApiKeyCredential::parse_basic(rest).map_err(domain::Error::from)?;
        check_key_throttled(&state.access, client, domain, &credential).await
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
/// The temporary file an upload's file part was streamed into.
pub(crate) fn upload_file(
    ctx: &Context<'_>,
    file: async_graphql::Upload,
) -> async_graphql::Result<std::fs::File> {
    let upload = file.value(ctx).map_err(|error| {
        graphql_error(domain::Error::bad_request(format!(
            "the upload cannot be read: {error}"
        )))
    })?;
    Ok(upload.content)
}

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
