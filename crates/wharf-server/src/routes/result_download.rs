//! Downloading a Task's result files: one file, whole or one byte range (see
//! `conditional` for `Range`, `If-Range` and `If-None-Match`), or all of them as
//! one `.tar.gz` made while it streams.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use wharf_model::task::Task;
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem, headers};

use super::path::{ResultPath, TaskPath};
use super::task_results::{RawBytes, store_error, task_key};
use crate::auth::{Subresource, Verb};
use crate::conditional::{Wanted, evaluate};
use crate::error::ApiError;
use crate::openapi::ObjectProblems;

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
        ObjectProblems<Task>,
        (status = 404, description = "No such Task or result file", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 416, description = "The range is outside the file", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn download_result(path: ResultPath, method: Method) -> Result<Response, ApiError> {
    let ResultPath { task: path, file } = path;
    let task = path.load_for(Verb::Get.on(Subresource::Results)).await?;
    let key = task_key(&task)?;
    let file = task
        .status
        .and_then(|s| s.results)
        .unwrap_or_default()
        .into_iter()
        .find(|f| f.name == file)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                ErrorCode::ResultNotFound,
                format!(
                    "Task {} has no result file {file:?}; list its results to see what it has",
                    path.name
                ),
            )
        })?;
    let etag = format!("\"{}\"", file.sha256);
    let range = match evaluate(path.headers(), &etag, file.size) {
        Wanted::NotModified => {
            let mut response = StatusCode::NOT_MODIFIED.into_response();
            insert(&mut response, header::ETAG, &etag);
            return Ok(response);
        }
        Wanted::Unsatisfiable => {
            let mut response = ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                ErrorCode::RangeNotSatisfiable,
                format!(
                    "the file has {} bytes; ask for a range inside them",
                    file.size
                ),
            )
            .into_response();
            let all = format!("bytes */{}", file.size);
            insert(&mut response, header::CONTENT_RANGE, &all);
            return Ok(response);
        }
        Wanted::Full => None,
        Wanted::Part(range) => Some(range),
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        let bytes = path
            .state()
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
    let length = match &range {
        Some(range) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let part = format!("bytes {}-{}/{}", range.start, range.end - 1, file.size);
            insert(&mut response, header::CONTENT_RANGE, &part);
            range.end - range.start
        }
        None => file.size,
    };
    insert(&mut response, header::CONTENT_LENGTH, &length.to_string());
    insert(
        &mut response,
        header::CONTENT_TYPE,
        "application/octet-stream",
    );
    insert(&mut response, header::ETAG, &etag);
    insert(&mut response, header::ACCEPT_RANGES, "bytes");
    insert(&mut response, header::CACHE_CONTROL, "private");
    insert(
        &mut response,
        HeaderName::from_static(headers::SHA256),
        &file.sha256,
    );
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
        ObjectProblems<Task>,
    )
)]
pub async fn download_archive(path: TaskPath) -> Result<Response, ApiError> {
    let task = path.load_for(Verb::Get.on(Subresource::Results)).await?;
    let key = task_key(&task)?;
    let files = task.status.and_then(|s| s.results).unwrap_or_default();
    let archive = path.state().results().tar_gz(&key, files);
    let mut response = Body::from_stream(archive).into_response();
    insert(&mut response, header::CONTENT_TYPE, "application/gzip");
    insert(&mut response, header::CACHE_CONTROL, "private");
    let name = format!("{}-results.tar.gz", path.name);
    insert(
        &mut response,
        header::CONTENT_DISPOSITION,
        &attachment(&name),
    );
    Ok(response)
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

fn insert(response: &mut Response, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
