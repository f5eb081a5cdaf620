//! Settings of the operator.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use k8s_openapi::NamespaceResourceScope;
use kube::{Api, Client, Resource};
use wharf_model::app::build::Defaults;
use wharf_model::runtime::build::access::ServiceAccountRef;
use wharf_model::task::build::TaskDefaults;

use crate::election::Election;
use crate::task::callback::CallbackPolicy;

/// How the operator runs.
#[derive(Clone, Debug)]
pub struct OperatorConfig {
    /// How many objects of one kind are reconciled at once.
    pub concurrency: u16,
    /// Where `/metrics`, `/healthz` and `/readyz` are served.
    pub metrics_addr: SocketAddr,
    /// Defaults that shape every App's children.
    pub app_defaults: Defaults,
    /// Settings that shape every Task's children (the collector's image and the
    /// API URL it uploads to).
    pub task_defaults: TaskDefaults,
    /// Which addresses Task callbacks may reach.
    pub callback_policy: CallbackPolicy,
    /// The Wharf API's public base URL, so callbacks carry absolute download URLs;
    /// paths only when unset.
    pub api_public_url: Option<String>,
    /// Watch only this namespace (one shard of a namespace-sharded operator, or a
    /// test's own namespace); all namespaces when unset.
    pub namespace: Option<String>,
    /// Reconcile only the Spaces with these labels (a shard); all Spaces when unset.
    pub space_selector: Option<String>,
    /// Run the controllers only while holding this Lease; always when unset (one
    /// process, e.g. `wharfd all`).
    pub election: Option<Election>,
    /// Hand new Runtimes' PostgreSQL to CloudNativePG when the cluster serves
    /// its `Cluster` kind (Wharf's own StatefulSet otherwise). On by default.
    pub cloudnative_pg: bool,
    /// The API server's ServiceAccount: each Runtime gets a Role that lets it
    /// `get` the Runtime's binding Secrets, and no more (the credentials read).
    /// None when the API runs as the operator's own identity (`wharfd all`).
    pub credentials_reader: Option<ServiceAccountRef>,
    /// `host:port` a Runtime's binding names → `host:port` to dial instead, for
    /// an operator outside the cluster (a test's, beside engines on
    /// 127.0.0.1). Empty in a cluster.
    pub host_aliases: BTreeMap<String, String>,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        Self {
            concurrency: 16,
            metrics_addr: SocketAddr::from(([127, 0, 0, 1], 9090)),
            app_defaults: Defaults::default(),
            task_defaults: TaskDefaults::default(),
            callback_policy: CallbackPolicy::default(),
            api_public_url: None,
            namespace: None,
            space_selector: None,
            election: None,
            cloudnative_pg: true,
            credentials_reader: None,
            host_aliases: BTreeMap::new(),
        }
    }
}

impl OperatorConfig {
    /// An API for `K` in the namespaces this operator watches.
    pub fn api<K>(&self, client: &Client) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match &self.namespace {
            Some(ns) => Api::namespaced(client.clone(), ns),
            None => Api::all(client.clone()),
        }
    }
}
