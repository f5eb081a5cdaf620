//! Create, list, get, apply and delete RuntimeVersions, and set their state:
//! start, stop, publish and unpublish.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wharf_model::api::RuntimeVersionList;
use wharf_model::runtime_version::{RuntimeVersion, VersionState};
use wharf_model::wire::{PROBLEM_CONTENT_TYPE, Problem};

use super::common::{ListQuery, list_page};
use super::path::{NamespacePath, ObjectPath};
use super::write;
use crate::auth::Verb;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::{CollectionProblems, JsonBodyProblems, ObjectProblems, RuntimeVersionDoc};
use crate::wait::{WaitQuery, clean};

/// `/v1/namespaces/{namespace}/runtimeversions/{name}`.
pub type VersionPath = ObjectPath<RuntimeVersion>;

/// Creates a RuntimeVersion.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/runtimeversions",
    tag = "runtimes",
    params(NamespacePath<RuntimeVersion>, WaitQuery<RuntimeVersion>),
    request_body = RuntimeVersionDoc,
    responses(
        (status = 201, description = "Created (and in its state, when waited for)", body = RuntimeVersionDoc),
        (status = 202, description = "Created; the wait ran out first", body = RuntimeVersionDoc),
        CollectionProblems,
        JsonBodyProblems,
        (status = 409, description = "A RuntimeVersion of that name exists", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 422, description = "Kubernetes refused it (e.g. an edge to a node that is not there); `detail` says why", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn create_version(
    path: NamespacePath<RuntimeVersion>,
    QueryParams(wait): QueryParams<WaitQuery<RuntimeVersion>>,
    JsonBody(version): JsonBody<RuntimeVersion>,
) -> Result<Response, ApiError> {
    write::create(&path, version, &wait).await
}

/// Creates or updates a RuntimeVersion to match the body (server-side apply).
#[utoipa::path(
    put,
    path = "/v1/namespaces/{namespace}/runtimeversions/{name}",
    tag = "runtimes",
    params(VersionPath, WaitQuery<RuntimeVersion>),
    request_body = RuntimeVersionDoc,
    responses(
        (status = 200, description = "Applied (and in its state, when waited for)", body = RuntimeVersionDoc),
        (status = 202, description = "Applied; the wait ran out first", body = RuntimeVersionDoc),
        ObjectProblems<RuntimeVersion>,
        JsonBodyProblems,
        (status = 422, description = "Kubernetes refused it; `detail` says why", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn apply_version(
    path: VersionPath,
    QueryParams(wait): QueryParams<WaitQuery<RuntimeVersion>>,
    JsonBody(version): JsonBody<RuntimeVersion>,
) -> Result<Response, ApiError> {
    write::apply(&path, version, &wait).await
}

/// Lists the RuntimeVersions of a namespace, by name, from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/runtimeversions",
    tag = "runtimes",
    params(NamespacePath<RuntimeVersion>, ListQuery),
    responses(
        (status = 200, description = "A page of RuntimeVersions", body = RuntimeVersionList),
        CollectionProblems,
    )
)]
pub async fn list_versions(
    path: NamespacePath<RuntimeVersion>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<RuntimeVersionList>, ApiError> {
    let (items, continue_token) = list_page(&path, &query).await?;
    Ok(Json(RuntimeVersionList {
        items,
        continue_token,
    }))
}

/// Reads one RuntimeVersion from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/runtimeversions/{name}",
    tag = "runtimes",
    params(VersionPath),
    responses(
        (status = 200, description = "The RuntimeVersion", body = RuntimeVersionDoc),
        ObjectProblems<RuntimeVersion>,
    )
)]
pub async fn get_version(path: VersionPath) -> Result<Json<RuntimeVersion>, ApiError> {
    Ok(Json(clean(path.load_for(Verb::Get).await?)))
}

/// Deletes a RuntimeVersion: its nodes go, and the operator removes its stream
/// from the Runtime's NATS (202 while it does).
#[utoipa::path(
    delete,
    path = "/v1/namespaces/{namespace}/runtimeversions/{name}",
    tag = "runtimes",
    params(VersionPath),
    responses(
        (status = 202, description = "Deleting: the stream is being removed", body = RuntimeVersionDoc),
        (status = 204, description = "Deleted"),
        ObjectProblems<RuntimeVersion>,
    )
)]
pub async fn delete_version(path: VersionPath) -> Result<Response, ApiError> {
    path.authorize(Verb::Delete).await?;
    Ok(match path.delete().await? {
        Some(pending) => (StatusCode::ACCEPTED, Json(clean(pending))).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// Runs the version's nodes (`state: Started`).
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/runtimeversions/{name}/start",
    tag = "runtimes",
    params(VersionPath),
    responses((status = 200, description = "Starting", body = RuntimeVersionDoc), ObjectProblems<RuntimeVersion>)
)]
pub async fn start_version(path: VersionPath) -> Result<Json<RuntimeVersion>, ApiError> {
    set_state(&path, VersionState::Started, "while it was being started").await
}

/// Scales the version's nodes to zero, keeping everything else (`state: Stopped`).
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/runtimeversions/{name}/stop",
    tag = "runtimes",
    params(VersionPath),
    responses((status = 200, description = "Stopping", body = RuntimeVersionDoc), ObjectProblems<RuntimeVersion>)
)]
pub async fn stop_version(path: VersionPath) -> Result<Json<RuntimeVersion>, ApiError> {
    set_state(&path, VersionState::Stopped, "while it was being stopped").await
}

/// Makes the version its Runtime's published one (`state: Published`); the
/// version published before it moves to `Started`.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/runtimeversions/{name}/publish",
    tag = "runtimes",
    params(VersionPath),
    responses((status = 200, description = "Publishing", body = RuntimeVersionDoc), ObjectProblems<RuntimeVersion>)
)]
pub async fn publish_version(path: VersionPath) -> Result<Json<RuntimeVersion>, ApiError> {
    set_state(
        &path,
        VersionState::Published,
        "while it was being published",
    )
    .await
}

/// Withdraws the version's publication; its nodes keep running (`state: Started`).
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/runtimeversions/{name}/unpublish",
    tag = "runtimes",
    params(VersionPath),
    responses((status = 200, description = "Unpublishing", body = RuntimeVersionDoc), ObjectProblems<RuntimeVersion>)
)]
pub async fn unpublish_version(path: VersionPath) -> Result<Json<RuntimeVersion>, ApiError> {
    path.authorize(Verb::Update).await?;
    let version = path
        .update("while it was being unpublished", |version| {
            if version.spec.state == VersionState::Published {
                version.spec.state = VersionState::Started;
            }
            Ok(())
        })
        .await?;
    Ok(Json(clean(version)))
}

/// Sets the version's state (authorized as `update`).
async fn set_state(
    path: &VersionPath,
    state: VersionState,
    during: &str,
) -> Result<Json<RuntimeVersion>, ApiError> {
    path.authorize(Verb::Update).await?;
    let version = path
        .update(during, |version| {
            version.spec.state = state;
            Ok(())
        })
        .await?;
    Ok(Json(clean(version)))
}
