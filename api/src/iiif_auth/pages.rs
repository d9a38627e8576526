//! The HTML pages every route answers with: escaping for element text, attributes and inline
//! scripts; the page frame with its Content-Security-Policy (a fresh script nonce per response)
//! and framing rules; the session and CSRF cookies pages set; and the stock pages.

use std::net::IpAddr;

use poem::Response;
use poem::http::{HeaderMap, StatusCode, header};
use serde_json::Value;

use crate::public_url::public_base;
use crate::state::AppState;

/// Text made safe for HTML element content and quoted attribute values.
pub(super) fn escape(text: &str) -> String {
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
pub(super) fn script_json(value: &Value) -> String {
    value
        .to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// Multi-line visitor text as paragraphs.
pub(super) fn paragraphs(text: &str) -> String {
    text.split('\n')
        .filter(|line| !line.trim().is_empty())
        .map(|line| format!("<p>{}</p>", escape(line)))
        .collect()
}

pub(super) struct Page {
    status: StatusCode,
    title: String,
    body: String,
    script: Option<String>,
    pub(super) framable: bool,
    cookies: Vec<String>,
}

impl Page {
    pub(super) fn new(status: StatusCode, title: &str, body: String) -> Self {
        Self {
            status,
            title: title.to_owned(),
            body,
            script: None,
            framable: false,
            cookies: Vec::new(),
        }
    }

    pub(super) fn message(status: StatusCode, title: &str, text: &str) -> Self {
        Self::new(status, title, paragraphs(text))
    }

    pub(super) fn script(mut self, script: String) -> Self {
        self.script = Some(script);
        self
    }

    pub(super) fn cookie(mut self, cookie: String) -> Self {
        self.cookies.push(cookie);
        self
    }

    pub(super) fn into_response(self) -> Response {
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
pub(super) fn secure(state: &AppState, headers: &HeaderMap, peer: Option<IpAddr>) -> bool {
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
pub(super) fn set_cookie(
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

pub(super) fn closing_page(title: &str, text: &str) -> Page {
    Page::message(StatusCode::OK, title, text).script("window.close();".to_owned())
}

pub(super) fn not_found_page(text: &str) -> Response {
    Page::message(StatusCode::NOT_FOUND, "Not found", text).into_response()
}

pub(super) fn unavailable_page() -> Response {
    Page::message(
        StatusCode::SERVICE_UNAVAILABLE,
        "Unavailable",
        "The service cannot be reached just now. Try again shortly.",
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

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
