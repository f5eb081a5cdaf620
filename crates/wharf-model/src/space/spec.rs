//! The desired and observed state of a Space.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::int_or_string::counts_schema;
pub use super::int_or_string::{Amount, Count};

/// A tenant: a namespace with its members, quota, limits and isolation.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "wharf.dev",
    version = "v1alpha1",
    kind = "Space",
    status = "SpaceStatus",
    shortname = "wspace",
    category = "wharf",
    doc = "A tenant: a namespace with owners and members, a quota, default limits, a base domain, pod security and network isolation.",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Namespace", type_ = "string", json_path = ".status.namespace"),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Security", type_ = "string", json_path = ".spec.podSecurity"),
    printcolumn(name = "Domain", type_ = "string", json_path = ".spec.baseDomain"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && self.metadata.name.size() <= 63")
        .message("a Space name is a DNS label: at most 63 lower-case letters, digits and '-'"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.members) || self.members.exists(m, m.role == 'owner')")
    .message("a Space needs at least one owner"))]
pub struct SpaceSpec {
    /// The namespace of the Space; the Space's name when unset. Set it when the
    /// Space is created; it cannot change afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("self == oldSelf").message("namespace cannot change once set"))]
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 63)
    )]
    pub namespace: Option<String>,

    /// People and groups with access, each with a role. Names are as the
    /// Kubernetes API server authenticates them, e.g. `alice@example.com`,
    /// `system:serviceaccount:ci:deployer` or a group such as `team-shop`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 100))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["kind".into(), "name".into()]))]
    pub members: Vec<Member>,

    /// Limits on what the Space's namespace may use in total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<Quota>,

    /// Requests and limits given to containers that set none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_limits: Option<DefaultLimits>,

    /// Apps in the Space without hosts are reachable at `<app>.<baseDomain>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
        length(min = 1, max = 200)
    )]
    pub base_domain: Option<String>,

    /// The Pod Security Standard enforced in the namespace (default `restricted`).
    #[serde(default)]
    pub pod_security: PodSecurityLevel,

    /// Refuse traffic from other Spaces' pods (default true). Traffic from inside
    /// the Space and from namespaces that are not Spaces (ingress controllers,
    /// monitoring) stays allowed.
    #[serde(default = "default_true")]
    pub network_isolation: bool,
}

fn default_true() -> bool {
    true
}

/// Someone with access to a Space.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    /// `User` (default) or `Group`.
    #[serde(default)]
    pub kind: SubjectKind,
    /// The user or group name as the API server knows it.
    #[schemars(length(min = 1, max = 256))]
    pub name: String,
    /// What the member may do.
    pub role: SpaceRole,
}

/// Whether a member is a user or a group.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum SubjectKind {
    /// A user (a ServiceAccount is the user `system:serviceaccount:<ns>:<name>`).
    #[default]
    User,
    /// A group.
    Group,
}

/// A member's role in a Space.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum SpaceRole {
    /// Everything a developer may, plus managing the Space's members.
    Owner,
    /// Deploys and operates Apps and Tasks; reads pods, logs and events.
    Developer,
    /// Reads everything in the Space; changes nothing.
    #[default]
    Viewer,
}

impl SpaceRole {
    /// Every role, most powerful first.
    pub const ALL: [Self; 3] = [Self::Owner, Self::Developer, Self::Viewer];

    /// The role as written in the resource.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Developer => "developer",
            Self::Viewer => "viewer",
        }
    }
}

/// The Pod Security Standards level.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PodSecurityLevel {
    /// No restrictions.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Current pod hardening best practice.
    #[default]
    Restricted,
}

impl PodSecurityLevel {
    /// The level as the `pod-security.kubernetes.io/enforce` label spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Privileged => "privileged",
            Self::Baseline => "baseline",
            Self::Restricted => "restricted",
        }
    }
}

