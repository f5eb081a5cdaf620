//! An App's environment variables and volumes.

use axum::Json;
use wharf_model::api::{EnvEntry, EnvUpdate, VolumeEntry, validate_app};
use wharf_model::app::App;
use wharf_model::app::build::claim_name;
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};
use wharf_model::workload::EnvVar;

use super::path::AppPath;
use crate::auth::Verb;
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::openapi::{JsonBodyProblems, ObjectProblems};

fn entries(app: &App) -> Vec<EnvEntry> {
    app.spec
        .env
        .iter()
        .map(|var| {
            let (source, value, reference) = if let Some(value) = &var.value {
                ("value", Some(value.clone()), None)
            } else if var.secret.is_some() {
                ("generated", None, None)
            } else if let Some(r) = &var.secret_ref {
                ("secretRef", None, Some(format!("{}/{}", r.name, r.key)))
            } else if let Some(r) = &var.config_map_ref {
                ("configMapRef", None, Some(format!("{}/{}", r.name, r.key)))
            } else {
                ("value", None, None)
            };
            EnvEntry {
                name: var.name.clone(),
                source: source.to_owned(),
                value,
                reference,
            }
        })
        .collect()
}

/// The App's environment variables. Secret values are never shown.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps/{name}/env",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Its variables", body = Vec<EnvEntry>),
        ObjectProblems<App>,
    )
)]
pub async fn list_env(path: AppPath) -> Result<Json<Vec<EnvEntry>>, ApiError> {
    Ok(Json(entries(&path.load_for(Verb::Get).await?)))
}

fn apply_update(app: &mut App, update: &EnvUpdate) {
    for (name, value) in &update.set {
        let var = EnvVar {
            name: name.clone(),
            value: Some(value.clone()),
            ..EnvVar::default()
        };
        match app.spec.env.iter_mut().find(|v| &v.name == name) {
            Some(existing) => *existing = var,
            None => app.spec.env.push(var),
        }
    }
    app.spec.env.retain(|v| !update.unset.contains(&v.name));
}

/// Sets and unsets literal variables; the pods roll with the new values.
#[utoipa::path(
    patch,
    path = "/v1/namespaces/{namespace}/apps/{name}/env",
    tag = "apps",
    params(AppPath),
    request_body = EnvUpdate,
    responses(
        (status = 200, description = "The variables after the change", body = Vec<EnvEntry>),
        ObjectProblems<App>,
        JsonBodyProblems,
        (status = 404, description = "No such App or variable", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn update_env(
    path: AppPath,
    JsonBody(update): JsonBody<EnvUpdate>,
) -> Result<Json<Vec<EnvEntry>>, ApiError> {
    path.authorize(Verb::Update).await?;
    if update.set.is_empty() && update.unset.is_empty() {
        return Err(ApiError::bad_request(
            ErrorCode::EmptyUpdate,
            "name at least one variable in set or unset",
        ));
    }
    let replaced = path
        .update("while the variables were being set", |app| {
            edit_env(app, &path.name, &update)
        })
        .await?;
    path.state().caches().settle(&replaced).await;
    Ok(Json(entries(&replaced)))
}

/// Applies `update` to App `name`, or says why it cannot: a variable to unset that
/// it does not have (404), a value its rules refuse (400 naming the variable).
fn edit_env(app: &mut App, name: &str, update: &EnvUpdate) -> Result<(), ApiError> {
    if let Some(missing) = update
        .unset
        .iter()
        .find(|n| !app.spec.env.iter().any(|v| &v.name == *n))
    {
        return Err(
            ApiError::not_found(format!("App {name} has no variable {missing}")).at("unset"),
        );
    }
    apply_update(app, update);
    if let Some(error) = validate_app(name, &app.spec)
        .into_iter()
        .find(|e| e.field.starts_with("spec.env"))
    {
        let variable = update
            .set
            .keys()
            .find(|k| error.message.contains(k.as_str()))
            .cloned()
            .unwrap_or_default();
        return Err(ApiError::invalid(format!("set.{variable}"), error.message));
    }
    Ok(())
}

/// The App's persistent volumes.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/apps/{name}/volumes",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "Its volumes", body = Vec<VolumeEntry>),
        ObjectProblems<App>,
    )
)]
pub async fn list_volumes(path: AppPath) -> Result<Json<Vec<VolumeEntry>>, ApiError> {
    let app = path.load_for(Verb::Get).await?;
    Ok(Json(
        app.spec
            .volumes
            .iter()
            .map(|v| VolumeEntry {
                name: v.name.clone(),
                claim: claim_name(&path.name, &v.name),
                size: v.size.clone(),
                mount_path: v.mount_path.clone(),
                access_mode: format!("{:?}", v.access_mode),
                storage_class: v.storage_class.clone(),
            })
            .collect(),
    ))
}
