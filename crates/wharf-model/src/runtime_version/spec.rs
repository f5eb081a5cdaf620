//! The desired state of a RuntimeVersion: workflows of nodes chained by NATS
//! subjects, run on a Runtime, in one of three states.

use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::status::RuntimeVersionStatus;
use k8s_openapi::api::core::v1::ResourceRequirements;

use crate::workload::{EnvVar, FileSpec};

/// Longest node Deployment name, `<version>-<workflow>-<node>`: its pods add a
/// `-<hash>-<suffix>` of 17 characters and the name is also a label value
/// (at most 63), so 46 keeps both inside their limits.
pub const MAX_NODE_NAME: usize = 46;

/// The GPU resource a node's `gpu` count asks for.
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";

/// A version of an ML model's serving: workflows whose nodes are containers that
/// read a NATS subject and write the next one, on a Runtime's NATS JetStream.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "wharf.dev",
    version = "v1alpha1",
    kind = "RuntimeVersion",
    namespaced,
    status = "RuntimeVersionStatus",
    shortname = "wrtv",
    category = "wharf",
    doc = "A version of a model's serving: workflows of container nodes chained by NATS subjects on a Runtime, Stopped, Started or Published.",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Runtime", type_ = "string", json_path = ".spec.runtime"),
    printcolumn(name = "State", type_ = "string", json_path = ".spec.state"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Nodes", type_ = "string", json_path = ".status.summary"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    // The name is the stream's name and the first token of every subject, so
    // it must be a DNS label without dots; 30 leaves room for the workflow and
    // node in the children's names.
    validation = Rule::new("self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && self.metadata.name.size() <= 30")
        .message("a RuntimeVersion name starts with a letter and has at most 30 lower-case letters, digits and '-' (it names the NATS stream and prefixes its nodes)"),
    validation = Rule::new("self.spec.workflows.all(w, w.nodes.all(n, self.metadata.name.size() + w.name.size() + n.name.size() + 2 <= 46))")
        .message("<version>-<workflow>-<node> names each node's Deployment and must be at most 46 characters: shorten the version, workflow or node name"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.workflows.all(w, self.workflows.exists_one(x, x.name == w.name))")
    .message("workflow names must be unique"))]
pub struct RuntimeVersionSpec {
    /// The Runtime in this namespace the version runs on. It must have `nats`
    /// (the nodes' messages and the version's stream); every engine it has is
    /// bound to every node (`KRT_MONGO_URI`, `KRT_NATS_SERVER`, …).
    #[schemars(
        regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 40)
    )]
    pub runtime: String,

    /// `Stopped` (the default: nodes at zero replicas, everything else kept),
    /// `Started` (nodes running) or `Published` (running, and the version the
    /// Runtime serves; publishing one moves the previously published version
    /// of the same Runtime to `Started`).
    #[serde(default)]
    pub state: VersionState,

    /// Configuration every node of the version gets as environment variables:
    /// a `value`, or a `secretRef` / `configMapRef` (read by the kubelet, never
    /// copied). A node's own `env` wins over a name given here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    #[x_kube(validation = Rule::new("self.all(v, !has(v.secret))")
        .message("config takes value, secretRef or configMapRef; generated secrets belong to Apps"))]
    pub config: Vec<EnvVar>,

    /// The version's front door: a container that takes requests (e.g. KRE's
    /// gRPC entrypoint) and hands each to its workflow's input subject. It is
    /// what the Runtime's `entrypoint.host` serves while this version is
    /// published. Wharf's own `invoke` needs none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<EntrypointSpec>,

    /// The workflows, each a chain of nodes with an entrypoint (at most 4: the
    /// API server bounds the cost of checking every node's fields).
    #[schemars(length(min = 1, max = 4))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub workflows: Vec<Workflow>,
}

/// What a version does now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum VersionState {
    /// Nodes scaled to zero; the stream, configuration and Deployments are kept.
    #[default]
    Stopped,
    /// Nodes running.
    Started,
    /// Nodes running, and the Runtime's published version.
    Published,
}

impl VersionState {
    /// The state as the spec spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stopped => "Stopped",
            Self::Started => "Started",
            Self::Published => "Published",
        }
    }

    /// Whether the nodes run.
    pub fn runs(self) -> bool {
        self != Self::Stopped
    }
}

/// A workflow: nodes chained by NATS subjects, fed through its entrypoint.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.nodes.all(n, self.nodes.exists_one(m, m.name == n.name))")
    .message("node names must be unique within a workflow"))]
