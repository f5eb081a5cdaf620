//! A Task's result files: the collector uploads each file and then the manifest;
//! users list them and download one (whole or a byte range, see
//! `result_download`) or all as a `.tar.gz`.
//!
//! Uploads are authenticated by the collector's audience-bound token; downloads are
//! authorized like everything else, with the `tasks/results` subresource.

use axum::Json;
use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use kube::ResourceExt;
use kube::api::{Patch, PatchParams};
use serde_json::json;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;
use wharf_model::api::TaskResultList;
use wharf_model::error_chain::error_chain;
use wharf_model::task::{DEFAULT_RESULTS_MAX_SIZE, ResultFile, ResultManifest, Task};
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem, headers};

use super::path::{ResultPath, TaskPath};
use super::result_download;
use crate::auth::{Subresource, Verb};
use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::openapi::{CollectorProblems, JsonBodyProblems, ObjectProblems};
use crate::results::{StoreError, TaskKey, is_sha256_hex, parse_bytes};
use crate::state::AppState;

/// The upload route as axum matches it; exempt from the request timeout.
pub const RESULT_UPLOAD_ROUTE: &str = "/v1/namespaces/{namespace}/tasks/{name}/results/{*file}";

/// The field manager of the result fields of a Task's status. Not the operator's,
/// so neither's server-side apply removes the other's fields.
const RESULTS_FIELD_MANAGER: &str = "wharf-results";

/// Every result route, for the router and the OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::new()
        .routes(routes!(put_manifest))
        .routes(routes!(list_results))
        .routes(routes!(result_download::download_archive));
    let router = with_rest_of_path(router, routes!(upload_result));
    with_rest_of_path(router, routes!(result_download::download_result))
}

/// Adds routes whose `{file}` parameter takes the rest of the path (`a/b.csv`):
/// axum matches it as `{*file}`, OpenAPI documents it as `{file}`.
fn with_rest_of_path(
    router: OpenApiRouter<AppState>,
    (schemas, paths, method_router): UtoipaMethodRouter<AppState>,
) -> OpenApiRouter<AppState> {
    let mut router = router;
    for path in paths.paths.keys() {
        router = router.route(&path.replace("{file}", "{*file}"), method_router.clone());
    }
    let mut doc = utoipa::openapi::OpenApi::default();
    doc.paths = paths;
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    router.merge(OpenApiRouter::with_openapi(doc))
}

/// Raw bytes in a body, for the OpenAPI document (`string`, format `binary`).
pub struct RawBytes;

impl utoipa::PartialSchema for RawBytes {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))
            .into()
    }
}

impl utoipa::ToSchema for RawBytes {}

