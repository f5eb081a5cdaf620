//! The observed state of a Runtime, written by the operator.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What Wharf observed of a Runtime.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeStatus {
    /// A one-word summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<RuntimePhase>,

    /// `Ready` (every engine ready), `Initialized` (every bootstrap done), one
    /// `<Engine>Ready` per engine (e.g. `NatsReady`), and `Deleting` while a
    /// `DoNotDelete` policy holds a deletion back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,

    /// Per engine (`mongodb`, `nats`, `s3`, `postgres`, `redis`): its binding
    /// Secret, endpoint and members.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub engines: BTreeMap<String, EngineStatus>,

    /// The RuntimeVersion of this Runtime that is `Published`: the one its
    /// entrypoint serves and `…/runtimes/{name}/invoke/{workflow}` reaches.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_version: Option<String>,

    /// `ready/total` engines, for `kubectl get`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,

    /// The Runtime generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// One engine as observed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct EngineStatus {
    /// The binding Secret (type `servicebinding.io/<type>`) Apps and Tasks read.
    pub binding: String,

    /// Where clients connect: `host:port` of the client Service.
    pub endpoint: String,

    /// The image the members run.
    pub image: String,

    /// Members asked for.
    pub replicas: i32,

    /// Members ready.
    #[serde(default)]
    pub ready_replicas: i32,

    /// Whether the engine serves clients.
    #[serde(default)]
    pub ready: bool,

    /// What the engine's setup means for its users, e.g. that a PostgreSQL
    /// without CloudNativePG has no automatic failover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,

    /// Who runs the engine: `wharf` (Wharf's own StatefulSet) or
    /// `cloudnative-pg` (a CloudNativePG `Cluster`). Chosen when the engine is
    /// first made and kept, so installing CloudNativePG later never swaps a
    /// database with data for an empty one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// A one-word summary of a Runtime's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum RuntimePhase {
    /// Children are being made, or members are not ready yet.
    Provisioning,
    /// Every engine is ready.
    Ready,
    /// Something must be fixed by the user (see the conditions).
    Failed,
    /// Deletion is under way, or held back by `DoNotDelete`.
    Deleting,
}

impl RuntimePhase {
    /// The phase as the status spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Provisioning => "Provisioning",
            Self::Ready => "Ready",
            Self::Failed => "Failed",
            Self::Deleting => "Deleting",
        }
    }
}
