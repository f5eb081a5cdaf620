//! Apps from the catalogue: deploying an App from an AppTemplate, and upgrading
//! an App made from an older generation of its template to the current one. The
//! rules of both (what the template owns, what the App keeps) are
//! `wharf_model::template`'s; this module authorizes, loads and writes.

use axum::Json;
use axum::response::Response;
use kube::ResourceExt;
use wharf_model::api::DeployRequest;
use wharf_model::app::App;
use wharf_model::template::{AppTemplate, TEMPLATE_LABEL, render, upgrade};
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};

use super::path::{AppPath, TemplatePath, checked_body_name};
use super::write;
use crate::auth::Verb;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::{AppDoc, JsonBodyProblems, ObjectProblems};
use crate::wait::{WaitQuery, clean};

/// Deploys a new App from the template: the template's image, ports,
/// environment, files, volumes, resources and probes, with the request's
/// replicas, hosts and variables over them. The App records the template and its
/// generation, and carries the label `wharf.dev/template`.
#[utoipa::path(
    post,
    path = "/v1/templates/{name}/deploy",
    tag = "templates",
    params(TemplatePath, WaitQuery<App>),
    request_body = DeployRequest,
    responses(
        (status = 201, description = "The App, created (and Ready, when waited for)", body = AppDoc),
        (status = 202, description = "Created; the wait ran out before it was Ready", body = AppDoc),
        ObjectProblems<AppTemplate>,
        JsonBodyProblems,
        (status = 409, description = "An App of that name exists in the namespace", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 422, description = "Kubernetes refused the App; `detail` says why", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn deploy_template(
    path: TemplatePath,
    QueryParams(wait): QueryParams<WaitQuery<App>>,
    JsonBody(request): JsonBody<DeployRequest>,
) -> Result<Response, ApiError> {
    let apps = path.collection_of::<App>(&request.namespace, "namespace")?;
    checked_body_name("name", &request.name)?;
    // Both permissions before the template is looked at, so a caller who may not
    // deploy learns nothing of the catalogue from a 404.
    path.authorize(Verb::Get).await?;
    apps.authorize(Verb::Create).await?;
    let template = path.load().await?;
    let spec = render(&template, &request).ok_or_else(|| {
        ApiError::internal(&format!(
            "AppTemplate {} has no generation: it was read before it was stored",
            path.name
        ))
    })?;
    let mut app = App::new(&request.name, spec);
    app.labels_mut()
        .insert(TEMPLATE_LABEL.to_owned(), path.name.clone());
    write::create(&apps, app, &wait).await
}

/// Upgrades an App deployed from a template to the template's current
/// generation: the template's part of the spec (image, ports, environment,
/// files, volumes, resources, probes) is replaced, the App's (replicas or
/// autoscale, hosts, routes, variables it added) kept. An App already at the
/// current generation is answered unchanged.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/apps/{name}/upgrade",
    tag = "apps",
    params(AppPath),
    responses(
        (status = 200, description = "The App, at the template's current generation", body = AppDoc),
        ObjectProblems<App>,
        (status = 409, description = "The App was not deployed from a template", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn upgrade_app(path: AppPath) -> Result<Json<App>, ApiError> {
    path.authorize(Verb::Update).await?;
    let app = path.read().await?;
    let Some(made_from) = app.spec.template.clone() else {
        return Err(not_from_a_template(&path.name));
    };
    let template_path = path.object_of::<AppTemplate>("", &made_from.name);
    // Fresh from the API server: a template changed a moment ago may not be in
    // the cache yet, and an upgrade is asked for because of such a change.
    let template = template_path.read().await.map_err(|error| {
        if error.code() == ErrorCode::NotFound {
            ApiError::not_found(format!(
                "App {} was deployed from AppTemplate {}, which no longer exists: there is nothing to upgrade to",
                path.name, made_from.name
            ))
        } else {
            error
        }
    })?;
    if template.metadata.generation == Some(made_from.generation) {
        return Ok(Json(clean(app)));
    }
    let upgraded = path
        .update("while it was being upgraded", |app| {
            match &app.spec.template {
                None => return Err(not_from_a_template(&path.name)),
                // Pointed at another template in between: upgrading it to this
                // one would undo that change.
                Some(current) if current.name != made_from.name => {
                    return Err(ApiError::conflict(
                        ErrorCode::Conflict,
                        format!(
                            "App {} was moved to AppTemplate {} while it was being upgraded; try again",
                            path.name, current.name
                        ),
                    ));
                }
                Some(_) => {}
            }
            app.spec = upgrade(&app.spec, &template).ok_or_else(|| {
                ApiError::internal(&format!(
                    "AppTemplate {} has no generation",
                    made_from.name
                ))
            })?;
            Ok(())
        })
        .await?;
    path.state().caches().settle(&upgraded).await;
    Ok(Json(clean(upgraded)))
}

/// 409: an App made without a template has nothing to upgrade to.
fn not_from_a_template(app: &str) -> ApiError {
    ApiError::conflict(
        ErrorCode::NotFromTemplate,
        format!(
            "the App was not deployed from a template: App {app} has no spec.template, so there is nothing to upgrade it to"
        ),
    )
}
