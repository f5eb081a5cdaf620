//! An App's logs: one pod's or all pods' (each line prefixed with its pod), as a
//! streamed response that keeps going with `follow`.

use axum::response::Response;
use kube::ResourceExt;
use serde::Deserialize;
use utoipa::IntoParams;
use wharf_model::app::App;
use wharf_model::app::build::CONTAINER_NAME;
use wharf_model::wire::{PROBLEM_CONTENT_TYPE, Problem};

use super::app_observe::pods_of;
use super::log_stream::{LogWindow, serve_logs};
use super::path::AppPath;
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::openapi::ObjectProblems;

/// `?pod=&tail=&since=&follow=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsQuery {
    /// Only this pod's logs (one of the App's pods); all pods when absent.
    pub pod: Option<String>,
    /// Only the last this many lines of each pod.
    pub tail: Option<i64>,
    /// Only lines newer than this, e.g. `10m`.
    pub since: Option<String>,
    /// Keep the response open and stream new lines as they come.
    #[serde(default)]
    pub follow: bool,
}

/// Streams the App's logs as text.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps/{name}/logs",
    tag = "apps",
    params(AppPath, LogsQuery),
    responses(
        (status = 200, description = "Log lines; with several pods each starts with `[pod] `", body = String, content_type = "text/plain"),
        ObjectProblems<App>,
        (status = 404, description = "No such App or pod", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn app_logs(
    path: AppPath,
    QueryParams(query): QueryParams<LogsQuery>,
) -> Result<Response, ApiError> {
    let window = LogWindow {
        tail: query.tail,
        since: query.since.as_deref(),
        follow: query.follow,
    };
    let pick = || chosen_pods(&path, query.pod.as_deref());
    serve_logs(&path, CONTAINER_NAME, window, pick).await
}

/// The App's pods, or the one of them asked for.
fn chosen_pods(path: &AppPath, pod: Option<&str>) -> Result<Vec<String>, ApiError> {
    let pods: Vec<String> = pods_of(path).iter().map(ResourceExt::name_any).collect();
    match pod {
        None => Ok(pods),
        Some(pod) if pods.iter().any(|p| p == pod) => Ok(vec![pod.to_owned()]),
        Some(pod) => Err(ApiError::not_found(format!(
            "{pod} is not a pod of App {}",
            path.name
        ))),
    }
}
