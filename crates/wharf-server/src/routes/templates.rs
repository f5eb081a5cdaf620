//! The image catalogue: create, list (with a search), get, apply and delete
//! AppTemplates. They are cluster-scoped, so every operation is authorized
//! cluster-wide; deploying from one and upgrading an App to a newer generation
//! of its template are in `template_deploy`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;
use wharf_model::api::AppTemplateList;
use wharf_model::template::AppTemplate;
use wharf_model::wire::{PROBLEM_CONTENT_TYPE, Problem};

use super::common::{ListQuery, list_page_matching};
use super::path::{NamespacePath, TemplatePath};
use super::write;
use crate::auth::Verb;
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::{AppTemplateDoc, CollectionProblems, JsonBodyProblems, ObjectProblems};
use crate::wait::{WaitQuery, clean};

/// `?search=&limit=&continue=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct TemplateListQuery {
    /// Only templates whose name or description contains this text, ignoring case.
    pub search: Option<String>,
    /// Most templates on a page (default and maximum 500).
    pub limit: Option<usize>,
    /// The `continue` value of the previous page.
    #[serde(rename = "continue")]
    pub continue_token: Option<String>,
}

/// Whether `template`'s name or description contains `needle` (lower-case).
fn matches(template: &AppTemplate, needle: &str) -> bool {
    let name = template.metadata.name.as_deref().unwrap_or_default();
    name.to_lowercase().contains(needle)
        || template.spec.description.to_lowercase().contains(needle)
}

/// Creates an AppTemplate.
#[utoipa::path(
    post,
    path = "/v1/templates",
    tag = "templates",
    request_body = AppTemplateDoc,
    responses(
        (status = 201, description = "Created", body = AppTemplateDoc),
        CollectionProblems,
        JsonBodyProblems,
        (status = 409, description = "An AppTemplate of that name exists", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 422, description = "Kubernetes refused it (e.g. an image without tag or digest); `detail` says why", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn create_template(
    path: NamespacePath<AppTemplate>,
    JsonBody(template): JsonBody<AppTemplate>,
) -> Result<Response, ApiError> {
    write::create(&path, template, &WaitQuery::default()).await
}

/// Creates or updates an AppTemplate to match the body (server-side apply;
/// idempotent). A change of its spec makes a new generation, which the Apps made
/// from it are offered and take with `…/upgrade`.
#[utoipa::path(
    put,
    path = "/v1/templates/{name}",
    tag = "templates",
    params(TemplatePath),
    request_body = AppTemplateDoc,
    responses(
        (status = 200, description = "Applied", body = AppTemplateDoc),
        ObjectProblems<AppTemplate>,
        JsonBodyProblems,
        (status = 422, description = "Kubernetes refused it; `detail` says why", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn apply_template(
    path: TemplatePath,
    JsonBody(template): JsonBody<AppTemplate>,
) -> Result<Response, ApiError> {
    write::apply(&path, template, &WaitQuery::default()).await
}

/// Lists the catalogue, by name, from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/templates",
    tag = "templates",
    params(TemplateListQuery),
    responses(
        (status = 200, description = "A page of AppTemplates", body = AppTemplateList),
        CollectionProblems,
    )
)]
pub async fn list_templates(
    path: NamespacePath<AppTemplate>,
    QueryParams(query): QueryParams<TemplateListQuery>,
) -> Result<Json<AppTemplateList>, ApiError> {
    let page = ListQuery {
        label_selector: None,
        limit: query.limit,
        continue_token: query.continue_token,
    };
    let needle = query.search.unwrap_or_default().to_lowercase();
    let (items, continue_token) =
        list_page_matching(&path, &page, |template| matches(template, &needle)).await?;
    Ok(Json(AppTemplateList {
        items,
        continue_token,
    }))
}

/// Reads one AppTemplate from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/templates/{name}",
    tag = "templates",
    params(TemplatePath),
    responses(
        (status = 200, description = "The AppTemplate", body = AppTemplateDoc),
        ObjectProblems<AppTemplate>,
    )
)]
pub async fn get_template(path: TemplatePath) -> Result<Json<AppTemplate>, ApiError> {
    Ok(Json(clean(path.load_for(Verb::Get).await?)))
}

/// Deletes an AppTemplate. The Apps deployed from it keep running as they are;
/// they can no longer be upgraded.
#[utoipa::path(
    delete,
    path = "/v1/templates/{name}",
    tag = "templates",
    params(TemplatePath),
    responses(
        (status = 204, description = "Deleted"),
        ObjectProblems<AppTemplate>,
    )
)]
pub async fn delete_template(path: TemplatePath) -> Result<Response, ApiError> {
    path.authorize(Verb::Delete).await?;
    path.delete().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template(name: &str, description: &str) -> AppTemplate {
        let mut template = AppTemplate::new(name, Default::default());
        template.spec.description = description.into();
        template
    }

    #[test]
    fn a_search_matches_name_or_description_ignoring_case() {
        let php = template("php-fpm", "PHP FastCGI process manager");
        assert!(matches(&php, "php"));
        assert!(matches(&php, "fastcgi"));
        assert!(matches(&php, ""));
        assert!(!matches(&php, "nginx"));
    }
}
