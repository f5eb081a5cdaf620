//! Generated secret values: made once, then read back from the workload's env Secret
//! on every reconcile, so they stay the same across reconciles and updates.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use kube::runtime::reflector::{ObjectRef, Store};
use rand::Rng;
use rand::distr::{Alphanumeric, SampleString};
use wharf_model::workload::env_build::missing_generated;
use wharf_model::workload::{EnvVar, GenerateSpec, GeneratedCharset};

use crate::error::{Error, ObjectName};

fn generated_from(secret: Option<&Secret>, env: &[EnvVar]) -> BTreeMap<String, String> {
    let Some(data) = secret.and_then(|s| s.data.as_ref()) else {
        return BTreeMap::new();
    };
    env.iter()
        .filter(|var| var.secret.is_some())
        .filter_map(|var| {
            let bytes = data.get(&var.name)?;
            Some((var.name.clone(), String::from_utf8(bytes.0.clone()).ok()?))
        })
        .collect()
}

/// A fresh random value.
pub fn generate(spec: &GenerateSpec) -> String {
    let mut rng = rand::rng();
    let length = spec.length as usize;
    match spec.charset {
        GeneratedCharset::Alphanumeric => Alphanumeric.sample_string(&mut rng, length),
        GeneratedCharset::Hex => (0..length)
            .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
            .collect(),
    }
}

/// The generated values of the `env` of `owner` (a workload), by variable name:
/// those its env Secret `secret_name` already has (read from `secrets`, a cache),
/// and new ones for variables that have none yet.
pub async fn values(
    secrets: &Store<Secret>,
    client: &kube::Client,
    owner: &ObjectName,
    secret_name: &str,
    env: &[EnvVar],
) -> Result<BTreeMap<String, String>, Error> {
    if env.iter().all(|var| var.secret.is_none()) {
        return Ok(BTreeMap::new());
    }
    let ns = owner.namespace.as_deref().unwrap_or_default();
    let cached = secrets.get(&ObjectRef::new(secret_name).within(ns));
    let mut values = generated_from(cached.as_deref(), env);
    if !missing_generated(env, &values).is_empty() {
        // The cache may lag a Secret written moments ago: ask the API server before
        // making new values, or a value could change under running pods.
        let fresh = Api::<Secret>::namespaced(client.clone(), ns)
            .get_opt(secret_name)
            .await
            .map_err(|source| Error::ReadReference {
                owner: owner.clone(),
                reference: ObjectName::new::<Secret>(Some(ns), secret_name),
                source,
            })?;
        values = generated_from(fresh.as_ref(), env);
    }
    let new: Vec<(String, String)> = missing_generated(env, &values)
        .into_iter()
        .map(|(name, spec)| (name.to_owned(), generate(spec)))
        .collect();
    values.extend(new);
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_the_asked_length_and_charset() {
        let hex = generate(&GenerateSpec {
            length: 40,
            charset: GeneratedCharset::Hex,
        });
        assert_eq!(hex.len(), 40);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        let alnum = generate(&GenerateSpec::default());
        assert_eq!(alnum.len(), 32);
        assert_ne!(alnum, generate(&GenerateSpec::default()));
    }
}
