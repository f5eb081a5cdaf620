//! The desired state of a Runtime: one optional section per engine.

use k8s_openapi::api::core::v1::ResourceRequirements;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::status::RuntimeStatus;

/// Infrastructure for one namespace: MongoDB, NATS JetStream, S3, PostgreSQL and
/// Valkey, each optional, with credentials generated once and handed to Apps and
/// Tasks through binding Secrets.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "wharf.dev",
    version = "v1alpha1",
    kind = "Runtime",
    namespaced,
    status = "RuntimeStatus",
    shortname = "wrt",
    category = "wharf",
    doc = "Infrastructure for one namespace (MongoDB, NATS JetStream, S3, PostgreSQL, Valkey), with generated credentials bound to Apps and Tasks.",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Engines", type_ = "string", json_path = ".status.summary"),
    printcolumn(name = "Published", type_ = "string", json_path = ".status.publishedVersion"),
    printcolumn(name = "Deletion", type_ = "string", json_path = ".spec.deletionPolicy"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    // Children are named `<runtime>-<engine>` (at most `-postgres`, 9 more
    // characters), and a StatefulSet's pods add `-<ordinal>` and a revision hash
    // label of 11 more: 40 keeps every name a DNS label.
    validation = Rule::new("self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && self.metadata.name.size() <= 40")
        .message("a Runtime name starts with a letter and has at most 40 lower-case letters, digits and '-' (its children add their engine's name)"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.mongodb) || has(self.nats) || has(self.s3) || has(self.postgres) || has(self.redis)")
    .message("a Runtime needs at least one engine: mongodb, nats, s3, postgres or redis"))]
// A replica set, a NATS cluster and Sentinel each need a majority: 2 members
// could never lose one, so only 1 or 3 are offered.
#[x_kube(validation = Rule::new("!has(self.mongodb) || self.mongodb.replicas == 1 || self.mongodb.replicas == 3")
    .message("mongodb.replicas must be 1 or 3 (a replica set needs a majority)"))]
#[x_kube(validation = Rule::new("!has(self.nats) || self.nats.replicas == 1 || self.nats.replicas == 3")
    .message("nats.replicas must be 1 or 3 (JetStream needs a majority of its peers)"))]
#[x_kube(validation = Rule::new("!has(self.redis) || self.redis.replicas == 1 || self.redis.replicas == 3")
    .message("redis.replicas must be 1 or 3 (the Sentinels need a majority)"))]
// Shrinking is safe for PostgreSQL (replicas only stream from member 0, which
// every scale keeps) and MongoDB (the operator reconfigures the replica set
// before the members stop); the other two would lose what they hold.
#[x_kube(validation = Rule::new("!has(oldSelf.nats) || !has(self.nats) || self.nats.replicas >= oldSelf.nats.replicas")
    .message("nats cannot shrink from 3 members to 1: JetStream's meta group and every replicated stream would lose their quorum; create a new Runtime and move the streams"))]
#[x_kube(validation = Rule::new("!has(oldSelf.redis) || !has(self.redis) || self.redis.replicas >= oldSelf.redis.replicas")
    .message("redis cannot shrink from 3 members to 1: after a failover the primary may be any member, and the one kept could lag it; create a new Runtime and copy the data"))]
// Removing an engine would stop its servers under the Apps bound to them and
// leave its volumes without an owner.
#[x_kube(validation = Rule::new("(!has(oldSelf.mongodb) || has(self.mongodb)) && (!has(oldSelf.nats) || has(self.nats)) && (!has(oldSelf.s3) || has(self.s3)) && (!has(oldSelf.postgres) || has(self.postgres)) && (!has(oldSelf.redis) || has(self.redis))")
    .message("an engine cannot be removed from a Runtime: delete the Runtime instead (its deletionPolicy decides what happens to the data)"))]
pub struct RuntimeSpec {
    /// MongoDB, always as a replica set (change streams and transactions work
    /// with one member), with keyfile authentication between members.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mongodb: Option<EngineSpec>,

    /// NATS with JetStream on, clustered when it has 3 replicas.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nats: Option<EngineSpec>,

