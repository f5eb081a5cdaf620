//! The desired state of an App.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::app::AppStatus;
use crate::workload::{EnvFromSource, EnvVar, FileSpec, ResourcesSpec};

/// Longest App name. Child objects use the name as a DNS-1035 label (the Service) and
/// as a label value (≤ 63); the margin leaves room for suffixed child names.
pub const MAX_APP_NAME: usize = 50;

/// An application: a container image run as a Deployment, reachable through a
/// Service and, with hosts, an Ingress; with its environment, files, volumes and
/// autoscaling.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "wharf.dev",
    version = "v1alpha1",
    kind = "App",
    namespaced,
    status = "AppStatus",
    shortname = "wapp",
    category = "wharf",
    doc = "An application: a container image that Wharf runs as a Deployment, reachable through a Service and an Ingress.",
    derive = "PartialEq",
    derive = "Default",
    scale(
        spec_replicas_path = ".spec.replicas",
        status_replicas_path = ".status.replicas",
        label_selector_path = ".status.selector"
    ),
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Ready", type_ = "integer", json_path = ".status.readyReplicas"),
    printcolumn(name = "Desired", type_ = "integer", json_path = ".status.desiredReplicas"),
    printcolumn(name = "URL", type_ = "string", json_path = ".status.urls[0]"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("self.metadata.name.matches('^[a-z]([-a-z0-9]*[a-z0-9])?$') && self.metadata.name.size() <= 50")
        .message("an App name is a DNS-1035 label of at most 50 characters: lower-case letters, digits and '-', starting with a letter"),
)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.replicas) && has(self.autoscale))")
    .message("set either replicas or autoscale, not both"))]
#[x_kube(validation = Rule::new("!has(self.hosts) || self.hosts.size() == 0 || (has(self.ports) && self.ports.size() > 0)")
    .message("hosts need at least one port to route to"))]
#[x_kube(validation = Rule::new("!has(self.routes) || self.routes.all(r, !has(r.port) || (has(self.ports) && self.ports.exists(p, p.port == r.port)))")
    .message("every route's port must be one of the App's ports"))]
#[x_kube(validation = Rule::new("!has(self.routes) || self.routes.size() == 0 || (has(self.hosts) && self.hosts.size() > 0)")
    .message("routes need at least one host"))]
#[x_kube(validation = Rule::new("!has(self.mounts) || !has(self.volumes) || self.mounts.all(m, !self.volumes.exists(v, v.mountPath == m.mountPath))")
    .message("a shared volume's mount path must differ from every volume's mount path"))]
