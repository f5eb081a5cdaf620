//! A Task's status: computed from its Job and pods (pure); the kit writes it. The
//! result fields belong to the API server (another field manager) and are never
//! written here.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ContainerState, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use wharf_model::conditions::{ConditionUpdate, merge_conditions};
use wharf_model::task::build::CONTAINER_NAME;
use wharf_model::task::{Task, TaskPhase, TaskStatus};

use crate::kit::Problem;

crate::kit::reported!(
    Task,
    status: TaskStatus,
    phase: TaskPhase,
    warning: TaskPhase::Failed,
    initial: TaskPhase::Pending,
    written: |task: &Task| task.status.clone().map(operator_part),
    summary: |status: &TaskStatus| status.message.clone().unwrap_or_default(),
);

/// What a reconcile found.
pub enum Observed<'a> {
    /// The Task cannot run as written, or not yet (a missing reference); no Job
    /// was made or changed.
    Problem(Problem),
    /// The Job (absent until created) and the Task's pods, newest first.
    Job {
        /// The Job as the cache or API server has it.
        job: Option<&'a Job>,
        /// The Task's pods, newest first.
        pods: &'a [&'a Pod],
    },
    /// The Task was cancelled and its pods are being stopped.
    Cancelled {
        /// The Job, if one was made.
        job: Option<&'a Job>,
    },
}

/// The operator's part of the status a Task should have after a reconcile.
pub fn compute(task: &Task, observed: &Observed<'_>, now: Timestamp) -> TaskStatus {
    let previous = operator_part(task.status.clone().unwrap_or_default());
    if previous.is_finished() {
        return previous;
    }
    let mut status = TaskStatus {
        callback: previous.callback.clone(),
        job_name: previous.job_name.clone(),
        start_time: previous.start_time.clone(),
        attempts: previous.attempts,
        exit_code: previous.exit_code,
        observed_generation: task.metadata.generation,
        ..TaskStatus::default()
    };
    let (phase, reason, message) = match observed {
        Observed::Problem(Problem { reason, message }) => {
            (TaskPhase::Pending, (*reason).to_owned(), message.clone())
        }
        Observed::Cancelled { job } => {
            if let Some(job) = job {
                take_job_facts(&mut status, job);
            }
            (
                TaskPhase::Cancelled,
                "Cancelled".to_owned(),
                "the Task was cancelled; its pods were stopped".to_owned(),
            )
        }
        Observed::Job { job: None, .. } => (
            TaskPhase::Pending,
            "Creating".to_owned(),
            "the Job is being created".to_owned(),
        ),
        Observed::Job {
            job: Some(job),
            pods,
        } => {
            take_job_facts(&mut status, job);
            let last = pods.first().and_then(|pod| task_container_state(pod));
            if let Some(terminated) = last.as_ref().and_then(|s| s.terminated.as_ref()) {
                status.exit_code = Some(terminated.exit_code);
            }
            job_phase(job, pods, last.as_ref(), status.exit_code)
        }
    };
    if phase.is_finished() {
        status.completion_time = Some(match observed {
            Observed::Job { job: Some(job), .. } => finished_at(job).unwrap_or(Time(now)),
            _ => Time(now),
        });
        status.duration = status
            .start_time
            .as_ref()
            .zip(status.completion_time.as_ref())
            .map(|(start, end)| human_duration(end.0.as_second() - start.0.as_second()));
    }
    let conditions = vec![
        ConditionUpdate::new(
            "Complete",
            phase == TaskPhase::Succeeded,
            if phase == TaskPhase::Succeeded {
                "Succeeded"
            } else {
                phase.as_str()
            },
            message.clone(),
        ),
        ConditionUpdate::new(
            "Failed",
            matches!(phase, TaskPhase::Failed | TaskPhase::Cancelled),
            reason.clone(),
            message.clone(),
        ),
    ];
    status.conditions = merge_conditions(
        &previous.conditions,
        conditions,
        task.metadata.generation,
        now,
    );
    status.phase = Some(phase);
    status.reason = Some(reason);
    status.message = Some(message);
    status
}

/// The status without the fields the API server owns.
pub fn operator_part(mut status: TaskStatus) -> TaskStatus {
    status.results = None;
    status.results_refused = None;
    status.result_count = None;
    status
}

