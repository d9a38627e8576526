//! Structured logs (text or JSON) and the Prometheus metrics of HTTP traffic.

use std::sync::Arc;
use std::time::Instant;

use poem::{Endpoint, Request, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::config::LogFormat;

/// Installs the global log subscriber. Later calls (several servers in one test process) keep
/// the first.
pub fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(colour)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

/// Request counts by route and status, and latency by route.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("vitrine");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer HTTP requests, by route",
            latency.clone(),
        );
        Self {
            registry,
            requests,
            latency,
        }
    }
}

impl Metrics {
    fn record(&self, route: &'static str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method: method.to_owned(),
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route })
            .observe(seconds);
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            tracing::error!("cannot encode metrics");
        }
        text
    }
}

/// The route a path belongs to, as a bounded label: never the raw path, whose identifiers
/// would make one series per asset.
pub fn route_label(path: &str) -> &'static str {
    let mut segments = path.trim_start_matches('/').split('/');
    let first_two = (segments.next(), segments.next());
    if let (Some("iiif"), Some(version @ ("2" | "3"))) = first_two {
        let rest = segments.count();
        return match (version, rest) {
            ("3", 3) => "/iiif/3 base",
            ("3", 4) => "/iiif/3 info",
            ("3", _) => "/iiif/3 image",
            ("2", 3) => "/iiif/2 base",
            ("2", 4) => "/iiif/2 info",
            _ => "/iiif/2 image",
        };
    }
    match first_two {
        (Some("graphql"), Some("ws")) => "/graphql/ws",
        (Some("graphql"), _) => "/graphql",
        (Some("healthz"), None) => "/healthz",
        (Some("readyz"), None) => "/readyz",
        (Some("metrics"), None) => "/metrics",
        (Some(""), None) => "/",
        _ => "other",
    }
}

/// Wraps every request: counts it, times it, logs it.
pub async fn observe<E: Endpoint>(
    endpoint: Arc<E>,
    request: Request,
    metrics: Arc<Metrics>,
) -> poem::Result<Response> {
    let started = Instant::now();
    let route = route_label(request.uri().path());
    let method = request.method().to_string();
    let response = endpoint.get_response(request).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics.record(route, &method, status, elapsed.as_secs_f64());
    tracing::debug!(
        route,
        method,
        status,
        elapsed_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_labels_are_bounded() {
        assert_eq!(route_label("/graphql"), "/graphql");
        assert_eq!(route_label("/graphql/ws"), "/graphql/ws");
        assert_eq!(route_label("/healthz"), "/healthz");
        assert_eq!(
            route_label("/iiif/3/acme/1/asset/info.json"),
            "/iiif/3 info"
        );
        assert_eq!(
            route_label("/iiif/2/acme/1/asset/full/max/0/default.jpg"),
            "/iiif/2 image"
        );
        assert_eq!(route_label("/elsewhere/x"), "other");
        assert_eq!(route_label("/"), "/");
    }

    #[test]
    fn encodes_recorded_requests() {
        let metrics = Metrics::default();
        metrics.record("/graphql", "POST", 200, 0.004);
        let text = metrics.encode();
        assert!(
            text.contains(
                r#"vitrine_http_requests_total{route="/graphql",method="POST",status="200"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains("vitrine_http_request_duration_seconds_bucket"),
            "{text}"
        );
    }
}
