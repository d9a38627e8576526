//! The one place that maps stable error codes to HTTP statuses and GraphQL `extensions.code`.

use poem::http::StatusCode;
use poem::{IntoResponse, Response};
use serde::Serialize;

/// The HTTP status for a stable kebab-case error code.
pub fn http_status(code: &str) -> StatusCode {
    match code {
        "unauthenticated" | "invalid-credential" | "login-required" => StatusCode::UNAUTHORIZED,
        "forbidden" | "quota-exceeded" => StatusCode::FORBIDDEN,
        "not-found" | "object-not-found" => StatusCode::NOT_FOUND,
        "conflict" => StatusCode::CONFLICT,
        "invalid-id"
        | "invalid-name"
        | "invalid-media-type"
        | "invalid-origin"
        | "invalid-input"
        | "invalid-annotations"
        | "invalid-metadata"
        | "bad-request"
        | "invalid-storage-location"
        | "invalid-image-request" => StatusCode::BAD_REQUEST,
        "payload-too-large" => StatusCode::PAYLOAD_TOO_LARGE,
        "expired" => StatusCode::GONE,
        "too-many-attempts" => StatusCode::TOO_MANY_REQUESTS,
        "unsupported" | "unsupported-image-request" => StatusCode::NOT_IMPLEMENTED,
        "database-unavailable"
        | "storage-unavailable"
        | "render-timeout"
        | "render-busy"
        | "shutting-down"
        | "search-catching-up" => StatusCode::SERVICE_UNAVAILABLE,
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

/// What a client is told to wait before trying again after a 503, in seconds.
pub const RETRY_AFTER_SECONDS: u64 = 5;

/// Every HTTP error the server answers outside GraphQL: a stable code, a message for the
/// caller, and (for a 503) how long to wait. Its status always comes from [`http_status`].
#[derive(Debug, Clone, Serialize)]
pub struct RestError {
    pub code: &'static str,
    pub message: String,
    /// Seconds the client should wait before trying again (`Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl RestError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("not-found", message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("internal", message)
    }

    /// A 503 the client may retry: with `Retry-After` ([`RETRY_AFTER_SECONDS`]).
    pub fn try_again(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(code, message).retry_after(RETRY_AFTER_SECONDS)
    }

    /// The same error, telling the client to try again after `seconds`.
    pub fn retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    pub fn status(&self) -> StatusCode {
        http_status(self.code)
    }

    /// A domain error where a lookup failed for a reason other than absence: the database,
    /// which the client may try again (with `Retry-After`).
    pub fn unavailable(error: domain::Error) -> Self {
        match error.kind {
            domain::ErrorKind::NotFound => Self::not_found(error.message),
            _ => Self::try_again("database-unavailable", error.message),
        }
    }
}

impl From<domain::Error> for RestError {
    fn from(error: domain::Error) -> Self {
        if error.kind == domain::ErrorKind::Internal {
            tracing::error!(%error, "request failed");
        }
        match error.kind {
            domain::ErrorKind::Unavailable => Self::try_again(error.code(), error.message),
            _ => Self::new(error.code(), error.message),
        }
    }
}

impl From<iiif::image::ImageError> for RestError {
    fn from(error: iiif::image::ImageError) -> Self {
        Self::new(error.code(), error.message)
    }
}

impl From<storage::Error> for RestError {
    fn from(error: storage::Error) -> Self {
        tracing::error!(%error, "stored object read failed");
        match error.kind {
            storage::ErrorKind::NotFound => {
                Self::internal("a derivative of this image is missing; re-ingest it")
            }
            _ => Self::try_again("storage-unavailable", "storage is unavailable; try again"),
        }
    }
}

impl IntoResponse for RestError {
    fn into_response(self) -> Response {
        let body = serde_json::to_string(&self).unwrap_or_else(|_| String::from("{}"));
        let mut response = Response::builder()
            .status(self.status())
            .content_type("application/json");
        if let Some(seconds) = self.retry_after {
            response = response.header(poem::http::header::RETRY_AFTER, seconds.to_string());
        }
        response.body(body)
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
            InvalidMetadata,
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