#[x_kube(validation = Rule::new("!has(self.edges) || self.edges.all(e, self.nodes.exists(n, n.name == e.from) && self.nodes.exists(n, n.name == e.to))")
    .message("every edge's from and to must name a node of the workflow"))]
#[x_kube(validation = Rule::new("!has(self.edges) || self.edges.size() == 0 || self.edges.size() == self.nodes.size() - 1")
    .message("edges chain the nodes: a workflow of n nodes has n-1 edges (or none, for the nodes' order)"))]
#[x_kube(validation = Rule::new("!has(self.edges) || self.edges.all(e, e.from != e.to && self.edges.exists_one(f, f.from == e.from) && self.edges.exists_one(f, f.to == e.to))")
    .message("edges form one chain: no node feeds itself, and each node has at most one edge out and one edge in"))]
pub struct Workflow {
    /// The workflow's name, a DNS label; the second token of its subjects.
    #[schemars(
        regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 20)
    )]
    pub name: String,

    /// The name the workflow is invoked by (`…/invoke/{entrypoint}`), e.g. KRE's
    /// `ClassifyLetter`; the workflow's name when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z][A-Za-z0-9_-]{0,62}$"))]
    pub entrypoint: Option<String>,

    /// The nodes. Without `edges` they form a chain in this order.
    #[schemars(length(min = 1, max = 16))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub nodes: Vec<Node>,

    /// The chain as edges (`from` writes what `to` reads), in any order; they must
    /// link every node into one chain without a cycle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 15))]
    pub edges: Vec<Edge>,
}

impl Workflow {
    /// The name the workflow is invoked by.
    pub fn entrypoint_name(&self) -> &str {
        self.entrypoint.as_deref().unwrap_or(&self.name)
    }
}

/// One container of a workflow.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.name != 'entrypoint'")
    .message("a node cannot be called entrypoint: it is the last token of the workflow's input subject"))]
#[x_kube(validation = Rule::new("!has(self.env) || self.env.all(v, !has(v.secret))")
    .message("a node's env takes value, secretRef or configMapRef; generated secrets belong to Apps"))]
pub struct Node {
    /// The node's name, a DNS label; the last token of the subject it writes.
    #[schemars(
        regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 20)
    )]
    pub name: String,

    /// The container image.
    #[schemars(
        regex(pattern = r"^[a-zA-Z0-9][a-zA-Z0-9._/:@+-]*$"),
        length(min = 1, max = 512)
    )]
    pub image: String,

    /// Pods while the version runs (default 1). A node with several pods reads
    /// its input as the NATS queue group `KRT_NATS_QUEUE`, so each message is
    /// handled once.
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 100))]
    pub replicas: i32,

    /// GPUs per pod, asked for as `nvidia.com/gpu` (request and limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 16))]
    pub gpu: Option<i32>,

    /// CPU, memory and other resources of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// Overrides the image's entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub command: Vec<String>,

    /// Arguments to the entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub args: Vec<String>,

    /// The node's own environment, over the version's `config`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub env: Vec<EnvVar>,

    /// Configuration files, kept in the node's ConfigMap and mounted read-only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 4))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["path".into()]))]
    pub files: Vec<FileSpec>,
}

/// The entrypoint container of a version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.env) || self.env.all(v, !has(v.secret))")
    .message("the entrypoint's env takes value, secretRef or configMapRef; generated secrets belong to Apps"))]
pub struct EntrypointSpec {
    /// The container image.
    #[schemars(
        regex(pattern = r"^[a-zA-Z0-9][a-zA-Z0-9._/:@+-]*$"),
        length(min = 1, max = 512)
    )]
    pub image: String,

    /// The port it listens on (default 8080); its Service serves it.
    #[serde(default = "default_port")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,

    /// Pods while the version runs (default 1).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 100))]
    pub replicas: i32,

    /// CPU, memory and other resources of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,

    /// Its own environment, over the version's `config`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub env: Vec<EnvVar>,
}

/// `from` writes the subject `to` reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Edge {
    /// The writing node.
    #[schemars(length(min = 1, max = 20))]
    pub from: String,
    /// The reading node.
    #[schemars(length(min = 1, max = 20))]
    pub to: String,
}

fn one() -> i32 {
    1
}

fn default_port() -> i32 {
    8080
}
