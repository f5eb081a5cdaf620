//! The functions: each stands for one endpoint of the API and says how its
//! parameters become that endpoint's request.

use axum::http::Method;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::de::DeserializeOwned;
use serde_json::Value;
use utoipa::PartialSchema;

use super::params::{
    AppParams, DeployParams, NamespaceRef, ObjectRef, RuntimeParams, ScaleParams, SpaceParams,
    TaskParams, VolumeParams,
};
use crate::auth::{Permission, Subresource, Verb, WharfResource};
use crate::error::ApiError;

/// How long `run_task` waits for the Task to finish unless told otherwise.
const DEFAULT_TASK_WAIT: &str = "5m";

/// A request to one endpoint of the API.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointRequest {
    /// The method.
    pub method: Method,
    /// The path and query, each path segment percent-encoded.
    pub uri: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

impl EndpointRequest {
    fn new(method: Method, segments: &[&str]) -> Self {
        let mut uri = String::new();
        for segment in segments {
            uri.push('/');
            uri.extend(utf8_percent_encode(segment, SEGMENT));
        }
        Self {
            method,
            uri,
            body: None,
        }
    }

    fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    /// Adds `?wait=` when a wait is asked for. The value is encoded, so it can
    /// only ever be that one query parameter.
    fn wait(mut self, wait: Option<&str>) -> Self {
        if let Some(wait) = wait {
            self.uri.push_str("?wait=");
            self.uri.extend(utf8_percent_encode(wait, SEGMENT));
        }
        self
    }
}

/// What a path segment keeps unencoded: RFC 3986's unreserved characters. So a
/// name such as `../spaces` stays one segment and can never reach another route.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// One function of the catalogue.
pub struct Function {
    /// Its name, e.g. `scale_app`.
    pub name: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// The `operationId` of the endpoint it stands for in `/openapi.json`.
    pub operation: &'static str,
    /// The resource the endpoint authorizes on.
    pub resource: WharfResource,
    /// The verb (and subresource) the endpoint authorizes.
    pub permission: Permission,
    /// Whether the permission is asked in the `namespace` parameter's namespace.
    pub namespaced: bool,
    /// The JSON Schema of the parameters (utoipa's, with references into the
    /// document's components).
    pub params_schema: fn() -> Value,
    /// Reads the parameters and makes the endpoint's request; 400 for parameters
    /// that do not fit.
    pub request: fn(Value) -> Result<EndpointRequest, ApiError>,
}

fn schema_of<P: PartialSchema>() -> Value {
    serde_json::to_value(P::schema()).unwrap_or_default()
}

/// Reads parameters as `P`, naming what is wrong for a person.
fn read<P: DeserializeOwned>(params: Value) -> Result<P, ApiError> {
    serde_json::from_value(params).map_err(|e| {
        ApiError::invalid(
            "params",
            format!(
                "the parameters do not fit the function's schema (GET /v1/functions lists it): {e}"
            ),
        )
    })
}

const NS: &str = "v1";

/// `/v1/namespaces/{namespace}/{resource}/{name}[/{action}]`.
fn object(namespace: &str, resource: &str, name: &str, action: Option<&str>) -> Vec<String> {
    let mut segments = collection(namespace, resource);
    segments.push(name.into());
    segments.extend(action.map(str::to_owned));
    segments
}

fn app(namespace: &str, name: &str, action: Option<&str>) -> Vec<String> {
    object(namespace, "apps", name, action)
}

fn task(namespace: &str, name: &str, action: Option<&str>) -> Vec<String> {
    object(namespace, "tasks", name, action)
}

fn collection(namespace: &str, resource: &str) -> Vec<String> {
    vec![
        NS.into(),
        "namespaces".into(),
        namespace.into(),
        resource.into(),
    ]
}

fn to(method: Method, segments: Vec<String>) -> EndpointRequest {
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    EndpointRequest::new(method, &segments)
}

macro_rules! function {
    ($name:literal, $summary:literal, $operation:literal, $resource:ident, $permission:expr, namespaced = $namespaced:literal, params = $params:ty, |$p:ident| $request:expr) => {
        Function {
            name: $name,
            summary: $summary,
            operation: $operation,
            resource: WharfResource::$resource,
            permission: $permission,
            namespaced: $namespaced,
            params_schema: schema_of::<$params>,
            request: |value| {
                let $p: $params = read(value)?;
                Ok($request)
            },
        }
    };
}

