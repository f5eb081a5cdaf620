//! What App and Task logs share: reading `tail` and `since`, and streaming the logs
//! of some pods as one text response (each line prefixed with its pod when there
//! are several) that keeps going with `follow`.

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::Bytes;
use futures::{AsyncBufReadExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::LogParams;
use wharf_model::duration::parse_duration;

use super::path::ObjectPath;
use crate::auth::{Subresource, Verb};
use crate::error::ApiError;
use crate::kinds::Kind;
use crate::state::AppState;

/// What every log request asks besides which pods: `?tail=&since=&follow=`.
pub struct LogWindow<'a> {
    /// Only the last this many lines of each pod.
    pub tail: Option<i64>,
    /// Only lines newer than this, e.g. `10m`.
    pub since: Option<&'a str>,
    /// Keep streaming new lines.
    pub follow: bool,
}

/// The one log path of every kind: authorizes reading the object's logs, reads
/// the window, lets `pick` choose among the object's pods, and streams theirs.
pub async fn serve_logs<K: Kind>(
    path: &ObjectPath<K>,
    container: &str,
    window: LogWindow<'_>,
    pick: impl FnOnce() -> Result<Vec<String>, ApiError>,
) -> Result<Response, ApiError> {
    path.load_for(Verb::Get.on(Subresource::Logs)).await?;
    let params = log_params(container, window)?;
    let pods = pick()?;
    stream_logs(path.state(), &path.namespace, pods, &params).await
}

/// The log request for `container`, from the query's window; bad values are a
/// 400 naming the parameter.
fn log_params(
    container: &str,
    LogWindow {
        tail,
        since,
        follow,
    }: LogWindow<'_>,
) -> Result<LogParams, ApiError> {
    if tail.is_some_and(|t| t < 0) {
        return Err(ApiError::invalid(
            "query.tail",
            "tail must be 0 or more lines",
        ));
    }
    let since_seconds = match since {
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
    Ok(LogParams {
        container: Some(container.to_owned()),
        follow,
        tail_lines: tail,
        since_seconds,
        ..LogParams::default()
    })
}

/// Streams the logs of `pods` as `text/plain`, merged as lines arrive.
async fn stream_logs(
    state: &AppState,
    namespace: &str,
    pods: Vec<String>,
    params: &LogParams,
) -> Result<Response, ApiError> {
    let api = Api::<Pod>::namespaced(state.client().clone(), namespace);
    let prefix = pods.len() > 1;
    let mut streams = Vec::with_capacity(pods.len());
    for pod in pods {
        let reader = api.log_stream(&pod, params).await?;
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
