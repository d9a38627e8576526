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

use std::collections::HashMap;
use std::net::IpAddr;

use auth::{Decision, Requested};
use domain::{AccessProfile, ActiveKind, AssetFamily, AssetStatus, AuthService, SessionLookup};
use iiif::auth::{TokenError, probe_result, token_1, token_error, token_error_1, token_message};
use poem::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use poem::web::{Data, Path, RemoteAddr};
use poem::{Body, Endpoint, Response, Route, get, handler};
use serde_json::{Value, json};

use crate::error::RestError;
use crate::http::{parse_space, preflight, with_cors};
use crate::public_url::{degraded_service_id, public_base};
use crate::state::AppState;
use crate::visitor_access::{cookie, session_cookie_name};

const CSRF_COOKIE: &str = "vitrine-csrf";
const MAX_FORM_BYTES: usize = 16 * 1024;
const MAX_MESSAGE_ID_CHARS: usize = 1024;

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
        .at("/2/:customer/logout/:service", get(logout))
}

fn peer(remote: &RemoteAddr) -> Option<IpAddr> {
    remote.as_socket_addr().map(|address| address.ip())
}

fn query(uri: &Uri) -> HashMap<String, String> {
    url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

// ---- HTML -------------------------------------------------------------------------------

/// Text made safe for HTML element content and quoted attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// JSON that is safe inside a `<script>` element: no `<`, `>`, `&` or line separators left
/// for the HTML parser to act on.
fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Multi-line visitor text as paragraphs.
fn paragraphs(text: &str) -> String {
    text.split('\n')
        .filter(|line| !line.trim().is_empty())
        .map(|line| format!("<p>{}</p>", escape(line)))
        .collect()
}

struct Page {
    status: StatusCode,
    title: String,
    body: String,
    script: Option<String>,
    framable: bool,
    cookies: Vec<String>,
}

impl Page {
    fn new(status: StatusCode, title: &str, body: String) -> Self {
        Self {
            status,
            title: title.to_owned(),
            body,
            script: None,
            framable: false,
            cookies: Vec::new(),
        }
    }

    fn message(status: StatusCode, title: &str, text: &str) -> Self {
        Self::new(status, title, paragraphs(text))
    }

    fn script(mut self, script: String) -> Self {
        self.script = Some(script);
        self
    }

    fn cookie(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }

    fn into_response(self) -> Response {
        let nonce = auth::generate_session_secret();
        let script = self
            .script
            .map(|script| format!("<script nonce=\"{nonce}\">{script}</script>"))
            .unwrap_or_default();
        let html = format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>{title}</title><style>body{{font-family:system-ui,sans-serif;max-width:32rem;\
             margin:3rem auto;padding:0 1rem;line-height:1.5}}label,input,button{{display:block;\
             margin:.4rem 0}}.error{{color:#a00}}</style></head><body><h1>{title}</h1>{body}{script}\
             </body></html>",
            title = escape(&self.title),
            body = self.body,
        );
        let frames = if self.framable {
            ""
        } else {
            "; frame-ancestors 'none'"
        };
        let mut response = Response::builder()
            .status(self.status)
            .content_type("text/html; charset=utf-8")
            .header(header::CACHE_CONTROL, "no-store")
            .header("x-content-type-options", "nosniff")
            .header(
                "content-security-policy",
                format!(
                    "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; \
                     form-action 'self'; base-uri 'none'{frames}"
                ),
            );
        if !self.framable {
            response = response.header("x-frame-options", "DENY");
        }
        for cookie in self.cookies {
            response = response.header(header::SET_COOKIE, cookie);
        }
        response.body(html)
    }
}

/// Whether cookies must be `Secure`: when the public URL is https, or a trusted proxy says the
/// visitor came over https.
fn secure(state: &AppState, headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
    let forwarded_https = || {
        state.access.is_trusted_proxy(peer)
            && headers
                .get("x-forwarded-proto")
                .and_then(|value| value.to_str().ok())
                .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
    };
    public_base(state, headers).starts_with("https://") || forwarded_https()
}

/// A cookie for the session or the CSRF check. On https sessions are `SameSite=None` so viewers
/// on other sites send them with tiles; browsers accept `None` only with `Secure`, so plain
/// http (development) falls back to `Lax`.
fn set_cookie(
    name: &str,
    value: &str,
    max_age: i64,
    secure: bool,
    same_site_none: bool,
    path: &str,
) -> String {
    let same_site = match (same_site_none, secure) {
        (true, true) => "; SameSite=None; Secure",
        (true, false) => "; SameSite=Lax",
        (false, true) => "; SameSite=Strict; Secure",
        (false, false) => "; SameSite=Strict",
    };
    format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly{same_site}")
}

fn closing_page(title: &str, text: &str) -> Page {
    Page::message(StatusCode::OK, title, text).script("window.close();".to_owned())
}

fn not_found_page(text: &str) -> Response {
    Page::message(StatusCode::NOT_FOUND, "Not found", text).into_response()
}

fn unavailable_page() -> Response {
    Page::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Unavailable",
        "The service cannot be reached just now. Try again shortly.",
    )
    .into_response()
}

// ---- probe ------------------------------------------------------------------------------

#[handler]
async fn probe_page(
    state: Data<&AppState>,
    Path((customer, space, id)): Path<(String, String, String)>,
    headers: &HeaderMap,
) -> Response {
    let result = match probe_document(&state, &customer, &space, &id, headers).await {
        Ok(result) => result,
        Err(error) if error.status() == StatusCode::NOT_FOUND => {
            probe_result(404, None, Some("Not found"), Some(&error.message))
        }
        Err(error) => probe_result(503, None, Some("Unavailable"), Some(&error.message)),
    };
    let response = Response::builder()
        .content_type(format!(
            "application/ld+json;profile=\"{}\"",
            iiif::auth::CONTEXT_2
        ))
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::ACCESS_CONTROL_ALLOW_HEADERS, "Authorization")
        .body(result.to_string());
    with_cors(response)
}

