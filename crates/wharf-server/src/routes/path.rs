//! The request paths of the handler layer, as extractors that do the common work
//! before a handler runs: the namespace and name are checked against Kubernetes'
//! naming rules (a malformed one is a 400 `invalid_name`, never a call to
//! Kubernetes), and the path then authorizes a [`Permission`] for the caller and
//! loads its object from the watch cache. A handler does only its own work:
//!
//! ```text
//! async fn get_app(path: AppPath) -> Result<Json<App>, ApiError> {
//!     Ok(Json(clean(path.load_for(Verb::Get).await?)))
//! }
//! ```

use std::marker::PhantomData;
use std::ops::Deref;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use kube::Api;
use kube::api::DeleteParams;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{ObjectBuilder, Required, schema::Type};
use wharf_model::app::App;
use wharf_model::runtime::Runtime;
use wharf_model::runtime_version::RuntimeVersion;
use wharf_model::space::Space;
use wharf_model::task::{Task, validate_result_name};
use wharf_model::template::AppTemplate;
use wharf_model::wire::ErrorCode;

use crate::auth::{Access, Caller, Permission};
use crate::error::ApiError;
use crate::extract::PathParams;
use crate::kinds::Kind;
use crate::names::{NameError, check_label, check_subdomain};
use crate::state::AppState;

/// `/v1/namespaces/{namespace}/apps/{name}`.
pub type AppPath = ObjectPath<App>;
/// `/v1/namespaces/{namespace}/tasks/{name}`.
pub type TaskPath = ObjectPath<Task>;
/// `/v1/spaces/{name}`.
pub type SpacePath = ObjectPath<Space>;
/// `/v1/namespaces/{namespace}/runtimes/{name}`.
pub type RuntimePath = ObjectPath<Runtime>;
/// `/v1/templates/{name}`.
pub type TemplatePath = ObjectPath<AppTemplate>;

/// The path parameters as sent; a cluster-scoped kind's path has no namespace.
#[derive(Deserialize)]
struct RawObjectPath {
    #[serde(default)]
    namespace: String,
    name: String,
}

/// `/v1/namespaces/{namespace}`: the namespace of a collection.
#[derive(Deserialize)]
struct RawNamespacePath {
    namespace: String,
}

/// 400 `invalid_name` for path parameter `param` that is not a Kubernetes name.
fn malformed(param: &str, value: &str, why: NameError) -> ApiError {
    ApiError::bad_request(
        ErrorCode::InvalidName,
        format!("the {param} {value:?} in the path is not a Kubernetes name: {why}"),
    )
    .at(format!("path.{param}"))
}

/// 400 `invalid_name` for the body's `field` that is not a Kubernetes name.
fn malformed_field(field: &str, value: &str, why: NameError) -> ApiError {
    ApiError::bad_request(
        ErrorCode::InvalidName,
        format!("the {field} {value:?} is not a Kubernetes name: {why}"),
    )
    .at(field.to_owned())
}

/// A name the body gives for an object to make (`field`), checked like a path's
/// name: a malformed one is a 400 `invalid_name` at `field`.
pub fn checked_body_name(field: &str, name: &str) -> Result<(), ApiError> {
    check_subdomain(name).map_err(|why| malformed_field(field, name, why))
}

fn checked_namespace(namespace: &str) -> Result<(), ApiError> {
    check_label(namespace).map_err(|why| malformed("namespace", namespace, why))
}

/// A path parameter for the OpenAPI document.
fn path_param(name: &str, description: &str) -> Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
        .build()
}

/// The path of a namespace's collection of kind `K`
/// (`/v1/namespaces/{namespace}/apps`), checked. The namespace is empty for a
/// cluster-scoped kind's objects.
pub struct NamespacePath<K> {
    /// The namespace.
    pub namespace: String,
    state: AppState,
    /// The caller's request headers, for authenticating it.
    headers: HeaderMap,
    kind: PhantomData<fn() -> K>,
}

impl<K: Kind> FromRequestParts<AppState> for NamespacePath<K> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // A cluster-scoped kind's collection (`/v1/templates`) has no namespace.
        if !K::NAMESPACED {
            return Ok(Self::new(String::new(), parts, state));
        }
        let PathParams(raw) =
            PathParams::<RawNamespacePath>::from_request_parts(parts, state).await?;
        checked_namespace(&raw.namespace)?;
        Ok(Self::new(raw.namespace, parts, state))
    }
}

impl<K: Kind> NamespacePath<K> {
    fn new(namespace: String, parts: &Parts, state: &AppState) -> Self {
        Self {
            namespace,
            state: state.clone(),
            headers: parts.headers.clone(),
            kind: PhantomData,
        }
    }

