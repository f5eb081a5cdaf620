//! A Task's result files: the collector uploads each file and then the manifest;
//! users list them and download one (whole or a byte range) or all as a `.tar.gz`.
//!
//! Uploads are authenticated by the collector's audience-bound token; downloads are
//! authorized like everything else, with the `tasks/results` subresource.

use std::ops::Range;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use kube::api::{Patch, PatchParams};
use kube::{Api, ResourceExt};
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::json;
use utoipa::IntoParams;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouter};
use utoipa_axum::routes;
use wharf_model::api::{TaskResultEntry, TaskResultList};
use wharf_model::task::{
    DEFAULT_RESULTS_MAX_SIZE, ResultFile, ResultManifest, Task, validate_result_name,
};

use super::tasks::find_task;
use crate::auth::Access;
use crate::error::{ApiError, Problem};
use crate::extract::JsonBody;
use crate::results::{StoreError, TaskKey, is_sha256_hex, parse_bytes};
use crate::state::AppState;

/// The upload route as axum matches it; exempt from the request timeout.
pub const RESULT_UPLOAD_ROUTE: &str = "/v1/namespaces/{namespace}/tasks/{name}/results/{*file}";

/// The header that carries a file's SHA-256, on uploads and downloads.
pub const SHA256_HEADER: HeaderName = HeaderName::from_static("x-wharf-sha256");

/// The field manager of the result fields of a Task's status. Not the operator's,
/// so neither's server-side apply removes the other's fields.
const RESULTS_FIELD_MANAGER: &str = "wharf-results";

/// Characters escaped in a path segment (RFC 3986 `pchar` keeps the rest).
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// Characters escaped in an RFC 8187 `filename*` value (all but `attr-char`).
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// Every result route, for the router and the OpenAPI document.
pub fn router() -> OpenApiRouter<AppState> {
    let router = OpenApiRouter::new()
        .routes(routes!(put_manifest))
        .routes(routes!(list_results))
        .routes(routes!(download_archive));
    let router = with_rest_of_path(router, routes!(upload_result));
    with_rest_of_path(router, routes!(download_result))
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

/// `/v1/namespaces/{namespace}/tasks/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TaskPath {
    /// The namespace.
    pub namespace: String,
    /// The Task's name.
    pub name: String,
}

/// `/v1/namespaces/{namespace}/tasks/{name}/results/{file}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ResultPath {
    /// The namespace.
    pub namespace: String,
    /// The Task's name.
    pub name: String,
    /// The file's name relative to the results folder, e.g. `out/report.csv`: its
    /// segments separated by `/`, each percent-encoded.
    pub file: String,
}

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
        (status = 400, description = "Invalid name or digest header, or the upload broke off", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid collector token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token is another Task's collector", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Task", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Task collects no results", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Larger than results.maxSize", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "The bytes do not hash to x-wharf-sha256; nothing was stored", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn upload_result(
    State(state): State<AppState>,
    Path(path): Path<ResultPath>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    state
        .auth()
        .authenticate_collector(&headers, &path.namespace, &path.name)
        .await?;
    let declared = declared_digest(&headers)?;
    checked_name(&path.file)?;
    let task = find_task(&state, &path.namespace, &path.name).await?;
    let limit = results_limit(&task)?;
    let announced = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(too_large(limit));
    }
    let key = task_key(&task)?;
    let stored = state
        .results()
        .put_file(&key, &path.file, &declared, limit, body.into_data_stream())
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
        (status = 400, description = "Invalid manifest", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid collector token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The token is another Task's collector", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Task", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The Task collects no results", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "An entry does not match the stored file", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn put_manifest(
    State(state): State<AppState>,
    Path(path): Path<TaskPath>,
    headers: HeaderMap,
    JsonBody(manifest): JsonBody<ResultManifest>,
) -> Result<Json<ResultManifest>, ApiError> {
    state
        .auth()
        .authenticate_collector(&headers, &path.namespace, &path.name)
        .await?;
    let task = find_task(&state, &path.namespace, &path.name).await?;
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
    let patched = Api::<Task>::namespaced(state.client().clone(), &path.namespace)
        .patch_status(
            &path.name,
            &PatchParams::apply(RESULTS_FIELD_MANAGER).force(),
            &Patch::Apply(patch),
        )
        .await?;
    state.caches().settle_task(&patched).await;
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
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Task", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn list_results(
    State(state): State<AppState>,
    Path(path): Path<TaskPath>,
    headers: HeaderMap,
) -> Result<Json<TaskResultList>, ApiError> {
    authorize_results(&state, &headers, &path.namespace, &path.name).await?;
    let task = find_task(&state, &path.namespace, &path.name).await?;
    let status = task.status.unwrap_or_default();
    let items = status
        .results
        .unwrap_or_default()
        .into_iter()
        .map(|file| TaskResultEntry {
            download_path: download_path(&path.namespace, &path.name, &file.name),
            name: file.name,
            size: file.size,
            sha256: file.sha256,
        })
        .collect();
    Ok(Json(TaskResultList {
        items,
        refused: status.results_refused.unwrap_or_default(),
    }))
}

