//! Operations endpoints: liveness, readiness and metrics.

use poem::web::Data;
use poem::{IntoResponse, Response, handler};

use crate::error::RestError;
use crate::state::AppState;

/// Alive: the process answers.
#[handler]
pub async fn healthz() -> &'static str {
    "ok"
}

/// Ready: the database answers.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> Response {
    match state.domain.ping().await {
        Ok(()) => "ready".into_response(),
        Err(error) => RestError::new(
            "database-unavailable",
            format!("database unreachable: {error}"),
        )
        .into_response(),
    }
}

/// Prometheus text exposition.
#[handler]
pub async fn metrics(state: Data<&AppState>) -> Response {
    Response::builder()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.encode())
}
