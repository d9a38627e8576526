//! IIIF Authorization Flow 2.0 (and the 1.0 token service for older viewers):
//!
//! - `GET /auth/2/probe/{customer}/{space}/{asset}`: the probe, always 200 with an
//!   `AuthProbeResult2`, decided from the bearer access token only;
//! - `GET|POST /auth/2/{customer}/access/{service}?origin=`: the access page (clickthrough
//!   confirm, login form, kiosk by address), which sets the session cookie;
//! - `GET /auth/2/{customer}/token?messageId=&origin=`: the token service, an HTML page that
//!   posts the access token (or its error) to the viewer's origin; `/auth/1/{customer}/token`
//!   is the 1.0 one (JSON without `messageId`);
//! - `GET /auth/2/{customer}/logout/{service}`: ends the session and every token it issued.
//!
//! Every page escapes what it shows, carries a Content-Security-Policy whose script nonce is
//! fresh per response, and access pages refuse to be framed.
//!
//! - this file: the routes, and what every route reads from a request (the peer, the query,
//!   the named auth service)
//! - `pages`: the HTML pages: escaping, the page frame and its security headers, the cookies
//!   pages set, and the stock pages
//! - `probe`: the probe service
//! - `access`: the access pages (clickthrough, login, kiosk) and the grant of roles into a
//!   session
//! - `tokens`: the 2.0 and 1.0 token services
//! - `logout`: the logout service

mod access;
mod logout;
mod pages;
mod probe;
mod tokens;

use std::collections::HashMap;
use std::net::IpAddr;

use domain::AuthService;
use poem::http::Uri;
use poem::web::RemoteAddr;
use poem::{Endpoint, Response, Route, get};

use crate::http::preflight;
use crate::state::AppState;
use access::{access_form, access_page};
use pages::{not_found_page, unavailable_page};
use probe::probe_page;
use tokens::{token_1_service, token_2};

pub fn routes() -> impl Endpoint {
    Route::new()
        .at(
            "/2/probe/:customer/:space/:asset",
            get(probe_page).options(preflight),
        )
        .at(
            "/2/:customer/access/:service",
            get(access_page).post(access_form),
        )
        .at("/2/:customer/token", get(token_2))
        .at("/1/:customer/token", get(token_1_service))
        .at("/2/:customer/logout/:service", get(logout::logout))
}

fn peer(remote: &RemoteAddr) -> Option<IpAddr> {
    remote.as_socket_addr().map(|address| address.ip())
}

fn query(uri: &Uri) -> HashMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The service, or the page that says it does not exist.
async fn service(
    state: &AppState,
    customer: &str,
    name: &str,
) -> Result<(i32, AuthService), Response> {
    match state.domain.public_auth_service(customer, name).await {
        Ok(found) => Ok(found),
        Err(error) if error.kind == domain::ErrorKind::NotFound => {
            Err(not_found_page("There is no such access service."))
        }
        Err(_) => Err(unavailable_page()),
    }
}
