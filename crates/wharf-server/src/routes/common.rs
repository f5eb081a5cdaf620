//! What the routes of every kind share: paging through a watch cache, readying a
//! body's metadata, finding pods by label.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::ResourceExt;
use kube::core::SelectorExt;
use serde::Deserialize;
use utoipa::IntoParams;
use wharf_model::api::parse_label_selector;

use super::path::NamespacePath;
use crate::auth::Verb;
use crate::error::ApiError;
use crate::kinds::Kind;
use crate::state::AppState;
use crate::wait::clean;

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

/// Authorizes listing the namespace's objects, then answers one page of them from
/// the watch cache, ordered by name, and the `continue` token of the next page
/// when there is one.
pub async fn list_page<K: Kind>(
    path: &NamespacePath<K>,
    query: &ListQuery,
) -> Result<(Vec<K>, Option<String>), ApiError> {
    list_page_matching(path, query, |_| true).await
}

/// [`list_page`] of only the objects `keep` holds for (a search); a cluster-scoped
/// kind's page is of all its objects.
pub async fn list_page_matching<K: Kind>(
    path: &NamespacePath<K>,
    query: &ListQuery,
    keep: impl Fn(&K) -> bool,
) -> Result<(Vec<K>, Option<String>), ApiError> {
    path.authorize(Verb::List).await?;
    let namespace = path.namespace.as_str();
    let selector = parse_label_selector(query.label_selector.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::invalid("query.labelSelector", e.to_string()))?;
    let limit = match query.limit {
        Some(0) => return Err(ApiError::invalid("query.limit", "limit must be at least 1")),
        Some(n) => n.min(MAX_PAGE),
        None => MAX_PAGE,
    };
    let mut objects: Vec<K> = K::store(path.state().caches())
        .state()
        .into_iter()
        .filter(|o| !K::NAMESPACED || o.namespace().as_deref() == Some(namespace))
        .filter(|o| selector.matches(o.labels()))
        .filter(|o| keep(o))
        .filter(|o| {
            query
                .continue_token
                .as_deref()
                .is_none_or(|after| o.name_any().as_str() > after)
        })
        .map(|o| clean(K::clone(&o)))
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
        && !ns.is_empty()
        && namespace.is_empty()
    {
        return Err(ApiError::invalid(
            "metadata.namespace",
            format!("the object is cluster-scoped: it has no namespace, so leave out {ns}"),
        ));
    }
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
    // A cluster-scoped object (empty `namespace`) names none.
    meta.namespace = Some(namespace.to_owned()).filter(|ns| !ns.is_empty());
    meta.resource_version = None;
    meta.uid = None;
    meta.managed_fields = None;
    meta.creation_timestamp = None;
    Ok(())
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
