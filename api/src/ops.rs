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

/// Ready: the database and the object store answer, and this node's search index has caught
/// up with the database once since it opened. A 503 names what is not ready.
#[handler]
pub async fn readyz(state: Data<&AppState>) -> Response {
    let (database, storage) = tokio::join!(state.domain.ping(), state.storage.check());
    if let Err(error) = database {
        return RestError::try_again(
            "database-unavailable",
            format!("database unreachable: {error}"),
        )
        .into_response();
    }
    if let Err(error) = storage {
        let problem = match error.kind {
            storage::ErrorKind::Denied => "refuses the credentials",
            storage::ErrorKind::NotFound => "has no such bucket",
            storage::ErrorKind::InvalidLocation => "is not a usable location",
            storage::ErrorKind::Backend => "cannot be reached",
        };
        return RestError::try_again(
            "storage-unavailable",
            format!(
                "object storage {} {problem}: {error}",
                state.config.storage_url_shown()
            ),
        )
        .into_response();
    }
    match state.search.catching_up().await {
        Ok(None) => "ready".into_response(),
        Ok(Some(behind)) => RestError::try_again(
            "search-catching-up",
            format!(
                "this node's search index is catching up with the database: at change {} of {}",
                behind.at, behind.latest
            ),
        )
        .into_response(),
        Err(error) => RestError::from(error).into_response(),
    }
}

/// Prometheus text exposition.
#[handler]
pub async fn metrics(state: Data<&AppState>) -> Response {
    Response::builder()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(state.metrics.encode())
}
