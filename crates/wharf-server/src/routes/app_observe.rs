//! Reading what an App is doing: status, state, pods, events and resource use. All
//! from watch caches, except `top`, which asks the metrics API.

use axum::Json;
use axum::http::StatusCode;
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, ListParams};
use kube::{Api, ResourceExt};
use wharf_model::api::{AppState as AppStateBody, EventEntry, PodSummary, PodUsage};
use wharf_model::app::build::APP_LABEL;
use wharf_model::app::{App, AppStatus};
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};

use super::common::pods_labelled;
use super::path::AppPath;
use crate::auth::{Subresource, Verb};
use crate::error::ApiError;
use crate::openapi::ObjectProblems;

/// The App's pods from the cache, by name.
pub fn pods_of(path: &AppPath) -> Vec<Pod> {
    pods_labelled(path.state(), &path.namespace, APP_LABEL, &path.name)
}

/// The App's pods, summarized.
fn pod_summaries(path: &AppPath) -> Vec<PodSummary> {
    pods_of(path).iter().map(summarize).collect()
}

fn summarize(pod: &Pod) -> PodSummary {
    let status = pod.status.clone().unwrap_or_default();
    let containers = status.container_statuses.clone().unwrap_or_default();
    let waiting_reason = containers
        .iter()
        .find_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
    PodSummary {
        name: pod.name_any(),
        phase: status.phase.clone().unwrap_or_else(|| "Unknown".into()),
        ready: status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Ready" && c.status == "True"),
        restarts: containers.iter().map(|c| c.restart_count).sum(),
        node: pod.spec.as_ref().and_then(|s| s.node_name.clone()),
        image: pod
            .spec
            .as_ref()
            .and_then(|s| s.containers.first()?.image.clone()),
        started_at: status.start_time.map(|t| t.0.to_string()),
        reason: waiting_reason.or(status.reason),
    }
}

/// The App's status.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps/{name}/status",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Phase, conditions, replica counts and URLs", body = Object),
        ObjectProblems<App>,
    )
)]
pub async fn app_status(path: AppPath) -> Result<Json<AppStatus>, ApiError> {
    let app = path.load_for(Verb::Get.on(Subresource::Status)).await?;
    Ok(Json(app.status.unwrap_or_default()))
}

/// The App's state: status and pods together.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps/{name}/state",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Phase, conditions and pods", body = AppStateBody),
        ObjectProblems<App>,
    )
)]
pub async fn app_state(path: AppPath) -> Result<Json<AppStateBody>, ApiError> {
    let app = path.load_for(Verb::Get.on(Subresource::Status)).await?;
    let status = app.status.clone().unwrap_or_default();
    Ok(Json(AppStateBody {
        name: app.name_any(),
        phase: status.phase,
        conditions: status.conditions,
        desired_replicas: status.desired_replicas.unwrap_or(0),
        ready_replicas: status.ready_replicas.unwrap_or(0),
        urls: status.urls,
        pods: pod_summaries(&path),
    }))
}

/// The App's pods.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps/{name}/pods",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Its pods", body = Vec<PodSummary>),
        ObjectProblems<App>,
    )
)]
pub async fn app_pods(path: AppPath) -> Result<Json<Vec<PodSummary>>, ApiError> {
    path.load_for(Verb::Get.on(Subresource::Status)).await?;
    Ok(Json(pod_summaries(&path)))
}

/// Whether an event concerns the App or one of its children.
fn concerns(event: &Event, app: &App, pod_names: &[String]) -> bool {
    let object = &event.involved_object;
    let name = app.name_any();
    match object.kind.as_deref() {
        Some("App") => object.name.as_deref() == Some(name.as_str()),
        Some("Deployment" | "Service" | "Ingress" | "HorizontalPodAutoscaler") => {
            object.name.as_deref() == Some(name.as_str())
        }
        // ReplicaSets are named <deployment>-<hash>; claims <app>-<volume>.
        Some("ReplicaSet" | "PersistentVolumeClaim") => object
            .name
            .as_deref()
            .is_some_and(|n| n.starts_with(&format!("{name}-"))),
        Some("Pod") => object.name.as_ref().is_some_and(|n| pod_names.contains(n)),
        _ => false,
    }
}

/// Events of the App and its children, oldest first.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps/{name}/events",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Its events", body = Vec<EventEntry>),
        ObjectProblems<App>,
    )
)]
pub async fn app_events(path: AppPath) -> Result<Json<Vec<EventEntry>>, ApiError> {
    let app = path.load_for(Verb::Get.on(Subresource::Events)).await?;
    let pod_names: Vec<String> = pods_of(&path).iter().map(ResourceExt::name_any).collect();
    let mut events: Vec<(Option<String>, EventEntry)> = path
        .state()
        .caches()
        .events
        .state()
        .iter()
        .filter(|e| {
            e.namespace().as_deref() == Some(path.namespace.as_str())
                && concerns(e, &app, &pod_names)
        })
        .map(|e| {
            let when = e
                .last_timestamp
                .as_ref()
                .map(|t| t.0.to_string())
                .or_else(|| e.event_time.as_ref().map(|t| t.0.to_string()))
                .or_else(|| {
                    e.metadata
                        .creation_timestamp
                        .as_ref()
                        .map(|t| t.0.to_string())
                });
            let entry = EventEntry {
                type_: e.type_.clone().unwrap_or_else(|| "Normal".into()),
                reason: e.reason.clone().unwrap_or_default(),
                message: e.message.clone().unwrap_or_default(),
                object: format!(
                    "{}/{}",
                    e.involved_object.kind.clone().unwrap_or_default(),
                    e.involved_object.name.clone().unwrap_or_default()
                ),
                count: e.count.unwrap_or(1),
                last_seen: when.clone(),
            };
            (when, entry)
        })
        .collect();
    events.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Json(events.into_iter().map(|(_, e)| e).collect()))
}

/// CPU and memory use of the App's pods, from `metrics.k8s.io` (metrics-server).
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps/{name}/top",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Use per pod", body = Vec<PodUsage>),
        ObjectProblems<App>,
        (status = 501, description = "The cluster has no metrics API", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn app_top(path: AppPath) -> Result<Json<Vec<PodUsage>>, ApiError> {
    path.load_for(Verb::Get.on(Subresource::Status)).await?;
    let resource = ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("metrics.k8s.io", "v1beta1", "PodMetrics"),
        "pods",
    );
    let api = Api::<DynamicObject>::namespaced_with(
        path.state().client().clone(),
        &path.namespace,
        &resource,
    );
    let list = api
        .list(&ListParams::default().labels(&format!("{APP_LABEL}={}", path.name)))
        .await
        .map_err(|error| match error {
            kube::Error::Api(status) if status.code == 404 || status.code == 503 => ApiError::new(
                StatusCode::NOT_IMPLEMENTED,
                ErrorCode::MetricsUnavailable,
                "this cluster serves no metrics.k8s.io API; install metrics-server to see resource use",
            ),
            other => other.into(),
        })?;
    let usage = list
        .items
        .iter()
        .map(|metrics| {
            let containers = metrics.data["containers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let sum = |key: &str| {
                containers
                    .iter()
                    .filter_map(|c| c["usage"][key].as_str())
                    .collect::<Vec<_>>()
                    .join("+")
            };
            PodUsage {
                pod: metrics.name_any(),
                cpu: sum("cpu"),
                memory: sum("memory"),
            }
        })
        .collect();
    Ok(Json(usage))
}
