//! What the handler layer knows of each kind it serves: its resource for
//! authorization, its watch cache, how to address it in the Kubernetes API, and
//! (for kinds one can wait on) when a wait is over. A new kind implements
//! [`Kind`] here and gets paths, authorization, loading and waiting from
//! `routes::path` and `wait`.

use std::fmt::Debug;

use k8s_openapi::api::core::v1::PersistentVolumeClaim;
use kube::runtime::reflector::Store;
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wharf_model::app::App;
use wharf_model::runtime::Runtime;
use wharf_model::runtime_version::RuntimeVersion;
use wharf_model::space::Space;
use wharf_model::task::Task;
use wharf_model::template::AppTemplate;
use wharf_model::wire::headers;

use crate::auth::WharfResource;
use crate::caches::Caches;
use crate::wait::{Awaited, is_ready_at, ready_at};

/// A Wharf kind the API serves.
pub trait Kind:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug + Send + Sync + 'static
{
    /// The resource authorized for it.
    const RESOURCE: WharfResource;
    /// Whether its objects live in a namespace.
    const NAMESPACED: bool;

    /// Its watch cache.
    fn store(caches: &Caches) -> &Store<Self>;

    /// Its objects in `namespace` (all of them, for a cluster-scoped kind).
    fn api(client: Client, namespace: &str) -> Api<Self>;
}

/// Implements [`Kind`] for `$kind`: authorized as `$resource`, cached in
/// `Caches::$store`, namespaced or not, addressed through `$api`.
macro_rules! kind {
    ($kind:ty, $resource:ident, $store:ident, namespaced: $namespaced:literal, $api:path) => {
        impl Kind for $kind {
            const RESOURCE: WharfResource = WharfResource::$resource;
            const NAMESPACED: bool = $namespaced;

            fn store(caches: &Caches) -> &Store<Self> {
                &caches.$store
            }

            fn api(client: Client, namespace: &str) -> Api<Self> {
                $api(client, namespace)
            }
        }
    };
}

kind!(App, Apps, apps, namespaced: true, Api::namespaced);
kind!(Task, Tasks, tasks, namespaced: true, Api::namespaced);
kind!(Space, Spaces, spaces, namespaced: false, cluster_wide);
kind!(Runtime, Runtimes, runtimes, namespaced: true, Api::namespaced);
kind!(RuntimeVersion, RuntimeVersions, runtime_versions, namespaced: true, Api::namespaced);
// A shared volume is a labelled claim; it is authorized as `volumes.wharf.dev`.
kind!(PersistentVolumeClaim, Volumes, volumes, namespaced: true, Api::namespaced);
kind!(AppTemplate, AppTemplates, templates, namespaced: false, cluster_wide);

/// Every object of a cluster-scoped kind; it has no namespace to address.
fn cluster_wide<K: Kind>(client: Client, _namespace: &str) -> Api<K> {
    Api::all(client)
}

impl Awaited for App {
    const DONE_HEADER: &'static str = headers::READY;
    const WAIT_DOC: &'static str = "Answer when the App is Ready, or after this long (e.g. `60s`, at most `10m`)\nwith 202 and what is still pending in its status.";

    fn is_done(&self, written_generation: i64) -> bool {
        is_ready_at(self, written_generation)
    }
}

impl Awaited for Task {
    const DONE_HEADER: &'static str = headers::FINISHED;
    const WAIT_DOC: &'static str = "Answer when the Task has finished (Succeeded, Failed or Cancelled), or after\nthis long (e.g. `60s`, at most `10m`) with 202 and `wharf-finished: false`.";

    fn is_done(&self, _written_generation: i64) -> bool {
        self.status.as_ref().is_some_and(|s| s.is_finished())
    }
}

impl Awaited for RuntimeVersion {
    const DONE_HEADER: &'static str = headers::READY;
    const WAIT_DOC: &'static str = "Answer when the version is in the state it asks for (Stopped with every node at\nzero; Started or Published with every node ready), or after this long (e.g. `60s`,\nat most `10m`) with 202 and what is still pending in its status.";

    fn is_done(&self, written_generation: i64) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| ready_at(&s.conditions, s.observed_generation, written_generation))
    }
}

impl Awaited for Runtime {
    const DONE_HEADER: &'static str = headers::READY;
    const WAIT_DOC: &'static str = "Answer when the Runtime is Ready (every engine serves clients), or after\nthis long (e.g. `60s`, at most `10m`) with 202 and what is still pending in its status.";

    fn is_done(&self, written_generation: i64) -> bool {
        self.status
            .as_ref()
            .is_some_and(|s| ready_at(&s.conditions, s.observed_generation, written_generation))
    }
}

impl Awaited for AppTemplate {
    const DONE_HEADER: &'static str = headers::READY;
    const WAIT_DOC: &'static str = "A template is ready once written: the answer never waits.";

    /// A template has no status: it is usable the moment it is stored, so a
    /// write of one is never waited on.
    fn is_done(&self, _written_generation: i64) -> bool {
        true
    }
}
