//! Operations on a running App: scale, restart, stop and start. Each changes the
//! App's spec, so `kubectl` and GitOps see the same state the API set.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use wharf_model::api::ScaleRequest;
use wharf_model::app::App;

use super::common::{AppPath, WaitQuery, authorize, find_app, respond_after_wait};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::AppDoc;
use crate::state::AppState;

async fn patch_spec(
    state: &AppState,
    path: &AppPath,
    spec: serde_json::Value,
) -> Result<App, ApiError> {
    Ok(
        Api::<App>::namespaced(state.client().clone(), &path.namespace)
            .patch(
                &path.name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": spec })),
            )
            .await?,
    )
}

/// Sets the number of pods.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps/{name}/scale",
    tag = "apps",
    params(AppPath, WaitQuery),
    request_body = ScaleRequest,
    responses(
        (status = 200, description = "Scaled (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Scaled; the wait ran out", body = AppDoc),
        (status = 400, description = "Invalid replica count", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such App", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The App autoscales", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn scale_app(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    QueryParams(wait): QueryParams<WaitQuery>,
    headers: HeaderMap,
    JsonBody(request): JsonBody<ScaleRequest>,
) -> Result<Response, ApiError> {
    authorize(
        &state,
        &headers,
        "update",
        &path.namespace,
        Some("scale"),
        Some(&path.name),
    )
    .await?;
    if !(0..=1000).contains(&request.replicas) {
        return Err(ApiError::invalid(
            "replicas",
            format!("{} is out of range: use 0 to 1000", request.replicas),
        ));
    }
    let app = find_app(&state, &path.namespace, &path.name).await?;
    if app.spec.autoscale.is_some() {
        return Err(ApiError::conflict(
            "autoscaled",
            "the App autoscales; change spec.autoscale.min and max instead of scaling it",
        ));
    }
    let scaled = patch_spec(&state, &path, json!({ "replicas": request.replicas })).await?;
    respond_after_wait(&state, scaled, &wait, StatusCode::OK).await
}

/// Replaces every pod with a rolling update.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps/{name}/restart",
    tag = "apps",
    params(AppPath, WaitQuery),
    responses(
        (status = 200, description = "Restarted (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Restarting; the wait ran out", body = AppDoc),
        (status = 404, description = "No such App", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn restart_app(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    QueryParams(wait): QueryParams<WaitQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(
        &state,
        &headers,
        "update",
        &path.namespace,
        None,
        Some(&path.name),
    )
    .await?;
    find_app(&state, &path.namespace, &path.name).await?;
    let restarted = patch_spec(
        &state,
        &path,
        json!({ "restartedAt": Timestamp::now().to_string() }),
    )
    .await?;
    respond_after_wait(&state, restarted, &wait, StatusCode::OK).await
}

/// Stops the App: zero pods, everything else kept.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps/{name}/stop",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Stopping", body = AppDoc),
        (status = 404, description = "No such App", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn stop_app(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(
        &state,
        &headers,
        "update",
        &path.namespace,
        None,
        Some(&path.name),
    )
    .await?;
    find_app(&state, &path.namespace, &path.name).await?;
    let stopped = patch_spec(&state, &path, json!({ "paused": true })).await?;
    respond_after_wait(&state, stopped, &WaitQuery::default(), StatusCode::OK).await
}

/// Starts a stopped App with its previous replica count.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps/{name}/start",
    tag = "apps",
    params(AppPath, WaitQuery),
    responses(
        (status = 200, description = "Started (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Starting; the wait ran out", body = AppDoc),
        (status = 404, description = "No such App", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn start_app(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    QueryParams(wait): QueryParams<WaitQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(
        &state,
        &headers,
        "update",
        &path.namespace,
        None,
        Some(&path.name),
    )
    .await?;
    find_app(&state, &path.namespace, &path.name).await?;
    let started = patch_spec(&state, &path, json!({ "paused": false })).await?;
    respond_after_wait(&state, started, &wait, StatusCode::OK).await
}
