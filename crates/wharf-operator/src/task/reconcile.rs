//! One reconcile of one Task: check references, build, make the Job, report; and,
//! once it ended, the work of [`super::finished`].

use std::sync::Arc;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use serde_json::json;
use tracing::instrument;
use wharf_model::space::PodSecurityLevel;
use wharf_model::task::Task;
use wharf_model::task::build::{TaskDefaults, build, env_object_name};

use super::children::make;
use super::status::{Observed, compute};
use super::{RESYNC, RETRY_PROBLEM, TaskStores, finished};
use crate::Error;
use crate::error::ObjectName;
use crate::kit::{self, ApplyError, Children, Problem};
use crate::workload::runtime::{self, RuntimeState};
use crate::workload::{generated, references};

/// The Task controller's context: the shared one and its caches.
pub type TaskContext = kit::WithStores<TaskStores>;

/// Reconciles one Task.
#[instrument(skip_all, fields(task = %task.name_any(), namespace = task.namespace().unwrap_or_default()))]
pub async fn reconcile(task: Arc<Task>, ctx: Arc<TaskContext>) -> Result<Action, Error> {
    if task.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    if task.status.as_ref().is_some_and(|s| s.is_finished()) {
        return finished::handle(&task, &ctx).await;
    }
    let children = Children::of(&ctx.shared.client, task.as_ref());
    let observed_job;
    let pods;
    let pod_refs: Vec<&k8s_openapi::api::core::v1::Pod>;
    let observed = match run(&task, &ctx, &children).await? {
        Run::Problem(problem) => Observed::Problem(problem),
        Run::Cancelled(job) => {
            observed_job = job;
            Observed::Cancelled {
                job: observed_job.as_ref(),
            }
        }
        Run::Job(job) => {
            observed_job = Some(job);
            pods = ctx
                .stores
                .pods_of(&task.namespace().unwrap_or_default(), &task.name_any());
            pod_refs = pods.iter().map(AsRef::as_ref).collect();
            Observed::Job {
                job: observed_job.as_ref(),
                pods: &pod_refs,
            }
        }
    };
    let status = compute(&task, &observed, Timestamp::now());
    kit::report(&ctx.shared, task.as_ref(), &status).await?;
    Ok(match observed {
        Observed::Problem(_) => Action::requeue(RETRY_PROBLEM),
        // The status write brings the Task back as finished for the rest.
        _ if status.is_finished() => Action::await_change(),
        _ => Action::requeue(RESYNC),
    })
}

/// Where a Task stands after this reconcile's work.
enum Run {
    /// It cannot run as written, or not yet.
    Problem(Problem),
    /// It was cancelled; its Job (if any) is suspended.
    Cancelled(Option<Job>),
    /// Its Job exists.
    Job(Job),
}

async fn run(task: &Task, ctx: &TaskContext, children: &Children<'_>) -> Result<Run, Error> {
    let client = &ctx.shared.client;
    let ns = task.namespace().unwrap_or_default();
    let name = task.name_any();
    let cached_job = ctx.stores.job(&ns, &name).map(|j| Job::clone(&j));

    if task.spec.cancelled {
        if let Some(job) = &cached_job {
            stop(client, children.owner(), job).await?;
        }
        return Ok(Run::Cancelled(cached_job));
    }
    if let Some(job) = cached_job {
        return Ok(Run::Job(job));
    }

    let missing = references::missing(
        client,
        children.owner(),
        &task.spec.env,
        &task.spec.env_from,
    )
    .await?;
    if !missing.is_empty() {
        return Ok(Run::Problem(Problem::new(
            "MissingReference",
            format!(
                "{} not found in namespace {ns}; create it and the Task starts",
                missing.join(", ")
            ),
        )));
    }
    let generated = generated::values(
        &ctx.stores.secrets,
        client,
        children.owner(),
        &env_object_name(&name),
        &task.spec.env,
    )
    .await?;
    let runtime_engines = match &task.spec.runtime {
        None => Vec::new(),
        Some(reference) => {
            match runtime::state(client, children.owner(), &ns, reference, "the Task").await? {
                RuntimeState::Ready(engines) => engines,
                RuntimeState::Waiting(problem) => return Ok(Run::Problem(problem)),
            }
        }
    };
    let defaults = TaskDefaults {
        restricted_pods: crate::app::space_in(&ns, &ctx.shared.spaces)
            .is_some_and(|s| s.spec.pod_security == PodSecurityLevel::Restricted),
        runtime_engines,
        ..ctx.shared.config.task_defaults.clone()
    };
    let built = match build(task, &generated, &defaults) {
        Ok(built) => built,
        Err(error) => return Ok(Run::Problem(Problem::new("InvalidSpec", error.to_string()))),
    };
    match make(children, &ctx.stores, built).await {
        Ok(job) => Ok(Run::Job(job)),
        Err(ApplyError::Refused(problem)) => Ok(Run::Problem(Problem {
            reason: "CreateRefused",
            ..problem
        })),
        Err(ApplyError::Failed(error)) => Err(error),
    }
}

/// Stops a cancelled Task's pods by suspending its Job: the Job controller deletes
/// the running pods and keeps the Job (and its history) until the Task goes.
async fn stop(client: &kube::Client, owner: &ObjectName, job: &Job) -> Result<(), Error> {
    if job.spec.as_ref().and_then(|s| s.suspend) == Some(true) {
        return Ok(());
    }
    let ns = job.namespace().unwrap_or_default();
    let api = Api::<Job>::namespaced(client.clone(), &ns);
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
        Err(source) => Err(Error::UpdateChild {
            owner: owner.clone(),
            child: ObjectName::of(job),
            source,
        }),
    }
}
