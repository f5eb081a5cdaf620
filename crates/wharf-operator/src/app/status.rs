//! An App's status, computed from what the reconcile found (pure); the kit writes
//! it.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use wharf_model::app::build::{desired_replicas, selector_labels};
use wharf_model::app::{App, AppPhase, AppStatus};
use wharf_model::conditions::{ConditionUpdate, merge_conditions};

use crate::kit::Problem;

crate::kit::reported!(
    App,
    status: AppStatus,
    phase: AppPhase,
    warning: AppPhase::Failed | AppPhase::Degraded,
    initial: AppPhase::Pending | AppPhase::Progressing,
    written: |app: &App| app.status.clone(),
    summary: |status: &AppStatus| crate::kit::ready_message(&status.conditions),
    without_counts: without_counts,
);

/// `status` without its pod counts and the condition messages that quote them:
/// during a rollout those move several times a second, and the phase change that
/// ends it carries the final numbers.
fn without_counts(status: &AppStatus) -> AppStatus {
    let mut status = status.clone();
    status.replicas = None;
    status.ready_replicas = None;
    status.updated_replicas = None;
    status.available_replicas = None;
    for condition in &mut status.conditions {
        condition.message.clear();
    }
    status
}

/// What a reconcile ended with.
pub enum Outcome {
    /// The App cannot be realised as written; its children were left as they were.
    Problem(Problem),
    /// The App waits for something outside it (its Runtime) and starts by itself.
    Waiting(Problem),
    /// The children were applied; the Deployment as the API server has it.
    Applied {
        /// The applied Deployment, with its status.
        deployment: Box<Deployment>,
        /// Where the App is reachable.
        urls: Vec<String>,
    },
}

/// The rollout as the Deployment reports it.
struct Rollout {
    desired: i32,
    replicas: i32,
    ready: i32,
    updated: i32,
    available: i32,
    current: bool,
    failure: Option<String>,
}

fn rollout(deployment: &Deployment, desired: i32) -> Rollout {
    let status = deployment.status.clone().unwrap_or_default();
    let condition = |type_: &str| {
        status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == type_)
            .cloned()
    };
    let replica_failure = condition("ReplicaFailure")
        .filter(|c| c.status == "True")
        .map(|c| {
            c.message
                .unwrap_or_else(|| "pods could not be created".into())
        });
    let stuck = condition("Progressing")
        .filter(|c| c.status == "False")
        .map(|c| {
            c.message
                .unwrap_or_else(|| "the rollout made no progress".into())
        });
    Rollout {
        desired,
        replicas: status.replicas.unwrap_or(0),
        ready: status.ready_replicas.unwrap_or(0),
        updated: status.updated_replicas.unwrap_or(0),
        available: status.available_replicas.unwrap_or(0),
        current: status.observed_generation >= deployment.metadata.generation,
        failure: replica_failure.or(stuck),
    }
}

