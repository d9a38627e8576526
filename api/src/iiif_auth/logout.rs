//! The logout service: ends the visitor's session and every token it issued, once the request
//! is known to come from the visitor.

use domain::AuthService;
use poem::http::{HeaderMap, StatusCode, Uri};
use poem::web::{Data, Path, RemoteAddr};
use poem::{Response, handler};

use super::pages::{Page, escape, paragraphs, secure, set_cookie, unavailable_page};
use super::{peer, query, service};
use crate::state::AppState;
use crate::visitor_access::{cookie, session_cookie_name};

/// What a logout link's token is for.
fn logout_purpose(service: &AuthService) -> String {
    format!("logout:{}", service.name)
}

/// Whether the browser says this request came from one of this origin's own pages, or was
/// typed or bookmarked by the visitor.
fn from_this_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|value| value.to_str().ok())
        .is_some_and(|site| matches!(site.trim(), "same-origin" | "none"))
}

/// Logout stays a GET (the viewer opens it in a window), but only the visitor may end their
/// session: a request from this site's own pages (or typed by the visitor) ends it at once;
/// any other (another site's link or frame, or a browser that does not say) gets a page whose
/// button carries a token bound to the session, so a cross-site request ends nothing.
#[handler]
pub(super) async fn logout(
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
