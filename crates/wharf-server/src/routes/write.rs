//! Writing whole objects, the same way for every kind whose request body is the
//! object itself: create (`POST` to the collection, 409 when the name is taken)
//! and apply (`PUT` to the object: server-side apply, so sending the same body
//! twice changes nothing), each answering after `?wait=` when asked. A kind says
//! what the API checks beyond its CRD in [`Written`]; the CRD's schema and CEL
//! rules are checked by Kubernetes, whose refusal is passed on as a 422 with its
//! message.

use axum::http::StatusCode;
use axum::response::Response;
use kube::ResourceExt;
use kube::api::{Patch, PatchParams, PostParams};
use wharf_model::api::validate_app;
use wharf_model::app::App;
use wharf_model::runtime::Runtime;
use wharf_model::runtime_version::RuntimeVersion;
use wharf_model::runtime_version::chain::ordered;
use wharf_model::runtime_version::subjects::ENTRYPOINT_TOKEN;
use wharf_model::template::AppTemplate;

use super::common::reset_metadata;
use super::path::{NamespacePath, ObjectPath};
use crate::auth::Verb;
use crate::error::ApiError;
use crate::wait::{Awaited, WaitQuery, respond_after_wait};

/// The field manager of writes made through the API.
pub const API_FIELD_MANAGER: &str = "wharf-api";

/// A kind the API writes whole.
pub trait Written: Awaited {
    /// The first rule of the API's own that the object named `name` breaks, as
    /// the field at fault and what to do about it.
    fn check(&self, name: &str) -> Option<(String, String)>;

    /// Drops the status: clients do not write it.
    fn drop_status(&mut self);
}

impl Written for App {
    fn check(&self, name: &str) -> Option<(String, String)> {
        let error = validate_app(name, &self.spec).into_iter().next()?;
        Some((error.field, error.message))
    }

    fn drop_status(&mut self) {
        self.status = None;
    }
}

impl Written for Runtime {
    /// None: the CRD's schema and CEL rules are the whole rulebook (at least one
    /// engine, 1 or 3 members, a name its children can extend), and Kubernetes'
    /// 422 carries their messages.
    fn check(&self, _name: &str) -> Option<(String, String)> {
        None
    }

    fn drop_status(&mut self) {
        self.status = None;
    }
}

impl Written for RuntimeVersion {
    /// What the CRD's rules cannot see: a cycle among the edges (the rules
    /// check names and counts, not the walk), and a node called like the
    /// workflow's input.
    fn check(&self, _name: &str) -> Option<(String, String)> {
        self.spec.workflows.iter().enumerate().find_map(|(i, workflow)| {
            if let Err(error) = ordered(workflow) {
                return Some((format!("spec.workflows[{i}].edges"), error.to_string()));
            }
            workflow
                .nodes
                .iter()
                .position(|n| n.name == ENTRYPOINT_TOKEN)
                .map(|j| {
                    (
                        format!("spec.workflows[{i}].nodes[{j}].name"),
                        format!("a node cannot be called `{ENTRYPOINT_TOKEN}`: it is the last token of the workflow's input subject"),
                    )
                })
        })
    }

    fn drop_status(&mut self) {
        self.status = None;
    }
}

impl Written for AppTemplate {
    /// None: the CRD's schema and CEL rules are the whole rulebook (a DNS label
    /// of at most 63 characters, a tag or digest, unique ports and variables).
    fn check(&self, _name: &str) -> Option<(String, String)> {
        None
    }

    /// Nothing to drop: a template has no status.
    fn drop_status(&mut self) {}
}

/// Checks a body against the path and the kind's rules, and readies it for
/// writing into `namespace` as `name_in_path` (the body's name, for a create).
fn prepare<K: Written>(
    mut object: K,
    namespace: &str,
    name_in_path: Option<&str>,
) -> Result<K, ApiError> {
    let kind = K::kind(&());
    reset_metadata(object.meta_mut(), namespace)?;
    match (object.meta().name.as_deref(), name_in_path) {
        (Some(body), Some(path)) if body != path => {
            return Err(ApiError::invalid(
                "metadata.name",
                format!("the body names {kind} {body} but the path is for {path}"),
            ));
        }
        (None, None) => {
            return Err(ApiError::invalid(
                "metadata.name",
                format!("the {kind} needs a name"),
            ));
        }
        _ => {}
    }
    if let Some(name) = name_in_path {
        object.meta_mut().name = Some(name.to_owned());
    }
    if let Some((field, message)) = object.check(&object.name_any()) {
        return Err(ApiError::invalid(field, message));
    }
    object.drop_status();
    Ok(object)
}

/// Creates `object` in the path's namespace: 201 with it (Ready, when waited
/// for), 202 when the wait ran out, 409 `already_exists` when the name is taken.
pub async fn create<K: Written>(
    path: &NamespacePath<K>,
    object: K,
    wait: &WaitQuery<K>,
) -> Result<Response, ApiError> {
    path.authorize(Verb::Create).await?;
    // Refuse a bad wait before anything is created.
    wait.timeout()?;
    let object = prepare(object, &path.namespace, None)?;
    let created = path
        .api()
        .create(&PostParams::default(), &object)
        .await
        .map_err(|error| {
            ApiError::name_taken(error, || {
                let place = if K::NAMESPACED {
                    format!(" in namespace {}", path.namespace)
                } else {
                    String::new()
                };
                format!(
                    "{} {} already exists{place}; use PUT to change it",
                    K::kind(&()),
                    object.name_any(),
                )
            })
        })?;
    respond_after_wait(path.state(), created, wait, StatusCode::CREATED).await
}

/// Creates or updates the path's object to match `object` (server-side apply;
/// idempotent): 200 with it (Ready, when waited for), 202 when the wait ran out.
pub async fn apply<K: Written>(
    path: &ObjectPath<K>,
    object: K,
    wait: &WaitQuery<K>,
) -> Result<Response, ApiError> {
    path.authorize(Verb::Update).await?;
    // Server-side apply also creates: that needs the create permission too.
    let state = path.state();
    if state
        .caches()
        .get::<K>(&path.namespace, &path.name)
        .is_none()
    {
        path.authorize(Verb::Create).await?;
    }
    wait.timeout()?;
    let object = prepare(object, &path.namespace, Some(&path.name))?;
    let mut body = serde_json::to_value(&object).map_err(|e| ApiError::internal(&e))?;
    body["apiVersion"] = K::api_version(&()).into();
    body["kind"] = K::kind(&()).into();
    let applied = path
        .api()
        .patch(
            &path.name,
            &PatchParams::apply(API_FIELD_MANAGER).force(),
            &Patch::Apply(body),
        )
        .await?;
    respond_after_wait(state, applied, wait, StatusCode::OK).await
}
