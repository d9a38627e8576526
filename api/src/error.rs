//! The one place that maps stable error codes to HTTP statuses and GraphQL `extensions.code`.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use serde::Serialize;

/// The HTTP status for a stable kebab-case error code.
pub fn http_status(code: &str) -> StatusCode {
    match code {
        "unauthenticated" | "invalid-credential" => StatusCode::UNAUTHORIZED,
        "forbidden" | "quota-exceeded" => StatusCode::FORBIDDEN,
        "not-found" | "object-not-found" => StatusCode::NOT_FOUND,
        "conflict" => StatusCode::CONFLICT,
        "invalid-id"
        | "invalid-name"
        | "invalid-media-type"
        | "invalid-origin"
        | "invalid-input"
        | "invalid-annotations"
        | "bad-request"
        | "invalid-storage-location" => StatusCode::BAD_REQUEST,
        "payload-too-large" => StatusCode::PAYLOAD_TOO_LARGE,
        "expired" => StatusCode::GONE,
        "too-many-attempts" => StatusCode::TOO_MANY_REQUESTS,
        "unsupported" => StatusCode::NOT_IMPLEMENTED,
        "database-unavailable" | "storage-unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The GraphQL `extensions.code` for a kebab-case code: `invalid-id` becomes `INVALID_ID`.
pub fn graphql_code(code: &str) -> String {
    code.replace('-', "_").to_ascii_uppercase()
}

/// A domain error as a GraphQL error with `extensions.code`.
pub fn graphql_error(error: domain::Error) -> async_graphql::Error {
    let mut graphql = async_graphql::Error::new(error.message);
    graphql = async_graphql::ErrorExtensions::extend_with(graphql, |_, extensions| {
        extensions.set("code", graphql_code(error.kind.code()));
    });
    graphql
}

/// A REST error: `{"code": ..., "message": ...}` with the status its code maps to.
#[derive(Debug, Clone, Serialize)]
pub struct RestError {
    pub code: &'static str,
    pub message: String,
}

impl RestError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let status = http_status(self.code);
        let body = serde_json::to_string(&self).unwrap_or_else(|_| String::from("{}"));
        Response::builder()
            .status(status)
            .content_type("application/json")
            .body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_graphql_names() {
        assert_eq!(graphql_code("invalid-id"), "INVALID_ID");
        assert_eq!(graphql_code("unauthenticated"), "UNAUTHENTICATED");
        assert_eq!(graphql_code("invalid-media-type"), "INVALID_MEDIA_TYPE");
    }

    #[test]
    fn every_domain_kind_has_a_client_status_except_internal() {
        use domain::ErrorKind::*;
        for kind in [
            Unauthenticated,
            Forbidden,
            NotFound,
            Conflict,
            InvalidId,
            InvalidName,
            InvalidMediaType,
            InvalidOrigin,
            InvalidInput,
            InvalidAnnotations,
            BadRequest,
            QuotaExceeded,
        ] {
            assert!(http_status(kind.code()).is_client_error(), "{kind:?}");
        }
        assert_eq!(
            http_status(Internal.code()),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
