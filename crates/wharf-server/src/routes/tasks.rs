//! Create, list, get and delete Tasks. Submissions (JSON, or a form with dotenv
//! files) are read and created in `task_submit`.

use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wharf_model::api::TaskList;
use wharf_model::task::Task;
use wharf_model::wire::{PROBLEM_CONTENT_TYPE, Problem};

use super::common::{ListQuery, list_page};
use super::path::{NamespacePath, TaskPath};
use super::task_submit::{self, TaskForm};
use crate::auth::Verb;
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::openapi::{CollectionProblems, JsonBodyProblems, ObjectProblems, TaskDoc};
use crate::wait::{WaitQuery, clean, respond_after_wait};

pub use task_submit::MAX_SUBMISSION;

/// Creates a Task from JSON, or from `multipart/form-data` with a part `task` (the
/// Task as JSON) and any number of parts `env` (dotenv files).
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/tasks",
    tag = "tasks",
    params(NamespacePath<Task>, WaitQuery<Task>),
    request_body(content(
        (TaskDoc = "application/json"),
        (TaskForm = "multipart/form-data"),
    )),
    responses(
        (status = 201, description = "Created (and finished, when waited for)", body = TaskDoc),
        (status = 202, description = "Created; the wait ran out before it finished", body = TaskDoc),
        CollectionProblems,
        JsonBodyProblems,
        (status = 409, description = "A Task (or a dotenv ConfigMap) of that name exists", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 413, description = "A dotenv file is larger than 256 KiB", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn create_task(
    path: NamespacePath<Task>,
    QueryParams(wait): QueryParams<WaitQuery<Task>>,
    request: Request,
) -> Result<Response, ApiError> {
    path.authorize(Verb::Create).await?;
    // Refuse a bad wait before anything is created.
    wait.timeout()?;
    let (task, env_files) = task_submit::read_submission(request).await?;
    let created = task_submit::create(&path, task, &env_files).await?;
    respond_after_wait(path.state(), created, &wait, StatusCode::CREATED).await
}

/// Lists the Tasks of a namespace, by name, from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/tasks",
    tag = "tasks",
    params(NamespacePath<Task>, ListQuery),
    responses(
        (status = 200, description = "A page of Tasks", body = TaskList),
        CollectionProblems,
    )
)]
pub async fn list_tasks(
    path: NamespacePath<Task>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<TaskList>, ApiError> {
    let (items, continue_token) = list_page(&path, &query).await?;
    Ok(Json(TaskList {
        items,
        continue_token,
    }))
}

/// Reads one Task from the watch cache, after waiting for it to finish when asked.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/tasks/{name}",
    tag = "tasks",
    params(TaskPath, WaitQuery<Task>),
    responses(
        (status = 200, description = "The Task (finished, when waited for)", body = TaskDoc),
        (status = 202, description = "The wait ran out before it finished", body = TaskDoc),
        ObjectProblems<Task>,
    )
)]
pub async fn get_task(
    path: TaskPath,
    QueryParams(wait): QueryParams<WaitQuery<Task>>,
) -> Result<Response, ApiError> {
    let task = path.load_for(Verb::Get).await?;
    respond_after_wait(path.state(), task, &wait, StatusCode::OK).await
}

/// Deletes a Task and, through owner references, its Job, pods and ConfigMaps.
#[utoipa::path(
    delete,
    path = "/v1/namespaces/{namespace}/tasks/{name}",
    tag = "tasks",
    params(TaskPath),
    responses(
        (status = 202, description = "Deleting: finalizers still hold it", body = TaskDoc),
        (status = 204, description = "Deleted"),
        ObjectProblems<Task>,
    )
)]
pub async fn delete_task(path: TaskPath) -> Result<Response, ApiError> {
    path.authorize(Verb::Delete).await?;
    Ok(match path.delete().await? {
        Some(pending) => (StatusCode::ACCEPTED, Json(clean(pending))).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}