    /// An S3-compatible object store (Garage) with one bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3Spec>,

    /// PostgreSQL: a CloudNativePG Cluster when CloudNativePG is installed, else a
    /// primary with streaming replicas (no automatic failover).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<EngineSpec>,

    /// Valkey (the Redis protocol): standalone, or a primary with replicas and
    /// three Sentinels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redis: Option<EngineSpec>,

    /// What deleting the Runtime does to its data (default `Retain`).
    #[serde(default)]
    pub deletion_policy: DeletionPolicy,

    /// Where the published RuntimeVersion's entrypoint is served: an Ingress
    /// for this host that follows the publication (one write switches it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<RuntimeEntrypoint>,
}

/// The host of a Runtime's published version.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeEntrypoint {
    /// The host name, e.g. `models.example.com`.
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
        length(min = 1, max = 253)
    )]
    pub host: String,

    /// The IngressClass; the operator's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub ingress_class_name: Option<String>,
}

/// One engine's settings.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.version) && has(self.image))")
    .message("give version or image, not both"))]
pub struct EngineSpec {
    /// The engine's version, the tag of its official image (e.g. `8.0` for
    /// MongoDB); Wharf's tested default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))]
    pub version: Option<String>,

    /// A whole image reference instead of `version`, e.g. a mirror.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub image: Option<String>,

    /// Members: 1, or 3 for a replicated engine (PostgreSQL: 1 to 5, a primary
    /// and replicas).
    #[serde(default = "one")]
    #[schemars(range(min = 1, max = 5))]
    pub replicas: i32,

    /// Each member's volume.
    #[serde(default)]
    pub storage: Storage,

    /// Each member's CPU and memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

/// The S3 store's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.version) && has(self.image))")
    .message("give version or image, not both"))]
pub struct S3Spec {
    /// Garage's version (the tag of `dxflrs/garage`); Wharf's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"))]
    pub version: Option<String>,

    /// A whole image reference instead of `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 512))]
    pub image: Option<String>,

    /// Always 1: Wharf runs Garage as a single node (a replicated Garage needs
    /// a layout of zones that one namespace cannot decide).
    #[serde(default = "one")]
    #[x_kube(validation = Rule::new("self == 1")
        .message("s3 runs as a single node: replicas must be 1 (Garage replication needs a zone layout; use an external S3 for that)"))]
    pub replicas: i32,

    /// The bucket made at first start (default `data`).
    #[serde(default = "default_bucket")]
    #[schemars(
        regex(pattern = r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
        length(min = 3, max = 63)
    )]
    pub bucket: String,

    /// The region clients sign for (default `garage`).
    #[serde(default = "default_region")]
    #[schemars(regex(pattern = r"^[a-z0-9-]{1,32}$"))]
    pub region: String,

    /// The node's volume.
    #[serde(default)]
    pub storage: Storage,

    /// The node's CPU and memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceRequirements>,
}

impl Default for S3Spec {
    fn default() -> Self {
        Self {
            version: None,
            image: None,
            replicas: 1,
            bucket: default_bucket(),
            region: default_region(),
            storage: Storage::default(),
            resources: None,
        }
    }
}

/// A member's volume.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    /// Its size, e.g. `10Gi` (default `1Gi`).
    #[serde(default = "default_size")]
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)?([KMGTPE]i?)?$"))]
    pub size: String,

    /// Its StorageClass; the cluster's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub class: Option<String>,
}

impl Default for Storage {
    fn default() -> Self {
        Self {
            size: default_size(),
            class: None,
        }
    }
}

/// What deleting a Runtime does to its data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DeletionPolicy {
    /// The volumes stay (and a new Runtime of the same name finds its data).
    #[default]
    Retain,
    /// The volumes go with the Runtime.
    Delete,
    /// Deleting the Runtime is refused (it waits, with a condition saying so)
    /// until the policy is changed.
    DoNotDelete,
}

fn one() -> i32 {
    1
}

fn default_size() -> String {
    "1Gi".into()
}

fn default_bucket() -> String {
    "data".into()
}

fn default_region() -> String {
    "garage".into()
}
