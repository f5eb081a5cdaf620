//! The observed state of a RuntimeVersion, written by the operator.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What Wharf observed of a RuntimeVersion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeVersionStatus {
    /// A one-word summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<VersionPhase>,

    /// `Ready` (the state asked for is reached), `StreamReady` (the version's
    /// JetStream stream exists with its subjects) and `Published`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,

    /// Every node, in workflow and chain order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nodes: Vec<NodeStatus>,

    /// The entrypoint's pods, when the version has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<EntrypointStatus>,

    /// The version's JetStream stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<StreamStatus>,

    /// When the operator first saw this version asked to be published; the
    /// latest such request wins when two versions of a Runtime say `Published`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish_requested_at: Option<String>,

    /// `ready/total` nodes, for `kubectl get`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,

    /// The generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// One node as observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// The workflow.
    pub workflow: String,
    /// The node.
    pub node: String,
    /// Its Deployment.
    pub deployment: String,
    /// The subject it reads (`KRT_NATS_INPUT`).
    pub input: String,
    /// The subject it writes (`KRT_NATS_OUTPUT`).
    pub output: String,
    /// Pods asked for (0 while the version is stopped).
    pub replicas: i32,
    /// Pods ready.
    #[serde(default)]
    pub ready_replicas: i32,
    /// Why the node is not ready, e.g. an image that cannot be pulled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The entrypoint as observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EntrypointStatus {
    /// Its Deployment (and Service).
    pub deployment: String,
    /// Pods asked for (0 while the version is stopped).
    pub replicas: i32,
    /// Pods ready.
    #[serde(default)]
    pub ready_replicas: i32,
    /// Why it is not ready, e.g. an image that cannot be pulled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The version's stream as observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StreamStatus {
    /// The stream's name (the version's).
    pub name: String,
    /// Its subjects, one wildcard per workflow.
    pub subjects: Vec<String>,
    /// Whether it exists with these subjects.
    pub ready: bool,
    /// Why not, when it does not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A one-word summary of a RuntimeVersion.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum VersionPhase {
    /// Waiting for its Runtime (missing, not ready, or without NATS).
    Pending,
    /// Nodes or stream being made, or pods starting.
    Starting,
    /// Stopped as asked: nodes at zero, the rest kept.
    Stopped,
    /// Running.
    Started,
    /// Running, and the Runtime's published version.
    Published,
    /// Something must be fixed by the user (see the conditions).
    Failed,
}

impl VersionPhase {
    /// The phase as the status spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Starting => "Starting",
            Self::Stopped => "Stopped",
            Self::Started => "Started",
            Self::Published => "Published",
            Self::Failed => "Failed",
        }
    }
}
