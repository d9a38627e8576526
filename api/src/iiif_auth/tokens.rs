//! The token services: 2.0's HTML page that posts the access token (or its error) to the
//! viewer's origin, and 1.0's (JSON without `messageId`); both issue a token for the visitor's
//! session, or for an external service's aspect, carrying only the roles granted for the
//! origin it goes to.

use std::collections::HashMap;
use std::net::IpAddr;

use domain::SessionLookup;
use iiif::auth::{TokenError, token_1, token_error, token_error_1, token_message};
use poem::http::{HeaderMap, StatusCode, Uri, header};
use poem::web::{Data, Path, RemoteAddr};
use poem::{Response, handler};
use serde_json::{Value, json};

use super::pages::{Page, script_json};
use super::{peer, query};
use crate::public_url::public_base;
use crate::state::AppState;
use crate::visitor_access::{cookie, session_cookie_name};

const MAX_MESSAGE_ID_CHARS: usize = 1024;

/// An access token for the visitor's session, or why there is none.
async fn issue_token(
    state: &AppState,
    customer: &str,
    origin: Option<&str>,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Result<(String, i64), (TokenError, &'static str)> {
    let unavailable = (
        TokenError::Unavailable,
        "The service is unavailable; try again shortly.",
    );
    let customer_id = match state.domain.visitor_customer(customer).await {
        Ok(id) => id,
        Err(error) if error.kind == domain::ErrorKind::NotFound => {
            return Err((TokenError::InvalidRequest, "There is no such customer."));
        }
        Err(_) => return Err(unavailable),
    };
    let cookie_name = session_cookie_name(customer);
    // sessions from access pages are for the origins those pages were opened from (or, when
    // opened without one, this server's own pages); an external aspect goes with every
    // request the browser makes, so it is not tied to an origin
    let mut any_origin = false;
    let session = match cookie(headers, &cookie_name) {
        Some(secret) => match state.domain.visitor_session(customer_id, secret).await {
            Ok(SessionLookup::Live(session)) => session,
            Ok(SessionLookup::Expired) => {
                return Err((TokenError::ExpiredAspect, "Your session has expired."));
            }
            Ok(SessionLookup::Missing) => {
                return Err((TokenError::InvalidAspect, "Your session is not valid."));
            }
            Err(_) => return Err(unavailable),
        },
        None => {
            // an external service's aspect (through a trusted proxy) stands in for a session
            let external = state
                .domain
                .external_services(customer_id)
                .await
                .map_err(|_| unavailable)?;
            let roles = state.access.external_roles(&external, headers, peer);
            if roles.is_empty() {
                return Err((TokenError::MissingAspect, "You have not been given access."));
            }
            let ttl = external
                .iter()
                .map(|(service, _)| service.session_ttl)
                .min()
                .unwrap_or(domain::DEFAULT_SESSION_TTL);
            let granted = state
                .domain
                .grant_session(customer_id, None, &roles, ttl, None, None)
                .await
                .map_err(|_| unavailable)?;
            any_origin = true;
            match state
                .domain
                .visitor_session_by_id(customer_id, granted.id)
                .await
            {
                Ok(SessionLookup::Live(session)) => session,
                _ => return Err(unavailable),
            }
        }
    };
    // the token carries only the roles granted for the origin it goes to
    let own = auth::web_origin(&public_base(state, headers));
    let token_origin = match origin {
        _ if any_origin => auth::ANY_ORIGIN.to_owned(),
        // a 1.0 token without an origin is JSON without CORS: only this site's own pages
        // (and clients that hold the cookie anyway) can read it
        None => auth::ANY_ORIGIN.to_owned(),
        Some(origin) if session.has_origin(Some(origin)) => origin.to_owned(),
        Some(origin) if own.as_deref() == Some(origin) && session.has_origin(None) => String::new(),
        Some(_) => {
            return Err((
                TokenError::InvalidOrigin,
                "Access was given to another site's viewer.",
            ));
        }
    };
    let remaining = (session.expires - chrono::Utc::now()).num_seconds();
    let ttl = state.access.token_ttl.min(remaining).max(1);
    let token = state
        .access
        .tokens
        .issue_for(session.id, customer, &token_origin, ttl)
        .map_err(|_| unavailable)?;
    Ok((token, ttl))
}

/// The token page: posts `message` to the viewer's window at `target` origin.
fn post_message_page(message: &Value, target: &str) -> Response {
    let mut page = Page::new(StatusCode::OK, "Access token", String::new()).script(format!(
        "window.parent.postMessage({}, {});",
        script_json(message),
        script_json(&json!(target))
    ));
    page.framable = true;
    page.into_response()
}

/// The message id: at most 1024 characters (it is echoed, so it is bounded).
fn message_id(parameters: &HashMap<String, String>) -> Option<String> {
    parameters
        .get("messageId")
        .filter(|id| !id.is_empty() && id.chars().count() <= MAX_MESSAGE_ID_CHARS)
        .cloned()
}

#[handler]
pub(super) async fn token_2(
    state: Data<&AppState>,
    Path(customer): Path<String>,
    uri: &Uri,
    headers: &HeaderMap,
    remote: &RemoteAddr,
) -> Response {
    let parameters = query(uri);
    let origin = parameters
        .get("origin")
        .and_then(|origin| auth::web_origin(origin));
    let id = message_id(&parameters);
    let error_page = |error: TokenError, note: &str, target: &str, id: &str| {
        let message = token_error(error, id, "Access is not available", note);
        post_message_page(&message, target)
    };
    let Some(origin) = origin else {
        // the message cannot reach a viewer whose origin is unknown; it carries no secret
        return error_page(
            TokenError::InvalidOrigin,
            "The origin parameter must be the viewer's web origin.",
            "*",
            id.as_deref().unwrap_or(""),
        );
    };
    let Some(id) = id else {
        return error_page(
            TokenError::InvalidRequest,
            "The messageId parameter is required.",
            &origin,
            "",
        );
    };
    match issue_token(&state, &customer, Some(&origin), headers, peer(remote)).await {
        Ok((issued, expires_in)) => {
            post_message_page(&token_message(&issued, expires_in, &id), &origin)
        }
        Err((error, note)) => error_page(error, note, &origin, &id),
    }
}

#[handler]
pub(super) async fn token_1_service(
    state: Data<&AppState>,
    Path(customer): Path<String>,
    uri: &Uri,
    headers: &HeaderMap,
    remote: &RemoteAddr,
) -> Response {
    let parameters = query(uri);
    let id = message_id(&parameters);
    let origin = match parameters.get("origin") {
        Some(origin) => match auth::web_origin(origin) {
            Some(origin) => Some(origin),
            None => {
                let error = token_error_1(
                    TokenError::InvalidOrigin,
                    "origin is not a web origin",
                    id.as_deref(),
                );
                return match id {
                    Some(_) => post_message_page(&error, "*"),
                    None => json_error_1(TokenError::InvalidOrigin, error),
                };
            }
        },
        None if id.is_some() => {
            let error = token_error_1(
                TokenError::InvalidRequest,
                "origin is required with messageId",
                id.as_deref(),
            );
            return post_message_page(&error, "*");
        }
        None => None,
    };
    let issued = issue_token(&state, &customer, origin.as_deref(), headers, peer(remote)).await;
    match (issued, id, origin) {
        (Ok((issued, expires_in)), Some(id), Some(origin)) => {
            post_message_page(&token_1(&issued, expires_in, Some(&id)), &origin)
        }
        (Err((error, note)), Some(id), Some(origin)) => {
            post_message_page(&token_error_1(error, note, Some(&id)), &origin)
        }
        (Ok((issued, expires_in)), _, _) => Response::builder()
            .content_type("application/json")
            .header(header::CACHE_CONTROL, "no-store")
            .body(token_1(&issued, expires_in, None).to_string()),
        (Err((error, note)), _, _) => json_error_1(error, token_error_1(error, note, None)),
    }
}

fn json_error_1(error: TokenError, body: Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(error.status_1()).unwrap_or(StatusCode::BAD_REQUEST))
        .content_type("application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(body.to_string())
}
