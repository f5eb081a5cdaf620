//! Wharf's HTTP API: a stateless server in front of Wharf's custom resources, with
//! Kubernetes-native authentication (TokenReview) and authorization
//! (SubjectAccessReview). Reads come from watch caches; writes go to the Kubernetes
//! API under the server's own identity after the caller was authorized.

pub mod aplite;
pub mod auth;
mod caches;
mod conditional;
pub mod error;
mod extract;
pub mod functions;
mod invoke;
mod kinds;
mod metrics;
mod names;
pub mod openapi;
pub mod results;
mod routes;
mod state;
mod wait;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::http::{HeaderName, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use kube::Client;

use crate::invoke::Invoker;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use auth::{AuthMode, Authorizer};
pub use caches::Caches;
pub use results::{ResultStore, S3Config, StoreConfig};
pub use state::AppState;

/// Largest body the buffering extractors (JSON and the like) accept. Result
/// uploads stream through and are limited by their Task instead.
const BODY_LIMIT: usize = 1024 * 1024;
/// Longest a request may take to produce its response head (a wait is at most
/// ten minutes; streamed bodies such as followed logs are not cut).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(630);
/// How often results of deleted Tasks are swept from the store.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Where to listen.
    pub addr: SocketAddr,
    /// Authentication and authorization.
    pub auth: AuthMode,
    /// Where Task result files are kept.
    pub results: StoreConfig,
    /// See [`ServeOptions::host_aliases`].
    pub host_aliases: BTreeMap<String, String>,
    /// See [`ServeOptions::state_namespace`].
    pub state_namespace: String,
    /// Where and how to serve the Aplite remote protocol, if at all.
    pub aplite: Option<(SocketAddr, aplite::ApliteConfig)>,
}

/// The Aplite remote protocol's listener, and how it is served.
pub struct ApliteListener {
    /// The bound listener.
    pub listener: tokio::net::TcpListener,
    /// Who it acts as, where, and where callers serve arguments.
    pub config: aplite::ApliteConfig,
}

/// What [`serve`] needs besides the listener and the client.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    /// Authentication and authorization.
    pub auth: AuthMode,
    /// Where Task result files are kept.
    pub results: ResultStore,
    /// How often results of deleted Tasks are swept (default [`SWEEP_EVERY`]).
    pub sweep_every: Duration,
    /// `host:port` a Runtime's binding names → `host:port` to dial instead, for
    /// invoking workflows from a server outside the cluster (a test's, beside
    /// NATS on 127.0.0.1). Empty in a cluster.
    pub host_aliases: BTreeMap<String, String>,
    /// The namespace where the server keeps its own records (the
    /// `Idempotency-Key` ConfigMaps of function calls): its own namespace in a
    /// cluster, [`DEFAULT_STATE_NAMESPACE`] unless told.
    pub state_namespace: String,
}

/// Where the server keeps its own records unless told: the chart's namespace.
pub const DEFAULT_STATE_NAMESPACE: &str = "wharf-system";

impl ServeOptions {
    /// Options with the default sweep interval.
    pub fn new(auth: AuthMode, results: ResultStore) -> Self {
        Self {
            auth,
            results,
            sweep_every: SWEEP_EVERY,
            host_aliases: BTreeMap::new(),
            state_namespace: DEFAULT_STATE_NAMESPACE.to_owned(),
        }
    }
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
    /// The result store cannot be used.
    #[error("cannot open the result store")]
    Results(#[source] results::StoreError),
}

/// The HTTP application: every route, `/openapi.json` and the middleware.
pub fn app(state: AppState) -> Router {
    let request_id = HeaderName::from_static(wharf_model::wire::headers::REQUEST_ID);
    let (router, _) = routes::router().split_for_parts();
    router
        .route("/openapi.json", get(|| async { axum::Json(openapi::document_json()) }))
        .layer(middleware::from_fn_with_state(state.clone(), record_metrics))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request| {
            let id = request
                .headers()
                .get(wharf_model::wire::headers::REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            tracing::info_span!("request", method = %request.method(), uri = %request.uri(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(request_timeout))
        .with_state(state)
}

/// Answers 504 when a request has no response head within [`REQUEST_TIMEOUT`].
/// Result uploads are exempt: their handler runs while the body streams in, for as
/// long as that takes, and a body that stalls is ended by the store instead.
async fn request_timeout(request: Request, next: Next) -> Response {
    let is_upload = request.method() == Method::PUT
        && request
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|p| p.as_str() == routes::RESULT_UPLOAD_ROUTE);
    if is_upload {
        return next.run(request).await;
    }
    match tokio::time::timeout(REQUEST_TIMEOUT, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error::ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            wharf_model::wire::ErrorCode::Timeout,
            "the request took too long; retry, or wait for less at once",
        )
        .into_response(),
    }
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
    let aplite = match config.aplite {
        Some((addr, config)) => Some(ApliteListener {
            listener: tokio::net::TcpListener::bind(addr)
                .await
                .map_err(|source| ServerError::Bind { addr, source })?,
            config,
        }),
        None => None,
    };
    let results = ResultStore::new(&config.results).map_err(ServerError::Results)?;
    tracing::info!(store = %results, "Task result store opened");
    serve_with(
        listener,
        aplite,
        client,
        ServeOptions {
            host_aliases: config.host_aliases,
            state_namespace: config.state_namespace,
            ..ServeOptions::new(config.auth, results)
        },
        shutdown,
    )
    .await
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
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    serve_with(listener, None, client, options, shutdown).await
}

/// [`serve`], and the Aplite remote protocol on its own listener when given.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    aplite: Option<ApliteListener>,
    client: Client,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    let addr = listener.local_addr().map_err(ServerError::Serve)?;
    check_auth_mode(options.auth, addr)?;
    if let Some(aplite) = &aplite {
        check_auth_mode(
            options.auth,
            aplite.listener.local_addr().map_err(ServerError::Serve)?,
        )?;
    }
    let caches = Caches::start(&client);
    let state = AppState::new(
        client.clone(),
        Authorizer::new(client.clone(), options.auth),
        caches.clone(),
        options.results.clone(),
        Invoker::new(options.host_aliases.clone()),
        options.state_namespace.clone(),
    );
    // One task waits for the caches: kube's Store::wait_until_ready wakes only the
    // last of several waiters. Once synced, the same task sweeps the result store.
    // It is stopped with the server, so a test's server leaves no sweeper behind.
    let background = {
        let state = state.clone();
        tokio::spawn(async move {
            caches.wait_until_ready().await;
            state.set_ready();
            tracing::info!("API watch caches synced");
            let records = functions::idempotency::sweep_forever(
                client.clone(),
                options.state_namespace.clone(),
                options.sweep_every,
            );
            let results =
                results::sweep_forever(options.results, caches, client, options.sweep_every);
            futures::future::join(records, results).await;
        })
    };
    let aplite = aplite
        .map(|aplite| tokio::spawn(aplite::serve(aplite.listener, state.clone(), aplite.config)));
    tracing::info!(%addr, "Wharf API listening");
    let served = axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(ServerError::Serve);
    background.abort();
    if let Some(aplite) = aplite {
        aplite.abort();
    }
    served
}
