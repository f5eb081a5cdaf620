//! An App's logs: one pod's or all pods' (each line prefixed with its pod), as a
//! streamed response that keeps going with `follow`.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::LogParams;
use kube::{Api, ResourceExt};
use serde::Deserialize;
use utoipa::IntoParams;
use wharf_model::app::build::CONTAINER_NAME;
use wharf_model::duration::parse_duration;

use super::app_observe::pods_of;
use super::common::{AppPath, authorize, find_app};
use crate::error::{ApiError, Problem};
use crate::extract::QueryParams;
use crate::state::AppState;

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
        (status = 400, description = "Invalid parameters", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such App or pod", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn app_logs(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    QueryParams(query): QueryParams<LogsQuery>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(
        &state,
        &headers,
        "get",
        &path.namespace,
        Some("logs"),
        Some(&path.name),
    )
    .await?;
    find_app(&state, &path.namespace, &path.name).await?;
    if query.tail.is_some_and(|t| t < 0) {
        return Err(ApiError::invalid(
            "query.tail",
            "tail must be 0 or more lines",
        ));
    }
    let since_seconds = match query.since.as_deref() {
        Some(text) => Some(
            i64::try_from(
                parse_duration(text)
                    .map_err(|e| ApiError::invalid("query.since", e.to_string()))?
                    .as_secs(),
            )
            .unwrap_or(i64::MAX),
        ),
        None => None,
    };
    let mut pods: Vec<String> = pods_of(&state, &path.namespace, &path.name)
        .iter()
        .map(ResourceExt::name_any)
        .collect();
    if let Some(pod) = &query.pod {
        if !pods.contains(pod) {
            return Err(ApiError::not_found(format!(
                "{pod} is not a pod of App {}",
                path.name
            )));
        }
        pods = vec![pod.clone()];
    }
    let params = LogParams {
        container: Some(CONTAINER_NAME.to_owned()),
        follow: query.follow,
        tail_lines: query.tail,
        since_seconds,
        ..LogParams::default()
    };
    let api = Api::<Pod>::namespaced(state.client().clone(), &path.namespace);
    let prefix = pods.len() > 1;
    let mut streams = Vec::with_capacity(pods.len());
    for pod in pods {
        let reader = api.log_stream(&pod, &params).await?;
        let lines = reader.lines().map_ok(move |line| {
            let text = if prefix {
                format!("[{pod}] {line}\n")
            } else {
                format!("{line}\n")
            };
            Bytes::from(text)
        });
        streams.push(lines.boxed());
    }
    let body = Body::from_stream(futures::stream::select_all(streams));
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    Ok(response)
}
