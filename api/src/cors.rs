//! Which web origins may read Vitrine's answers from a browser. The public IIIF routes are open
//! to any origin by default, as viewers on any site need; the management APIs (GraphQL and the
//! REST API) to none by default, since the portal is served from their own origin. Both are
//! settings: `iiif_cors_origins` and `api_cors_origins`.

use std::sync::Arc;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, Request, Response};

/// The origins a group of routes answers browsers from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CorsOrigins {
    /// Every origin: `Access-Control-Allow-Origin: *`.
    Any,
    /// These origins only (`https://host[:port]`), each named back to itself; none when empty.
    Listed(Vec<String>),
}

impl CorsOrigins {
    /// A setting's values: `*` alone for any origin, else web origins (`scheme://host[:port]`,
    /// nothing after), which must each be http or https.
    pub fn parse(setting: &str, values: &[String]) -> anyhow::Result<CorsOrigins> {
        if values.iter().any(|value| value.trim() == "*") {
            anyhow::ensure!(
                values.len() == 1,
                "{setting}: \"*\" (any origin) cannot be listed with other origins"
            );
            return Ok(CorsOrigins::Any);
        }
        let mut origins = Vec::with_capacity(values.len());
        for value in values.iter().map(|value| value.trim()) {
            if value.is_empty() {
                continue;
            }
            let url = url::Url::parse(value).map_err(|error| {
                anyhow::anyhow!(
                    "{setting}: {value:?} is not an origin such as https://example.org ({error})"
                )
            })?;
            let origin = url.origin().ascii_serialization();
            anyhow::ensure!(
                matches!(url.scheme(), "http" | "https") && origin == value.trim_end_matches('/'),
                "{setting}: {value:?} is not an origin: scheme, host and port only, such as https://example.org"
            );
            origins.push(origin);
        }
        Ok(CorsOrigins::Listed(origins))
    }

    fn allows(&self, origin: &str) -> bool {
        match self {
            CorsOrigins::Any => true,
            CorsOrigins::Listed(origins) => origins.iter().any(|allowed| allowed == origin),
        }
    }

    /// The request's origin, to name back in `Access-Control-Allow-Origin`, when it is allowed.
    fn named_back(&self, origin: Option<&str>) -> Option<HeaderValue> {
        origin
            .filter(|origin| self.allows(origin))
            .and_then(|origin| HeaderValue::from_str(origin).ok())
    }
}

const CORS_HEADERS: [header::HeaderName; 5] = [
    header::ACCESS_CONTROL_ALLOW_ORIGIN,
    header::ACCESS_CONTROL_ALLOW_METHODS,
    header::ACCESS_CONTROL_ALLOW_HEADERS,
    header::ACCESS_CONTROL_MAX_AGE,
    header::ACCESS_CONTROL_EXPOSE_HEADERS,
];

/// The public routes' policy, applied to every response: one a handler opened to every origin
/// (`Access-Control-Allow-Origin: *`, from [`crate::http::with_cors`]) stays so when any origin
/// is allowed; otherwise it names the request's origin back when that is listed (with
/// `Vary: Origin`), and is closed to browsers when it is not.
pub(crate) async fn public<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
    origins: Arc<CorsOrigins>,
) -> poem::Result<Response> {
    let origin = request.header(header::ORIGIN).map(str::to_owned);
    let mut response = endpoint.get_response(request).await;
    let opened = response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        == Some(&HeaderValue::from_static("*"));
    if !opened || *origins == CorsOrigins::Any {
        return Ok(response);
    }
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    match origins.named_back(origin.as_deref()) {
        Some(allowed) => {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
        }
        None => {
            for name in CORS_HEADERS {
                headers.remove(name);
            }
        }
    }
    Ok(response)
}

/// The management APIs' policy: a request from an allowed origin gets that origin back, and
/// its preflight is answered here; from any other origin, no CORS header at all, so
/// a browser lets no other site read the answer. Requests from the portal are same-origin and
/// need none.
pub(crate) async fn api<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
    origins: Arc<CorsOrigins>,
) -> poem::Result<Response> {
    // the origin itself even when any may call: a `*` here would read, to the public routes'
    // policy around it, as a response of theirs
    let allowed = origins.named_back(request.header(header::ORIGIN));
    let Some(allowed) = allowed else {
        let mut response = endpoint.get_response(request).await;
        for name in CORS_HEADERS {
            response.headers_mut().remove(name);
        }
        return Ok(response);
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        Response::builder()
            .status(StatusCode::NO_CONTENT)
            .header(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                "GET, POST, PUT, PATCH, DELETE, OPTIONS",
            )
            .header(
                header::ACCESS_CONTROL_ALLOW_HEADERS,
                "authorization, content-type",
            )
            .header(header::ACCESS_CONTROL_MAX_AGE, "86400")
            .finish()
    } else {
        endpoint.get_response(request).await
    };
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allowed);
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(values: &[&str]) -> anyhow::Result<CorsOrigins> {
        let values: Vec<String> = values.iter().map(|value| value.to_string()).collect();
        CorsOrigins::parse("iiif_cors_origins", &values)
    }

    #[test]
    fn settings_are_any_or_a_list_of_origins() {
        assert_eq!(parse(&["*"]).unwrap(), CorsOrigins::Any);
        assert_eq!(parse(&[]).unwrap(), CorsOrigins::Listed(vec![]));
        assert_eq!(
            parse(&["https://viewer.example.org/", "http://localhost:3000"]).unwrap(),
            CorsOrigins::Listed(vec![
                "https://viewer.example.org".into(),
                "http://localhost:3000".into()
            ])
        );
        for bad in [
            &["*", "https://a.example"][..],
            &["viewer.example.org"],
            &["https://a.example/path"],
            &["ftp://a.example"],
            &["https://a.example?x=1"],
        ] {
            let error = parse(bad).unwrap_err().to_string();
            assert!(error.starts_with("iiif_cors_origins: "), "{error}");
        }
    }

    #[test]
    fn only_listed_origins_are_allowed() {
        let listed = parse(&["https://a.example"]).unwrap();
        assert!(listed.allows("https://a.example"));
        assert!(!listed.allows("https://b.example"));
        assert!(!listed.allows("http://a.example"));
        assert!(CorsOrigins::Any.allows("https://b.example"));
    }
}