/// Every function, ordered by name.
pub fn functions() -> &'static [Function] {
    static FUNCTIONS: std::sync::LazyLock<Vec<Function>> = std::sync::LazyLock::new(|| {
        let mut all = vec![
            function!(
                "app_status",
                "The App's phase, conditions, replicas and URLs.",
                "app_status",
                Apps,
                Verb::Get.on(Subresource::Status),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::GET, app(&p.namespace, &p.name, Some("status")))
            ),
            function!(
                "apply_app",
                "Creates an App from an image, or updates the App of that name to match (running it twice changes nothing).",
                "apply_app",
                Apps,
                Verb::Update.into(),
                namespaced = true,
                params = AppParams,
                |p| to(Method::PUT, app(&p.namespace, &p.name, None))
                    .body(p.document())
                    .wait(p.wait.as_deref())
            ),
            function!(
                "cancel_task",
                "Stops a running Task; its Job's pods are deleted.",
                "cancel_task",
                Tasks,
                Verb::Update.into(),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::POST, task(&p.namespace, &p.name, Some("cancel")))
            ),
            function!(
                "create_app",
                "Creates an App from an image; refused when an App of that name exists.",
                "create_app",
                Apps,
                Verb::Create.into(),
                namespaced = true,
                params = AppParams,
                |p| to(Method::POST, collection(&p.namespace, "apps"))
                    .body(p.document())
                    .wait(p.wait.as_deref())
            ),
            function!(
                "create_runtime",
                "Creates a Runtime (databases, NATS, object storage) for a namespace.",
                "create_runtime",
                Runtimes,
                Verb::Create.into(),
                namespaced = true,
                params = RuntimeParams,
                |p| to(Method::POST, collection(&p.namespace, "runtimes"))
                    .body(serde_json::json!({ "metadata": { "name": p.name }, "spec": p.spec }))
            ),
            function!(
                "create_space",
                "Creates a Space: a tenant namespace with the caller as its owner.",
                "create_space",
                Spaces,
                Verb::Create.into(),
                namespaced = false,
                params = SpaceParams,
                |p| {
                    to(Method::POST, vec![NS.into(), "spaces".into()]).body(serde_json::json!({ "metadata": { "name": p.name }, "spec": p.spec.unwrap_or_else(|| serde_json::json!({})) }))
                }
            ),
            function!(
                "create_volume",
                "Creates a shared volume that several Apps can mount.",
                "create_volume",
                Volumes,
                Verb::Create.into(),
                namespaced = true,
                params = VolumeParams,
                |p| to(Method::POST, collection(&p.namespace, "volumes")).body(p.document())
            ),
            function!(
                "delete_app",
                "Deletes an App and what it owns (never a shared volume).",
                "delete_app",
                Apps,
                Verb::Delete.into(),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::DELETE, app(&p.namespace, &p.name, None))
            ),
            function!(
                "deploy_template",
                "Deploys an App from a catalogue entry (AppTemplate) with a few overrides.",
                "deploy_template",
                Apps,
                Verb::Create.into(),
                namespaced = true,
                params = DeployParams,
                |p| to(
                    Method::POST,
                    vec![
                        NS.into(),
                        "templates".into(),
                        p.template.clone(),
                        "deploy".into()
                    ]
                )
                .body(p.document())
            ),
            function!(
                "get_app",
                "One App: its spec and status.",
                "get_app",
                Apps,
                Verb::Get.into(),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::GET, app(&p.namespace, &p.name, None))
            ),
            function!(
                "get_task",
                "One Task: its spec and status (phase, attempts, exit code).",
                "get_task",
                Tasks,
                Verb::Get.into(),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::GET, task(&p.namespace, &p.name, None))
            ),
            function!(
                "list_apps",
                "The first page of a namespace's Apps.",
                "list_apps",
                Apps,
                Verb::List.into(),
                namespaced = true,
                params = NamespaceRef,
                |p| to(Method::GET, collection(&p.namespace, "apps"))
            ),
            function!(
                "restart_app",
                "Restarts an App's pods, one by one.",
                "restart_app",
                Apps,
                Verb::Update.into(),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::POST, app(&p.namespace, &p.name, Some("restart")))
            ),
            function!(
                "run_task",
                "Runs a Task (a batch job) and waits for it to finish.",
                "create_task",
                Tasks,
                Verb::Create.into(),
                namespaced = true,
                params = TaskParams,
                |p| to(Method::POST, collection(&p.namespace, "tasks"))
                    .body(p.document())
                    .wait(Some(p.wait.as_deref().unwrap_or(DEFAULT_TASK_WAIT)))
            ),
            function!(
                "scale_app",
                "Sets how many pods an App runs.",
                "scale_app",
                Apps,
                Verb::Update.on(Subresource::Scale),
                namespaced = true,
                params = ScaleParams,
                |p| to(Method::POST, app(&p.namespace, &p.name, Some("scale")))
                    .body(serde_json::json!({ "replicas": p.replicas }))
            ),
            function!(
                "start_app",
                "Starts a stopped App with the replicas it had.",
                "start_app",
                Apps,
                Verb::Update.into(),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::POST, app(&p.namespace, &p.name, Some("start")))
            ),
            function!(
                "stop_app",
                "Stops an App (no pods) and remembers its replicas.",
                "stop_app",
                Apps,
                Verb::Update.into(),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::POST, app(&p.namespace, &p.name, Some("stop")))
            ),
            function!(
                "task_results",
                "The result files of a Task, with size and sha256.",
                "list_results",
                Tasks,
                Verb::Get.on(Subresource::Results),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::GET, task(&p.namespace, &p.name, Some("results")))
            ),
            function!(
                "upgrade_app",
                "Upgrades an App to its template's current generation.",
                "upgrade_app",
                Apps,
                Verb::Update.into(),
                namespaced = true,
                params = ObjectRef,
                |p| to(Method::POST, app(&p.namespace, &p.name, Some("upgrade")))
            ),
        ];
        all.sort_by_key(|f| f.name);
        all
    });
    &FUNCTIONS
}

/// The function called `name`.
pub fn function(name: &str) -> Option<&'static Function> {
    functions().iter().find(|f| f.name == name)
}
