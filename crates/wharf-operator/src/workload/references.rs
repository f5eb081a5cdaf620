//! Checks that the Secrets and ConfigMaps a workload refers to exist, so a missing
//! one is reported on the workload instead of leaving pods that cannot start.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::{Api, Client};
use wharf_model::workload::{EnvFromSource, EnvVar};

use crate::error::{Error, ObjectName};

/// What the environment of `owner` (a workload) refers to that is not there, in
/// words, e.g. `key url in Secret db`.
pub async fn missing(
    client: &Client,
    owner: &ObjectName,
    env: &[EnvVar],
    env_from: &[EnvFromSource],
) -> Result<Vec<String>, Error> {
    let mut secret_keys: BTreeSet<(String, Option<String>)> = BTreeSet::new();
    let mut config_keys: BTreeSet<(String, Option<String>)> = BTreeSet::new();
    for var in env {
        if let Some(r) = &var.secret_ref {
            secret_keys.insert((r.name.clone(), Some(r.key.clone())));
        }
        if let Some(r) = &var.config_map_ref {
            config_keys.insert((r.name.clone(), Some(r.key.clone())));
        }
    }
    for source in env_from {
        if let Some(name) = &source.secret {
            secret_keys.insert((name.clone(), None));
        }
        if let Some(name) = &source.config_map {
            config_keys.insert((name.clone(), None));
        }
    }

    let mut missing = Vec::new();
    missing.extend(missing_of::<Secret>(client, owner, secret_keys).await?);
    missing.extend(missing_of::<ConfigMap>(client, owner, config_keys).await?);
    Ok(missing)
}

/// A kind that holds keys: a Secret or a ConfigMap.
trait HasKeys:
    kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + serde::de::DeserializeOwned
    + std::fmt::Debug
{
    /// Whether it has `key`, in either of its maps.
    fn has_key(&self, key: &str) -> bool;
}

impl HasKeys for Secret {
    fn has_key(&self, key: &str) -> bool {
        in_either(&self.data, &self.string_data, key)
    }
}

impl HasKeys for ConfigMap {
    fn has_key(&self, key: &str) -> bool {
        in_either(&self.data, &self.binary_data, key)
    }
}

/// Whether `key` is in either of an object's two maps of values.
fn in_either<A, B>(
    first: &Option<BTreeMap<String, A>>,
    second: &Option<BTreeMap<String, B>>,
    key: &str,
) -> bool {
    first.as_ref().is_some_and(|m| m.contains_key(key))
        || second.as_ref().is_some_and(|m| m.contains_key(key))
}

/// Which of `wanted` (names, and a key when one is needed) of kind `K` in the
/// owner's namespace are missing, in words.
async fn missing_of<K: HasKeys>(
    client: &Client,
    owner: &ObjectName,
    wanted: BTreeSet<(String, Option<String>)>,
) -> Result<Vec<String>, Error> {
    let ns = owner.namespace.as_deref().unwrap_or_default();
    let kind = crate::error::kind_of::<K>();
    let api = Api::<K>::namespaced(client.clone(), ns);
    let mut missing = Vec::new();
    for (name, key) in wanted {
        let found = api
            .get_opt(&name)
            .await
            .map_err(|source| Error::ReadReference {
                owner: owner.clone(),
                reference: ObjectName::new::<K>(Some(ns), &name),
                source,
            })?;
        match (found, key) {
            (None, _) => missing.push(format!("{kind} {name}")),
            (Some(found), Some(key)) if !found.has_key(&key) => {
                missing.push(format!("key {key} in {kind} {name}"));
            }
            _ => {}
        }
    }
    Ok(missing)
}