/// Totals the Space's namespace may use, written as a ResourceQuota takes them:
/// each amount is a Kubernetes quantity and each count a whole number, as a string
/// (`"8Gi"`, `"20"`) or a number (`4`, `20`). Fractions are written as strings
/// (`"0.5"` or `500m`): the schema, like Kubernetes' own quantity fields, takes
/// integers and strings only.
///
/// A quota on `cpu` or `memory` makes every container in the Space need a request
/// for it, so the Space then also gets default requests (see [`DefaultLimits`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Quota {
    /// Total CPU requests, e.g. `4` or `2500m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message("cpu must be a quantity such as 4 or 2500m"))]
    pub cpu: Option<Amount>,
    /// Total memory requests, e.g. `8Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message("memory must be a quantity such as 8Gi"))]
    pub memory: Option<Amount>,
    /// Total storage requested by claims, e.g. `100Gi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message("storage must be a quantity such as 100Gi"))]
    pub storage: Option<Amount>,
    /// Most pods, e.g. `20` or `"20"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(COUNT_RULE).message("pods must be a whole number from 0 to 100000, such as 20 or \"20\""))]
    pub pods: Option<Count>,
    /// Most objects by kind, e.g. `{apps.wharf.dev: 20, services: "20", secrets: 50}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "counts_schema")]
    pub objects: BTreeMap<String, Count>,
}

/// CEL: a non-negative quantity, written as a string or an integer.
const QUANTITY_RULE: &str =
    "type(self) == string ? isQuantity(self) && !self.startsWith('-') : self >= 0";

/// CEL: a whole number from 0 to 100000, written as a string of digits or an
/// integer (what [`Count`] reads).
const COUNT_RULE: &str = "type(self) == string ? self.matches('^[0-9]{1,6}$') && int(self) <= 100000 : self >= 0 && self <= 100000";

/// Requests and limits for containers that set none.
///
/// A Space without a compute quota gets exactly what is set here (nothing when
/// unset). A Space whose quota limits `cpu` or `memory` also needs a request for
/// that resource on every container, or Kubernetes refuses the pod ("failed quota:
/// must specify requests.cpu"). So for each resource the quota limits and this
/// leaves unset (neither request nor limit), containers get the request
/// [`DEFAULT_REQUEST_CPU`] or [`DEFAULT_REQUEST_MEMORY`]. Where only a limit is
/// set here, Kubernetes takes the request from it.
///
/// No default limit is added by Wharf: a limit would refuse a container that asks
/// for more than it (the limit defaults, the request does not) and OOM-kill or
/// throttle one that uses more, neither of which happens without a quota. Set
/// `cpu` and `memory` here to cap containers that do not cap themselves.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct DefaultLimits {
    /// Default CPU limit, e.g. `500m` or `1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message("cpu must be a quantity such as 500m"))]
    pub cpu: Option<Amount>,
    /// Default memory limit, e.g. `512Mi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message("memory must be a quantity such as 512Mi"))]
    pub memory: Option<Amount>,
    /// Default CPU request, e.g. `100m`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message("requestCpu must be a quantity such as 100m"))]
    pub request_cpu: Option<Amount>,
    /// Default memory request, e.g. `128Mi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new(QUANTITY_RULE).message("requestMemory must be a quantity such as 128Mi"))]
    pub request_memory: Option<Amount>,
}

/// The CPU request a container gets in a Space whose quota limits CPU, when
/// neither the container nor the Space's `defaultLimits` sets one.
pub const DEFAULT_REQUEST_CPU: &str = "100m";
/// The memory request a container gets in a Space whose quota limits memory,
/// when neither the container nor the Space's `defaultLimits` sets one.
pub const DEFAULT_REQUEST_MEMORY: &str = "128Mi";

/// What Wharf observed of a Space.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SpaceStatus {
    /// `Active`, `Terminating` or `Failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<SpacePhase>,
    /// The Space's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `Ready`, with a reason and message.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// The quota's limits, by resource.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quota_hard: BTreeMap<String, String>,
    /// What is used of the quota, by resource.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub quota_used: BTreeMap<String, String>,
    /// While the Space is being deleted: what still blocks its namespace from
    /// going away.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking: Option<String>,
    /// The Space generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

/// A one-word summary of a Space's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SpacePhase {
    /// The namespace and everything in it are in place.
    Active,
    /// The Space was deleted; its namespace is draining.
    Terminating,
    /// The Space cannot be realised as written (see the conditions).
    Failed,
}

impl SpacePhase {
    /// The phase as it appears in the resource.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::Terminating => "Terminating",
            Self::Failed => "Failed",
        }
    }
}

impl std::fmt::Display for SpacePhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Space {
    /// The namespace the Space owns.
    pub fn namespace_name(&self) -> String {
        self.spec
            .namespace
            .clone()
            .or_else(|| self.metadata.name.clone())
            .unwrap_or_default()
    }
}