/// Downloads one result file, whole or one byte range.
///
/// `Range: bytes=a-b`, `bytes=a-` and `bytes=-n` answer 206 with that part; the
/// ETag is the quoted SHA-256, so `If-None-Match` answers 304 for a file one has.
#[utoipa::path(
    method(get, head),
    path = "/v1/namespaces/{namespace}/tasks/{name}/results/{file}",
    tag = "tasks",
    params(
        ResultPath,
        ("Range" = Option<String>, Header, description = "One byte range: bytes=a-b, bytes=a- or bytes=-n"),
        ("If-None-Match" = Option<String>, Header, description = "The ETag of a copy one has"),
    ),
    responses(
        (status = 200, description = "The file", body = inline(RawBytes), content_type = "application/octet-stream"),
        (status = 206, description = "The requested range", body = inline(RawBytes), content_type = "application/octet-stream"),
        (status = 304, description = "Unchanged (If-None-Match)"),
        (status = 400, description = "Invalid file name", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Task or result file", body = Problem, content_type = "application/problem+json"),
        (status = 416, description = "The range is outside the file", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn download_result(
    State(state): State<AppState>,
    Path(path): Path<ResultPath>,
    method: Method,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize_results(&state, &headers, &path.namespace, &path.name).await?;
    checked_name(&path.file)?;
    let task = find_task(&state, &path.namespace, &path.name).await?;
    let key = task_key(&task)?;
    let file = task
        .status
        .and_then(|s| s.results)
        .unwrap_or_default()
        .into_iter()
        .find(|f| f.name == path.file)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "result_not_found",
                format!(
                    "Task {} has no result file {:?}; list its results to see what it has",
                    path.name, path.file
                ),
            )
        })?;
    let etag = format!("\"{}\"", file.sha256);
    if if_none_match(&headers, &etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert(&mut response, header::ETAG, &etag);
        return Ok(response);
    }
    let requested = header_str(&headers, header::RANGE)
        .filter(|_| if_range_allows(&headers, &etag))
        .map_or(ByteRange::Full, |range| parse_range(range, file.size));
    let range = match requested {
        ByteRange::Full => None,
        ByteRange::Part(range) => Some(range),
        ByteRange::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "range_not_satisfiable",
                format!(
                    "the file has {} bytes; ask for a range inside them",
                    file.size
                ),
            )
            .into_response();
            insert(
                &mut response,
                header::CONTENT_RANGE,
                &format!("bytes */{}", file.size),
            );
            return Ok(response);
        }
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        let bytes = state
            .results()
            .open(&key, &file, range.clone())
            .await
            .map_err(store_error)?;
        Body::from_stream(bytes.map_err(|error| {
            tracing::warn!(%error, "a result download broke off");
            error
        }))
    };
    let mut response = body.into_response();
    match &range {
        Some(range) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            insert(
                &mut response,
                header::CONTENT_RANGE,
                &format!("bytes {}-{}/{}", range.start, range.end - 1, file.size),
            );
            insert(
                &mut response,
                header::CONTENT_LENGTH,
                &(range.end - range.start).to_string(),
            );
        }
        None => insert(
            &mut response,
            header::CONTENT_LENGTH,
            &file.size.to_string(),
        ),
    }
    insert(
        &mut response,
        header::CONTENT_TYPE,
        "application/octet-stream",
    );
    insert(&mut response, header::ETAG, &etag);
    insert(&mut response, header::ACCEPT_RANGES, "bytes");
    insert(&mut response, header::CACHE_CONTROL, "private");
    insert(&mut response, SHA256_HEADER, &file.sha256);
    let basename = file.name.rsplit('/').next().unwrap_or(&file.name);
    insert(
        &mut response,
        header::CONTENT_DISPOSITION,
        &attachment(basename),
    );
    Ok(response)
}