pub struct AppSpec {
    /// The container image, e.g. `nginx:1.27` or `registry.example.com/team/api@sha256:…`.
    #[schemars(
        regex(pattern = r"^[a-zA-Z0-9][a-zA-Z0-9._/:@+-]*$"),
        length(min = 1, max = 512)
    )]
    pub image: String,

    /// When the node pulls the image: `Always`, `IfNotPresent` or `Never`; the
    /// Kubernetes default (`Always` for `:latest`, else `IfNotPresent`) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,

    /// Secrets in the App's namespace holding registry credentials for the image
    /// (`kubernetes.io/dockerconfigjson`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 8),
        inner(
            regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
            length(min = 1, max = 253)
        )
    )]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub image_pull_secrets: Vec<String>,

    /// The catalogue entry (`AppTemplate`) the App was deployed from, and which
    /// generation of it. Set by a deploy from a template; a newer generation of the
    /// template is reported as the `UpdateAvailable` condition and applied only by an
    /// upgrade.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateRef>,

    /// Number of pods (default 1). Kept while `paused`, so starting again restores it.
    /// Not set together with `autoscale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub replicas: Option<i32>,

    /// Scale between `min` and `max` pods on CPU use instead of a fixed `replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<Autoscale>,

    /// Overrides the image's entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    pub command: Vec<String>,

    /// Arguments to the entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    pub args: Vec<String>,

    /// Ports the container listens on; each becomes a port of the App's Service.
    /// Names and port numbers are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["port".into()]))]
    #[x_kube(validation = Rule::new("self.all(p, self.exists_one(q, q.name == p.name))")
        .message("port names must be unique"))]
    pub ports: Vec<AppPort>,

    /// Host names the App is reachable at through an Ingress, e.g. `shop.example.com`
    /// or `*.preview.example.com`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 32),
        inner(
            regex(
                pattern = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
            ),
            length(min = 1, max = 253)
        )
    )]
    #[x_kube(merge_strategy = ListMerge::Set)]
    pub hosts: Vec<String>,

    /// Path routes on the hosts; without any, `/` goes to the first port.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["path".into()]))]
    pub routes: Vec<Route>,

    /// Serve the hosts over HTTPS with a certificate from cert-manager.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsSpec>,

    /// The IngressClass to use; the operator's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub ingress_class_name: Option<String>,

    /// Environment variables. Names are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub env: Vec<EnvVar>,

    /// A Runtime in the same namespace whose connection variables (e.g.
    /// `DATABASE_URL`, `KRT_MONGO_URI`) the containers get from its binding
    /// Secrets; the workload waits until the Runtime is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<crate::runtime::binding_env::RuntimeRef>,

    /// Whole ConfigMaps and Secrets whose keys become environment variables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    pub env_from: Vec<EnvFromSource>,

    /// Configuration files mounted read-only into the container. Paths are unique.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["path".into()]))]
    pub files: Vec<FileSpec>,

    /// Persistent volumes (PersistentVolumeClaims) mounted into the container. Names
    /// and mount paths are unique. A claim lives as long as its App.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    #[x_kube(validation = Rule::new("self.all(v, self.exists_one(w, w.mountPath == v.mountPath))")
        .message("volume mount paths must be unique"))]
    pub volumes: Vec<VolumeSpec>,

    /// Shared volumes (claims made on their own, e.g. `wharf volumes create`) mounted
    /// into the container. Several Apps may mount one; an App never owns it, so
    /// deleting the App leaves it. Mount paths are unique, also against `volumes`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["mountPath".into()]))]
    pub mounts: Vec<SharedMount>,

    /// CPU, memory and other resources of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesSpec>,

    /// Health checks of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Probes>,

    /// Stop the App: scale to zero pods, keeping everything else. Setting it back to
    /// false restores `replicas` (or `autoscale`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub paused: bool,

    /// Change to any new value (the API and CLI use the current time) to restart
    /// every pod with a rolling update.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    pub restarted_at: Option<String>,

    /// Delete the App this long after it was created (preview apps), e.g. `72h`,
    /// `7d` or `1h30m`. Units: `s`, `m`, `h`, `d`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,6}(s|m|h|d))+$"), length(max = 32))]
    pub expires_after: Option<String>,
}

/// A port the container listens on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct AppPort {
    /// Name of the port (a DNS-1035 label of at most 15 characters), e.g. `http`.
    #[schemars(
        regex(pattern = r"^[a-z]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 15)
    )]
    pub name: String,

    /// The port number, 1 to 65535.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,

    /// `TCP` (default), `UDP` or `SCTP`.
    #[serde(default)]
    pub protocol: PortProtocol,

    /// A subdomain routed to this port: `<subdomain>.<host>` for each of the App's
    /// hosts (e.g. `admin` → `admin.shop.example.com`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 63)
    )]
    pub subdomain: Option<String>,
}

/// When the node pulls a container image.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum PullPolicy {
    /// On every container start.
    Always,
    /// Only when the node does not have it.
    IfNotPresent,
    /// Never; the image must be on the node.
    Never,
}

impl PullPolicy {
    /// The value Kubernetes takes.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "Always",
            Self::IfNotPresent => "IfNotPresent",
            Self::Never => "Never",
        }
    }
}

/// The template an App was deployed from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct TemplateRef {
    /// The `AppTemplate`'s name.
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 63)
    )]
    pub name: String,

    /// The template's `metadata.generation` the App's spec was made from.
    #[schemars(range(min = 1))]
    pub generation: i64,
}

/// The transport protocol of a port.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum PortProtocol {
    /// TCP.
    #[default]
    #[serde(rename = "TCP")]
    Tcp,
    /// UDP.
    #[serde(rename = "UDP")]
    Udp,
    /// SCTP.
    #[serde(rename = "SCTP")]
    Sctp,
}

