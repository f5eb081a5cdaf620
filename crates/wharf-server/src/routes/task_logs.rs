//! A Task's logs: one attempt's pod (the newest by default), as a streamed response
//! that keeps going with `follow`.

use axum::http::StatusCode;
use axum::response::Response;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use serde::Deserialize;
use utoipa::IntoParams;
use wharf_model::task::Task;
use wharf_model::task::build::{CONTAINER_NAME, TASK_LABEL};
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};

use super::common::pods_labelled;
use super::log_stream::{LogWindow, serve_logs};
use super::path::TaskPath;
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::openapi::ObjectProblems;
use crate::state::AppState;

/// `?attempt=&tail=&since=&follow=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskLogsQuery {
    /// Which pod, counted from 1 in the order the Task started them (a retry or a
    /// replaced evicted pod is a new one); the newest when absent.
    pub attempt: Option<usize>,
    /// Only the last this many lines.
    pub tail: Option<i64>,
    /// Only lines newer than this, e.g. `10m`.
    pub since: Option<String>,
    /// Keep the response open and stream new lines as they come, until the pod ends.
    #[serde(default)]
    pub follow: bool,
}

/// The Task's pods from the watch cache, oldest first.
fn pods_of(state: &AppState, namespace: &str, task: &str) -> Vec<Pod> {
    let mut pods = pods_labelled(state, namespace, TASK_LABEL, task);
    pods.sort_by_key(ResourceExt::creation_timestamp);
    pods
}

/// Streams the logs of one of the Task's pods as text.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/tasks/{name}/logs",
    tag = "tasks",
    params(TaskPath, TaskLogsQuery),
    responses(
        (status = 200, description = "Log lines of the Task's container", body = String, content_type = "text/plain"),
        ObjectProblems<Task>,
        (status = 404, description = "No such Task or attempt, or no pod yet (code `no_pod`)", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn task_logs(
    path: TaskPath,
    QueryParams(query): QueryParams<TaskLogsQuery>,
) -> Result<Response, ApiError> {
    let window = LogWindow {
        tail: query.tail,
        since: query.since.as_deref(),
        follow: query.follow,
    };
    let pick = || attempt_pod(&path, query.attempt);
    serve_logs(&path, CONTAINER_NAME, window, pick).await
}

/// The pod of attempt `attempt` (counted from 1), the newest when absent.
fn attempt_pod(path: &TaskPath, attempt: Option<usize>) -> Result<Vec<String>, ApiError> {
    if attempt == Some(0) {
        return Err(ApiError::invalid(
            "query.attempt",
            "attempts are counted from 1",
        ));
    }
    let pods = pods_of(path.state(), &path.namespace, &path.name);
    if pods.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::NoPod,
            format!(
                "Task {} has no pod yet; its logs start when it runs",
                path.name
            ),
        ));
    }
    let pod = match attempt {
        None => pods.last(),
        Some(n) => pods.get(n.saturating_sub(1)),
    }
    .ok_or_else(|| {
        ApiError::not_found(format!(
            "Task {} has had {} attempt(s); there is no attempt {}",
            path.name,
            pods.len(),
            attempt.unwrap_or_default()
        ))
    })?;
    Ok(vec![pod.name_any()])
}
