//! The `AppTemplate` custom resource: one entry of the image catalogue (seed 004).

use kube::{CustomResource, KubeSchema};
use serde::{Deserialize, Serialize};

use crate::app::{AppPort, Probes, PullPolicy, VolumeSpec};
use crate::workload::{EnvVar, FileSpec, ResourcesSpec};

/// Longest template name: it is kept in a label of every App made from it (≤ 63).
pub const MAX_TEMPLATE_NAME: usize = 63;

/// An entry of the image catalogue: an image with what it needs to run (ports,
/// environment, files, volumes, resources, probes). Apps are deployed from it with
/// a few overrides; an App remembers the template and its generation, and a later
/// change of the template is offered to the App, never rolled out silently.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "wharf.dev",
    version = "v1alpha1",
    kind = "AppTemplate",
    shortname = "wtpl",
    category = "wharf",
    doc = "An entry of Wharf's image catalogue: an image and what it needs to run, from which Apps are deployed.",
    derive = "PartialEq",
    derive = "Default",
    printcolumn(name = "Repository", type_ = "string", json_path = ".spec.image.repository"),
    printcolumn(name = "Tag", type_ = "string", json_path = ".spec.image.tag"),
    printcolumn(name = "Description", type_ = "string", json_path = ".spec.description"),
    printcolumn(name = "Age", type_ = "date", json_path = ".metadata.creationTimestamp"),
    validation = Rule::new("self.metadata.name.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?$') && self.metadata.name.size() <= 63")
        .message("a template name is a DNS-1123 label of at most 63 characters: lower-case letters, digits and '-'"),
)]
#[serde(rename_all = "camelCase")]
pub struct AppTemplateSpec {
    /// What the image is, in a sentence, e.g. `PHP FastCGI process manager`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(max = 1024))]
    pub description: String,

    /// The image, in parts.
    pub image: TemplateImage,

    /// When the node pulls the image: `Always`, `IfNotPresent` or `Never`; the
    /// Kubernetes default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_pull_policy: Option<PullPolicy>,

    /// Secrets (in the App's namespace) holding registry credentials for the image.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(
        length(max = 8),
        inner(
            regex(pattern = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
            length(min = 1, max = 253)
        )
    )]
    pub image_pull_secrets: Vec<String>,

    /// Overrides the image's entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    pub command: Vec<String>,

    /// Arguments to the entrypoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    pub args: Vec<String>,

    /// Ports the container listens on, each with an optional subdomain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 32))]
    #[x_kube(validation = Rule::new("self.all(p, self.exists_one(q, q.name == p.name))")
        .message("port names must be unique"))]
    #[x_kube(validation = Rule::new("self.all(p, self.exists_one(q, q.port == p.port))")
        .message("port numbers must be unique"))]
    pub ports: Vec<AppPort>,

    /// Environment variables. A variable with `secret.generate` gets a value of its
    /// own in every App deployed from the template.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 128))]
    #[x_kube(validation = Rule::new("self.all(e, self.exists_one(f, f.name == e.name))")
        .message("environment variable names must be unique"))]
    pub env: Vec<EnvVar>,

    /// Configuration files mounted read-only into the container.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 64))]
    pub files: Vec<FileSpec>,

    /// Persistent volumes each App deployed from the template gets of its own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 16))]
    #[x_kube(validation = Rule::new("self.all(v, self.exists_one(w, w.name == v.name))")
        .message("volume names must be unique"))]
    pub volumes: Vec<VolumeSpec>,

    /// CPU, memory and other resources of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourcesSpec>,

    /// Health checks of the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probes: Option<Probes>,

    /// Pods of a deployed App unless the deploy says otherwise (default 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 1000))]
    pub replicas: Option<i32>,
}

/// A container image in parts, as a catalogue lists it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(validation = Rule::new("has(self.tag) || has(self.digest)")
    .message("an image needs a tag, a digest or both"))]
pub struct TemplateImage {
    /// The registry host (and port), e.g. `registry.example.com:5000`; Docker Hub
    /// when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[a-zA-Z0-9]([-a-zA-Z0-9.]*[a-zA-Z0-9])?(:[0-9]{1,5})?$"),
        length(min = 1, max = 253)
    )]
    pub registry: Option<String>,

    /// The repository, e.g. `library/nginx` or `nginx`.
    #[schemars(
        regex(pattern = r"^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*$"),
        length(min = 1, max = 255)
    )]
    pub repository: String,

    /// The tag, e.g. `1.27-alpine`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$"),
        length(min = 1, max = 128)
    )]
    pub tag: Option<String>,

    /// The content digest, e.g. `sha256:…`; pins the image when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(
        regex(pattern = r"^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$"),
        length(min = 71, max = 135)
    )]
    pub digest: Option<String>,
}

impl TemplateImage {
    /// The image reference a container runs: `[registry/]repository[:tag][@digest]`.
    pub fn reference(&self) -> String {
        let mut reference = match &self.registry {
            Some(registry) => format!("{registry}/{}", self.repository),
            None => self.repository.clone(),
        };
        if let Some(tag) = &self.tag {
            reference.push(':');
            reference.push_str(tag);
        }
        if let Some(digest) = &self.digest {
            reference.push('@');
            reference.push_str(digest);
        }
        reference
    }
}
