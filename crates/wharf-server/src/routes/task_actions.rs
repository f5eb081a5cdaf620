//! Operations on a Task: cancel. It changes the Task's spec, so `kubectl` and
//! GitOps see the same state the API set; the operator stops the pods.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use wharf_model::task::Task;

use super::tasks::{TaskPath, TaskWaitQuery, authorize_task, find_task, respond_after_wait};
use crate::error::{ApiError, Problem};
use crate::extract::QueryParams;
use crate::openapi::TaskDoc;
use crate::state::AppState;

/// Cancels a Task: its pods are stopped and it ends as Cancelled. Cancelling a Task
/// that is already being cancelled changes nothing.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/tasks/{name}/cancel",
    tag = "tasks",
    params(TaskPath, TaskWaitQuery),
    responses(
        (status = 200, description = "Cancelling (and finished, when waited for)", body = TaskDoc),
        (status = 202, description = "Cancelling; the wait ran out before it finished", body = TaskDoc),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Task", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Task has already finished", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn cancel_task(
    State(state): State<AppState>,
    Path(path): Path<TaskPath>,
    QueryParams(wait): QueryParams<TaskWaitQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize_task(
        &state,
        &headers,
        "update",
        &path.namespace,
        None,
        Some(&path.name),
    )
    .await?;
    let task = find_task(&state, &path.namespace, &path.name).await?;
    if let Some(phase) = task
        .status
        .as_ref()
        .and_then(|s| s.phase)
        .filter(|p| p.is_finished())
    {
        return Err(ApiError::conflict(
            "task_finished",
            format!(
                "Task {} has already finished ({phase}); there is nothing to cancel",
                path.name
            ),
        ));
    }
    let cancelling = if task.spec.cancelled {
        task
    } else {
        Api::<Task>::namespaced(state.client().clone(), &path.namespace)
            .patch(
                &path.name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "cancelled": true } })),
            )
            .await?
    };
    respond_after_wait(&state, cancelling, &wait, StatusCode::OK).await
}