async fn probe_document(
    state: &AppState,
    customer: &str,
    space: &str,
    id: &str,
    headers: &HeaderMap,
) -> Result<Value, RestError> {
    let space = parse_space(space)?;
    let asset = state
        .domain
        .delivered_asset(customer, space, id)
        .await
        .map_err(RestError::unavailable)?;
    if asset.status != AssetStatus::Ready {
        return Ok(probe_result(
            404,
            None,
            Some("Not available yet"),
            Some("This item is still being processed, or could not be."),
        ));
    }
    if auth::is_open(&asset.roles, asset.max_unauthorised) {
        return Ok(probe_result(200, None, None, None));
    }
    let access = &state.access;
    let held = access
        .token_roles(&state.domain, asset.customer_id, customer, headers)
        .await?
        .unwrap_or_default();
    let services = access
        .services(&state.domain, asset.customer_id, &asset.roles)
        .await?;
    let image = asset.family == AssetFamily::Image;
    let requested = match (image, asset.width, asset.height) {
        (true, Some(width), Some(height)) => {
            Requested::WholeImageAt(width.max(height).max(0) as u32)
        }
        _ => Requested::Other,
    };
    let decision = auth::decide(
        &asset.roles,
        asset.max_unauthorised,
        &held,
        !services.is_empty(),
        requested,
    );
    if decision == Decision::Allowed {
        return Ok(probe_result(200, None, None, None));
    }
    let substitute = (image && asset.max_unauthorised > 0).then(|| {
        json!({
            "id": degraded_service_id(state, headers, iiif::image::ApiVersion::V3, customer, space, id),
            "type": "ImageService3",
            "label": iiif::auth::language_map(&format!(
                "Reduced size (up to {} pixels)",
                asset.max_unauthorised
            )),
        })
    });
    let first = services.first().map(|(service, _)| service);
    let heading = first
        .and_then(|service| service.heading.clone())
        .unwrap_or_else(|| match decision {
            Decision::Forbidden => "Not available".to_owned(),
            _ => "Restricted".to_owned(),
        });
    let note = first
        .and_then(|service| service.note.clone())
        .unwrap_or_else(|| match decision {
            Decision::Forbidden => "You do not have access to this item.".to_owned(),
            _ => format!(
                "Access to this item is restricted by {}.",
                first.map_or("its owner", |service| service.label.as_str())
            ),
        });
    Ok(probe_result(
        decision.status(),
        substitute,
        Some(&heading),
        Some(&note),
    ))
}

// ---- access pages -----------------------------------------------------------------------

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

/// The `origin` parameter: absent, or exactly a web origin (`Err` otherwise).
fn origin_parameter(value: Option<&String>) -> Result<Option<String>, ()> {
    match value {
        None => Ok(None),
        Some(value) => auth::web_origin(value).map(Some).ok_or(()),
    }
}

