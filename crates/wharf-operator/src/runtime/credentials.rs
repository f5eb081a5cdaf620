//! Each engine's credentials Secret: made once with fresh random values, then only
//! read. A key a newer Wharf needs is added beside the others; an existing value is
//! never replaced (the engine's data was initialized with it).
//!
//! The Secret has no owner reference: with `deletionPolicy: Retain` the volumes
//! outlive the Runtime, and a Runtime made again with the same name must find the
//! passwords its data was made with. `Delete` removes it with the volumes.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource};
use rand::Rng;
use rand::distr::{Alphanumeric, SampleString};
use serde_json::json;
use wharf_model::runtime::Runtime;
use wharf_model::runtime::build::children::ENGINE_LABEL;
use wharf_model::runtime::build::credentials::{Credential, Generate};
use wharf_model::runtime::build::secret_entries;
use wharf_model::runtime::build::{Credentials, Engine, Names, RUNTIME_LABEL};

use crate::error::{Error, ObjectName};

/// A value for `credential`.
fn generate(credential: &Credential) -> String {
    let mut rng = rand::rng();
    match credential.generate {
        Generate::Fixed(value) => value.to_owned(),
        Generate::Alphanumeric(length) => Alphanumeric.sample_string(&mut rng, length),
        Generate::Hex(length) => (0..length)
            .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
            .collect(),
    }
}

/// The credentials of `engine` in `runtime`: read from its Secret, which is made
/// (or given the keys it lacks) first.
pub async fn ensure(
    client: &Client,
    runtime: &Runtime,
    engine: Engine,
) -> Result<Credentials, Error> {
    let ns = runtime.meta().namespace.clone().unwrap_or_default();
    let name = Names::of(&runtime.meta().name.clone().unwrap_or_default(), engine).credentials;
    let api = Api::<Secret>::namespaced(client.clone(), &ns);
    let owner = ObjectName::of(runtime);
    let object = ObjectName::new::<Secret>(Some(&ns), &name);
    let read_failed = |source| Error::ReadReference {
        owner: owner.clone(),
        reference: object.clone(),
        source,
    };

    let existing = api.get_opt(&name).await.map_err(read_failed)?;
    let mut values = existing.as_ref().map(secret_entries).unwrap_or_default();
    let missing = Credentials(values.clone()).missing(engine);
    if missing.is_empty() {
        return Ok(Credentials(values));
    }
    let fresh: BTreeMap<String, String> = missing
        .iter()
        .map(|c| (c.key.to_owned(), generate(c)))
        .collect();
    if existing.is_none() {
        let secret = Secret {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(ns.clone()),
                labels: Some(BTreeMap::from([
                    (RUNTIME_LABEL.to_owned(), owner.name.clone()),
                    (ENGINE_LABEL.to_owned(), engine.name().to_owned()),
                    (
                        "app.kubernetes.io/managed-by".to_owned(),
                        "wharf".to_owned(),
                    ),
                ])),
                ..ObjectMeta::default()
            },
            type_: Some("Opaque".into()),
            data: Some(
                fresh
                    .iter()
                    .map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes())))
                    .collect(),
            ),
            ..Secret::default()
        };
        match api.create(&PostParams::default(), &secret).await {
            Ok(made) => return Ok(Credentials(secret_entries(&made))),
            // Made meanwhile (another reconcile): read what won.
            Err(kube::Error::Api(status)) if status.code == 409 => {
                let made = api.get(&name).await.map_err(read_failed)?;
                return Ok(Credentials(secret_entries(&made)));
            }
            Err(source) => {
                return Err(Error::CreateChild {
                    owner,
                    child: object,
                    source,
                });
            }
        }
    }
    // Only the missing keys are sent: a merge patch leaves every other key as
    // it is; the resourceVersion guard makes a concurrent writer retry.
    let version = existing.and_then(|s| s.metadata.resource_version);
    let data: serde_json::Map<String, serde_json::Value> = fresh
        .iter()
        .map(|(k, v)| (k.clone(), json!(ByteString(v.clone().into_bytes()))))
        .collect();
    let patch = json!({ "metadata": { "resourceVersion": version }, "data": data });
    api.patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map_err(|source| Error::UpdateChild {
            owner,
            child: object,
            source,
        })?;
    values.extend(fresh);
    Ok(Credentials(values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_values_have_the_asked_shape() {
        let hex = generate(&Credential {
            key: "k",
            generate: Generate::Hex(24),
        });
        assert_eq!(hex.len(), 24);
        assert!(hex.chars().all(|c| c.is_ascii_hexdigit()));
        let password = generate(&Credential {
            key: "p",
            generate: Generate::Alphanumeric(32),
        });
        assert!(password.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(
            generate(&Credential {
                key: "u",
                generate: Generate::Fixed("app")
            }),
            "app"
        );
    }
}
