//! Operations on a Task: cancel. It changes the Task's spec, so `kubectl` and
//! GitOps see the same state the API set; the operator stops the pods.

use axum::http::StatusCode;
use axum::response::Response;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use wharf_model::task::Task;
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};

use super::path::TaskPath;
use crate::auth::Verb;
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::openapi::{ObjectProblems, TaskDoc};
use crate::wait::{WaitQuery, respond_after_wait};

/// Cancels a Task: its pods are stopped and it ends as Cancelled. Cancelling a Task
/// that is already being cancelled changes nothing.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/tasks/{name}/cancel",
    tag = "tasks",
    params(TaskPath, WaitQuery<Task>),
    responses(
        (status = 200, description = "Cancelling (and finished, when waited for)", body = TaskDoc),
        (status = 202, description = "Cancelling; the wait ran out before it finished", body = TaskDoc),
        ObjectProblems<Task>,
        (status = 409, description = "The Task has already finished", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn cancel_task(
    path: TaskPath,
    QueryParams(wait): QueryParams<WaitQuery<Task>>,
) -> Result<Response, ApiError> {
    path.authorize(Verb::Update).await?;
    // Decided on a fresh read, not the watch cache: the cache may lag a wait that
    // has just seen the Task finish, and cancelling a finished Task must be refused.
    let task = path.read().await?;
    if let Some(phase) = task
        .status
        .as_ref()
        .and_then(|s| s.phase)
        .filter(|p| p.is_finished())
    {
        return Err(ApiError::conflict(
            ErrorCode::TaskFinished,
            format!(
                "Task {} has already finished ({phase}); there is nothing to cancel",
                path.name
            ),
        ));
    }
    let cancelling = if task.spec.cancelled {
        task
    } else {
        let patch = Patch::Merge(json!({ "spec": { "cancelled": true } }));
        path.api()
            .patch(&path.name, &PatchParams::default(), &patch)
            .await?
    };
    respond_after_wait(path.state(), cancelling, &wait, StatusCode::OK).await
}
