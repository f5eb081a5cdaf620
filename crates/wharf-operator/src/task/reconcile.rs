//! One reconcile of one Task: check references, build, make the Job, report; and,
//! once it ended, the work of [`super::finished`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, Resource, ResourceExt};
use serde_json::json;
use tracing::instrument;
use wharf_model::space::PodSecurityLevel;
use wharf_model::task::build::{TaskDefaults, build, env_object_name};
use wharf_model::task::{Task, TaskPhase};

use super::children::{MakeError, make};
use super::status::{Observed, compute, write};
use super::{RESYNC, RETRY_PROBLEM, TaskStores, finished};
use crate::workload::{generated, references};
use crate::{Context, Error};

const KIND: &str = "Task";

/// The Task controller's context.
pub struct TaskContext {
    /// What every controller shares.
    pub shared: Arc<Context>,
    /// Caches of Jobs, pods and Secrets.
    pub stores: TaskStores,
}

/// Reconciles one Task.
#[instrument(skip_all, fields(task = %guard.name_any(), namespace = guard.namespace().unwrap_or_default()))]
pub async fn reconcile(
    guard: Arc<DeserializeGuard<Task>>,
    ctx: Arc<TaskContext>,
) -> Result<Action, Error> {
    let started = Instant::now();
    let result = match &guard.0 {
        Ok(task) if task.metadata.deletion_timestamp.is_some() => Ok(Action::await_change()),
        Ok(task) if task.status.as_ref().is_some_and(|s| s.is_finished()) => {
            finished::handle(task, &ctx).await
        }
        Ok(task) => reconcile_task(task, &ctx).await,
        Err(invalid) => {
            // Retrying cannot help an object that does not deserialize.
            tracing::warn!(error = %invalid.error, "Task cannot be read; skipped until it changes");
            publish_to(
                &ctx,
                &guard.object_ref(&()),
                EventType::Warning,
                "InvalidObject",
                format!("the Task cannot be read: {}", invalid.error),
            )
            .await;
            Ok(Action::await_change())
        }
    };
    ctx.shared.metrics.reconciled(KIND, started.elapsed());
    result
}

/// Records a failed reconcile and retries it later.
pub fn error_policy(
    _guard: Arc<DeserializeGuard<Task>>,
    error: &Error,
    ctx: Arc<TaskContext>,
) -> Action {
    tracing::warn!(%error, "Task reconcile failed; retrying");
    ctx.shared.metrics.failed(KIND, error.metric_label());
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile_task(task: &Task, ctx: &TaskContext) -> Result<Action, Error> {
    let client = &ctx.shared.client;
    let ns = task.namespace().unwrap_or_default();
    let name = task.name_any();
    let cached_job = ctx.stores.job(&ns, &name).map(|j| Job::clone(&j));

    if task.spec.cancelled {
        if let Some(job) = &cached_job {
            stop(client, &ns, job).await?;
        }
        let observed = Observed::Cancelled {
            job: cached_job.as_ref(),
        };
        return report(ctx, task, &observed).await;
    }

    let missing = references::missing(client, &ns, &task.spec.env, &task.spec.env_from).await?;
    if !missing.is_empty() {
        let observed = Observed::Problem {
            reason: "MissingReference",
            message: format!(
                "{} not found in namespace {ns}; create it and the Task starts",
                missing.join(", ")
            ),
        };
        return report(ctx, task, &observed).await;
    }
    let generated = generated::values(
        &ctx.stores.secrets,
        client,
        &ns,
        &env_object_name(&name),
        &task.spec.env,
    )
    .await?;
    let defaults = TaskDefaults {
        restricted_pods: crate::app::space_in(&ns, &ctx.shared.spaces)
            .is_some_and(|s| s.spec.pod_security == PodSecurityLevel::Restricted),
        ..ctx.shared.config.task_defaults.clone()
    };
    let children = match build(task, &generated, &defaults) {
        Ok(children) => children,
        Err(error) => {
            let observed = Observed::Problem {
                reason: "InvalidSpec",
                message: error.to_string(),
            };
            return report(ctx, task, &observed).await;
        }
    };
    let job = match make(client, &ns, children, cached_job).await {
        Ok(job) => job,
        Err(MakeError::Refused(message)) => {
            let observed = Observed::Problem {
                reason: "CreateRefused",
                message,
            };
            return report(ctx, task, &observed).await;
        }
        Err(MakeError::Failed(error)) => return Err(error),
    };
    let pods = ctx.stores.pods_of(&ns, &name);
    let pods: Vec<&k8s_openapi::api::core::v1::Pod> = pods.iter().map(AsRef::as_ref).collect();
    let observed = Observed::Job {
        job: Some(&job),
        pods: &pods,
    };
    report(ctx, task, &observed).await
}

/// Stops a cancelled Task's pods by suspending its Job: the Job controller deletes
/// the running pods and keeps the Job (and its history) until the Task goes.
async fn stop(client: &kube::Client, ns: &str, job: &Job) -> Result<(), Error> {
    if job.spec.as_ref().and_then(|s| s.suspend) == Some(true) {
        return Ok(());
    }
    let api = Api::<Job>::namespaced(client.clone(), ns);
    match api
        .patch(
            &job.name_any(),
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"suspend": true}})),
        )
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Writes the status, publishes an event on a phase change and decides when to look
/// again.
async fn report(ctx: &TaskContext, task: &Task, observed: &Observed<'_>) -> Result<Action, Error> {
    let now = Timestamp::now();
    let status = compute(task, observed, now);
    write(&ctx.shared.client, task, &status).await?;

    let previous = task.status.as_ref().and_then(|s| s.phase);
    if status.phase != previous
        && let Some(phase) = status.phase
    {
        let type_ = match phase {
            TaskPhase::Failed => EventType::Warning,
            _ => EventType::Normal,
        };
        let message = status.message.clone().unwrap_or_default();
        publish_to(ctx, &task.object_ref(&()), type_, phase.as_str(), message).await;
    }
    Ok(match observed {
        Observed::Problem { .. } => Action::requeue(RETRY_PROBLEM),
        // The status write brings the Task back as finished for the rest.
        _ if status.is_finished() => Action::await_change(),
        _ => Action::requeue(RESYNC),
    })
}

/// Publishes an Event about the object; failures are only logged.
pub(super) async fn publish_to(
    ctx: &TaskContext,
    reference: &k8s_openapi::api::core::v1::ObjectReference,
    type_: EventType,
    reason: &str,
    note: String,
) {
    crate::events::publish(&ctx.shared.recorder, reference, type_, reason, &note).await;
}