/// The status an App should have after a reconcile.
pub fn compute(
    app: &App,
    outcome: &Outcome,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> AppStatus {
    let previous = app.status.clone().unwrap_or_default();
    let generation = app.metadata.generation;
    let mut status = AppStatus {
        observed_generation: generation,
        expires_at: expires_at.map(Time),
        selector: Some(
            selector_labels(&app.name_any())
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(","),
        ),
        ..AppStatus::default()
    };
    let (phase, conditions) = match outcome {
        Outcome::Problem(Problem { reason, message }) => {
            // Keep the replica counts of what still runs.
            status.replicas = previous.replicas;
            status.ready_replicas = previous.ready_replicas;
            status.urls = previous.urls.clone();
            (
                AppPhase::Failed,
                vec![
                    ConditionUpdate::new("Ready", false, *reason, message.clone()),
                    ConditionUpdate::new(
                        "Progressing",
                        false,
                        *reason,
                        "waiting for the problem to be fixed",
                    ),
                    ConditionUpdate::new("Degraded", true, *reason, message.clone()),
                ],
            )
        }
        Outcome::Waiting(Problem { reason, message }) => {
            status.replicas = previous.replicas;
            status.ready_replicas = previous.ready_replicas;
            status.urls = previous.urls.clone();
            (
                AppPhase::Pending,
                vec![
                    ConditionUpdate::new("Ready", false, *reason, message.clone()),
                    ConditionUpdate::new("Progressing", true, *reason, message.clone()),
                    ConditionUpdate::new("Degraded", false, *reason, "nothing has failed"),
                ],
            )
        }
        Outcome::Applied { deployment, urls } => {
            let desired = desired_replicas(&app.spec)
                .or_else(|| deployment.spec.as_ref().and_then(|s| s.replicas))
                .unwrap_or(1);
            let r = rollout(deployment, desired);
            status.urls = urls.clone();
            status.desired_replicas = Some(r.desired);
            status.replicas = Some(r.replicas);
            status.ready_replicas = Some(r.ready);
            status.updated_replicas = Some(r.updated);
            status.available_replicas = Some(r.available);
            phase_from_rollout(app, &r)
        }
    };
    status.phase = Some(phase);
    status.conditions = merge_conditions(&previous.conditions, conditions, generation, now);
    status
}

fn phase_from_rollout(app: &App, r: &Rollout) -> (AppPhase, Vec<ConditionUpdate>) {
    let rolled_out =
        r.current && r.updated >= r.desired && r.replicas == r.desired && r.available >= r.desired;
    let counts = format!("{}/{} pods ready", r.ready, r.desired);
    if let Some(failure) = &r.failure {
        return (
            AppPhase::Degraded,
            vec![
                ConditionUpdate::new("Ready", false, "RolloutFailed", failure.clone()),
                ConditionUpdate::new("Progressing", false, "RolloutFailed", failure.clone()),
                ConditionUpdate::new("Degraded", true, "RolloutFailed", failure.clone()),
            ],
        );
    }
    if r.desired == 0 {
        let (reason, message) = if app.spec.paused {
            (
                "Paused",
                "the App is paused; set paused to false to start it",
            )
        } else {
            ("ScaledToZero", "the App is scaled to zero replicas")
        };
        let phase = if rolled_out {
            AppPhase::Stopped
        } else {
            AppPhase::Progressing
        };
        return (
            phase,
            vec![
                ConditionUpdate::new("Ready", false, reason, message),
                ConditionUpdate::new(
                    "Progressing",
                    !rolled_out,
                    reason,
                    format!("stopping: {} pods left", r.replicas),
                ),
                ConditionUpdate::new("Degraded", false, reason, message),
            ],
        );
    }
    if rolled_out {
        return (
            AppPhase::Running,
            vec![
                ConditionUpdate::new("Ready", true, "Available", counts.clone()),
                ConditionUpdate::new("Progressing", false, "RolloutComplete", counts.clone()),
                ConditionUpdate::new("Degraded", false, "Available", counts),
            ],
        );
    }
    // Pods of an older template, or not all ready yet.
    let previously_running = app.status.as_ref().and_then(|s| s.phase) == Some(AppPhase::Running);
    let under = r.current && r.updated >= r.desired && r.ready < r.desired && previously_running;
    let (phase, degraded) = if under {
        (AppPhase::Degraded, true)
    } else {
        (AppPhase::Progressing, false)
    };
    let message = format!(
        "{counts}, {} of {} on the current version",
        r.updated, r.desired
    );
    (
        phase,
        vec![
            ConditionUpdate::new("Ready", false, "RollingOut", message.clone()),
            ConditionUpdate::new("Progressing", true, "RollingOut", message.clone()),
            ConditionUpdate::new(
                "Degraded",
                degraded,
                if degraded {
                    "PodsNotReady"
                } else {
                    "RollingOut"
                },
                message,
            ),
        ],
    )
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::DeploymentStatus;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, ObjectMeta};

    use super::*;

    fn app(replicas: i32, paused: bool) -> App {
        let mut app = App::new("web", Default::default());
        app.metadata.generation = Some(3);
        app.spec.replicas = Some(replicas);
        app.spec.paused = paused;
        app
    }

    fn deployment(replicas: i32, ready: i32, updated: i32) -> Box<Deployment> {
        Box::new(Deployment {
            metadata: ObjectMeta {
                generation: Some(2),
                ..Default::default()
            },
            status: Some(DeploymentStatus {
                observed_generation: Some(2),
                replicas: Some(replicas),
                ready_replicas: Some(ready),
                available_replicas: Some(ready),
                updated_replicas: Some(updated),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    fn now() -> Timestamp {
        Timestamp::from_second(100).unwrap()
    }

    /// The condition of `type_` in `status`; the test fails without one.
    fn condition_of<'a>(status: &'a AppStatus, type_: &str) -> &'a Condition {
        let found = status.conditions.iter().find(|c| c.type_ == type_);
        found.unwrap_or_else(|| panic!("no {type_} condition in {status:?}"))
    }

    fn applied(d: Box<Deployment>) -> Outcome {
        Outcome::Applied {
            deployment: d,
            urls: vec![],
        }
    }

    #[test]
    fn all_pods_ready_on_the_current_template_is_running_and_ready() {
        let status = compute(&app(3, false), &applied(deployment(3, 3, 3)), None, now());
        assert_eq!(status.phase, Some(AppPhase::Running));
        assert_eq!(condition_of(&status, "Ready").status, "True");
        assert_eq!(status.observed_generation, Some(3));
        assert_eq!(status.selector.as_deref(), Some("wharf.dev/app=web"));
    }

    #[test]
    fn a_rollout_in_flight_is_progressing() {
        let status = compute(&app(3, false), &applied(deployment(4, 3, 1)), None, now());
        assert_eq!(status.phase, Some(AppPhase::Progressing));
        assert_eq!(condition_of(&status, "Progressing").status, "True");
    }

    #[test]
    fn paused_and_drained_is_stopped() {
        let status = compute(&app(3, true), &applied(deployment(0, 0, 0)), None, now());
        assert_eq!(status.phase, Some(AppPhase::Stopped));
        assert_eq!(status.desired_replicas, Some(0));
        let ready = condition_of(&status, "Ready");
        assert_eq!(ready.reason, "Paused");
    }

    #[test]
    fn a_replica_failure_such_as_a_quota_is_degraded_with_its_message() {
        let mut d = deployment(0, 0, 0);
        d.status.as_mut().unwrap().conditions =
            Some(vec![k8s_openapi::api::apps::v1::DeploymentCondition {
                type_: "ReplicaFailure".into(),
                status: "True".into(),
                message: Some("pods \"web-1\" is forbidden: exceeded quota: small".into()),
                ..Default::default()
            }]);
        let status = compute(&app(1, false), &applied(d), None, now());
        assert_eq!(status.phase, Some(AppPhase::Degraded));
        let degraded = condition_of(&status, "Degraded");
        assert!(degraded.message.contains("exceeded quota"));
    }

    #[test]
    fn counts_alone_may_wait_but_a_phase_change_may_not() {
        use crate::kit::Reported;
        let app = app(3, false);
        let status = |ready| compute(&app, &applied(deployment(3, ready, 3)), None, now());
        let (one, two, all) = (status(1), status(2), status(3));
        assert_ne!(one, two);
        assert_eq!(App::without_counts(&one), App::without_counts(&two));
        assert_eq!(all.phase, Some(AppPhase::Running));
        assert_ne!(App::without_counts(&two), App::without_counts(&all));
        // A new generation is never just counts.
        let mut newer = two.clone();
        newer.observed_generation = Some(4);
        assert_ne!(App::without_counts(&two), App::without_counts(&newer));
    }

    #[test]
    fn a_problem_is_failed_and_says_why() {
        let outcome =
            Outcome::Problem(Problem::new("MissingReference", "Secret db does not exist"));
        let status = compute(&app(1, false), &outcome, None, now());
        assert_eq!(status.phase, Some(AppPhase::Failed));
        let ready = condition_of(&status, "Ready");
        assert_eq!(
            (ready.status.as_str(), ready.reason.as_str()),
            ("False", "MissingReference")
        );
    }
}