    /// The collection of kind `L` in `namespace`, for the same request: where an
    /// operation on this path writes another kind it names in its body (a deploy
    /// from a template creates an App). The namespace is checked like a path's: a
    /// malformed one is a 400 `invalid_name` at `field` of the body.
    pub fn collection_of<L: Kind>(
        &self,
        namespace: &str,
        field: &str,
    ) -> Result<NamespacePath<L>, ApiError> {
        if L::NAMESPACED {
            check_label(namespace).map_err(|why| malformed_field(field, namespace, why))?;
        }
        Ok(self.sibling(namespace))
    }

    /// The object `name` of kind `L` in `namespace`, for the same request, taken
    /// from a stored reference (an App's template), so not checked: a name
    /// Kubernetes holds is a name it accepted.
    pub fn object_of<L: Kind>(&self, namespace: &str, name: &str) -> ObjectPath<L> {
        ObjectPath {
            collection: self.sibling(namespace),
            name: name.to_owned(),
        }
    }

    /// The collection of kind `L` in `namespace`, unchecked, for the same request.
    fn sibling<L>(&self, namespace: &str) -> NamespacePath<L> {
        NamespacePath {
            namespace: namespace.to_owned(),
            state: self.state.clone(),
            headers: self.headers.clone(),
            kind: PhantomData,
        }
    }

    /// The server's state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// The request's headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The kind's objects in this namespace.
    pub fn api(&self) -> Api<K> {
        K::api(self.state().client().clone(), &self.namespace)
    }

    /// Authenticates the caller and authorizes `permission` on the collection.
    pub async fn authorize(&self, permission: impl Into<Permission>) -> Result<Caller, ApiError> {
        self.authorize_on(None, permission.into()).await
    }

    /// Authenticates the caller and authorizes `permission` on the object `name`
    /// or on the collection.
    async fn authorize_on(
        &self,
        name: Option<&str>,
        permission: Permission,
    ) -> Result<Caller, ApiError> {
        let access = Access {
            verb: permission.verb,
            namespace: &self.namespace,
            resource: K::RESOURCE,
            subresource: permission.subresource,
            name,
        };
        self.state().auth().check(self.headers(), &access).await
    }
}

impl<K: Kind> IntoParams for NamespacePath<K> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![path_param("namespace", "The namespace.")]
    }
}

/// The path of one object of kind `K`, checked; see the module documentation.
/// It is its collection's path (state, headers, API) and the object's name.
pub struct ObjectPath<K> {
    collection: NamespacePath<K>,
    /// The object's name.
    pub name: String,
}

impl<K> Deref for ObjectPath<K> {
    type Target = NamespacePath<K>;

    fn deref(&self) -> &NamespacePath<K> {
        &self.collection
    }
}

impl<K: Kind> FromRequestParts<AppState> for ObjectPath<K> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let PathParams(raw) = PathParams::<RawObjectPath>::from_request_parts(parts, state).await?;
        if K::NAMESPACED {
            checked_namespace(&raw.namespace)?;
        }
        check_subdomain(&raw.name).map_err(|why| malformed("name", &raw.name, why))?;
        Ok(Self {
            collection: NamespacePath::new(raw.namespace, parts, state),
            name: raw.name,
        })
    }
}

impl<K: Kind> ObjectPath<K> {
    /// Authenticates the caller and authorizes `permission` on this object.
    pub async fn authorize(&self, permission: impl Into<Permission>) -> Result<Caller, ApiError> {
        (self.collection)
            .authorize_on(Some(self.name.as_str()), permission.into())
            .await
    }

    /// The object from the watch cache; asks the API server only on a miss, so an
    /// object created a moment ago is found. 404 when it does not exist.
    pub async fn load(&self) -> Result<K, ApiError> {
        if let Some(object) = self.state().caches().get(&self.namespace, &self.name) {
            return Ok(object);
        }
        self.read().await
    }

    /// The object as the API server has it now, bypassing the watch cache: for a
    /// decision the cache may lag (it may not yet hold a change a wait has just
    /// seen) and for a write guarded by the resourceVersion read. 404 when it does
    /// not exist.
    pub async fn read(&self) -> Result<K, ApiError> {
        self.api()
            .get_opt(&self.name)
            .await?
            .ok_or_else(|| self.not_found())
    }

    /// [`ObjectPath::authorize`], then [`ObjectPath::load`].
    pub async fn load_for(&self, permission: impl Into<Permission>) -> Result<K, ApiError> {
        self.authorize(permission).await?;
        self.load().await
    }

