//! Pieces every App route uses: path parameters, authorization, finding the App,
//! and answering after an optional wait.

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use kube::Api;
use serde::Deserialize;
use utoipa::IntoParams;
use wharf_model::app::App;

use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use crate::wait::{parse_wait, until_ready};

/// Header saying whether a waited-for App became Ready before the deadline.
pub const READY_HEADER: HeaderName = HeaderName::from_static("wharf-ready");

/// `/v1/namespaces/{namespace}/apps/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppPath {
    /// The namespace.
    pub namespace: String,
    /// The App's name.
    pub name: String,
}

/// `/v1/namespaces/{namespace}/apps`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NamespacePath {
    /// The namespace.
    pub namespace: String,
}

/// `?wait=60s`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Answer when the App is Ready, or after this long (e.g. `60s`, at most `10m`)
    /// with 202 and what is still pending in its status.
    pub wait: Option<String>,
}

/// Authenticates the request and authorizes `verb` on `apps` (or `apps/<sub>`).
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    verb: &'static str,
    namespace: &str,
    subresource: Option<&'static str>,
    name: Option<&str>,
) -> Result<Caller, ApiError> {
    let access = Access {
        verb,
        namespace,
        resource: "apps",
        subresource,
        name,
    };
    state.auth().check(headers, &access).await
}

/// The App from the watch cache; asks the API server only on a miss, so an App
/// created a moment ago is found.
pub async fn find_app(state: &AppState, namespace: &str, name: &str) -> Result<App, ApiError> {
    if let Some(app) = state.caches().app(namespace, name) {
        return Ok(app);
    }
    Api::<App>::namespaced(state.client().clone(), namespace)
        .get_opt(name)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("there is no App {name} in namespace {namespace}"))
        })
}

/// Answers with the written App, after waiting for it to be Ready when asked:
/// `status` when ready or not waited for, 202 when the wait ran out.
pub async fn respond_after_wait(
    state: &AppState,
    app: App,
    wait: &WaitQuery,
    status: StatusCode,
) -> Result<Response, ApiError> {
    state.caches().settle_app(&app).await;
    let Some(timeout) = parse_wait(wait.wait.as_deref())? else {
        return Ok((status, Json(clean(app))).into_response());
    };
    let generation = app.metadata.generation.unwrap_or(0);
    let waited = until_ready(state.client(), app, generation, timeout).await?;
    let code = if waited.ready {
        status
    } else {
        StatusCode::ACCEPTED
    };
    let mut response = (code, Json(clean(waited.app))).into_response();
    response.headers_mut().insert(
        READY_HEADER,
        HeaderValue::from_static(if waited.ready { "true" } else { "false" }),
    );
    Ok(response)
}

/// The App without server bookkeeping clients do not need.
pub fn clean(mut app: App) -> App {
    app.metadata.managed_fields = None;
    app
}
