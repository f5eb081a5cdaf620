//! Create, list, get, apply and delete Apps.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kube::api::{DeleteParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use wharf_model::api::{AppList, validate_app};
use wharf_model::app::App;

use super::common::{
    AppPath, ListQuery, NamespacePath, WaitQuery, authorize, clean, find_app, list_page,
    reset_metadata, respond_after_wait,
};
use crate::error::{ApiError, Problem};
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::AppDoc;
use crate::state::AppState;

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
    params(NamespacePath, WaitQuery),
    request_body = AppDoc,
    responses(
        (status = 201, description = "Created (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Created; the wait ran out before it was Ready", body = AppDoc),
        (status = 400, description = "Invalid App", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "An App of that name exists", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn create_app(
    State(state): State<AppState>,
    Path(path): Path<NamespacePath>,
    QueryParams(wait): QueryParams<WaitQuery>,
    headers: HeaderMap,
    JsonBody(app): JsonBody<App>,
) -> Result<Response, ApiError> {
    authorize(&state, &headers, "create", &path.namespace, None, None).await?;
    let app = prepare(app, &path.namespace, None)?;
    let name = app.name_any();
    let created = Api::<App>::namespaced(state.client().clone(), &path.namespace)
        .create(&PostParams::default(), &app)
        .await
        .map_err(|error| match error {
            kube::Error::Api(status) if status.code == 409 => ApiError::conflict(
                "already_exists",
                format!(
                    "App {name} already exists in namespace {}; use PUT to change it",
                    path.namespace
                ),
            ),
            other => other.into(),
        })?;
    respond_after_wait(&state, created, &wait, StatusCode::CREATED).await
}

/// Creates or updates an App to match the body (server-side apply; idempotent).
#[utoipa::path(
    put,
    path = "/v1/namespaces/{namespace}/apps/{name}",
    tag = "apps",
    params(AppPath, WaitQuery),
    request_body = AppDoc,
    responses(
        (status = 200, description = "Applied (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Applied; the wait ran out before it was Ready", body = AppDoc),
        (status = 400, description = "Invalid App", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn apply_app(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    QueryParams(wait): QueryParams<WaitQuery>,
    headers: HeaderMap,
    JsonBody(app): JsonBody<App>,
) -> Result<Response, ApiError> {
    authorize(
        &state,
        &headers,
        "update",
        &path.namespace,
        None,
        Some(&path.name),
    )
    .await?;
    // Server-side apply also creates: that needs the create permission too.
    if state.caches().app(&path.namespace, &path.name).is_none() {
        authorize(&state, &headers, "create", &path.namespace, None, None).await?;
    }
    let app = prepare(app, &path.namespace, Some(&path.name))?;
    let mut body = serde_json::to_value(&app).map_err(|e| ApiError::internal(&e))?;
    body["apiVersion"] = "wharf.dev/v1alpha1".into();
    body["kind"] = "App".into();
    let applied = Api::<App>::namespaced(state.client().clone(), &path.namespace)
        .patch(
            &path.name,
            &PatchParams::apply(API_FIELD_MANAGER).force(),
            &Patch::Apply(body),
        )
        .await?;
    respond_after_wait(&state, applied, &wait, StatusCode::OK).await
}

/// Lists the Apps of a namespace, by name, from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps",
    tag = "apps",
    params(NamespacePath, ListQuery),
    responses(
        (status = 200, description = "A page of Apps", body = AppList),
        (status = 400, description = "Invalid selector or paging", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_apps(
    State(state): State<AppState>,
    Path(path): Path<NamespacePath>,
    QueryParams(query): QueryParams<ListQuery>,
    headers: HeaderMap,
) -> Result<Json<AppList>, ApiError> {
    authorize(&state, &headers, "list", &path.namespace, None, None).await?;
    let (apps, continue_token) = list_page(state.caches().apps.state(), &path.namespace, &query)?;
    Ok(Json(AppList {
        items: apps.into_iter().map(clean).collect(),
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
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such App", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn get_app(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    headers: HeaderMap,
) -> Result<Json<App>, ApiError> {
    authorize(
        &state,
        &headers,
        "get",
        &path.namespace,
        None,
        Some(&path.name),
    )
    .await?;
    Ok(Json(clean(
        find_app(&state, &path.namespace, &path.name).await?,
    )))
}

/// Deletes an App and, through owner references, everything it owns.
#[utoipa::path(
    delete,
    path = "/v1/namespaces/{namespace}/apps/{name}",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such App", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn delete_app(
    State(state): State<AppState>,
    Path(path): Path<AppPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(
        &state,
        &headers,
        "delete",
        &path.namespace,
        None,
        Some(&path.name),
    )
    .await?;
    Api::<App>::namespaced(state.client().clone(), &path.namespace)
        .delete(&path.name, &DeleteParams::background())
        .await
        .map_err(|error| match error {
            kube::Error::Api(status) if status.code == 404 => ApiError::not_found(format!(
                "there is no App {} in namespace {}",
                path.name, path.namespace
            )),
            other => other.into(),
        })?;
    state
        .caches()
        .settle_app_deleted(&path.namespace, &path.name)
        .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}