fn take_job_facts(status: &mut TaskStatus, job: &Job) {
    status.job_name = job.metadata.name.clone();
    let Some(job_status) = &job.status else {
        return;
    };
    if job_status.start_time.is_some() {
        status.start_time = job_status.start_time.clone();
    }
    let attempts = job_status.failed.unwrap_or(0)
        + job_status.succeeded.unwrap_or(0)
        + job_status.active.unwrap_or(0);
    status.attempts = Some(attempts.max(status.attempts.unwrap_or(0)));
}

fn job_condition<'a>(
    job: &'a Job,
    type_: &str,
) -> Option<&'a k8s_openapi::api::batch::v1::JobCondition> {
    job.status
        .as_ref()?
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == type_ && c.status == "True")
}

fn finished_at(job: &Job) -> Option<Time> {
    job.status
        .as_ref()
        .and_then(|s| s.completion_time.clone())
        .or_else(|| job_condition(job, "Failed").and_then(|c| c.last_transition_time.clone()))
}

/// The state of the Task's own container in `pod`.
fn task_container_state(pod: &Pod) -> Option<ContainerState> {
    pod.status
        .as_ref()?
        .container_statuses
        .iter()
        .flatten()
        .find(|c| c.name == CONTAINER_NAME)
        .and_then(|c| c.state.clone())
}

/// Container waiting reasons that mean the Task cannot start until someone acts.
const STUCK_REASONS: [&str; 6] = [
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];

fn job_phase(
    job: &Job,
    pods: &[&Pod],
    last: Option<&ContainerState>,
    exit_code: Option<i32>,
) -> (TaskPhase, String, String) {
    let attempts = job
        .status
        .as_ref()
        .map(|s| s.failed.unwrap_or(0) + s.succeeded.unwrap_or(0))
        .unwrap_or(0);
    if job_condition(job, "Complete").is_some() {
        return (
            TaskPhase::Succeeded,
            "Succeeded".into(),
            format!("the container exited with code 0 after {attempts} attempt(s)"),
        );
    }
    if let Some(failed) = job_condition(job, "Failed") {
        let job_reason = failed.reason.clone().unwrap_or_else(|| "Failed".into());
        let terminated = last.and_then(|s| s.terminated.as_ref());
        // The container's own reason (OOMKilled…) says more than the Job's
        // BackoffLimitExceeded; a passed deadline is the Job's to tell.
        let reason = match terminated.and_then(|t| t.reason.clone()) {
            Some(r) if job_reason != "DeadlineExceeded" && r != "Error" && r != "Completed" => r,
            _ => job_reason,
        };
        let mut message = failed
            .message
            .clone()
            .unwrap_or_else(|| "the Job failed".into());
        if let Some(code) = exit_code.filter(|_| terminated.is_some()) {
            message = format!("{message}; the last attempt exited with code {code}");
        }
        return (TaskPhase::Failed, reason, message);
    }
    if job.spec.as_ref().and_then(|s| s.suspend) == Some(true) {
        return (
            TaskPhase::Pending,
            "Queued".into(),
            "the Job waits to be admitted by its queue".into(),
        );
    }
    if let Some(waiting) = last.and_then(|s| s.waiting.as_ref())
        && let Some(reason) = waiting
            .reason
            .as_deref()
            .filter(|r| STUCK_REASONS.contains(r))
    {
        return (
            TaskPhase::Pending,
            reason.to_owned(),
            waiting
                .message
                .clone()
                .unwrap_or_else(|| format!("the container cannot start: {reason}")),
        );
    }
    let newest = pods.first();
    if let Some(pod) = newest
        && let Some(unschedulable) = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| {
                c.iter().find(|c| {
                    c.type_ == "PodScheduled"
                        && c.status == "False"
                        && c.reason.as_deref() == Some("Unschedulable")
                })
            })
    {
        return (
            TaskPhase::Pending,
            "Unschedulable".into(),
            unschedulable
                .message
                .clone()
                .unwrap_or_else(|| "no node can run the pod".into()),
        );
    }
    let running = newest
        .is_some_and(|pod| pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"));
    if running {
        let attempt = attempts + 1;
        (
            TaskPhase::Running,
            "Running".into(),
            format!("attempt {attempt} is running"),
        )
    } else {
        (
            TaskPhase::Pending,
            "Starting".into(),
            "waiting for the pod to start".into(),
        )
    }
}

/// `95` → `1m35s`.
fn human_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests;
