//! Create, list, get, apply and delete Runtimes; read a Runtime's status and,
//! as a permission of its own, its credentials.

use std::collections::BTreeMap;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::Secret;
use kube::{Api, ResourceExt};
use wharf_model::api::{EngineCredentials, RuntimeCredentials, RuntimeList};
use wharf_model::runtime::build::access::reader_name;
use wharf_model::runtime::build::{Names, engines};
use wharf_model::runtime::{Runtime, RuntimePhase, RuntimeStatus};

use super::common::{ListQuery, list_page};
use super::path::{NamespacePath, RuntimePath};
use super::write;
use crate::auth::{Subresource, Verb};
use crate::error::ApiError;
use crate::extract::{JsonBody, QueryParams};
use crate::openapi::{CollectionProblems, JsonBodyProblems, ObjectProblems, RuntimeDoc};
use crate::wait::{WaitQuery, clean};
use wharf_model::wire::{PROBLEM_CONTENT_TYPE, Problem};

/// Creates a Runtime.
#[utoipa::path(
    post,
    path = "/v1/namespaces/{namespace}/runtimes",
    tag = "runtimes",
    params(NamespacePath<Runtime>, WaitQuery<Runtime>),
    request_body = RuntimeDoc,
    responses(
        (status = 201, description = "Created (and Ready, when waited for)", body = RuntimeDoc),
        (status = 202, description = "Created; the wait ran out before it was Ready", body = RuntimeDoc),
        CollectionProblems,
        JsonBodyProblems,
        (status = 409, description = "A Runtime of that name exists", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 422, description = "Kubernetes refused the Runtime (e.g. no engine, or 2 members); `detail` says why", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn create_runtime(
    path: NamespacePath<Runtime>,
    QueryParams(wait): QueryParams<WaitQuery<Runtime>>,
    JsonBody(runtime): JsonBody<Runtime>,
) -> Result<Response, ApiError> {
    write::create(&path, runtime, &wait).await
}

/// Creates or updates a Runtime to match the body (server-side apply; idempotent).
#[utoipa::path(
    put,
    path = "/v1/namespaces/{namespace}/runtimes/{name}",
    tag = "runtimes",
    params(RuntimePath, WaitQuery<Runtime>),
    request_body = RuntimeDoc,
    responses(
        (status = 200, description = "Applied (and Ready, when waited for)", body = RuntimeDoc),
        (status = 202, description = "Applied; the wait ran out before it was Ready", body = RuntimeDoc),
        ObjectProblems<Runtime>,
        JsonBodyProblems,
        (status = 422, description = "Kubernetes refused the Runtime (e.g. no engine, or 2 members); `detail` says why", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn apply_runtime(
    path: RuntimePath,
    QueryParams(wait): QueryParams<WaitQuery<Runtime>>,
    JsonBody(runtime): JsonBody<Runtime>,
) -> Result<Response, ApiError> {
    write::apply(&path, runtime, &wait).await
}

/// Lists the Runtimes of a namespace, by name, from the watch cache.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/runtimes",
    tag = "runtimes",
    params(NamespacePath<Runtime>, ListQuery),
    responses(
        (status = 200, description = "A page of Runtimes", body = RuntimeList),
        CollectionProblems,
    )
)]
pub async fn list_runtimes(
    path: NamespacePath<Runtime>,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<RuntimeList>, ApiError> {
    let (items, continue_token) = list_page(&path, &query).await?;
    Ok(Json(RuntimeList {
        items,
        continue_token,
    }))
}

/// Reads one Runtime from the watch cache. Its credentials are not in it: see
/// `…/credentials`.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/runtimes/{name}",
    tag = "runtimes",
    params(RuntimePath),
    responses(
        (status = 200, description = "The Runtime", body = RuntimeDoc),
        ObjectProblems<Runtime>,
    )
)]
pub async fn get_runtime(path: RuntimePath) -> Result<Json<Runtime>, ApiError> {
    Ok(Json(clean(path.load_for(Verb::Get).await?)))
}

/// Deletes a Runtime. Its `deletionPolicy` decides what happens to the data:
/// `Retain` keeps the volumes, `Delete` removes them first, `DoNotDelete` holds
/// the deletion (202, with a condition saying so) until the policy is changed.
#[utoipa::path(
    delete,
    path = "/v1/namespaces/{namespace}/runtimes/{name}",
    tag = "runtimes",
    params(RuntimePath),
    responses(
        (status = 202, description = "Deleting: its finalizer still holds it", body = RuntimeDoc),
        (status = 204, description = "Deleted"),
        ObjectProblems<Runtime>,
    )
)]
pub async fn delete_runtime(path: RuntimePath) -> Result<Response, ApiError> {
    path.authorize(Verb::Delete).await?;
    Ok(match path.delete().await? {
        Some(pending) => (StatusCode::ACCEPTED, Json(clean(pending))).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// The Runtime's status: phase, conditions and each engine's endpoint, binding
/// Secret and members.
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/runtimes/{name}/status",
    tag = "runtimes",
    params(RuntimePath),
    responses(
        (status = 200, description = "Phase, conditions and engines", body = Object),
        ObjectProblems<Runtime>,
    )
)]
pub async fn runtime_status(path: RuntimePath) -> Result<Json<RuntimeStatus>, ApiError> {
    let runtime = path.load_for(Verb::Get.on(Subresource::Status)).await?;
    Ok(Json(runtime.status.unwrap_or_default()))
}

/// Each engine's connection details, passwords included: the entries of its
/// binding Secret. Allowed to whom Kubernetes allows `get` on
/// `runtimes/credentials` (developers; not viewers, who may read the Runtime).
#[utoipa::path(
    get,
    path = "/v1/namespaces/{namespace}/runtimes/{name}/credentials",
    tag = "runtimes",
    params(RuntimePath),
    responses(
        (status = 200, description = "Per engine, its binding Secret's entries; engines whose binding is not made yet under `pending`. Sent with `Cache-Control: no-store`.", body = RuntimeCredentials),
        ObjectProblems<Runtime>,
    )
)]
pub async fn runtime_credentials(path: RuntimePath) -> Result<Response, ApiError> {
    let runtime = path
        .load_for(Verb::Get.on(Subresource::Credentials))
        .await?;
    let credentials = read_credentials(&path, &runtime).await?;
    let mut response = Json(credentials).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Reads the binding Secret of each of `runtime`'s engines.
///
/// The read is made with the server's own identity, after the SubjectAccessReview
/// above allowed the caller `get` on `runtimes/credentials`: the callers who may
/// read credentials (developers) are not granted Secrets, and should not be (a
/// Role cannot name "binding Secrets only"; it would give them every Secret of
/// the namespace). The server's role grants `get` on Secrets and nothing more: it
/// never lists or watches them (binding Secrets are not cached, unlike everything
/// else the API reads), so it only reads names it derives itself. What it reads
/// is narrowed here:
/// - only `<runtime>-<engine>-binding` of an engine in the spec, from the
///   Runtime's name (never from its status, which a client could have written);
/// - only a Secret the Runtime controls (owner reference with its uid), so a
///   Secret of that name made by someone else is never shown.
async fn read_credentials(
    path: &RuntimePath,
    runtime: &Runtime,
) -> Result<RuntimeCredentials, ApiError> {
    let name = runtime.name_any();
    let secrets = Api::<Secret>::namespaced(path.state().client().clone(), &path.namespace);
    let mut credentials = RuntimeCredentials {
        runtime: name.clone(),
        ..RuntimeCredentials::default()
    };
    for (engine, _) in engines(runtime) {
        let binding = Names::of(&name, engine).binding;
        let secret = match secrets.get_opt(&binding).await {
            Ok(secret) => secret.filter(|secret| controlled_by(secret, runtime)),
            // The operator grants the read with the Runtime's first reconcile:
            // until the Runtime is Ready, a refusal means not granted yet.
            Err(kube::Error::Api(status)) if status.code == 403 && !is_ready(runtime) => None,
            Err(error) => return Err(unreadable(&binding, runtime, error)),
        };
        let engine_name = engine.name().to_owned();
        match secret {
            Some(secret) => {
                let entries = entries(&binding, secret)?;
                credentials.engines.insert(
                    engine_name,
                    EngineCredentials {
                        secret: binding,
                        entries,
                    },
                );
            }
            None => credentials.pending.push(engine_name),
        }
    }
    Ok(credentials)
}

/// Whether `runtime` is the controller of `secret`.
fn controlled_by(secret: &Secret, runtime: &Runtime) -> bool {
    let Some(uid) = runtime.uid() else {
        return false;
    };
    secret
        .owner_references()
        .iter()
        .any(|owner| owner.controller == Some(true) && owner.kind == "Runtime" && owner.uid == uid)
}

/// Whether the operator has reconciled `runtime` to Ready (and so granted the
/// API its credentials read, when it grants one).
fn is_ready(runtime: &Runtime) -> bool {
    runtime
        .status
        .as_ref()
        .is_some_and(|s| s.phase == Some(RuntimePhase::Ready))
}

/// A Secret the server could not read. Refused by Kubernetes for a Ready
/// Runtime means nobody granted the read: the installation's fault, not the
/// caller's.
fn unreadable(binding: &str, runtime: &Runtime, error: kube::Error) -> ApiError {
    match error {
        kube::Error::Api(status) if status.code == 403 => ApiError::internal(&format!(
            "the API server may not read binding Secret {binding}: the operator grants that read with the Role {} when it runs with --credentials-reader naming the API server's ServiceAccount (the chart does): {}",
            reader_name(&runtime.name_any()),
            status.message
        )),
        other => other.into(),
    }
}

/// The entries of binding Secret `binding` as text (the operator writes only text).
fn entries(binding: &str, secret: Secret) -> Result<BTreeMap<String, String>, ApiError> {
    secret
        .data
        .unwrap_or_default()
        .into_iter()
        .map(|(key, value)| match String::from_utf8(value.0) {
            Ok(text) => Ok((key, text)),
            Err(_) => Err(ApiError::internal(&format!(
                "binding Secret {binding} holds entry {key} that is not UTF-8 text"
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use k8s_openapi::ByteString;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

    use super::*;

    fn runtime(uid: &str) -> Runtime {
        let mut runtime = Runtime::new("rt", Default::default());
        runtime.metadata.uid = Some(uid.into());
        runtime
    }

    fn secret(owner: Option<(&str, &str, bool)>) -> Secret {
        Secret {
            metadata: ObjectMeta {
                name: Some("rt-nats-binding".into()),
                owner_references: owner.map(|(kind, uid, controller)| {
                    vec![OwnerReference {
                        api_version: "wharf.dev/v1alpha1".into(),
                        kind: kind.into(),
                        name: "rt".into(),
                        uid: uid.into(),
                        controller: Some(controller),
                        ..Default::default()
                    }]
                }),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(
                "uri".to_owned(),
                ByteString(b"nats://u:p@rt-nats:4222".to_vec()),
            )])),
            ..Default::default()
        }
    }

    #[test]
    fn only_a_secret_the_runtime_controls_is_shown() {
        let rt = runtime("u-1");
        assert!(controlled_by(&secret(Some(("Runtime", "u-1", true))), &rt));
        assert!(!controlled_by(&secret(None), &rt), "made by someone else");
        assert!(
            !controlled_by(&secret(Some(("Runtime", "u-2", true))), &rt),
            "an earlier Runtime of the same name"
        );
        assert!(!controlled_by(
            &secret(Some(("Runtime", "u-1", false))),
            &rt
        ));
        assert!(!controlled_by(&secret(Some(("App", "u-1", true))), &rt));
        assert!(!controlled_by(
            &secret(Some(("Runtime", "u-1", true))),
            &Runtime::new("rt", Default::default())
        ));
    }

    #[test]
    fn entries_are_text_or_an_error() {
        let read = entries("rt-nats-binding", secret(None)).unwrap();
        assert_eq!(read["uri"], "nats://u:p@rt-nats:4222");
        let mut binary = secret(None);
        binary.data = Some(BTreeMap::from([("k".to_owned(), ByteString(vec![0xff]))]));
        assert_eq!(
            entries("rt-nats-binding", binary).unwrap_err().status(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
