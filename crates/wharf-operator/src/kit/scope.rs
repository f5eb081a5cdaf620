//! An [`Api`] for an object whatever its scope, so the kit's functions serve
//! namespaced kinds (App, Task, their children) and cluster-scoped ones (Space,
//! Namespace) alike.

use k8s_openapi::{ClusterResourceScope, NamespaceResourceScope};
use kube::{Api, Client, Resource};

/// The scope of a kind: how to address one of its objects.
pub trait Scope {
    /// The API for objects of `K` in `namespace` (ignored for cluster-scoped kinds).
    fn api<K>(client: Client, namespace: Option<&str>) -> Api<K>
    where
        K: Resource<Scope = Self, DynamicType = ()>;
}

impl Scope for NamespaceResourceScope {
    fn api<K>(client: Client, namespace: Option<&str>) -> Api<K>
    where
        K: Resource<Scope = Self, DynamicType = ()>,
    {
        Api::namespaced(client, namespace.unwrap_or_default())
    }
}

impl Scope for ClusterResourceScope {
    fn api<K>(client: Client, _namespace: Option<&str>) -> Api<K>
    where
        K: Resource<Scope = Self, DynamicType = ()>,
    {
        Api::all(client)
    }
}

/// The API that addresses `object`.
pub fn api_for<K>(client: &Client, object: &K) -> Api<K>
where
    K: Resource<DynamicType = ()>,
    K::Scope: Scope,
{
    <K::Scope as Scope>::api(client.clone(), object.meta().namespace.as_deref())
}
