//! A RuntimeVersion's status from its nodes' Deployments, its stream and its
//! place in the Runtime's publication.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::jiff::Timestamp;
use wharf_model::conditions::{ConditionUpdate, merge_conditions};
use wharf_model::runtime_version::build::NodeChildren;
use wharf_model::runtime_version::{
    EntrypointStatus, NodeStatus, RuntimeVersion, RuntimeVersionStatus, StreamStatus, VersionPhase,
    VersionState,
};

use super::publish::Publication;
use crate::kit::Problem;

/// What one reconcile found.
pub enum Observed {
    /// The Runtime is missing, not ready or without NATS: nothing is made yet.
    Waiting(Problem),
    /// Something the user must fix.
    Failed(Problem),
    /// The children are applied.
    Made {
        /// Every node, in order.
        nodes: Vec<NodeStatus>,
        /// The entrypoint, when the version has one.
        entrypoint: Option<EntrypointStatus>,
        /// The stream.
        stream: StreamStatus,
        /// Where the version stands in the publication.
        publication: Publication,
    },
}

/// A node's status from its applied Deployment; `pull_problem` is what its
/// pods say when they cannot start.
pub fn node_status(
    node: &NodeChildren,
    deployment: &Deployment,
    pull_problem: Option<String>,
) -> NodeStatus {
    let (replicas, ready_replicas) = pods(deployment);
    NodeStatus {
        workflow: node.workflow.clone(),
        node: node.node.clone(),
        deployment: deployment.metadata.name.clone().unwrap_or_default(),
        input: node.input.clone(),
        output: node.output.clone(),
        replicas,
        ready_replicas,
        message: pull_problem,
    }
}

/// The entrypoint's status from its applied Deployment.
pub fn entrypoint_status(
    deployment: &Deployment,
    pull_problem: Option<String>,
) -> EntrypointStatus {
    let (replicas, ready_replicas) = pods(deployment);
    EntrypointStatus {
        deployment: deployment.metadata.name.clone().unwrap_or_default(),
        replicas,
        ready_replicas,
        message: pull_problem,
    }
}

/// Pods asked for and ready (ready only counts once the Deployment's status
/// speaks of its current spec).
fn pods(deployment: &Deployment) -> (i32, i32) {
    let status = deployment.status.as_ref();
    let current = status.and_then(|s| s.observed_generation) == deployment.metadata.generation;
    let replicas = deployment
        .spec
        .as_ref()
        .and_then(|s| s.replicas)
        .unwrap_or(0);
    let ready = if current {
        status.and_then(|s| s.ready_replicas).unwrap_or(0)
    } else {
        0
    };
    (replicas, ready)
}

/// The status `observed` means for `version`.
pub fn compute(version: &RuntimeVersion, observed: Observed) -> RuntimeVersionStatus {
    let previous = version.status.clone().unwrap_or_default();
    let generation = version.metadata.generation;
    let state = version.spec.state;
    let mut status = RuntimeVersionStatus {
        observed_generation: generation,
        publish_requested_at: (state == VersionState::Published).then(|| {
            previous
                .publish_requested_at
                .clone()
                .unwrap_or_else(|| Timestamp::now().to_string())
        }),
        stream: previous.stream.clone(),
        nodes: previous.nodes.clone(),
        summary: previous.summary.clone(),
        ..RuntimeVersionStatus::default()
    };
    let mut updates = Vec::new();
    let ready = |phase: VersionPhase, holds: bool, reason: &'static str, message: String| {
        (phase, ConditionUpdate::new("Ready", holds, reason, message))
    };
    let (phase, readiness) = match observed {
        Observed::Waiting(problem) => ready(
            VersionPhase::Pending,
            false,
            problem.reason,
            problem.message,
        ),
        Observed::Failed(problem) => {
            ready(VersionPhase::Failed, false, problem.reason, problem.message)
        }
        Observed::Made {
            nodes,
            entrypoint,
            stream,
            publication,
        } => {
            let running = nodes
                .iter()
                .filter(|n| n.replicas > 0 && n.ready_replicas >= n.replicas)
                .count();
            let stopped = nodes.iter().all(|n| n.replicas == 0);
            let front = entrypoint.as_ref().map(|e| {
                (
                    "entrypoint".to_owned(),
                    e.replicas,
                    e.ready_replicas,
                    &e.message,
                )
            });
            let waiting: Vec<String> = nodes
                .iter()
                .map(|n| {
                    (
                        format!("{}/{}", n.workflow, n.node),
                        n.replicas,
                        n.ready_replicas,
                        &n.message,
                    )
                })
                .chain(front)
                .filter(|(_, replicas, ready, _)| *replicas == 0 || ready < replicas)
                .map(|(what, replicas, ready, message)| match message {
                    Some(why) => format!("{what}: {why}"),
                    None => format!("{what}: {ready} of {replicas} pods ready"),
                })
                .collect();
            let stopped = stopped && entrypoint.as_ref().is_none_or(|e| e.replicas == 0);
            let stream_ready = stream.ready;
            let stream_message = stream.message.clone().unwrap_or_else(|| {
                format!(
                    "stream {} holds {}",
                    stream.name,
                    stream.subjects.join(", ")
                )
            });
            updates.push(ConditionUpdate::new(
                "StreamReady",
                stream_ready,
                if stream_ready {
                    "Made"
                } else {
                    "NatsUnreachable"
                },
                stream_message.clone(),
            ));
            let published = matches!(publication, Publication::Holds(_));
            updates.push(match &publication {
                Publication::Holds(served) => {
                    ConditionUpdate::new("Published", true, "Published", served.clone())
                }
                Publication::Superseded(by) => ConditionUpdate::new(
                    "Published",
                    false,
                    "Superseded",
                    format!("{by} was published later; this version moves to Started"),
                ),
                Publication::NotAsked => ConditionUpdate::new(
                    "Published",
                    false,
                    "NotPublished",
                    format!("state is {}", state.as_str()),
                ),
            });
            status.summary = Some(format!("{running}/{}", nodes.len()));
            status.nodes = nodes;
            status.entrypoint = entrypoint;
            status.stream = Some(stream);
            if !stream_ready {
                ready(
                    VersionPhase::Starting,
                    false,
                    "StreamMissing",
                    stream_message,
                )
            } else if !state.runs() {
                let phase_message = if stopped {
                    "stopped: every node is at zero pods; start it to run them".to_owned()
                } else {
                    format!("stopping: {}", waiting.join("; "))
                };
                ready(VersionPhase::Stopped, stopped, "Stopped", phase_message)
            } else if waiting.is_empty() {
                let (phase, what) = if published {
                    (VersionPhase::Published, "published")
                } else {
                    (VersionPhase::Started, "started")
                };
                ready(
                    phase,
                    true,
                    "Running",
                    format!("{what}: every node is ready"),
                )
            } else {
                ready(
                    VersionPhase::Starting,
                    false,
                    "NodesStarting",
                    waiting.join("; "),
                )
            }
        }
    };
    status.phase = Some(phase);
    updates.insert(0, readiness);
    status.conditions =
        merge_conditions(&previous.conditions, updates, generation, Timestamp::now());
    status
}
