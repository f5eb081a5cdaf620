//! Create, list, get, apply and delete Apps.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use wharf_model::api::AppList;
use wharf_model::app::App;
use wharf_model::wire::{PROBLEM_CONTENT_TYPE, Problem};

use super::common::{ListQuery, list_page};
use super::path::{AppPath, NamespacePath};
use super::write;
use crate::auth::Verb;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::{AppDoc, CollectionProblems, JsonBodyProblems, ObjectProblems};
use crate::wait::{WaitQuery, clean};

/// Creates an App.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps",
    tag = "apps",
    params(NamespacePath<App>, WaitQuery<App>),
    request_body = AppDoc,
    responses(
        (status = 201, description = "Created (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Created; the wait ran out before it was Ready", body = AppDoc),
        CollectionProblems,
        JsonBodyProblems,
        (status = 409, description = "An App of that name exists", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn create_app(
    path: NamespacePath<App>,
    QueryParams(wait): QueryParams<WaitQuery<App>>,
    JsonBody(app): JsonBody<App>,
) -> Result<Response, ApiError> {
    write::create(&path, app, &wait).await
}

/// Creates or updates an App to match the body (server-side apply; idempotent).
#[utoipa::path(
    put,
    path = "/v1/namespaces/{namespace}/apps/{name}",
    tag = "apps",
    params(AppPath, WaitQuery<App>),
    request_body = AppDoc,
    responses(
        (status = 200, description = "Applied (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Applied; the wait ran out before it was Ready", body = AppDoc),
        ObjectProblems<App>,
        JsonBodyProblems,
    )
)]
pub async fn apply_app(
    path: AppPath,
    QueryParams(wait): QueryParams<WaitQuery<App>>,
    JsonBody(app): JsonBody<App>,
) -> Result<Response, ApiError> {
    write::apply(&path, app, &wait).await
}

/// Lists the Apps of a namespace, by name, from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps",
    tag = "apps",
    params(NamespacePath<App>, ListQuery),
    responses(
        (status = 200, description = "A page of Apps", body = AppList),
        CollectionProblems,
    )
)]
pub async fn list_apps(
    path: NamespacePath<App>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<AppList>, ApiError> {
    let (items, continue_token) = list_page(&path, &query).await?;
    Ok(Json(AppList {
        items,
        continue_token,
    }))
}

/// Reads one App from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps/{name}",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "The App", body = AppDoc),
        ObjectProblems<App>,
    )
)]
pub async fn get_app(path: AppPath) -> Result<Json<App>, ApiError> {
    Ok(Json(clean(path.load_for(Verb::Get).await?)))
}

/// Deletes an App and, through owner references, everything it owns.
#[utoipa::path(
    delete,
    path = "/v1/namespaces/{namespace}/apps/{name}",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 204, description = "Deleted"),
        ObjectProblems<App>,
    )
)]
pub async fn delete_app(path: AppPath) -> Result<Response, ApiError> {
    path.authorize(Verb::Delete).await?;
    path.delete().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
