//! Shared volumes: claims made on their own that several Apps mount (`spec.mounts`).
//! Authorized as `volumes.wharf.dev`; the server makes and deletes the claims with
//! its own account, only ever ones labelled `wharf.dev/volume`. A volume an App
//! mounts is never deleted: the answer names the Apps.

use std::sync::Arc;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::api::PostParams;
use wharf_model::api::is_quantity;
use wharf_model::app::App;
use wharf_model::volume::{VolumeInfo, VolumeList, VolumeRequest, claim, info, mounted_by};
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};

use super::path::{NamespacePath, ObjectPath};
use crate::auth::Verb;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::kinds::Kind;
use crate::names::check_label;
use crate::openapi::{CollectionProblems, JsonBodyProblems, ObjectProblems};

/// `/v1/namespaces/{namespace}/volumes/{name}`.
pub type VolumePath = ObjectPath<PersistentVolumeClaim>;

/// The Apps of `namespace`, shared from the watch cache.
fn apps_in(path: &NamespacePath<PersistentVolumeClaim>) -> Vec<Arc<App>> {
    App::store(path.state().caches())
        .state()
        .into_iter()
        .filter(|app| app.metadata.namespace.as_deref() == Some(path.namespace.as_str()))
        .collect()
}

/// The volume at `path` with the Apps that mount it; 404 when there is no such
/// claim, or the claim is not a shared volume (the API never shows an App's own
/// claims, or anyone else's, as one).
async fn load(path: &VolumePath) -> Result<VolumeInfo, ApiError> {
    let not_found = || {
        ApiError::not_found(format!(
            "there is no shared volume {} in namespace {}",
            path.name, path.namespace
        ))
    };
    let claim = path.load().await.map_err(|_| not_found())?;
    info(&claim, &apps_in(path)).ok_or_else(not_found)
}

/// Creates a shared volume: a PersistentVolumeClaim labelled `wharf.dev/volume`.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/volumes",
    tag = "volumes",
    params(NamespacePath<PersistentVolumeClaim>),
    request_body = VolumeRequest,
    responses(
        (status = 201, description = "Created", body = VolumeInfo),
        CollectionProblems,
        JsonBodyProblems,
        (status = 409, description = "A claim of that name exists", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn create_volume(
    path: NamespacePath<PersistentVolumeClaim>,
    JsonBody(request): JsonBody<VolumeRequest>,
) -> Result<Response, ApiError> {
    check_label(&request.name).map_err(|why| {
        ApiError::invalid(
            "name",
            format!("{:?} is not a volume name: {why}", request.name),
        )
    })?;
    if !is_quantity(&request.size) {
        return Err(ApiError::invalid(
            "size",
            format!(
                "{:?} is not a size: write a quantity such as 1Gi",
                request.size
            ),
        ));
    }
    if let Some(class) = &request.storage_class {
        check_label(class).map_err(|why| {
            ApiError::invalid(
                "storageClass",
                format!("{class:?} is not a StorageClass name: {why}"),
            )
        })?;
    }
    path.authorize(Verb::Create).await?;
    let created = path
        .api()
        .create(&PostParams::default(), &claim(&path.namespace, &request))
        .await
        .map_err(|error| match error {
            kube::Error::Api(status) if status.code == 409 => ApiError::conflict(
                ErrorCode::AlreadyExists,
                format!(
                    "a claim named {} exists in namespace {}; choose another name",
                    request.name, path.namespace
                ),
            ),
            other => other.into(),
        })?;
    path.state().caches().settle(&created).await;
    let volume = info::<App>(&created, &[])
        .ok_or_else(|| ApiError::internal(&"the created claim lost its label"))?;
    Ok((StatusCode::CREATED, Json(volume)).into_response())
}

/// Lists the shared volumes of a namespace, with the Apps that mount each.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/volumes",
    tag = "volumes",
    params(NamespacePath<PersistentVolumeClaim>),
    responses(
        (status = 200, description = "The shared volumes, by name", body = VolumeList),
        CollectionProblems,
    )
)]
pub async fn list_volumes(
    path: NamespacePath<PersistentVolumeClaim>,
) -> Result<Json<VolumeList>, ApiError> {
    path.authorize(Verb::List).await?;
    let apps = apps_in(&path);
    let mut items: Vec<VolumeInfo> = PersistentVolumeClaim::store(path.state().caches())
        .state()
        .iter()
        .filter(|claim| claim.metadata.namespace.as_deref() == Some(path.namespace.as_str()))
        .filter_map(|claim| info(claim, &apps))
        .collect();
    items.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(VolumeList { items }))
}

/// Reads one shared volume, with the Apps that mount it.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/volumes/{name}",
    tag = "volumes",
    params(VolumePath),
    responses(
        (status = 200, description = "The volume", body = VolumeInfo),
        ObjectProblems<PersistentVolumeClaim>,
    )
)]
pub async fn get_volume(path: VolumePath) -> Result<Json<VolumeInfo>, ApiError> {
    path.authorize(Verb::Get).await?;
    Ok(Json(load(&path).await?))
}

/// Deletes a shared volume and its data; refused while an App mounts it.
#[utoipa::path(
    delete,
    path = "/v1/namespaces/{namespace}/volumes/{name}",
    tag = "volumes",
    params(VolumePath),
    responses(
        (status = 204, description = "Deleted"),
        ObjectProblems<PersistentVolumeClaim>,
        (status = 409, description = "Apps mount it; the detail names them", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn delete_volume(path: VolumePath) -> Result<Response, ApiError> {
    path.authorize(Verb::Delete).await?;
    let volume = load(&path).await?;
    // The cache may lag a moment behind an App made just now; an App that mounts a
    // deleted claim says MissingVolume, so nothing is lost silently either way.
    let users = mounted_by(&volume.name, &apps_in(&path));
    if !users.is_empty() {
        return Err(ApiError::conflict(
            ErrorCode::VolumeInUse,
            format!(
                "shared volume {} is mounted by {} {}; remove it from {} first (or delete {})",
                volume.name,
                if users.len() == 1 { "App" } else { "Apps" },
                users.join(", "),
                if users.len() == 1 {
                    "that App"
                } else {
                    "those Apps"
                },
                if users.len() == 1 { "it" } else { "them" },
            ),
        ));
    }
    path.delete().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
