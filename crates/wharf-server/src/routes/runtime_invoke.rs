//! Sending a request through a RuntimeVersion's workflow and answering with
//! what its last node writes: a version by name, or the Runtime's published one.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};
use serde::Deserialize;
use utoipa::IntoParams;
use wharf_model::duration::parse_duration;
use wharf_model::runtime::Runtime;
use wharf_model::runtime::build::{Engine, Names, secret_entries};
use wharf_model::runtime_version::VersionState;
use wharf_model::runtime_version::subjects::{self, NatsAccess};
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};

use super::path::InvokePath;
use crate::auth::{Subresource, Verb};
use crate::error::ApiError;
use crate::extract::QueryParams;
use crate::invoke::InvokeError;
use crate::openapi::CollectionProblems;

/// How long an invoke waits for the answer unless told.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest wait an invoke may ask for.
const MAX_TIMEOUT: Duration = Duration::from_secs(300);

/// The wait for the answer.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InvokeQuery {
    /// How long to wait for the last node's answer (e.g. `10s`; default `30s`,
    /// at most `5m`); 504 `no_answer` after it.
    timeout: Option<String>,
}

/// Sends the body through a workflow of a version and answers with what its
/// last node writes. Allowed to whom Kubernetes allows `create` on
/// `runtimeversions/invoke`.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/runtimes/{runtime}/versions/{version}/workflows/{workflow}/invoke",
    tag = "runtimes",
    params(
        ("namespace" = String, Path, description = "The namespace."),
        ("runtime" = String, Path, description = "The Runtime."),
        ("version" = String, Path, description = "The RuntimeVersion."),
        ("workflow" = String, Path, description = "The workflow, by its name or the name it is invoked by (`entrypoint`)."),
        InvokeQuery,
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The request, as the first node reads it (any content type; it travels as the message's `Content-Type` header)."),
    responses(
        (status = 200, description = "What the workflow's last node wrote, with its `Content-Type` (else `application/octet-stream`) and the request's id in `wharf-invoke-id`", content_type = "application/octet-stream"),
        CollectionProblems,
        (status = 404, description = "No such version, workflow, or version of this Runtime", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 409, description = "`version_stopped`: the version is Stopped", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 502, description = "`nats_unavailable`: the Runtime's NATS cannot be reached or did not store the request", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 504, description = "`no_answer`: the last node wrote nothing for this request in time", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn invoke_version(
    path: InvokePath,
    QueryParams(query): QueryParams<InvokeQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    invoke(path, query, headers, body).await
}

/// Sends the body through a workflow of the Runtime's published version.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/runtimes/{runtime}/invoke/{workflow}",
    tag = "runtimes",
    params(
        ("namespace" = String, Path, description = "The namespace."),
        ("runtime" = String, Path, description = "The Runtime."),
        ("workflow" = String, Path, description = "The workflow, by its name or the name it is invoked by (`entrypoint`)."),
        InvokeQuery,
    ),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The request, as the first node reads it."),
    responses(
        (status = 200, description = "What the workflow's last node wrote", content_type = "application/octet-stream"),
        CollectionProblems,
        (status = 404, description = "No such Runtime or workflow", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 409, description = "`not_published`: the Runtime has no published version", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 502, description = "`nats_unavailable`", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 504, description = "`no_answer`", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn invoke_published(
    path: InvokePath,
    QueryParams(query): QueryParams<InvokeQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    invoke(path, query, headers, body).await
}

async fn invoke(
    mut path: InvokePath,
    query: InvokeQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let timeout = match &query.timeout {
        None => DEFAULT_TIMEOUT,
        Some(text) => parse_duration(text)
            .ok()
            .filter(|t| !t.is_zero() && *t <= MAX_TIMEOUT)
            .ok_or_else(|| {
                ApiError::invalid(
                    "query.timeout",
                    format!("timeout {text:?} is not a wait between 1s and 5m, e.g. 30s"),
                )
            })?,
    };
    let namespace = path.version.namespace.clone();
    let state = path.version.state().clone();
    let runtime: Option<Runtime> = state.caches().get(&namespace, &path.runtime);
    if path.version.name.is_empty() {
        // The published version: the Runtime says which.
        path.version
            .authorize(Verb::Create.on(Subresource::Invoke))
            .await?;
        let runtime = runtime.as_ref().ok_or_else(|| no_runtime(&path))?;
        path.version.name = runtime
            .status
            .as_ref()
            .and_then(|s| s.published_version.clone())
            .ok_or_else(|| {
                ApiError::conflict(
                    ErrorCode::NotPublished,
                    format!(
                        "Runtime {} has no published version: publish one (its state: Published) first, or invoke a version by name",
                        path.runtime
                    ),
                )
            })?;
    }
    let version = path
        .version
        .load_for(Verb::Create.on(Subresource::Invoke))
        .await?;
    if version.spec.runtime != path.runtime {
        return Err(ApiError::not_found(format!(
            "RuntimeVersion {} runs on Runtime {}, not {}",
            version.name_any(),
            version.spec.runtime,
            path.runtime
        )));
    }
    if version.spec.state == VersionState::Stopped {
        return Err(ApiError::conflict(
            ErrorCode::VersionStopped,
            format!(
                "RuntimeVersion {} is Stopped: its nodes run no pods; start it (state: Started) first",
                version.name_any()
            ),
        ));
    }
    let workflows = subjects::of(&version).map_err(|e| {
        ApiError::conflict(
            ErrorCode::Conflict,
            format!("RuntimeVersion {} cannot run: {e}", version.name_any()),
        )
    })?;
    let workflow = workflows
        .iter()
        .find(|w| w.workflow == path.workflow || w.entrypoint == path.workflow)
        .ok_or_else(|| {
            let known: Vec<&str> = workflows.iter().map(|w| w.workflow.as_str()).collect();
            ApiError::not_found(format!(
                "RuntimeVersion {} has no workflow {}; it has {}",
                version.name_any(),
                path.workflow,
                known.join(", ")
            ))
        })?;
    let runtime = runtime.ok_or_else(|| no_runtime(&path))?;
    let access = nats_access(&path, &runtime).await?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let answer = state
        .invoker()
        .invoke(&access, workflow, body, content_type, timeout)
        .await
        .map_err(|error| match error {
            InvokeError::Nats(message) => {
                ApiError::new(StatusCode::BAD_GATEWAY, ErrorCode::NatsUnavailable, message)
            }
            InvokeError::NoAnswer { subject, timeout } => ApiError::new(
                StatusCode::GATEWAY_TIMEOUT,
                ErrorCode::NoAnswer,
                format!(
                    "no node of workflow {} answered within {}s (nothing with this request's id on {subject}); see the version's status.nodes for nodes that are not ready",
                    workflow.workflow,
                    timeout.as_secs()
                ),
            ),
        })?;
    let mut response = answer.body.into_response();
    let content_type = answer
        .content_type
        .and_then(|c| HeaderValue::from_str(&c).ok())
        .unwrap_or_else(|| HeaderValue::from_static("application/octet-stream"));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    if let Ok(id) = HeaderValue::from_str(&answer.request_id) {
        headers.insert("wharf-invoke-id", id);
    }
    Ok(response)
}

fn no_runtime(path: &InvokePath) -> ApiError {
    ApiError::not_found(format!(
        "there is no Runtime {} in namespace {}",
        path.runtime, path.version.namespace
    ))
}

/// The Runtime's NATS, from its binding Secret, read with the server's own
/// identity (the operator grants it per Runtime) and only when the Runtime
/// controls it.
async fn nats_access(path: &InvokePath, runtime: &Runtime) -> Result<NatsAccess, ApiError> {
    let state = path.version.state();
    let binding = Names::of(&runtime.name_any(), Engine::Nats).binding;
    let secret = Api::<Secret>::namespaced(state.client().clone(), &path.version.namespace)
        .get_opt(&binding)
        .await?
        .filter(|s| {
            s.owner_references()
                .iter()
                .any(|o| o.controller == Some(true) && Some(&o.uid) == runtime.uid().as_ref())
        });
    secret
        .as_ref()
        .map(secret_entries)
        .and_then(|entries| NatsAccess::from_binding(&entries, state.invoker().aliases()))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::NatsUnavailable,
                format!(
                    "Runtime {}'s NATS binding Secret {binding} is not made yet; wait until the Runtime is Ready",
                    runtime.name_any()
                ),
            )
        })
}
