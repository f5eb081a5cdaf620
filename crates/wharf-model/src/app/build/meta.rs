//! Names, labels, owner references and the config hash shared by all children.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::Resource;
use kube::api::ObjectMeta;
use sha2::{Digest, Sha256};

use crate::app::App;

use super::BuildError;

/// Label with the App's name on every child and pod; the pod selector.
pub const APP_LABEL: &str = "wharf.dev/app";

/// Pod template annotation with a hash of the App's env, secrets and files, so a
/// change to any of them rolls the pods.
pub const CONFIG_HASH_ANNOTATION: &str = "wharf.dev/config-hash";

/// Name of the ConfigMap and Secret holding an App's environment.
pub fn env_object_name(app: &str) -> String {
    format!("{app}-env")
}

/// Name of the ConfigMap holding an App's files.
pub fn files_object_name(app: &str) -> String {
    format!("{app}-files")
}

/// The labels that select an App's pods. Kept minimal: a Deployment's selector
/// cannot change.
pub fn selector_labels(app: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(APP_LABEL.to_owned(), app.to_owned())])
}

/// What every child of one App shares.
pub(super) struct ChildMeta {
    pub app: String,
    pub namespace: String,
    owner: OwnerReference,
}

impl ChildMeta {
    pub fn of(app: &App) -> Result<Self, BuildError> {
        let name = app
            .metadata
            .name
            .clone()
            .ok_or(BuildError::MissingMetadata("name"))?;
        let namespace = app
            .metadata
            .namespace
            .clone()
            .ok_or(BuildError::MissingMetadata("namespace"))?;
        let owner = app
            .controller_owner_ref(&())
            .ok_or(BuildError::MissingMetadata("uid"))?;
        Ok(Self {
            app: name,
            namespace,
            owner,
        })
    }

    /// Labels of every child and pod.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = selector_labels(&self.app);
        labels.insert("app.kubernetes.io/name".into(), self.app.clone());
        labels.insert("app.kubernetes.io/managed-by".into(), "wharf".into());
        labels
    }

    /// Metadata of a child named `name`, owned by the App.
    pub fn object(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels()),
            owner_references: Some(vec![self.owner.clone()]),
            ..ObjectMeta::default()
        }
    }

    pub fn config_map(&self, name: &str, data: BTreeMap<String, String>) -> ConfigMap {
        ConfigMap {
            metadata: self.object(name),
            data: Some(data),
            ..ConfigMap::default()
        }
    }

    pub fn secret(&self, name: &str, data: BTreeMap<String, String>) -> Secret {
        Secret {
            metadata: self.object(name),
            type_: Some("Opaque".into()),
            data: Some(
                data.into_iter()
                    .map(|(k, v)| (k, ByteString(v.into_bytes())))
                    .collect(),
            ),
            ..Secret::default()
        }
    }
}

/// A hash of everything the pods read from ConfigMaps and Secrets Wharf writes.
pub(super) fn content_hash(
    config: &BTreeMap<String, String>,
    secret: &BTreeMap<String, String>,
    files: Option<&ConfigMap>,
) -> String {
    let mut hasher = Sha256::new();
    let mut feed = |section: &str, map: &BTreeMap<String, String>| {
        hasher.update(section.as_bytes());
        for (key, value) in map {
            // Lengths first, so no two different maps hash the same bytes.
            hasher.update((key.len() as u64).to_be_bytes());
            hasher.update(key.as_bytes());
            hasher.update((value.len() as u64).to_be_bytes());
            hasher.update(value.as_bytes());
        }
    };
    feed("env", config);
    feed("secret", secret);
    if let Some(data) = files.and_then(|cm| cm.data.as_ref()) {
        feed("files", data);
    }
    let digest = hasher.finalize();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}