fn invalid_origin_page() -> Response {
    Page::message(
        StatusCode::BAD_REQUEST,
        "Invalid request",
        "The origin parameter must be a web origin such as https://viewer.example.org.",
    )
    .into_response()
}

#[handler]
async fn access_page(
    state: Data<&AppState>,
    Path((customer, name)): Path<(String, String)>,
    uri: &Uri,
    headers: &HeaderMap,
    remote: &RemoteAddr,
) -> Response {
    let (customer_id, service) = match service(&state, &customer, &name).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let parameters = query(uri);
    let Ok(origin) = origin_parameter(parameters.get("origin")) else {
        return invalid_origin_page();
    };
    match service.profile {
        AccessProfile::Active => {
            let nonce = auth::generate_session_secret();
            let session = cookie(headers, &session_cookie_name(&customer));
            let csrf =
                state
                    .access
                    .form_token(customer_id, &access_purpose(&service), &nonce, session);
            let secure = secure(&state, headers, peer(remote));
            form_page(&service, origin.as_deref(), &csrf, StatusCode::OK, None)
                .cookie(set_cookie(
                    CSRF_COOKIE,
                    &nonce,
                    3600,
                    secure,
                    false,
                    "/auth/",
                ))
                .into_response()
        }
        AccessProfile::Kiosk => {
            let address = state.access.client_address(peer(remote), headers);
            if !address.is_some_and(|address| service.kiosk_ranges().contains(address)) {
                return Page::message(
                    StatusCode::FORBIDDEN,
                    &service.label,
                    "This access is only available on the institution's own devices.",
                )
                .into_response();
            }
            let roles = match state.domain.roles_granted_by(&service).await {
                Ok(roles) => roles,
                Err(_) => return unavailable_page(),
            };
            grant(
                &state,
                customer_id,
                &customer,
                &service,
                &roles,
                origin.as_deref(),
                None,
                headers,
                peer(remote),
            )
            .await
        }
        AccessProfile::External => Page::message(
            StatusCode::NOT_FOUND,
            &service.label,
            "This service has no access page: access comes from the institution's own sign-in.",
        )
        .into_response(),
    }
}

/// What an access form's token is for.
fn access_purpose(service: &AuthService) -> String {
    format!("access:{}", service.name)
}

/// What a logout link's token is for.
fn logout_purpose(service: &AuthService) -> String {
    format!("logout:{}", service.name)
}

/// Whether the browser says this request was made by another site's page: `Sec-Fetch-Site`
/// other than same-origin or none (typed by the visitor), or an `Origin` that is not ours.
/// Requests that say neither (older browsers, other clients) are judged by their token.
fn from_another_site(state: &AppState, headers: &HeaderMap) -> bool {
    let header_text = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    };
    if let Some(site) = header_text("sec-fetch-site")
        && !matches!(site, "same-origin" | "none")
    {
        return true;
    }
    match header_text("origin") {
        None => false,
        Some(origin) => {
            let own = auth::web_origin(&public_base(state, headers));
            auth::web_origin(origin).is_none() || auth::web_origin(origin) != own
        }
    }
}

/// Whether the browser says this request came from one of this origin's own pages, or was
/// typed or bookmarked by the visitor.
fn from_this_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|site| matches!(site.trim(), "same-origin" | "none"))
}

/// The clickthrough or login form.
fn form_page(
    service: &AuthService,
    origin: Option<&str>,
    csrf: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let mut body = String::new();
    if let Some(heading) = &service.heading {
        body.push_str(&format!("<h2>{}</h2>", escape(heading)));
    }
    if let Some(note) = &service.note {
        body.push_str(&paragraphs(note));
    }
    if let Some(error) = error {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            escape(error)
        ));
    }
    body.push_str("<form method=\"post\">");
    body.push_str(&format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        escape(csrf)
    ));
    if let Some(origin) = origin {
        body.push_str(&format!(
            "<input type=\"hidden\" name=\"origin\" value=\"{}\">",
            escape(origin)
        ));
    }
    let login = service.kind == Some(ActiveKind::Login);
    if login {
        body.push_str(
            "<label for=\"username\">Username</label>\
             <input id=\"username\" name=\"username\" autocomplete=\"username\" required>\
             <label for=\"password\">Password</label>\
             <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"current-password\" required>",
        );
    }
    let confirm =
        service
            .confirm_label
            .as_deref()
            .unwrap_or(if login { "Log in" } else { "Accept" });
    body.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        escape(confirm)
    ));
    Page::new(status, &service.label, body)
}

