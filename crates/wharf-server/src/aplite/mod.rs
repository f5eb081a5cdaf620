//! The Aplite remote protocol: Aplite programs `remote`-import Wharf's functions
//! (`create_deployment : IO UnitType`, `scale_app : Str -> Int -> IO UnitType` …)
//! over the small HTTP protocol of the original xi-k8s operator
//! (`leon2k2k2k/xi_pl`). Served on its own listener, on loopback unless told
//! otherwise; every call runs the function catalogue as a configured
//! ServiceAccount ([`identity`]).

mod identity;
mod library;
mod protocol;
mod registry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;
use wharf_model::wire::ErrorCode;

pub use library::type_of;

use crate::error::ApiError;
use crate::state::AppState;
use identity::Identity;
use library::{AplValue, ArgType};
use registry::Registry;

/// The caller's own server, where arguments are fetched: the original's.
pub const DEFAULT_CALLER_URL: &str = "http://localhost:5000/";
/// How long the caller's server has to answer for an argument.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest request body.
const BODY_LIMIT: usize = 64 * 1024;

/// How the protocol is served.
#[derive(Clone, Debug)]
pub struct ApliteConfig {
    /// The ServiceAccount (`namespace/name`) every call acts as.
    pub service_account: (String, String),
    /// Where functions act (the ServiceAccount's namespace unless told).
    pub namespace: String,
    /// The caller's server, where the arguments of applications are fetched.
    pub caller_url: String,
}

/// The protocol's state.
pub struct Aplite {
    state: AppState,
    namespace: String,
    caller_url: String,
    identity: Identity,
    registry: Registry,
    http: reqwest_s3::Client,
    loopback: bool,
}

impl Aplite {
    /// Fetches the caller's value `arg` while the application is still open.
    async fn fetch_argument(
        &self,
        arg: &serde_json::Value,
        arg_type: ArgType,
    ) -> Result<AplValue, ApiError> {
        let unreachable =
            |detail: String| ApiError::new(StatusCode::BAD_GATEWAY, ErrorCode::NoAnswer, detail);
        let response = self
            .http
            .post(&self.caller_url)
            .header("content-type", "application/json")
            .body(json!({ "remote_ident": arg }).to_string())
            .send()
            .await
            .map_err(|e| {
                unreachable(format!(
                    "cannot fetch argument {arg} from the caller at {}: {e}",
                    self.caller_url
                ))
            })?;
        if !response.status().is_success() {
            return Err(unreachable(format!(
                "the caller at {} answered {} for argument {arg}",
                self.caller_url,
                response.status()
            )));
        }
        let text = response.text().await.map_err(|e| {
            unreachable(format!(
                "the caller's answer for argument {arg} broke off: {e}"
            ))
        })?;
        protocol::decode(&text, arg_type)
    }
}

/// Serves the protocol on `listener` until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    config: ApliteConfig,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let (sa_namespace, sa_name) = &config.service_account;
    let aplite = Arc::new(Aplite {
        state,
        namespace: config.namespace,
        caller_url: config.caller_url,
        identity: Identity::new(sa_namespace, sa_name),
        registry: Registry::default(),
        http: reqwest_s3::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .build()
            .map_err(std::io::Error::other)?,
        loopback: addr.ip().is_loopback(),
    });
    tracing::info!(%addr, acts_as = %aplite.identity.username(), namespace = %aplite.namespace, "Aplite remote protocol listening");
    let app = Router::new()
        .route("/", post(handle))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(aplite);
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}

async fn handle(
    State(aplite): State<Arc<Aplite>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let answered = async {
        let authorization = aplite
            .identity
            .authorization(&aplite.state, &headers, aplite.loopback)
            .await?;
        let request = protocol::Request::parse(&body)?;
        tracing::debug!(%peer, ?request, "Aplite request");
        protocol::answer(&aplite, request, authorization).await
    }
    .await;
    match answered {
        Ok(result) => protocol::ok(&result),
        Err(error) => error.into_response(),
    }
}
