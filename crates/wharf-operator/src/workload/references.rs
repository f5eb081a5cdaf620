//! Checks that the Secrets and ConfigMaps a workload refers to exist, so a missing
//! one is reported on the workload instead of leaving pods that cannot start.

use std::collections::BTreeSet;

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

    let ns = owner.namespace.as_deref().unwrap_or_default();
    let read = |reference: ObjectName| {
        move |source| Error::ReadReference {
            owner: owner.clone(),
            reference,
            source,
        }
    };
    let mut missing = Vec::new();
    let secrets = Api::<Secret>::namespaced(client.clone(), ns);
    for (name, key) in secret_keys {
        let found = secrets
            .get_opt(&name)
            .await
            .map_err(read(ObjectName::new::<Secret>(Some(ns), &name)))?;
        let has_key = |s: &Secret, k: &str| {
            s.data.as_ref().is_some_and(|d| d.contains_key(k))
                || s.string_data.as_ref().is_some_and(|d| d.contains_key(k))
        };
        match (found, key) {
            (None, _) => missing.push(format!("Secret {name}")),
            (Some(s), Some(key)) if !has_key(&s, &key) => {
                missing.push(format!("key {key} in Secret {name}"))
            }
            _ => {}
        }
    }
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), ns);
    for (name, key) in config_keys {
        let found = config_maps
            .get_opt(&name)
            .await
            .map_err(read(ObjectName::new::<ConfigMap>(Some(ns), &name)))?;
        let has_key = |c: &ConfigMap, k: &str| {
            c.data.as_ref().is_some_and(|d| d.contains_key(k))
                || c.binary_data.as_ref().is_some_and(|d| d.contains_key(k))
        };
        match (found, key) {
            (None, _) => missing.push(format!("ConfigMap {name}")),
            (Some(c), Some(key)) if !has_key(&c, &key) => {
                missing.push(format!("key {key} in ConfigMap {name}"))
            }
            _ => {}
        }
    }
    Ok(missing)
}