#[handler]
async fn access_form(
    state: Data<&AppState>,
    Path((customer, name)): Path<(String, String)>,
    headers: &HeaderMap,
    remote: &RemoteAddr,
    body: Body,
) -> Response {
    let (customer_id, service) = match service(&state, &customer, &name).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let bad_request = |text: &str| {
        Page::message(StatusCode::BAD_REQUEST, "Invalid request", text).into_response()
    };
    if service.profile != AccessProfile::Active {
        return bad_request("This service has no form.");
    }
    let Ok(bytes) = body.into_bytes_limit(MAX_FORM_BYTES).await else {
        return bad_request("The form could not be read.");
    };
    let form: HashMap<String, String> = url::form_urlencoded::parse(&bytes).into_owned().collect();
    let Ok(origin) = origin_parameter(form.get("origin")) else {
        return invalid_origin_page();
    };
    // the form's token is bound to its nonce cookie and to the visitor's session as it was
    // when the page was served, so neither a planted cookie pair nor a token taken from the
    // attacker's own page passes; and a browser that says the post came from another site
    // is refused whatever it carries
    let session = cookie(headers, &session_cookie_name(&customer));
    let csrf = cookie(headers, CSRF_COOKIE)
        .map(|nonce| {
            state
                .access
                .form_token(customer_id, &access_purpose(&service), nonce, session)
        })
        .unwrap_or_default();
    let csrf_matches = form.get("csrf").is_some_and(|sent| {
        !csrf.is_empty() && auth::constant_time_eq(csrf.as_bytes(), sent.as_bytes())
    });
    if !csrf_matches || from_another_site(&state, headers) {
        return Page::message(
            StatusCode::FORBIDDEN,
            &service.label,
            "This form has expired or did not come from this site. Close this window and try again.",
        )
        .into_response();
    }
    let granted_roles = match state.domain.roles_granted_by(&service).await {
        Ok(roles) => roles,
        Err(_) => return unavailable_page(),
    };
    if service.kind != Some(ActiveKind::Login) {
        return grant(
            &state,
            customer_id,
            &customer,
            &service,
            &granted_roles,
            origin.as_deref(),
            None,
            headers,
            peer(remote),
        )
        .await;
    }
    let username = form.get("username").map(String::as_str).unwrap_or("");
    let password = form.get("password").map(String::as_str).unwrap_or("");
    let retry = |status: StatusCode, error: &str| {
        form_page(&service, origin.as_deref(), &csrf, status, Some(error)).into_response()
    };
    let address = state
        .access
        .client_address(peer(remote), headers)
        .map_or_else(|| "unknown".to_owned(), auth::throttle_address);
    // by address, and by account *from that address*: guesses from one address never lock
    // the account's owner out elsewhere
    let keys = [
        format!("address:{address}"),
        format!("account:{customer_id}/{username}@{address}"),
    ];
    // the attempt counts as a failure before the password is checked, so parallel guesses
    // cannot all pass the check; a right password takes it back
    let throttle = &state.access.login_failures;
    if let Err(wait) = throttle.attempt(&keys) {
        let mut response = retry(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many failed attempts. Wait a few minutes and try again.",
        );
        if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let checked = match state
        .domain
        .check_viewer(customer_id, username, password)
        .await
    {
        Ok(checked) => checked,
        Err(_) => {
            throttle.forgive(&keys[0]);
            throttle.forgive(&keys[1]);
            return unavailable_page();
        }
    };
    let Some((viewer, roles)) = checked else {
        tracing::info!(customer, service = %service.name, %address, "viewer login refused");
        return retry(StatusCode::UNAUTHORIZED, "Wrong username or password.");
    };
    // the address keeps its earlier failures: one good account must not reset them
    throttle.forgive(&keys[0]);
    throttle.clear(&keys[1]);
    let roles: Vec<String> = roles
        .into_iter()
        .filter(|role| granted_roles.contains(role))
        .collect();
    if roles.is_empty() {
        return Page::message(
            StatusCode::FORBIDDEN,
            &service.label,
            "This account holds no role that this service grants.",
        )
        .into_response();
    }
    grant(
        &state,
        customer_id,
        &customer,
        &service,
        &roles,
        origin.as_deref(),
        Some(viewer),
        headers,
        peer(remote),
    )
    .await
}

/// Grants roles into the visitor's session (a new one if needed), sets the cookie, and closes
/// the window.
#[allow(clippy::too_many_arguments)]
async fn grant(
    state: &AppState,
    customer_id: i32,
    customer: &str,
    service: &AuthService,
    roles: &[String],
    origin: Option<&str>,
    viewer: Option<i64>,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
) -> Response {
    let cookie_name = session_cookie_name(customer);
    let existing = cookie(headers, &cookie_name);
    let granted = match state
        .domain
        .grant_session(
            customer_id,
            existing,
            roles,
            service.session_ttl,
            origin,
            viewer,
        )
        .await
    {
        Ok(granted) => granted,
        Err(_) => return unavailable_page(),
    };
    if let Some(existing) = existing {
        state.access.forget_session(customer_id, existing);
    }
    let mut page = closing_page(
        &service.label,
        "You now have access. This window will close; if it does not, close it and return to the viewer.",
    );
    if let Some(secret) = &granted.new_secret {
        let max_age = (granted.expires - chrono::Utc::now()).num_seconds().max(0);
        page = page.cookie(set_cookie(
            &cookie_name,
            secret,
            max_age,
            secure(state, headers, peer),
            true,
            "/",
        ));
    }
    page.into_response()
}

// ---- tokens -----------------------------------------------------------------------------

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
async fn token_2(
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
async fn token_1_service(
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

// ---- logout -----------------------------------------------------------------------------

/// Logout stays a GET (the viewer opens it in a window), but only the visitor may end their
/// session: a request from this site's own pages (or typed by the visitor) ends it at once;
/// any other (another site's link or frame, or a browser that does not say) gets a page whose
/// button carries a token bound to the session, so a cross-site request ends nothing.
#[handler]
async fn logout(
    state: Data<&AppState>,
    Path((customer, name)): Path<(String, String)>,
    uri: &Uri,
    headers: &HeaderMap,
    remote: &RemoteAddr,
) -> Response {
    let (customer_id, service) = match service(&state, &customer, &name).await {
        Ok(found) => found,
        Err(page) => return page,
    };
    let cookie_name = session_cookie_name(&customer);
    if let Some(secret) = cookie(headers, &cookie_name) {
        let token =
            state
                .access
                .form_token(customer_id, &logout_purpose(&service), "", Some(secret));
        let confirmed = query(uri)
            .get("csrf")
            .is_some_and(|sent| auth::constant_time_eq(sent.as_bytes(), token.as_bytes()));
        if !confirmed && !from_this_site(headers) {
            let body = format!(
                "{}<form method=\"get\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
                 <button type=\"submit\">Log out</button></form>",
                paragraphs(&format!("Log out of {}?", service.label)),
                escape(&token)
            );
            return Page::new(StatusCode::OK, &service.label, body).into_response();
        }
        if state.domain.end_session(customer_id, secret).await.is_err() {
            return unavailable_page();
        }
        state.access.forget_session(customer_id, secret);
    }
    Page::message(
        StatusCode::OK,
        &service.label,
        &format!("You have logged out of {}.", service.label),
    )
    .cookie(set_cookie(
        &cookie_name,
        "",
        0,
        secure(&state, headers, peer(remote)),
        true,
        "/",
    ))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_and_script_text_cannot_break_out() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
        let json = script_json(&json!({"messageId": "</script><script>alert(1)</script>\u{2028}"}));
        assert!(!json.contains('<') && !json.contains('>') && !json.contains('\u{2028}'));
        let back: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            back["messageId"],
            "</script><script>alert(1)</script>\u{2028}"
        );
    }

    #[test]
    fn session_cookies_are_http_only_and_cross_site_on_https() {
        let cookie = set_cookie("vitrine-auth-acme", "s", 60, true, true, "/");
        assert!(
            cookie.contains("HttpOnly")
                && cookie.contains("SameSite=None")
                && cookie.contains("Secure")
        );
        let plain = set_cookie("vitrine-auth-acme", "s", 60, false, true, "/");
        assert!(
            plain.contains("HttpOnly")
                && plain.contains("SameSite=Lax")
                && !plain.contains("Secure")
        );
    }
}
