//! The operator's `/metrics`, `/healthz` and `/readyz` endpoints.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::Metrics;

/// Whether the controllers have synced their caches and are reconciling.
#[derive(Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Marks the operator ready.
    pub fn set_ready(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_ready(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Clone)]
struct HttpState {
    metrics: Arc<Metrics>,
    ready: Readiness,
}

fn router(metrics: Arc<Metrics>, ready: Readiness) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .with_state(HttpState { metrics, ready })
}

async fn render_metrics(State(state): State<HttpState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

async fn readyz(State(state): State<HttpState>) -> impl IntoResponse {
    if state.ready.is_ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "caches are still syncing")
    }
}

/// Serves the endpoints on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    metrics: Arc<Metrics>,
    ready: Readiness,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    if let Err(error) = axum::serve(listener, router(metrics, ready))
        .with_graceful_shutdown(shutdown)
        .await
    {
        tracing::error!(%error, "operator health and metrics server failed");
    }
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    async fn get(router: Router, path: &str) -> (StatusCode, String) {
        let response = router
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn metrics_count_reconciles_and_readiness_follows_the_caches() {
        let metrics = Arc::new(Metrics::default());
        metrics.reconciled("App", std::time::Duration::from_millis(12));
        metrics.failed("App", "api");
        let ready = Readiness::default();
        let (status, text) = get(router(metrics.clone(), ready.clone()), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            text.contains("wharf_operator_reconciles_total{kind=\"App\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("wharf_operator_reconcile_errors_total{kind=\"App\",reason=\"api\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("wharf_operator_reconcile_duration_seconds_bucket"),
            "{text}"
        );
        assert_eq!(
            get(router(metrics.clone(), ready.clone()), "/readyz")
                .await
                .0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        ready.set_ready();
        assert_eq!(
            get(router(metrics.clone(), ready.clone()), "/readyz")
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            get(router(metrics, ready), "/healthz").await.0,
            StatusCode::OK
        );
    }
}
