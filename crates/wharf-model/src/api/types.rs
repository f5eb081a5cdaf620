//! Bodies of the `/v1` API beyond the custom resources themselves.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use serde::{Deserialize, Serialize};

use crate::app::{App, AppPhase};

/// A page of Apps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AppList {
    /// The Apps on this page, ordered by name.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<App>,
    /// Pass as `continue` to get the next page; absent on the last page.
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
}

/// A new replica count.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleRequest {
    /// The number of pods, 0 to 1000.
    pub replicas: i32,
}

/// Changes to an App's literal environment variables.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EnvUpdate {
    /// Variables to set to a literal value (added or replaced).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Variables to remove.
    #[serde(default)]
    pub unset: Vec<String>,
}

/// One environment variable as the API shows it. Secret values are never shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EnvEntry {
    /// The variable's name.
    pub name: String,
    /// Where the value comes from: `value`, `generated`, `secretRef` or `configMapRef`.
    pub source: String,
    /// The literal value, for `value` variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `name/key` of the Secret or ConfigMap, for references.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// One persistent volume of an App.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VolumeEntry {
    /// The volume's name.
    pub name: String,
    /// The PersistentVolumeClaim behind it.
    pub claim: String,
    /// Requested size.
    pub size: String,
    /// Where it is mounted.
    pub mount_path: String,
    /// Access mode.
    pub access_mode: String,
    /// StorageClass, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

/// One pod of an App.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PodSummary {
    /// The pod's name.
    pub name: String,
    /// Pending, Running, Succeeded, Failed or Unknown.
    pub phase: String,
    /// Whether the pod is ready for traffic.
    pub ready: bool,
    /// Container restarts.
    pub restarts: i32,
    /// The node it runs on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// The image it runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// When it started (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
    /// Why it is not running, e.g. `ImagePullBackOff`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// An App's state: its status and its pods.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AppState {
    /// The App's name.
    pub name: String,
    /// Its phase.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>))]
    pub phase: Option<AppPhase>,
    /// Ready, Progressing and Degraded.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub conditions: Vec<Condition>,
    /// Pods it should have.
    pub desired_replicas: i32,
    /// Pods that are ready.
    pub ready_replicas: i32,
    /// Where it is reachable.
    pub urls: Vec<String>,
    /// Its pods.
    pub pods: Vec<PodSummary>,
}

/// An event about an App or one of its children.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EventEntry {
    /// `Normal` or `Warning`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A CamelCase reason.
    pub reason: String,
    /// What happened.
    pub message: String,
    /// The object it concerns, as `Kind/name`.
    pub object: String,
    /// How often it happened.
    pub count: i32,
    /// When it last happened (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<String>,
}

/// Current resource use of one pod, from the metrics API.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct PodUsage {
    /// The pod's name.
    pub pod: String,
    /// CPU in use, e.g. `12m`.
    pub cpu: String,
    /// Memory in use, e.g. `48Mi`.
    pub memory: String,
}

/// Someone to add to a Space, or whose role to change.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MemberRequest {
    /// `User` (default) or `Group`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: crate::space::SubjectKind,
    /// The user or group name as the Kubernetes API server knows it.
    pub name: String,
    /// `owner`, `developer` or `viewer`.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub role: crate::space::SpaceRole,
}

/// Whom to make the owner of a Space; its current owners become developers.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TransferRequest {
    /// `User` (default) or `Group`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: crate::space::SubjectKind,
    /// The new owner's name.
    pub name: String,
}

/// A Space's quota and what is used of it.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct QuotaUsage {
    /// Limits by resource, e.g. `{pods: "20", requests.cpu: "4"}`.
    pub hard: BTreeMap<String, String>,
    /// Use by resource.
    pub used: BTreeMap<String, String>,
}

/// Whether a Space name can be taken.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct NameAvailability {
    /// The name asked about.
    pub name: String,
    /// Whether a Space of that name can be created.
    pub available: bool,
    /// Why not, when it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A deploy of an App from a catalogue entry (`AppTemplate`): where, under which
/// name, and the few things a deploy may choose beside the template.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeployRequest {
    /// The namespace of the new App.
    pub namespace: String,

    /// The new App's name.
    pub name: String,

    /// Host names; without any, the Space's `<name>.<baseDomain>` applies.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,

    /// Pods; the template's `replicas` (or 1) when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas: Option<i32>,

    /// Variables set over the template's, by name; new names are added.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub env: Vec<crate::workload::EnvVar>,

    /// Configuration files set over the template's, by path; new paths are added
    /// (e.g. nginx's `/etc/nginx/conf.d/default.conf` naming another App's Service).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub files: Vec<crate::workload::FileSpec>,

    /// Shared volumes to mount (`wharf volumes create`), kept across upgrades.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub mounts: Vec<crate::app::SharedMount>,
}

/// A page of AppTemplates (the image catalogue).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct AppTemplateList {
    /// The AppTemplates on this page, ordered by name.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<crate::template::AppTemplate>,
    /// Pass as `continue` to get the next page; absent on the last page.
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
}