/// Uploads one result file (the Task's collector only).
///
/// The body is the file's bytes, streamed; it is stored only if it hashes to the
/// `x-wharf-sha256` header and fits the Task's `results.maxSize`.
#[utoipa::path(
    put,
    path = "/v1/namespaces/{namespace}/tasks/{name}/results/{file}",
    tag = "tasks",
    params(
        ResultPath,
        ("x-wharf-sha256" = String, Header, description = "SHA-256 of the body, 64 lower-case hex digits"),
    ),
    request_body(content = inline(RawBytes), content_type = "application/octet-stream", description = "The file's bytes"),
    responses(
        (status = 201, description = "Stored", body = ResultFile),
        CollectorProblems,
        (status = 400, description = "Invalid name or digest header, or the upload broke off", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 413, description = "Larger than results.maxSize", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 422, description = "The bytes do not hash to x-wharf-sha256; nothing was stored", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn upload_result(path: ResultPath, body: Body) -> Result<Response, ApiError> {
    let ResultPath { task: path, file } = path;
    let state = path.state();
    state
        .auth()
        .authenticate_collector(path.headers(), &path.namespace, &path.name)
        .await?;
    let declared = declared_digest(path.headers())?;
    let task = path.load().await?;
    let limit = results_limit(&task)?;
    let announced = path
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(too_large(limit));
    }
    let key = task_key(&task)?;
    let stored = state
        .results()
        .put_file(&key, &file, &declared, limit, body.into_data_stream())
        .await
        .map_err(store_error)?;
    tracing::info!(namespace = %path.namespace, task = %path.name, file = %stored.name, size = stored.size, "stored a result file");
    Ok((StatusCode::CREATED, Json(stored)).into_response())
}

/// Records the collector's manifest (the Task's collector only).
///
/// Every listed file must have been uploaded with the same size and SHA-256. The
/// files and the refused ones then appear in the Task's status.
#[utoipa::path(
    put,
    path = "/v1/namespaces/{namespace}/tasks/{name}/manifest",
    tag = "tasks",
    params(TaskPath),
    request_body = ResultManifest,
    responses(
        (status = 200, description = "Recorded in the Task's status", body = ResultManifest),
        CollectorProblems,
        JsonBodyProblems,
        (status = 422, description = "An entry does not match the stored file", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn put_manifest(
    path: TaskPath,
    JsonBody(manifest): JsonBody<ResultManifest>,
) -> Result<Json<ResultManifest>, ApiError> {
    let state = path.state();
    state
        .auth()
        .authenticate_collector(path.headers(), &path.namespace, &path.name)
        .await?;
    let task = path.load().await?;
    results_limit(&task)?;
    let key = task_key(&task)?;
    let stored = state
        .results()
        .put_manifest(&key, &manifest)
        .await
        .map_err(store_error)?;
    let patch = json!({
        "apiVersion": "wharf.dev/v1alpha1",
        "kind": "Task",
        // A precondition: a Task deleted and made anew under the name is not touched.
        "metadata": { "uid": key.uid },
        "status": {
            "results": stored.files,
            "resultsRefused": stored.refused,
            "resultCount": i32::try_from(stored.files.len()).unwrap_or(i32::MAX),
        }
    });
    let patched = path
        .api()
        .patch_status(
            &path.name,
            &PatchParams::apply(RESULTS_FIELD_MANAGER).force(),
            &Patch::Apply(patch),
        )
        .await?;
    state.caches().settle(&patched).await;
    tracing::info!(namespace = %path.namespace, task = %path.name, files = stored.files.len(), refused = stored.refused.len(), "recorded a Task's results");
    Ok(Json(stored))
}

/// Lists a Task's result files, with the path that downloads each.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/tasks/{name}/results",
    tag = "tasks",
    params(TaskPath),
    responses(
        (status = 200, description = "The stored files and the refused ones", body = TaskResultList),
        ObjectProblems<Task>,
    )
)]
pub async fn list_results(path: TaskPath) -> Result<Json<TaskResultList>, ApiError> {
    let task = path.load_for(Verb::Get.on(Subresource::Results)).await?;
    let status = task.status.unwrap_or_default();
    Ok(Json(TaskResultList::from_status(
        &path.namespace,
        &path.name,
        &status,
    )))
}

/// Where the store keeps the Task's files.
pub fn task_key(task: &Task) -> Result<TaskKey, ApiError> {
    let uid = task
        .uid()
        .ok_or_else(|| ApiError::internal(&"a Task from the API server has no uid"))?;
    Ok(TaskKey::new(
        &task.namespace().unwrap_or_default(),
        &task.name_any(),
        &uid,
    ))
}

/// The per-file size limit of a Task that collects results; 409 if it collects none.
fn results_limit(task: &Task) -> Result<u64, ApiError> {
    let spec = task.spec.results.as_ref().ok_or_else(|| {
        ApiError::conflict(
            ErrorCode::ResultsNotEnabled,
            format!(
                "Task {} collects no result files (it has no spec.results)",
                task.name_any()
            ),
        )
    })?;
    parse_bytes(spec.max_size()).map_err(|error| {
        ApiError::conflict(
            ErrorCode::InvalidResultsSpec,
            format!(
                "Task {}'s results.maxSize is unusable ({error}); the default is {DEFAULT_RESULTS_MAX_SIZE}",
                task.name_any()
            ),
        )
    })
}

fn declared_digest(request: &HeaderMap) -> Result<String, ApiError> {
    let value = request
        .get(headers::SHA256)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .ok_or_else(|| {
            ApiError::bad_request(
                ErrorCode::MissingDigest,
                "send the file's SHA-256 as 64 lower-case hex digits in the x-wharf-sha256 header",
            )
        })?;
    if !is_sha256_hex(value) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidDigest,
            format!("x-wharf-sha256 {value:?} is not a SHA-256: expected 64 lower-case hex digits"),
        ));
    }
    Ok(value.to_owned())
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::ResultTooLarge,
        format!("the file is larger than the Task's results.maxSize ({limit} bytes)"),
    )
}

/// What the client can act on, for each way the store can refuse.
pub fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::InvalidName { name, reason } => ApiError::bad_request(
            ErrorCode::InvalidResultName,
            format!("result file name {name:?} is refused: {reason}"),
        ),
        StoreError::InvalidDigest(_) => {
            ApiError::bad_request(ErrorCode::InvalidDigest, error.to_string())
        }
        StoreError::TooLarge { limit } => too_large(limit),
        StoreError::DigestMismatch { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::DigestMismatch,
            error.to_string(),
        ),
        StoreError::Body(_) => {
            ApiError::bad_request(ErrorCode::UploadInterrupted, error.to_string())
        }
        StoreError::ManifestMismatch { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ManifestMismatch,
            error.to_string(),
        ),
        StoreError::NotFound(name) => ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::ResultNotFound,
            format!("result file {name:?} is listed but not stored"),
        ),
        StoreError::Changed { .. } => {
            tracing::error!(%error, "a stored result file does not match the Task's status");
            ApiError::conflict(
                ErrorCode::ResultChanged,
                "the stored file no longer matches the Task's status; list the results again",
            )
        }
        StoreError::Record { .. } | StoreError::Config(_) | StoreError::Store(_) => {
            tracing::error!(error = %error_chain(&error), "result store failure");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::ResultStoreUnavailable,
                "the result store failed; retry later",
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upload_route_is_documented_where_the_timeout_exempts_it() {
        let (_, doc) = router().split_for_parts();
        let documented = RESULT_UPLOAD_ROUTE.replace("{*file}", "{file}");
        let item = doc
            .paths
            .paths
            .get(&documented)
            .expect("the file route is documented");
        assert!(item.put.is_some() && item.get.is_some() && item.head.is_some());
        assert!(!doc.paths.paths.keys().any(|p| p.contains('*')));
    }
}