/// Downloads every result file of a Task as one `.tar.gz`, made while it streams.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/tasks/{name}/results.tar.gz",
    tag = "tasks",
    params(TaskPath),
    responses(
        (status = 200, description = "A gzip-compressed tar archive of the files, named by their result names", body = inline(RawBytes), content_type = "application/gzip"),
        (status = 403, description = "Not allowed", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such Task", body = Problem, content_type = "application/problem+json"),
    )
)]
pub async fn download_archive(
    State(state): State<AppState>,
    Path(path): Path<TaskPath>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize_results(&state, &headers, &path.namespace, &path.name).await?;
    let task = find_task(&state, &path.namespace, &path.name).await?;
    let key = task_key(&task)?;
    let files = task.status.and_then(|s| s.results).unwrap_or_default();
    let mut response = Body::from_stream(state.results().tar_gz(&key, files)).into_response();
    insert(&mut response, header::CONTENT_TYPE, "application/gzip");
    insert(&mut response, header::CACHE_CONTROL, "private");
    insert(
        &mut response,
        header::CONTENT_DISPOSITION,
        &attachment(&format!("{}-results.tar.gz", path.name)),
    );
    Ok(response)
}

/// Authorizes reading a Task's results: `get` on `tasks/results`.
async fn authorize_results(
    state: &AppState,
    headers: &HeaderMap,
    namespace: &str,
    name: &str,
) -> Result<(), ApiError> {
    let access = Access {
        verb: "get",
        namespace,
        resource: "tasks",
        subresource: Some("results"),
        name: Some(name),
    };
    state.auth().check(headers, &access).await.map(|_| ())
}

fn task_key(task: &Task) -> Result<TaskKey, ApiError> {
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
            "results_not_enabled",
            format!(
                "Task {} collects no result files (it has no spec.results)",
                task.name_any()
            ),
        )
    })?;
    parse_bytes(spec.max_size()).map_err(|error| {
        ApiError::conflict(
            "invalid_results_spec",
            format!(
                "Task {}'s results.maxSize is unusable ({error}); the default is {DEFAULT_RESULTS_MAX_SIZE}",
                task.name_any()
            ),
        )
    })
}

fn declared_digest(headers: &HeaderMap) -> Result<String, ApiError> {
    let value = header_str(headers, SHA256_HEADER).ok_or_else(|| {
        ApiError::bad_request(
            "missing_digest",
            "send the file's SHA-256 as 64 lower-case hex digits in the x-wharf-sha256 header",
        )
    })?;
    if !is_sha256_hex(value) {
        return Err(ApiError::bad_request(
            "invalid_digest",
            format!("x-wharf-sha256 {value:?} is not a SHA-256: expected 64 lower-case hex digits"),
        ));
    }
    Ok(value.to_owned())
}

fn checked_name(name: &str) -> Result<(), ApiError> {
    validate_result_name(name).map_err(|reason| {
        ApiError::bad_request(
            "invalid_result_name",
            format!("result file name {name:?} is refused: {reason}"),
        )
    })
}

fn too_large(limit: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "result_too_large",
        format!("the file is larger than the Task's results.maxSize ({limit} bytes)"),
    )
}

/// What the client can act on, for each way the store can refuse.
fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::InvalidName { name, reason } => ApiError::bad_request(
            "invalid_result_name",
            format!("result file name {name:?} is refused: {reason}"),
        ),
        StoreError::InvalidDigest(_) => ApiError::bad_request("invalid_digest", error.to_string()),
        StoreError::TooLarge { limit } => too_large(limit),
        StoreError::DigestMismatch { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "digest_mismatch",
            error.to_string(),
        ),
        StoreError::Body(_) => ApiError::bad_request("upload_interrupted", error.to_string()),
        StoreError::ManifestMismatch { .. } => ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "manifest_mismatch",
            error.to_string(),
        ),
        StoreError::NotFound(name) => ApiError::new(
            StatusCode::NOT_FOUND,
            "result_not_found",
            format!("result file {name:?} is listed but not stored"),
        ),
        StoreError::Changed { .. } => {
            tracing::error!(%error, "a stored result file does not match the Task's status");
            ApiError::conflict(
                "result_changed",
                "the stored file no longer matches the Task's status; list the results again",
            )
        }
        StoreError::Record { .. } | StoreError::Config(_) | StoreError::Store(_) => {
            tracing::error!(error = %report(&error), "result store failure");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "result_store_unavailable",
                "the result store failed; retry later",
            )
        }
    }
}

/// The error with its causes, for the log.
fn report(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// `/v1/namespaces/{ns}/tasks/{task}/results/{name}` with each segment encoded.
fn download_path(namespace: &str, task: &str, name: &str) -> String {
    let segments: Vec<String> = name
        .split('/')
        .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
        .collect();
    format!(
        "/v1/namespaces/{namespace}/tasks/{task}/results/{}",
        segments.join("/")
    )
}

/// `attachment; filename="…"; filename*=UTF-8''…`: a plain-ASCII name for old
/// clients and the exact one for the rest.
fn attachment(filename: &str) -> String {
    let ascii: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{}",
        utf8_percent_encode(filename, ATTR_CHAR)
    )
}

