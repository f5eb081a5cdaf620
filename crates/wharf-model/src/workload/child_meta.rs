//! Names, labels and owner references shared by every child of one workload (an App
//! or a Task).

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

use super::env_build::{BuiltEnv, EnvError, build_env};
use super::substitute::BuiltIns;
use super::{EnvFromSource, EnvVar, FileSpec, files_config_map};
use kube::Resource;
use kube::api::ObjectMeta;

/// Name of the ConfigMap and Secret holding a workload's environment.
pub fn env_object_name(workload: &str) -> String {
    format!("{workload}-env")
}

/// Name of the ConfigMap holding a workload's mounted files.
pub fn files_object_name(workload: &str) -> String {
    format!("{workload}-files")
}

/// The owner was not read from the API server, so it lacks the named metadata.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the object has no {0}; only objects read from the API server can be built")]
pub struct MissingMetadata(pub &'static str);

/// A workload's environment and the objects that hold it and its mounted files.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadConfig {
    /// The container's environment.
    pub env: BuiltEnv,
    /// Plain environment values, when there are any.
    pub env_config_map: Option<ConfigMap>,
    /// Generated secret values and values built from them, when there are any.
    pub env_secret: Option<Secret>,
    /// Mounted files, when there are any.
    pub files_config_map: Option<ConfigMap>,
}

/// What every child of one workload shares.
#[derive(Clone, Debug, PartialEq)]
pub struct ChildMeta {
    /// The workload's name.
    pub name: String,
    /// The workload's namespace, which is every child's.
    pub namespace: String,
    /// The label whose value is the workload's name, e.g. `wharf.dev/app`.
    pub owner_label: &'static str,
    owner: OwnerReference,
}

impl ChildMeta {
    /// The shared metadata of `owner`'s children, labelled with `owner_label`.
    pub fn of<K: Resource<DynamicType = ()>>(
        owner: &K,
        owner_label: &'static str,
    ) -> Result<Self, MissingMetadata> {
        let meta = owner.meta();
        Ok(Self {
            name: meta.name.clone().ok_or(MissingMetadata("name"))?,
            namespace: meta.namespace.clone().ok_or(MissingMetadata("namespace"))?,
            owner_label,
            owner: owner
                .controller_owner_ref(&())
                .ok_or(MissingMetadata("uid"))?,
        })
    }

    /// The minimal labels that select the workload's pods.
    pub fn selector_labels(&self) -> BTreeMap<String, String> {
        BTreeMap::from([(self.owner_label.to_owned(), self.name.clone())])
    }

    /// Labels of every child and pod.
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut labels = self.selector_labels();
        labels.insert("app.kubernetes.io/name".into(), self.name.clone());
        labels.insert("app.kubernetes.io/managed-by".into(), "wharf".into());
        labels
    }

    /// Metadata of a child named `name`, controlled by the workload.
    pub fn object(&self, name: &str) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(self.namespace.clone()),
            labels: Some(self.labels()),
            owner_references: Some(vec![self.owner.clone()]),
            ..ObjectMeta::default()
        }
    }

    /// A ConfigMap child.
    pub fn config_map(&self, name: &str, data: BTreeMap<String, String>) -> ConfigMap {
        ConfigMap {
            metadata: self.object(name),
            data: Some(data),
            ..ConfigMap::default()
        }
    }

    /// The env ConfigMap (plain values) and env Secret (secret values) behind
    /// `env`, each only when it has data.
    pub fn env_objects(&self, env: &BuiltEnv) -> (Option<ConfigMap>, Option<Secret>) {
        let name = env_object_name(&self.name);
        (
            (!env.config.is_empty()).then(|| self.config_map(&name, env.config.clone())),
            (!env.secret.is_empty()).then(|| self.secret(&name, env.secret.clone())),
        )
    }

    /// Builds the workload's environment from `env` and `env_from` (`${HOST}` is
    /// `host`; `generated` holds the generated secret values by variable name) and
    /// the objects behind it and `files`.
    pub fn config(
        &self,
        host: String,
        env: &[EnvVar],
        env_from: &[EnvFromSource],
        files: &[FileSpec],
        generated: &BTreeMap<String, String>,
    ) -> Result<WorkloadConfig, EnvError> {
        let built_ins = BuiltIns {
            host,
            app: self.name.clone(),
            namespace: self.namespace.clone(),
        };
        let env_name = env_object_name(&self.name);
        let env = build_env(env, env_from, &built_ins, generated, &env_name, &env_name)?;
        let (env_config_map, env_secret) = self.env_objects(&env);
        Ok(WorkloadConfig {
            files_config_map: files_config_map(self, &files_object_name(&self.name), files),
            env,
            env_config_map,
            env_secret,
        })
    }

    /// An Opaque Secret child.
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
