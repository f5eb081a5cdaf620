//! The parameter objects of the catalogue's functions: flat, typed and strict
//! (`deny_unknown_fields`), so a misspelt parameter is refused rather than ignored.
//! Each turns into the request of the endpoint its function stands for.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::ToSchema;

/// Names an object in a namespace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ObjectRef {
    /// The namespace.
    pub namespace: String,
    /// The object's name.
    pub name: String,
}

/// Names a namespace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NamespaceRef {
    /// The namespace.
    pub namespace: String,
}

/// An App from an image, with the settings most deploys need.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AppParams {
    /// The namespace.
    pub namespace: String,
    /// The App's name (a DNS-1123 label).
    pub name: String,
    /// The container image, e.g. `nginx:1.27`.
    pub image: String,
    /// Pods to run (default 1).
    #[serde(default)]
    pub replicas: Option<i32>,
    /// The port the container listens on, exposed as port `http`.
    #[serde(default)]
    pub port: Option<i32>,
    /// Environment variables by name.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Host names to route to the App; the Space's default when empty.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Guaranteed resources, e.g. `{"cpu": "100m", "memory": "200Mi"}`.
    #[serde(default)]
    pub requests: BTreeMap<String, String>,
    /// Resource limits, e.g. `{"cpu": "500m", "memory": "500Mi"}`.
    #[serde(default)]
    pub limits: BTreeMap<String, String>,
    /// How long to wait for the App to be Ready, e.g. `60s` (at most `10m`).
    #[serde(default)]
    pub wait: Option<String>,
}

impl AppParams {
    /// The App document the apps endpoints take.
    pub fn document(&self) -> Value {
        let mut spec = json!({ "image": self.image });
        if let Some(replicas) = self.replicas {
            spec["replicas"] = json!(replicas);
        }
        if let Some(port) = self.port {
            spec["ports"] = json!([{ "name": "http", "port": port }]);
        }
        if !self.env.is_empty() {
            spec["env"] = env_list(&self.env);
        }
        if !self.hosts.is_empty() {
            spec["hosts"] = json!(self.hosts);
        }
        if !self.requests.is_empty() || !self.limits.is_empty() {
            spec["resources"] = json!({ "requests": self.requests, "limits": self.limits });
        }
        json!({ "metadata": { "name": self.name }, "spec": spec })
    }
}

/// An App deployed from a catalogue entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeployParams {
    /// The AppTemplate (catalogue entry), e.g. `nginx`.
    pub template: String,
    /// The namespace of the new App.
    pub namespace: String,
    /// The new App's name.
    pub name: String,
    /// Host names; the Space's `<name>.<baseDomain>` when empty.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// Pods; the template's when unset.
    #[serde(default)]
    pub replicas: Option<i32>,
    /// Variables set over the template's, by name.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Shared volumes to mount: volume name → mount path.
    #[serde(default)]
    pub volumes: BTreeMap<String, String>,
}

impl DeployParams {
    /// The body of `POST /v1/templates/{name}/deploy`.
    pub fn document(&self) -> Value {
        let mounts: Vec<Value> = self
            .volumes
            .iter()
            .map(|(volume, path)| json!({ "volume": volume, "mountPath": path }))
            .collect();
        let mut body = json!({ "namespace": self.namespace, "name": self.name });
        if !self.hosts.is_empty() {
            body["hosts"] = json!(self.hosts);
        }
        if let Some(replicas) = self.replicas {
            body["replicas"] = json!(replicas);
        }
        if !self.env.is_empty() {
            body["env"] = env_list(&self.env);
        }
        if !mounts.is_empty() {
            body["mounts"] = json!(mounts);
        }
        body
    }
}

/// A new replica count.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ScaleParams {
    /// The namespace.
    pub namespace: String,
    /// The App's name.
    pub name: String,
    /// Pods to run (0 stops the App).
    pub replicas: i32,
}

/// A batch job from an image, run to completion.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TaskParams {
    /// The namespace.
    pub namespace: String,
    /// The Task's name.
    pub name: String,
    /// The container image.
    pub image: String,
    /// The command (the image's entrypoint when empty).
    #[serde(default)]
    pub command: Vec<String>,
    /// Its arguments.
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables by name.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// How long to wait for it to finish (default `5m`, at most `10m`); the
    /// answer is the Task as it is then.
    #[serde(default)]
    pub wait: Option<String>,
}

impl TaskParams {
    /// The Task document the tasks endpoint takes.
    pub fn document(&self) -> Value {
        let mut spec = json!({ "image": self.image });
        if !self.command.is_empty() {
            spec["command"] = json!(self.command);
        }
        if !self.args.is_empty() {
            spec["args"] = json!(self.args);
        }
        if !self.env.is_empty() {
            spec["env"] = env_list(&self.env);
        }
        json!({ "metadata": { "name": self.name }, "spec": spec })
    }
}

/// A Space: a tenant namespace with members and quota.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SpaceParams {
    /// The Space's name, also its namespace's.
    pub name: String,
    /// The Space's spec as the Space schema of `/openapi.json` describes it
    /// (owners, members, quota …); the defaults when absent.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub spec: Option<Value>,
}

/// A Runtime: infrastructure for a namespace.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RuntimeParams {
    /// The namespace.
    pub namespace: String,
    /// The Runtime's name.
    pub name: String,
    /// The Runtime's spec as the Runtime schema of `/openapi.json` describes it
    /// (engines, versions …).
    #[schema(value_type = Object)]
    pub spec: Value,
}

/// A shared volume.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeParams {
    /// The namespace.
    pub namespace: String,
    /// The volume's name.
    pub name: String,
    /// Its size, e.g. `1Gi`.
    pub size: String,
    /// `ReadWriteOnce` (default), `ReadWriteOncePod`, `ReadOnlyMany` or `ReadWriteMany`.
    #[serde(default)]
    pub access_mode: Option<String>,
}

impl VolumeParams {
    /// The body of `POST …/volumes`.
    pub fn document(&self) -> Value {
        let mut body = json!({ "name": self.name, "size": self.size });
        if let Some(mode) = &self.access_mode {
            body["accessMode"] = json!(mode);
        }
        body
    }
}

fn env_list(env: &BTreeMap<String, String>) -> Value {
    env.iter()
        .map(|(name, value)| json!({ "name": name, "value": value }))
        .collect()
}
