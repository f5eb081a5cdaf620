//! Pieces every App route uses: path parameters, authorization, finding the App,
//! and answering after an optional wait; and what the routes of other kinds share
//! with them: paging through a watch cache and readying a body's metadata.

use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::core::{NamespaceResourceScope, SelectorExt};
use kube::{Api, Resource, ResourceExt};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use utoipa::IntoParams;
use wharf_model::api::parse_label_selector;
use wharf_model::app::App;

use crate::auth::{Access, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use crate::wait::{parse_wait, until_ready};

/// Header saying whether a waited-for App became Ready before the deadline.
pub const READY_HEADER: HeaderName = HeaderName::from_static("wharf-ready");

/// `/v1/namespaces/{namespace}/apps/{name}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AppPath {
    /// The namespace.
    pub namespace: String,
    /// The App's name.
    pub name: String,
}

/// `/v1/namespaces/{namespace}/apps`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NamespacePath {
    /// The namespace.
    pub namespace: String,
}

/// `?wait=60s`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitQuery {
    /// Answer when the App is Ready, or after this long (e.g. `60s`, at most `10m`)
    /// with 202 and what is still pending in its status.
    pub wait: Option<String>,
}

/// Authenticates the request and authorizes `verb` on `apps` (or `apps/<sub>`).
pub async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    verb: &'static str,
    namespace: &str,
    subresource: Option<&'static str>,
    name: Option<&str>,
) -> Result<Caller, ApiError> {
    authorize_on(state, headers, "apps", verb, namespace, subresource, name).await
}

/// Authenticates the request and authorizes `verb` on the Wharf `resource` (or
/// `<resource>/<sub>`).
pub async fn authorize_on(
    state: &AppState,
    headers: &HeaderMap,
    resource: &'static str,
    verb: &'static str,
    namespace: &str,
    subresource: Option<&'static str>,
    name: Option<&str>,
) -> Result<Caller, ApiError> {
    let access = Access {
        verb,
        namespace,
        resource,
        subresource,
        name,
    };
    state.auth().check(headers, &access).await
}

/// `?labelSelector=&limit=&continue=`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Only objects whose labels match, e.g. `team=shop,tier!=db`.
    pub label_selector: Option<String>,
    /// Most objects on a page (default and maximum 500).
    pub limit: Option<usize>,
    /// The `continue` value of the previous page.
    #[serde(rename = "continue")]
    pub continue_token: Option<String>,
}

/// Largest page of a list.
const MAX_PAGE: usize = 500;

/// One page of the namespace's objects from a watch cache, ordered by name, and
/// the `continue` token of the next page when there is one.
pub fn list_page<K>(
    cached: Vec<Arc<K>>,
    namespace: &str,
    query: &ListQuery,
) -> Result<(Vec<K>, Option<String>), ApiError>
where
    K: Resource + Clone,
{
    let selector = parse_label_selector(query.label_selector.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::invalid("query.labelSelector", e.to_string()))?;
    let limit = match query.limit {
        Some(0) => return Err(ApiError::invalid("query.limit", "limit must be at least 1")),
        Some(n) => n.min(MAX_PAGE),
        None => MAX_PAGE,
    };
    let mut objects: Vec<K> = cached
        .into_iter()
        .filter(|o| o.namespace().as_deref() == Some(namespace))
        .filter(|o| selector.matches(o.labels()))
        .filter(|o| {
            query
                .continue_token
                .as_deref()
                .is_none_or(|after| o.name_any().as_str() > after)
        })
        .map(|o| K::clone(&o))
        .collect();
    objects.sort_by_key(ResourceExt::name_any);
    let more = objects.len() > limit;
    objects.truncate(limit);
    let continue_token = more
        .then(|| objects.last().map(ResourceExt::name_any))
        .flatten();
    Ok((objects, continue_token))
}

/// Readies a body's metadata for a write into `namespace`: refuses a body for
/// another namespace and drops what only the API server sets.
pub fn reset_metadata(meta: &mut ObjectMeta, namespace: &str) -> Result<(), ApiError> {
    if let Some(ns) = meta.namespace.as_deref()
        && ns != namespace
    {
        return Err(ApiError::invalid(
            "metadata.namespace",
            format!(
                "the body names namespace {ns} but the path is for {namespace}; they must match"
            ),
        ));
    }
    meta.namespace = Some(namespace.to_owned());
    meta.resource_version = None;
    meta.uid = None;
    meta.managed_fields = None;
    meta.creation_timestamp = None;
    Ok(())
}

/// The App from the watch cache; asks the API server only on a miss, so an App
/// created a moment ago is found.
pub async fn find_app(state: &AppState, namespace: &str, name: &str) -> Result<App, ApiError> {
    cached_or_fetched(state, state.caches().app(namespace, name), namespace, name).await
}

/// `cached`, the object as a watch cache holds it; on a miss the object is asked
/// of the API server, so one created a moment ago is found. 404 when it does not
/// exist.
pub async fn cached_or_fetched<K>(
    state: &AppState,
    cached: Option<K>,
    namespace: &str,
    name: &str,
) -> Result<K, ApiError>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + std::fmt::Debug,
{
    if let Some(object) = cached {
        return Ok(object);
    }
    Api::<K>::namespaced(state.client().clone(), namespace)
        .get_opt(name)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "there is no {} {name} in namespace {namespace}",
                K::kind(&())
            ))
        })
}

/// The pods in `namespace` whose label `key` is `value`, from the cache, by name.
pub fn pods_labelled(state: &AppState, namespace: &str, key: &str, value: &str) -> Vec<Pod> {
    let mut pods: Vec<Pod> = state
        .caches()
        .pods
        .state()
        .into_iter()
        .filter(|pod| {
            pod.namespace().as_deref() == Some(namespace)
                && pod.labels().get(key).map(String::as_str) == Some(value)
        })
        .map(|pod| Pod::clone(&pod))
        .collect();
    pods.sort_by_key(ResourceExt::name_any);
    pods
}

/// Answers with the written App, after waiting for it to be Ready when asked:
/// `status` when ready or not waited for, 202 when the wait ran out.
pub async fn respond_after_wait(
    state: &AppState,
    app: App,
    wait: &WaitQuery,
    status: StatusCode,
) -> Result<Response, ApiError> {
    state.caches().settle_app(&app).await;
    let Some(timeout) = parse_wait(wait.wait.as_deref())? else {
        return Ok((status, Json(clean(app))).into_response());
    };
    let generation = app.metadata.generation.unwrap_or(0);
    let waited = until_ready(state.client(), app, generation, timeout).await?;
    let code = if waited.ready {
        status
    } else {
        StatusCode::ACCEPTED
    };
    let mut response = (code, Json(clean(waited.app))).into_response();
    response.headers_mut().insert(
        READY_HEADER,
        HeaderValue::from_static(if waited.ready { "true" } else { "false" }),
    );
    Ok(response)
}

/// The App without server bookkeeping clients do not need.
pub fn clean(mut app: App) -> App {
    app.metadata.managed_fields = None;
    app
}
