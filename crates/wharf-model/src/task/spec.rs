//! The desired state of a Task.

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::task::TaskStatus;
use crate::workload::{EnvFromSource, EnvVar, FileSpec, ResourcesSpec};

/// Longest Task name. The Job takes the name, and Kubernetes copies a Job's name
/// into a pod label (≤ 63); the margin leaves room for suffixed child names.
pub const MAX_TASK_NAME: usize = 50;

/// Where result files are written when `results.path` is not set.
pub const DEFAULT_RESULTS_PATH: &str = "/results";

/// The size limit of the results folder when `results.maxSize` is not set.
pub const DEFAULT_RESULTS_MAX_SIZE: &str = "1Gi";

/// A batch job: a container image run to completion as a Kubernetes Job, with its
/// environment and files, a time limit and retries, result files collected into
/// Wharf's store, and a signed callback when it ends.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "wharf.dev",
    version = "v1alpha1",
    kind = "Task",
    namespaced,
    status = "TaskStatus",
    shortname = "wtask",
    category = "wharf",
    doc = "A batch job: a container image that Wharf runs to completion as a Job, collecting its result files and announcing its end with a signed callback.",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Phase", type_ = "string", json_path = ".status.phase"),
    printcolumn(name = "Duration", type_ = "string", json_path = ".status.duration"),
    printcolumn(name = "Results", type_ = "integer", json_path = ".status.resultCount"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && self.metadata.name.size() <= 50")
        .message("a Task name is a DNS-1123 label of at most 50 characters: lower-case letters, digits and '-'"),
)]
#[serde(rename_all = "camelCase")]
pub struct TaskSpec {
    /// The container image, e.g. `python:3.13` or `registry.example.com/team/job@sha256:…`.
    #[schemars(
        regex(pattern = r"^[a-zA-Z0-9][a-zA-Z0-9._/:@+-]*$"),
        length(min = 1, max = 512)
    )]
    pub image: String,

    /// The entrypoint; the image's own when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("maxItems" = 128))]
    pub command: Vec<String>,

    /// Arguments to the entrypoint; the image's own when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("maxItems" = 128))]
    pub args: Vec<String>,

    /// Environment variables, exactly as an App has them (literal values, generated
    /// secrets, references, `${…}` substitution; `${APP}` is the Task's name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("maxItems" = 128))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["name".into()]))]
    pub env: Vec<EnvVar>,

    /// A Runtime in the same namespace whose connection variables (e.g.
    /// `DATABASE_URL`, `KRT_MONGO_URI`) the containers get from its binding
    /// Secrets; the workload waits until the Runtime is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<crate::runtime::binding_env::RuntimeRef>,

    /// Whole ConfigMaps or Secrets whose keys all become environment variables. The
    /// API's multipart submission turns dotenv files into ConfigMaps listed here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("maxItems" = 32))]
    pub env_from: Vec<EnvFromSource>,

    /// Configuration files mounted read-only into the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("maxItems" = 64))]
    #[x_kube(merge_strategy = ListMerge::Map(vec!["path".into()]))]
    pub files: Vec<FileSpec>,

    /// Requests and limits of the container. GPUs are extended resources, e.g.
    /// `limits: {nvidia.com/gpu: 1}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesSpec>,

    /// The longest the Task may run, all attempts together, e.g. `30m` or `2h`.
    /// When it passes, the Task fails with reason `DeadlineExceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,6}(s|m|h|d))+$"), length(max = 32))]
    pub timeout: Option<String>,

    /// How many times a failed attempt is retried (0 to 100, default 0). Pods that
    /// are evicted or preempted are retried without counting.
    #[serde(default, skip_serializing_if = "is_zero")]
    #[schemars(range(min = 0, max = 100))]
    pub retries: i32,

    /// Collect the files the Task writes into a folder, so they can be listed and
    /// downloaded after it ends. Without it no files are collected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<ResultsSpec>,

    /// Announce the Task's end with a signed HTTP POST.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackSpec>,

    /// Delete the Task, its Job and its results this long after it ends, e.g. `1h`
    /// or `7d`. Kept until deleted when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^([0-9]{1,6}(s|m|h|d))+$"), length(max = 32))]
    pub ttl_after_finished: Option<String>,

    /// The Kueue LocalQueue to submit the Job to (sets `kueue.x-k8s.io/queue-name`).
    /// Wharf builds no queue of its own; without Kueue the label has no effect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"),
        length(min = 1, max = 253)
    )]
    pub queue: Option<String>,

    /// Stop the Task: its pods are stopped and its phase becomes `Cancelled`. Once
    /// set it cannot be unset; a Task that already ended is not changed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    #[x_kube(validation = Rule::new("self || !oldSelf").message("a cancelled Task cannot be resumed"))]
    pub cancelled: bool,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

/// Where a Task writes its result files and how much room they get.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("!has(self.path) || !self.path.split('/').exists(s, s == '..' || s == '.')")
    .message("path must not contain '.' or '..' segments"))]
pub struct ResultsSpec {
    /// Absolute path of the results folder in the container (default `/results`).
    /// Every regular file below it is collected when the container exits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^/[^\x00]*[^/]$"), length(min = 2, max = 1024))]
    pub path: Option<String>,

    /// The most the folder may hold, a quantity such as `512Mi` (default `1Gi`).
    /// The pod is evicted when it writes more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[x_kube(validation = Rule::new("isQuantity(self)").message("maxSize must be a quantity such as 512Mi or 10Gi"))]
    #[schemars(length(max = 32))]
    pub max_size: Option<String>,
}

impl ResultsSpec {
    /// The results folder in the container.
    pub fn path(&self) -> &str {
        self.path.as_deref().unwrap_or(DEFAULT_RESULTS_PATH)
    }

    /// The folder's size limit as a quantity.
    pub fn max_size(&self) -> &str {
        self.max_size.as_deref().unwrap_or(DEFAULT_RESULTS_MAX_SIZE)
    }
}

/// An HTTP endpoint told when the Task ends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackSpec {
    /// The `http` or `https` URL that receives a JSON POST when the Task ends.
    /// Addresses in loopback, link-local, private and cluster ranges are refused
    /// unless the operator is configured to allow them.
    #[schemars(regex(pattern = r"^https?://[^\s]+$"), length(min = 8, max = 2048))]
    pub url: String,

    /// The key that signs each request (HMAC-SHA256). Without it requests are sent
    /// unsigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_ref: Option<CallbackSecretRef>,
}

/// A key of a Secret in the Task's namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackSecretRef {
    /// Name of the Secret.
    #[schemars(length(min = 1, max = 253))]
    pub name: String,

    /// The key within it (default `key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 253))]
    pub key: Option<String>,
}

impl CallbackSecretRef {
    /// The key within the Secret.
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or("key")
    }
}
