//! Status from Job and pod fixtures.

use k8s_openapi::api::batch::v1::{Job, JobCondition, JobSpec, JobStatus};
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, Pod,
    PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

use wharf_model::task::{Task, TaskPhase, TaskStatus};

use super::{Observed, compute};

fn at(second: i64) -> Timestamp {
    Timestamp::from_second(1_700_000_000 + second).unwrap()
}

fn task() -> Task {
    let mut task = Task::new("render", Default::default());
    task.metadata.generation = Some(1);
    task
}

fn job(status: JobStatus) -> Job {
    Job {
        metadata: kube::api::ObjectMeta {
            name: Some("render".into()),
            ..Default::default()
        },
        spec: Some(JobSpec::default()),
        status: Some(JobStatus {
            start_time: Some(Time(at(0))),
            ..status
        }),
    }
}

fn condition(type_: &str, reason: &str) -> JobCondition {
    JobCondition {
        type_: type_.into(),
        status: "True".into(),
        reason: Some(reason.into()),
        message: Some(format!("{reason} happened")),
        last_transition_time: Some(Time(at(95))),
        ..Default::default()
    }
}

/// A Job that ended with condition `type_` for `reason` after `failed` failed pods.
fn ended_job(type_: &str, reason: &str, failed: i32) -> Job {
    job(JobStatus {
        failed: Some(failed),
        conditions: Some(vec![condition(type_, reason)]),
        ..Default::default()
    })
}

/// The condition of `type_` in `status`; the test fails without one.
fn condition_of<'a>(status: &'a TaskStatus, type_: &str) -> &'a Condition {
    let found = status.conditions.iter().find(|c| c.type_ == type_);
    found.unwrap_or_else(|| panic!("no {type_} condition in {status:?}"))
}

fn pod(phase: &str, state: ContainerState) -> Pod {
    Pod {
        status: Some(PodStatus {
            phase: Some(phase.into()),
            container_statuses: Some(vec![ContainerStatus {
                name: "task".into(),
                state: Some(state),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn terminated(code: i32, reason: &str) -> ContainerState {
    ContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: code,
            reason: Some(reason.into()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn status_of(task: &Task, job: &Job, pods: &[&Pod]) -> TaskStatus {
    compute(
        task,
        &Observed::Job {
            job: Some(job),
            pods,
        },
        at(100),
    )
}

#[test]
fn a_complete_job_is_a_succeeded_task_with_times_and_attempts() {
    let job = job(JobStatus {
        succeeded: Some(1),
        completion_time: Some(Time(at(95))),
        conditions: Some(vec![condition("Complete", "CompletionsReached")]),
        ..Default::default()
    });
    let pod = pod("Succeeded", terminated(0, "Completed"));
    let status = status_of(&task(), &job, &[&pod]);
    assert_eq!(status.phase, Some(TaskPhase::Succeeded));
    assert_eq!(status.attempts, Some(1));
    assert_eq!(status.exit_code, Some(0));
    assert_eq!(status.duration.as_deref(), Some("1m35s"));
    assert_eq!(status.completion_time, Some(Time(at(95))));
    assert_eq!(condition_of(&status, "Complete").status, "True");
}

#[test]
fn a_failed_job_reports_the_containers_reason_and_exit_code() {
    let job = ended_job("Failed", "BackoffLimitExceeded", 3);
    let oom = pod("Failed", terminated(137, "OOMKilled"));
    let status = status_of(&task(), &job, &[&oom]);
    assert_eq!(status.phase, Some(TaskPhase::Failed));
    assert_eq!(status.reason.as_deref(), Some("OOMKilled"));
    assert_eq!(status.exit_code, Some(137));
    assert_eq!(status.attempts, Some(3));

    let plain = pod("Failed", terminated(3, "Error"));
    let status = status_of(&task(), &job, &[&plain]);
    assert_eq!(status.reason.as_deref(), Some("BackoffLimitExceeded"));
    assert!(status.message.unwrap().ends_with("exited with code 3"));
}

#[test]
fn a_passed_deadline_is_deadline_exceeded_whatever_the_container_says() {
    let job = ended_job("Failed", "DeadlineExceeded", 1);
    let killed = pod("Failed", terminated(137, "OOMKilled"));
    let status = status_of(&task(), &job, &[&killed]);
    assert_eq!(status.reason.as_deref(), Some("DeadlineExceeded"));
}

#[test]
fn an_image_that_cannot_be_pulled_keeps_the_task_pending_with_the_reason() {
    let job = job(JobStatus {
        active: Some(1),
        ..Default::default()
    });
    let stuck = pod(
        "Pending",
        ContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some("ImagePullBackOff".into()),
                message: Some("Back-off pulling image \"nope:1\"".into()),
            }),
            ..Default::default()
        },
    );
    let status = status_of(&task(), &job, &[&stuck]);
    assert_eq!(status.phase, Some(TaskPhase::Pending));
    assert_eq!(status.reason.as_deref(), Some("ImagePullBackOff"));
    assert!(status.message.unwrap().contains("nope:1"));
}

#[test]
fn a_running_pod_is_a_running_task() {
    let job = job(JobStatus {
        active: Some(1),
        failed: Some(1),
        ..Default::default()
    });
    let running = pod("Running", ContainerState::default());
    let status = status_of(&task(), &job, &[&running]);
    assert_eq!(status.phase, Some(TaskPhase::Running));
    assert_eq!(status.message.as_deref(), Some("attempt 2 is running"));
    assert_eq!(status.attempts, Some(2));
}

#[test]
fn a_finished_task_keeps_its_status_and_the_servers_fields_are_left_out() {
    let mut finished = task();
    finished.status = Some(TaskStatus {
        phase: Some(TaskPhase::Succeeded),
        results: Some(vec![]),
        result_count: Some(0),
        ..Default::default()
    });
    let job = ended_job("Failed", "DeadlineExceeded", 1);
    let status = status_of(&finished, &job, &[]);
    assert_eq!(status.phase, Some(TaskPhase::Succeeded));
    assert_eq!((status.results, status.result_count), (None, None));
}

#[test]
fn a_cancelled_task_ends_now() {
    let status = compute(&task(), &Observed::Cancelled { job: None }, at(100));
    assert_eq!(status.phase, Some(TaskPhase::Cancelled));
    assert_eq!(status.completion_time, Some(Time(at(100))));
    let failed = condition_of(&status, "Failed");
    assert_eq!(
        (failed.status.as_str(), failed.reason.as_str()),
        ("True", "Cancelled")
    );
}
