//! Create, list, get, apply and delete Apps.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kube::ResourceExt;
use kube::api::{Patch, PatchParams, PostParams};
use wharf_model::api::{AppList, validate_app};
use wharf_model::app::App;
use wharf_model::wire::{PROBLEM_CONTENT_TYPE, Problem};

use super::common::{ListQuery, list_page, reset_metadata};
use super::path::{AppPath, NamespacePath};
use crate::auth::Verb;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::{AppDoc, CollectionProblems, JsonBodyProblems, ObjectProblems};
use crate::wait::{WaitQuery, clean, respond_after_wait};

/// The field manager of writes made through the API.
const API_FIELD_MANAGER: &str = "wharf-api";

/// Checks a body against the path and the rules, and readies it for writing.
fn prepare(mut app: App, namespace: &str, name_in_path: Option<&str>) -> Result<App, ApiError> {
    reset_metadata(&mut app.metadata, namespace)?;
    match (app.metadata.name.as_deref(), name_in_path) {
        (Some(body), Some(path)) if body != path => {
            return Err(ApiError::invalid(
                "metadata.name",
                format!("the body names App {body} but the path is for {path}"),
            ));
        }
        (None, None) => return Err(ApiError::invalid("metadata.name", "the App needs a name")),
        _ => {}
    }
    if let Some(name) = name_in_path {
        app.metadata.name = Some(name.to_owned());
    }
    let name = app.name_any();
    if let Some(error) = validate_app(&name, &app.spec).into_iter().next() {
        return Err(ApiError::invalid(error.field, error.message));
    }
    app.status = None;
    Ok(app)
}

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
    path.authorize(Verb::Create).await?;
    let app = prepare(app, &path.namespace, None)?;
    let created = path
        .api()
        .create(&PostParams::default(), &app)
        .await
        .map_err(|error| {
            ApiError::name_taken(error, || {
                format!(
                    "App {} already exists in namespace {}; use PUT to change it",
                    app.name_any(),
                    path.namespace
                )
            })
        })?;
    respond_after_wait(path.state(), created, &wait, StatusCode::CREATED).await
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
    path.authorize(Verb::Update).await?;
    // Server-side apply also creates: that needs the create permission too.
    let state = path.state();
    if state
        .caches()
        .get::<App>(&path.namespace, &path.name)
        .is_none()
    {
        path.authorize(Verb::Create).await?;
    }
    let app = prepare(app, &path.namespace, Some(&path.name))?;
    let mut body = serde_json::to_value(&app).map_err(|e| ApiError::internal(&e))?;
    body["apiVersion"] = "wharf.dev/v1alpha1".into();
    body["kind"] = "App".into();
    let applied = path
        .api()
        .patch(
            &path.name,
            &PatchParams::apply(API_FIELD_MANAGER).force(),
            &Patch::Apply(body),
        )
        .await?;
    respond_after_wait(state, applied, &wait, StatusCode::OK).await
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
