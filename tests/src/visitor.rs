//! A IIIF viewer's side of the HTTP exchanges: requests with a session cookie or an access token,
//! forms, and what access and token pages hand back. For the auth suites, on one node or several.

use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use serde_json::Value;

/// A client that shows redirects instead of following them, and keeps no cookies of its own.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

/// A response read whole.
#[derive(Debug)]
pub struct Got {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Got {
    pub async fn read(response: reqwest::Response) -> Got {
        Got {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.expect("body"),
        }
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|_| panic!("not JSON: {}", self.text))
    }

    /// The value a `Set-Cookie` header gives `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .find(|value| value.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

/// GETs `url` with the session cookie and the access token given.
pub async fn get(url: &str, cookie: Option<&str>, token: Option<&str>) -> Got {
    let mut request = client().get(url);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    if let Some(token) = token {
        request = request.header(AUTHORIZATION, format!("Bearer {token}"));
    }
    Got::read(request.send().await.expect("GET")).await
}

/// POSTs a form to `url`, with the cookie given.
pub async fn post_form(url: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Got {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body);
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    Got::read(request.send().await.expect("POST")).await
}

/// `name=value` of a `Set-Cookie` header.
pub fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().trim().to_owned()
}

/// The value of a hidden form field.
pub fn field(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name} in {html}"))
        + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_owned()
}

/// The JSON message a token page posts, and the origin it posts it to.
pub fn posted(html: &str) -> (Value, Value) {
    let start = html.find("postMessage(").expect("postMessage") + "postMessage(".len();
    let end = html[start..].find(");</script>").expect("end of call") + start;
    let call = format!("[{}]", &html[start..end]);
    let parts: Value = serde_json::from_str(&call).expect("message and origin are JSON");
    (parts[0].clone(), parts[1].clone())
}

/// Opens the access page at `access` (an active service's id) from the viewer at `origin`, with
/// the visitor's session cookie if they have one, and submits its form with the fields given
/// besides the CSRF pair: the answer, whose `Set-Cookie` holds the session when it is granted.
pub async fn pass_access_page(
    access: &str,
    origin: &str,
    session: Option<&str>,
    form: &[(&str, &str)],
) -> Got {
    let page = get(&format!("{access}?origin={origin}"), session, None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.headers["x-frame-options"], "DENY");
    let mut cookies = pair(&page.set_cookie("vitrine-csrf").expect("csrf cookie"));
    if let Some(session) = session {
        cookies = format!("{cookies}; {session}");
    }
    let csrf = field(&page.text, "csrf");
    let mut fields = vec![("csrf", csrf.as_str()), ("origin", origin)];
    fields.extend_from_slice(form);
    post_form(access, Some(&cookies), &fields).await
}