    /// Deletes the object (its children go through owner references). Returns
    /// the object while finalizers still hold it; once it is gone, waits (briefly)
    /// until the cache no longer holds it.
    pub async fn delete(&self) -> Result<Option<K>, ApiError> {
        let deleted = self
            .api()
            .delete(&self.name, &DeleteParams::background())
            .await
            .map_err(|error| match error {
                kube::Error::Api(status) if status.code == 404 => self.not_found(),
                other => other.into(),
            })?;
        if deleted.is_right() {
            self.state()
                .caches()
                .settle_deleted::<K>(&self.namespace, &self.name)
                .await;
        }
        Ok(deleted.left())
    }

    /// 404: no such object.
    pub fn not_found(&self) -> ApiError {
        let kind = K::kind(&());
        ApiError::not_found(if K::NAMESPACED {
            format!(
                "there is no {kind} {} in namespace {}",
                self.name, self.namespace
            )
        } else {
            format!("there is no {kind} {}", self.name)
        })
    }
}

impl<K: Kind> IntoParams for ObjectPath<K> {
    fn into_params(in_path: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let name = path_param("name", &format!("The {}'s name.", K::kind(&())));
        if K::NAMESPACED {
            let mut params = NamespacePath::<K>::into_params(in_path);
            params.push(name);
            params
        } else {
            vec![name]
        }
    }
}

/// `{file}` of `/v1/namespaces/{namespace}/tasks/{name}/results/{file}`.
#[derive(Deserialize)]
struct RawFile {
    file: String,
}

/// `/v1/namespaces/{namespace}/tasks/{name}/results/{file}`: a Task's path and a
/// result file's name, checked (a name that leaves the results folder or is not a
/// plain relative path is a 400 `invalid_result_name`).
pub struct ResultPath {
    /// The Task's path.
    pub task: TaskPath,
    /// The file's name relative to the results folder, e.g. `out/report.csv`.
    pub file: String,
}

impl FromRequestParts<AppState> for ResultPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let task = TaskPath::from_request_parts(parts, state).await?;
        let PathParams(RawFile { file }) = PathParams::from_request_parts(parts, state).await?;
        checked_result_name(&file)?;
        Ok(Self { task, file })
    }
}

/// 400 `invalid_result_name` for a name that is not a plain relative path.
pub fn checked_result_name(name: &str) -> Result<(), ApiError> {
    validate_result_name(name).map_err(|reason| {
        ApiError::bad_request(
            ErrorCode::InvalidResultName,
            format!("result file name {name:?} is refused: {reason}"),
        )
    })
}

impl IntoParams for ResultPath {
    fn into_params(in_path: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        let mut params = TaskPath::into_params(in_path);
        params.push(path_param(
            "file",
            "The file's name relative to the results folder, e.g. `out/report.csv`: its\nsegments separated by `/`, each percent-encoded.",
        ));
        params
    }
}

/// `/v1/namespaces/{namespace}/runtimes/{runtime}/versions/{version}/workflows/{workflow}/invoke`
/// and `/v1/namespaces/{namespace}/runtimes/{runtime}/invoke/{workflow}` (the
/// Runtime's published version), checked: the version's object path, its
/// Runtime and the workflow.
pub struct InvokePath {
    /// The namespace, and the version when the path names one (else empty).
    pub version: ObjectPath<RuntimeVersion>,
    /// The Runtime in the path.
    pub runtime: String,
    /// The workflow, by name or by the name it is invoked by.
    pub workflow: String,
}

#[derive(Deserialize)]
struct RawInvokePath {
    namespace: String,
    runtime: String,
    #[serde(default)]
    version: String,
    workflow: String,
}

impl FromRequestParts<AppState> for InvokePath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let PathParams(raw) = PathParams::<RawInvokePath>::from_request_parts(parts, state).await?;
        checked_namespace(&raw.namespace)?;
        check_label(&raw.runtime).map_err(|why| malformed("runtime", &raw.runtime, why))?;
        if !raw.version.is_empty() {
            check_label(&raw.version).map_err(|why| malformed("version", &raw.version, why))?;
        }
        let workflow_ok = raw.workflow.len() <= 63
            && raw.workflow.starts_with(|c: char| c.is_ascii_alphabetic())
            && raw
                .workflow
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !workflow_ok {
            return Err(ApiError::bad_request(
                ErrorCode::InvalidName,
                format!(
                    "the workflow {:?} in the path is not a workflow name: a letter, then at most 62 letters, digits, '-' and '_'",
                    raw.workflow
                ),
            )
            .at("path.workflow"));
        }
        Ok(Self {
            version: ObjectPath {
                collection: NamespacePath::new(raw.namespace, parts, state),
                name: raw.version,
            },
            runtime: raw.runtime,
            workflow: raw.workflow,
        })
    }
}
