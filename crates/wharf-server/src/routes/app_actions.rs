//! Operations on a running App: scale, restart, stop and start. Each changes the
//! App's spec, so `kubectl` and GitOps see the same state the API set.

use axum::http::StatusCode;
use axum::response::Response;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use wharf_model::api::ScaleRequest;
use wharf_model::app::App;
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};

use super::path::AppPath;
use crate::auth::{Permission, Subresource, Verb};
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::{AppDoc, JsonBodyProblems, ObjectProblems};
use crate::wait::{WaitQuery, respond_after_wait};

/// An operation on a running App: what it asks of the caller and of the App, and
/// what it merges into the App's spec.
enum Action {
    Scale(i32),
    Restart,
    Stop,
    Start,
}

impl Action {
    /// What the caller must be allowed.
    fn permission(&self) -> Permission {
        match self {
            Self::Scale(_) => Verb::Update.on(Subresource::Scale),
            Self::Restart | Self::Stop | Self::Start => Verb::Update.into(),
        }
    }

    /// A 400 for a request that no App can take.
    fn validate(&self) -> Result<(), ApiError> {
        match self {
            Self::Scale(replicas) if !(0..=1000).contains(replicas) => Err(ApiError::invalid(
                "replicas",
                format!("{replicas} is out of range: use 0 to 1000"),
            )),
            _ => Ok(()),
        }
    }

    /// A 409 for a request this App cannot take.
    fn allowed_on(&self, app: &App) -> Result<(), ApiError> {
        match self {
            Self::Scale(_) if app.spec.autoscale.is_some() => Err(ApiError::conflict(
                ErrorCode::Autoscaled,
                "the App autoscales; change spec.autoscale.min and max instead of scaling it",
            )),
            _ => Ok(()),
        }
    }

    /// What it merges into the App's spec.
    fn spec(&self) -> serde_json::Value {
        match self {
            Self::Scale(replicas) => json!({ "replicas": replicas }),
            Self::Restart => json!({ "restartedAt": Timestamp::now().to_string() }),
            Self::Stop => json!({ "paused": true }),
            Self::Start => json!({ "paused": false }),
        }
    }
}

/// Does `action` on the App and answers with the App, after a wait when one was
/// asked for.
async fn act(path: &AppPath, action: Action, wait: &WaitQuery<App>) -> Result<Response, ApiError> {
    path.authorize(action.permission()).await?;
    action.validate()?;
    action.allowed_on(&path.load().await?)?;
    let patch = Patch::Merge(json!({ "spec": action.spec() }));
    let patched = path
        .api()
        .patch(&path.name, &PatchParams::default(), &patch)
        .await?;
    respond_after_wait(path.state(), patched, wait, StatusCode::OK).await
}

/// Sets the number of pods.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps/{name}/scale",
    tag = "apps",
    params(AppPath, WaitQuery<App>),
    request_body = ScaleRequest,
    responses(
        (status = 200, description = "Scaled (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Scaled; the wait ran out", body = AppDoc),
        ObjectProblems<App>,
        JsonBodyProblems,
        (status = 409, description = "The App autoscales", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn scale_app(
    path: AppPath,
    QueryParams(wait): QueryParams<WaitQuery<App>>,
    JsonBody(request): JsonBody<ScaleRequest>,
) -> Result<Response, ApiError> {
    act(&path, Action::Scale(request.replicas), &wait).await
}

/// Replaces every pod with a rolling update.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps/{name}/restart",
    tag = "apps",
    params(AppPath, WaitQuery<App>),
    responses(
        (status = 200, description = "Restarted (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Restarting; the wait ran out", body = AppDoc),
        ObjectProblems<App>,
    )
)]
pub async fn restart_app(
    path: AppPath,
    QueryParams(wait): QueryParams<WaitQuery<App>>,
) -> Result<Response, ApiError> {
    act(&path, Action::Restart, &wait).await
}

/// Stops the App: zero pods, everything else kept.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps/{name}/stop",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Stopping", body = AppDoc),
        ObjectProblems<App>,
    )
)]
pub async fn stop_app(path: AppPath) -> Result<Response, ApiError> {
    act(&path, Action::Stop, &WaitQuery::default()).await
}

/// Starts a stopped App with its previous replica count.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps/{name}/start",
    tag = "apps",
    params(AppPath, WaitQuery<App>),
    responses(
        (status = 200, description = "Started (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Starting; the wait ran out", body = AppDoc),
        ObjectProblems<App>,
    )
)]
pub async fn start_app(
    path: AppPath,
    QueryParams(wait): QueryParams<WaitQuery<App>>,
) -> Result<Response, ApiError> {
    act(&path, Action::Start, &wait).await
}