/// A path on the App's hosts routed to one of its ports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    /// The path, starting with `/`.
    #[schemars(regex(pattern = r"^/[^\s]*$"), length(min = 1, max = 1024))]
    pub path: String,

    /// The port number it goes to; the first port when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,

    /// `Prefix` (default) or `Exact`.
    #[serde(default)]
    pub path_type: PathType,
}

/// How a route's path matches request paths.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum PathType {
    /// The path and everything below it.
    #[default]
    Prefix,
    /// Only the path itself.
    Exact,
}

/// HTTPS for the App's hosts through cert-manager. With neither issuer set, the
/// operator's default cluster issuer is used.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.issuer) && has(self.clusterIssuer))")
    .message("set issuer or clusterIssuer, not both"))]
pub struct TlsSpec {
    /// A cert-manager Issuer in the App's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub issuer: Option<String>,

    /// A cert-manager ClusterIssuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub cluster_issuer: Option<String>,
}

/// Horizontal autoscaling on CPU use.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("self.min <= self.max").message("autoscale.min must not exceed autoscale.max"))]
pub struct Autoscale {
    /// Fewest pods, at least 1.
    #[schemars(range(min = 1, max = 1000))]
    pub min: i32,

    /// Most pods.
    #[schemars(range(min = 1, max = 1000))]
    pub max: i32,

    /// Target average CPU use as a percentage of the CPU request (default 80).
    #[serde(default = "default_cpu_percent")]
    #[schemars(range(min = 1, max = 100))]
    pub cpu_percent: i32,
}

fn default_cpu_percent() -> i32 {
    80
}

/// A persistent volume of the App.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct VolumeSpec {
    /// Name of the volume (a DNS-1123 label), e.g. `data`.
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 63)
    )]
    pub name: String,

    /// Requested size, a quantity such as `1Gi`.
    #[x_kube(validation = Rule::new("isQuantity(self)").message("size must be a quantity such as 1Gi"))]
    #[schemars(length(min = 1, max = 64))]
    pub size: String,

    /// Where the volume is mounted in the container.
    #[schemars(regex(pattern = r"^/.*$"), length(min = 1, max = 1024))]
    pub mount_path: String,

    /// The StorageClass; the cluster's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub storage_class: Option<String>,

    /// `ReadWriteOnce` (default), `ReadWriteOncePod`, `ReadOnlyMany` or `ReadWriteMany`.
    #[serde(default)]
    pub access_mode: AccessMode,
}

/// A shared volume mounted into an App's container.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct SharedMount {
    /// The shared volume: a PersistentVolumeClaim of that name in the App's
    /// namespace (a DNS-1123 label).
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"),
        length(min = 1, max = 63)
    )]
    pub volume: String,

    /// Where it is mounted in the container.
    #[schemars(regex(pattern = r"^/.*$"), length(min = 1, max = 1024))]
    pub mount_path: String,

    /// Mount it read-only.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub read_only: bool,
}

/// How a volume may be mounted.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub enum AccessMode {
    /// Read-write by one node.
    #[default]
    ReadWriteOnce,
    /// Read-write by one pod.
    ReadWriteOncePod,
    /// Read-only by many nodes.
    ReadOnlyMany,
    /// Read-write by many nodes.
    ReadWriteMany,
}

/// The container's health checks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct Probes {
    /// When the container may receive traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub readiness: Option<Probe>,
    /// When the container must be restarted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub liveness: Option<Probe>,
    /// How long the container may take to start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup: Option<Probe>,
}

/// One health check: an HTTP GET of `path`, a command, or else a TCP connection to
/// `port`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!(has(self.path) && has(self.command))")
    .message("a probe checks a path or runs a command, not both"))]
pub struct Probe {
    /// HTTP path to GET, e.g. `/healthz`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/.*$"), length(max = 1024))]
    pub path: Option<String>,

    /// The port to check; the App's first port when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 65535))]
    pub port: Option<i32>,

    /// A command run in the container; exit code 0 is healthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub command: Option<Vec<String>>,

    /// Seconds after start before the first check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 3600))]
    pub initial_delay_seconds: Option<i32>,

    /// Seconds between checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub period_seconds: Option<i32>,

    /// Seconds a check may take.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 3600))]
    pub timeout_seconds: Option<i32>,

    /// Failed checks in a row that count as unhealthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub failure_threshold: Option<i32>,
}
