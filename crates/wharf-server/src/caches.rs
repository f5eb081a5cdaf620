//! Watch caches (reflectors) that serve every read of live objects, so a GET costs
//! no call to the Kubernetes API.

use std::fmt::Debug;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Pod};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use wharf_model::app::App;
use wharf_model::runtime::Runtime;
use wharf_model::runtime_version::RuntimeVersion;
use wharf_model::space::Space;
use wharf_model::task::Task;
use wharf_model::template::AppTemplate;
use wharf_model::volume::VOLUME_LABEL;

use crate::kinds::Kind;

/// Label of every object and pod Wharf manages.
const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=wharf";

/// The caches the API reads from.
#[derive(Clone)]
pub struct Caches {
    /// Every App.
    pub apps: Store<App>,
    /// Pods of Wharf workloads.
    pub pods: Store<Pod>,
    /// Events, for the events of an App and its children.
    pub events: Store<Event>,
    /// Every Space.
    pub spaces: Store<Space>,
    /// Every Task.
    pub tasks: Store<Task>,
    /// Every Runtime.
    pub runtimes: Store<Runtime>,
    /// Every RuntimeVersion.
    pub runtime_versions: Store<RuntimeVersion>,
    /// Every AppTemplate (cluster-scoped).
    pub templates: Store<AppTemplate>,
    /// Shared volumes: the claims labelled `wharf.dev/volume`.
    pub volumes: Store<PersistentVolumeClaim>,
}

impl Caches {
    /// Starts the watches on the current Tokio runtime and returns their caches.
    pub fn start(client: &Client) -> Self {
        Self {
            apps: reflect(Api::all(client.clone()), watcher::Config::default()),
            pods: reflect(
                Api::all(client.clone()),
                watcher::Config::default().labels(MANAGED_SELECTOR),
            ),
            events: reflect(Api::all(client.clone()), watcher::Config::default()),
            spaces: reflect(Api::all(client.clone()), watcher::Config::default()),
            tasks: reflect(Api::all(client.clone()), watcher::Config::default()),
            runtimes: reflect(Api::all(client.clone()), watcher::Config::default()),
            runtime_versions: reflect(Api::all(client.clone()), watcher::Config::default()),
            templates: reflect(Api::all(client.clone()), watcher::Config::default()),
            volumes: reflect(
                Api::all(client.clone()),
                watcher::Config::default().labels(VOLUME_LABEL),
            ),
        }
    }

    /// Waits until every cache has its first full list.
    pub async fn wait_until_ready(&self) {
        let _ = self.apps.wait_until_ready().await;
        let _ = self.pods.wait_until_ready().await;
        let _ = self.events.wait_until_ready().await;
        let _ = self.spaces.wait_until_ready().await;
        let _ = self.tasks.wait_until_ready().await;
        let _ = self.runtimes.wait_until_ready().await;
        let _ = self.runtime_versions.wait_until_ready().await;
        let _ = self.templates.wait_until_ready().await;
        let _ = self.volumes.wait_until_ready().await;
    }

    /// The object `name` in `namespace` (empty for a cluster-scoped kind), if cached.
    pub fn get<K: Kind>(&self, namespace: &str, name: &str) -> Option<K> {
        let key = ObjectRef::new(name);
        let key = if K::NAMESPACED {
            key.within(namespace)
        } else {
            key
        };
        K::store(self).get(&key).map(|o| K::clone(&o))
    }

    /// Waits (briefly) until the cache holds `written` or something newer, so a
    /// client that reads right after a write through this server sees its write.
    pub async fn settle<K: Kind>(&self, written: &K) {
        settle_written(K::store(self), written).await;
    }

    /// Waits (briefly) until the cache no longer holds the object.
    pub async fn settle_deleted<K: Kind>(&self, namespace: &str, name: &str) {
        settle(|| self.get::<K>(namespace, name).is_none()).await;
    }
}

fn reflect<K>(api: Api<K>, config: watcher::Config) -> Store<K>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(api, config)
        .default_backoff()
        .reflect(writer)
        .applied_objects();
    tokio::spawn(async move {
        stream
            .for_each(|event| async move {
                if let Err(error) = event {
                    tracing::warn!(%error, kind = K::kind(&()).as_ref(), "watch error; retrying");
                }
            })
            .await;
    });
    reader
}

/// Waits until `store` holds `written` at its resource version or newer.
async fn settle_written<K>(store: &Store<K>, written: &K)
where
    K: Resource<DynamicType = ()> + Clone,
{
    let meta = written.meta();
    let Some(name) = meta.name.as_deref() else {
        return;
    };
    let version = |object: &K| {
        object
            .meta()
            .resource_version
            .as_deref()
            .and_then(|v| v.parse::<u64>().ok())
    };
    let Some(target) = version(written) else {
        return;
    };
    // A cluster-scoped object (a Space, an AppTemplate) has no namespace.
    let key = match meta.namespace.as_deref() {
        Some(ns) => ObjectRef::new(name).within(ns),
        None => ObjectRef::new(name),
    };
    settle(|| {
        store
            .get(&key)
            .and_then(|o| version(&o))
            .is_some_and(|v| v >= target)
    })
    .await;
}

/// How long a write waits for the cache to catch up before answering anyway.
const SETTLE_LIMIT: std::time::Duration = std::time::Duration::from_secs(2);

/// Polls `caught_up` every few milliseconds until it holds or [`SETTLE_LIMIT`]
/// passes. Watch events arrive within milliseconds, so this rarely waits at all.
async fn settle(caught_up: impl Fn() -> bool) {
    let deadline = tokio::time::Instant::now() + SETTLE_LIMIT;
    while !caught_up() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
}
