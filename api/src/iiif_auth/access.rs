//! The access pages: a clickthrough confirm or login form (each bound to a CSRF token and
//! refused when the browser says another site sent it), kiosk access by address, and the grant
//! of the service's roles into the visitor's session.

use std::collections::HashMap;
use std::net::IpAddr;

use domain::{AccessProfile, ActiveKind, AuthService};
use poem::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use poem::web::{Data, Path, RemoteAddr};
use poem::{Body, Response, handler};

use super::pages::{Page, closing_page, escape, paragraphs, secure, set_cookie, unavailable_page};
use super::{peer, query, service};
use crate::public_url::public_base;
use crate::state::AppState;
use crate::visitor_access::{cookie, session_cookie_name};

const CSRF_COOKIE: &str = "vitrine-csrf";
const MAX_FORM_BYTES: usize = 16 * 1024;

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
pub(super) async fn access_page(
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
pub(super) async fn access_form(
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