fn header_str(headers: &HeaderMap, name: HeaderName) -> Option<&str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

fn insert(response: &mut Response, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// Whether `If-None-Match` names `etag` (weak comparison) or is `*`.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    header_str(headers, header::IF_NONE_MATCH).is_some_and(|value| {
        value
            .split(',')
            .map(str::trim)
            .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
    })
}

/// Whether a `Range` may be served: without `If-Range`, or when it names this
/// exact content (a date or another ETag means "send it all").
fn if_range_allows(headers: &HeaderMap, etag: &str) -> bool {
    header_str(headers, header::IF_RANGE).is_none_or(|value| value == etag)
}

/// What a `Range` header asks of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ByteRange {
    /// The whole file: no range, or one this server ignores (several ranges, an
    /// unknown unit, a malformed one).
    Full,
    /// These bytes.
    Part(Range<u64>),
    /// A range that starts past the end.
    Unsatisfiable,
}

/// Reads `bytes=a-b`, `bytes=a-` or `bytes=-n` for a file of `size` bytes.
fn parse_range(value: &str, size: u64) -> ByteRange {
    let Some((unit, spec)) = value.split_once('=') else {
        return ByteRange::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
        return ByteRange::Full;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return ByteRange::Full;
    };
    let number = |text: &str| {
        (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<u64>().ok())
            .flatten()
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        return match number(last) {
            None => ByteRange::Full,
            Some(0) => ByteRange::Unsatisfiable,
            Some(_) if size == 0 => ByteRange::Unsatisfiable,
            Some(suffix) => ByteRange::Part(size.saturating_sub(suffix)..size),
        };
    }
    let Some(first) = number(first) else {
        return ByteRange::Full;
    };
    let last = if last.is_empty() {
        None
    } else {
        match number(last) {
            Some(last) if last >= first => Some(last),
            _ => return ByteRange::Full,
        }
    };
    if first >= size {
        return ByteRange::Unsatisfiable;
    }
    let end = last.map_or(size, |last| last.saturating_add(1).min(size));
    ByteRange::Part(first..end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        let cases = [
            ("bytes=0-0", ByteRange::Part(0..1)),
            ("bytes=10-19", ByteRange::Part(10..20)),
            ("bytes=90-", ByteRange::Part(90..100)),
            ("bytes=-10", ByteRange::Part(90..100)),
            ("bytes=-1000", ByteRange::Part(0..100)),
            ("bytes=50-5000", ByteRange::Part(50..100)),
            ("BYTES = 1-2", ByteRange::Part(1..3)),
            ("bytes=100-", ByteRange::Unsatisfiable),
            ("bytes=-0", ByteRange::Unsatisfiable),
            ("bytes=5-1", ByteRange::Full),
            ("bytes=0-1,5-6", ByteRange::Full),
            ("items=0-1", ByteRange::Full),
            ("bytes=x-1", ByteRange::Full),
            ("bytes=+1-2", ByteRange::Full),
            ("bytes", ByteRange::Full),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_range(value, 100), expected, "{value}");
        }
        assert_eq!(parse_range("bytes=0-", 0), ByteRange::Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), ByteRange::Unsatisfiable);
    }

    #[test]
    fn download_paths_encode_each_segment() {
        assert_eq!(
            download_path("ns", "t", "out/a b#1%.csv"),
            "/v1/namespaces/ns/tasks/t/results/out/a%20b%231%25.csv"
        );
    }

    #[test]
    fn attachment_names_are_escaped() {
        assert_eq!(
            attachment("report \"final\".csv"),
            "attachment; filename=\"report _final_.csv\"; filename*=UTF-8''report%20%22final%22.csv"
        );
        assert_eq!(
            attachment("résumé.pdf"),
            "attachment; filename=\"r_sum_.pdf\"; filename*=UTF-8''r%C3%A9sum%C3%A9.pdf"
        );
    }

    #[test]
    fn etags_match_weakly_and_by_star() {
        let mut headers = HeaderMap::new();
        assert!(!if_none_match(&headers, "\"a\""));
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"b\", W/\"a\""),
        );
        assert!(if_none_match(&headers, "\"a\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(if_none_match(&headers, "\"a\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"b\""));
        assert!(!if_none_match(&headers, "\"a\""));
    }

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
