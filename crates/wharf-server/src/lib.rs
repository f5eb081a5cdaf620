//! Wharf's HTTP API: a stateless server in front of Wharf's custom resources, with
//! Kubernetes-native authentication (TokenReview) and authorization
//! (SubjectAccessReview). Reads come from watch caches; writes go to the Kubernetes
//! API under the server's own identity after the caller was authorized.

pub mod auth;
mod caches;
pub mod error;
mod extract;
mod metrics;
pub mod openapi;
mod routes;
pub mod results;
mod state;
mod wait;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::HeaderName;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use kube::Client;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

pub use auth::{AuthMode, Authorizer};
pub use caches::Caches;
pub use state::AppState;

/// Largest request body accepted.
const BODY_LIMIT: usize = 1024 * 1024;
/// Longest a request may take to produce its response head (a wait is at most
/// ten minutes; streamed bodies such as followed logs are not cut).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(630);

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Authentication and authorization.
    pub auth: AuthMode,
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Authentication may only be off on a loopback address.
    #[error(
        "refusing to run without authentication on {0}: --insecure-no-auth only binds to loopback (127.0.0.1 or ::1)"
    )]
    NoAuthOffLoopback(SocketAddr),
    /// The address could not be bound.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("serving HTTP failed")]
    Serve(#[source] std::io::Error),
}

/// The HTTP application: every route, `/openapi.json` and the middleware.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    let (router, _) = routes::router().split_for_parts();
    router
        .route("/openapi.json", get(|| async { axum::Json(openapi::document_json()) }))
        .layer(middleware::from_fn_with_state(state.clone(), record_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(axum::http::StatusCode::GATEWAY_TIMEOUT, REQUEST_TIMEOUT))
        .with_state(state)
}

async fn record_metrics(
    axum::extract::State(state): axum::extract::State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics().observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Binds `config.addr` and runs the API server until `shutdown` resolves.
pub async fn run(
    client: Client,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
    serve(listener, client, config.auth, shutdown).await
}

fn check_auth_mode(auth: AuthMode, addr: SocketAddr) -> Result<(), ServerError> {
    if auth == AuthMode::Disabled {
        if !addr.ip().is_loopback() {
            return Err(ServerError::NoAuthOffLoopback(addr));
        }
        tracing::warn!(
            %addr,
            "AUTHENTICATION IS OFF: every request acts with the server's own permissions. Use only on a developer machine."
        );
    }
    Ok(())
}

/// Serves the API on `listener` until `shutdown` resolves, then finishes the
/// requests in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    client: Client,
    auth: AuthMode,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    check_auth_mode(auth, addr)?;
    let caches = Caches::start(&client);
    let state = AppState::new(
        client.clone(),
        Authorizer::new(client, auth),
        caches.clone(),
    );
    {
        let state = state.clone();
        tokio::spawn(async move {
            caches.wait_until_ready().await;
            state.set_ready();
            tracing::info!("API watch caches synced");
        });
    }
    tracing::info!(%addr, "Wharf API listening");
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServerError::Serve)
}
