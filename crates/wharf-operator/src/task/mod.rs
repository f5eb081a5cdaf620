//! The Task controller: turns each Task into a Job (with its env, files and result
//! collector), reports the Job's progress, revokes the collector's identity when
//! the Task ends, delivers the signed callback and deletes the Task after its TTL.

pub mod callback;
mod children;
mod finished;
mod reconcile;
mod status;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, Secret};
use kube::ResourceExt;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use wharf_model::task::build::TASK_LABEL;

use crate::app::MANAGED_SELECTOR;
use crate::{Context, kit};

/// How long to wait before retrying a Task whose problem may fix itself (a missing
/// Secret that someone creates).
const RETRY_PROBLEM: Duration = Duration::from_secs(10);

/// How often a running Task is checked even without any change.
const RESYNC: Duration = Duration::from_secs(300);

/// Caches the Task controller reads instead of calling the API server.
#[derive(Clone)]
pub struct TaskStores {
    /// Jobs Wharf made.
    pub jobs: Store<Job>,
    /// Pods of Wharf's Tasks.
    pub pods: Store<Pod>,
    /// Secrets Wharf made (generated values).
    pub secrets: Store<Secret>,
}

impl TaskStores {
    /// The Task's pods, newest first.
    pub fn pods_of(&self, namespace: &str, task: &str) -> Vec<Arc<Pod>> {
        let mut pods: Vec<Arc<Pod>> = self
            .pods
            .state()
            .into_iter()
            .filter(|pod| {
                pod.namespace().as_deref() == Some(namespace)
                    && pod.labels().get(TASK_LABEL).map(String::as_str) == Some(task)
            })
            .collect();
        pods.sort_by(|a, b| {
            b.metadata
                .creation_timestamp
                .cmp(&a.metadata.creation_timestamp)
                .then_with(|| b.name_any().cmp(&a.name_any()))
        });
        pods
    }

    /// The Task's Job, if cached.
    pub fn job(&self, namespace: &str, task: &str) -> Option<Arc<Job>> {
        self.jobs.get(&ObjectRef::new(task).within(namespace))
    }
}

/// Runs the Task controller until `shutdown` resolves.
pub(crate) async fn run(
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let managed = watcher::Config::default().labels(MANAGED_SELECTOR);

    let (jobs, jobs_writer) = reflector::store();
    let job_stream = watcher(ctx.config.api::<Job>(&client), managed.clone())
        .default_backoff()
        .reflect(jobs_writer)
        .touched_objects();
    let (pods, pods_writer) = reflector::store();
    let pod_stream = watcher(
        ctx.config.api::<Pod>(&client),
        watcher::Config::default().labels(TASK_LABEL),
    )
    .default_backoff()
    .reflect(pods_writer)
    .touched_objects();
    let (secrets, secrets_writer) = reflector::store();
    let secret_stream = watcher(ctx.config.api::<Secret>(&client), managed)
        .default_backoff()
        .reflect(secrets_writer)
        .touched_objects();
    let stores = TaskStores {
        jobs,
        pods,
        secrets,
    };
    let controller = kit::controller(ctx.config.api(&client), watcher::Config::default(), &ctx)
        .owns_stream(job_stream)
        .watches_stream(pod_stream, |pod: Pod| {
            let task = pod.labels().get(TASK_LABEL)?.clone();
            let ns = pod.namespace()?;
            Some(ObjectRef::new(&task).within(&ns))
        })
        // Secrets only fill the cache; a Secret change needs no reconcile.
        .watches_stream(secret_stream, |_: Secret| None);
    let task_ctx = Arc::new(kit::WithStores {
        shared: ctx,
        stores,
    });
    kit::run(controller, task_ctx, reconcile::reconcile, shutdown).await;
}
