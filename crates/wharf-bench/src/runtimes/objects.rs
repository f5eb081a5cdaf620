//! The Runtimes the benchmark creates, and for the baseline the same children as
//! plain objects: built by Wharf's own builder, with credentials generated here as
//! the operator generates them, and without owner references (there is no Runtime
//! on the baseline side to own them).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use k8s_openapi::ByteString;
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::Secret;
use kube::api::{ObjectMeta, PostParams};
use kube::{Api, Client, Resource};
use rand::Rng;
use rand::distr::{Alphanumeric, SampleString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wharf_model::runtime::build::children::ENGINE_LABEL;
use wharf_model::runtime::build::credentials::{self, Credential, Generate};
use wharf_model::runtime::build::{
    self, Cluster, Credentials, Engine, EngineChildren, Names, RUNTIME_LABEL,
};
use wharf_model::runtime::{EngineSpec, Runtime, RuntimeSpec, S3Spec};

use crate::{BenchError, temporary};

/// The name of the `index`-th Runtime, e.g. `rt-0007`.
pub fn name(index: usize) -> String {
    format!("rt-{index:04}")
}

/// A Runtime with all five engines, replicated where the engine can be: MongoDB,
/// NATS and Valkey with 3 members, S3 with 1, PostgreSQL with a primary and a
/// replica.
pub fn five_engines() -> RuntimeSpec {
    let members = |replicas| {
        Some(EngineSpec {
            replicas,
            ..EngineSpec::default()
        })
    };
    RuntimeSpec {
        mongodb: members(3),
        nats: members(3),
        s3: Some(S3Spec::default()),
        postgres: members(2),
        redis: members(3),
        ..RuntimeSpec::default()
    }
}

/// A Runtime with one member of each of `engines`.
pub fn one_member_of(engines: &[Engine]) -> RuntimeSpec {
    let mut spec = RuntimeSpec::default();
    for engine in engines {
        // `EngineSpec::default()` has 0 replicas; only serde defaults to 1.
        let one = Some(EngineSpec {
            replicas: 1,
            ..EngineSpec::default()
        });
        match engine {
            Engine::Mongodb => spec.mongodb = one,
            Engine::Nats => spec.nats = one,
            Engine::S3 => spec.s3 = Some(S3Spec::default()),
            Engine::Postgres => spec.postgres = one,
            Engine::Redis => spec.redis = one,
        }
    }
    spec
}

/// The engines of `spec` and their members, e.g. `mongodb 3, nats 3`.
pub fn describe(spec: &RuntimeSpec) -> String {
    let runtime = Runtime::new("", spec.clone());
    build::engines(&runtime)
        .iter()
        .map(|(engine, spec)| format!("{} {}", engine.name(), spec.replicas))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The Runtime `name` with `spec`, as a user creates it.
pub fn runtime(name: &str, spec: &RuntimeSpec) -> Runtime {
    Runtime::new(name, spec.clone())
}

/// Every child of one Runtime: what the operator makes of it, and what the
/// baseline creates by hand.
#[derive(Clone, Debug)]
pub struct Children {
    /// Each engine's credentials Secret.
    pub credentials: Vec<Secret>,
    /// Each engine's configuration, binding, Services, StatefulSet and bootstrap
    /// Job.
    pub engines: Vec<EngineChildren>,
}

impl Children {
    /// The children of the Runtime `name` with `spec` in `namespace`, built as the
    /// operator builds them, with freshly generated credentials.
    pub fn build(name: &str, namespace: &str, spec: &RuntimeSpec) -> Result<Self, BenchError> {
        let mut runtime = runtime(name, spec);
        runtime.metadata.namespace = Some(namespace.to_owned());
        // The builder makes every child controlled by the Runtime; the baseline's
        // lose that reference again.
        runtime.metadata.uid = Some(format!("wharf-bench-{name}"));
        let credentials: BTreeMap<Engine, Credentials> = build::engines(&runtime)
            .into_iter()
            .map(|(engine, _)| (engine, generate(engine)))
            .collect();
        let engines = build::build(&runtime, &credentials, Cluster::default())
            .map_err(|source| BenchError::Build {
                runtime: name.to_owned(),
                source,
            })?
            .into_iter()
            .map(without_owners)
            .collect();
        Ok(Self {
            credentials: credentials
                .iter()
                .map(|(engine, values)| credentials_secret(name, namespace, *engine, values))
                .collect(),
            engines,
        })
    }

    /// The children's names by kind.
    pub fn names(&self) -> ChildNames {
        let name = |meta: &ObjectMeta| meta.name.clone().unwrap_or_default();
        let mut names = ChildNames::default();
        names
            .secrets
            .extend(self.credentials.iter().map(|s| name(&s.metadata)));
        for engine in &self.engines {
            names
                .stateful_sets
                .insert(name(&engine.stateful_set.metadata));
            names.config_maps.insert(name(&engine.config.metadata));
            names.secrets.insert(name(&engine.binding.metadata));
            names.services.extend(
                [&engine.headless, &engine.client]
                    .into_iter()
                    .chain(&engine.services)
                    .map(|s| name(&s.metadata)),
            );
            names
                .jobs
                .extend(engine.bootstrap.iter().map(|j| name(&j.metadata)));
        }
        names
    }

    /// The Services that take a cluster IP (all but the headless ones).
    pub fn cluster_ips(&self) -> usize {
        self.engines
            .iter()
            .flat_map(|e| [&e.headless, &e.client].into_iter().chain(&e.services))
            .filter(|s| s.spec.as_ref().and_then(|s| s.cluster_ip.as_deref()) != Some("None"))
            .count()
    }

    /// Creates every child in `namespace`, one after the other in the order the
    /// operator applies them: the credentials, then per engine what its members
    /// mount, its Services, its StatefulSet and its bootstrap Job.
    pub async fn create(&self, client: &Client, namespace: &str) -> Result<(), BenchError> {
        for secret in &self.credentials {
            create(client, namespace, secret).await?;
        }
        for engine in &self.engines {
            create(client, namespace, &engine.config).await?;
            create(client, namespace, &engine.binding).await?;
            create(client, namespace, &engine.headless).await?;
            create(client, namespace, &engine.client).await?;
            for service in &engine.services {
                create(client, namespace, service).await?;
            }
            create(client, namespace, &engine.stateful_set).await?;
            if let Some(job) = &engine.bootstrap {
                create(client, namespace, job).await?;
            }
        }
        Ok(())
    }

    /// Deletes every child from `namespace` (those already gone are fine); their
    /// pods and claims go in the background.
    pub async fn delete(&self, client: &Client, namespace: &str) -> Result<(), BenchError> {
        for secret in &self.credentials {
            delete(client, namespace, secret).await?;
        }
        for engine in &self.engines {
            delete(client, namespace, &engine.config).await?;
            delete(client, namespace, &engine.binding).await?;
            delete(client, namespace, &engine.headless).await?;
            delete(client, namespace, &engine.client).await?;
            for service in &engine.services {
                delete(client, namespace, service).await?;
            }
            delete(client, namespace, &engine.stateful_set).await?;
            if let Some(job) = &engine.bootstrap {
                delete(client, namespace, job).await?;
            }
        }
        Ok(())
    }
}

/// The names of a Runtime's children (or many Runtimes'), by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChildNames {
    /// The members.
    pub stateful_sets: BTreeSet<String>,
    /// Headless, client and the engines' further Services.
    pub services: BTreeSet<String>,
    /// The configuration.
    pub config_maps: BTreeSet<String>,
    /// Credentials and binding Secrets.
    pub secrets: BTreeSet<String>,
    /// Bootstrap Jobs.
    pub jobs: BTreeSet<String>,
}

impl ChildNames {
    /// Adds `other`'s names.
    pub fn extend(&mut self, other: ChildNames) {
        self.stateful_sets.extend(other.stateful_sets);
        self.services.extend(other.services);
        self.config_maps.extend(other.config_maps);
        self.secrets.extend(other.secrets);
        self.jobs.extend(other.jobs);
    }

    /// How many children there are.
    pub fn total(&self) -> usize {
        self.stateful_sets.len()
            + self.services.len()
            + self.config_maps.len()
            + self.secrets.len()
            + self.jobs.len()
    }

    /// The counts in words, e.g. `5 StatefulSets, 12 Services, …`.
    pub fn describe(&self) -> String {
        [
            (self.stateful_sets.len(), "StatefulSet"),
            (self.services.len(), "Service"),
            (self.config_maps.len(), "ConfigMap"),
            (self.secrets.len(), "Secret"),
            (self.jobs.len(), "Job"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, kind)| format!("{n} {kind}{}", if n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Fresh values for every credential `engine` needs, as the operator makes them
/// (its generator is private to it).
fn generate(engine: Engine) -> Credentials {
    let mut rng = rand::rng();
    let value = |credential: &Credential, rng: &mut rand::rngs::ThreadRng| match credential.generate
    {
        Generate::Fixed(value) => value.to_owned(),
        Generate::Alphanumeric(length) => Alphanumeric.sample_string(rng, length),
        Generate::Hex(length) => (0..length)
            .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
            .collect(),
    };
    Credentials(
        credentials::required(engine)
            .iter()
            .map(|c| (c.key.to_owned(), value(c, &mut rng)))
            .collect(),
    )
}

/// The credentials Secret of `engine`, as the operator makes it.
fn credentials_secret(
    runtime: &str,
    namespace: &str,
    engine: Engine,
    values: &Credentials,
) -> Secret {
    Secret {
        metadata: ObjectMeta {
            name: Some(Names::of(runtime, engine).credentials),
            namespace: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([
                (RUNTIME_LABEL.to_owned(), runtime.to_owned()),
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
            values
                .0
                .iter()
                .map(|(k, v)| (k.clone(), ByteString(v.clone().into_bytes())))
                .collect(),
        ),
        ..Secret::default()
    }
}

fn without_owners(mut engine: EngineChildren) -> EngineChildren {
    fn strip(meta: &mut ObjectMeta) {
        meta.owner_references = None;
    }
    strip(&mut engine.stateful_set.metadata);
    strip(&mut engine.headless.metadata);
    strip(&mut engine.client.metadata);
    engine
        .services
        .iter_mut()
        .for_each(|s| strip(&mut s.metadata));
    strip(&mut engine.config.metadata);
    strip(&mut engine.binding.metadata);
    if let Some(job) = &mut engine.bootstrap {
        strip(&mut job.metadata);
    }
    engine
}

async fn delete<K>(client: &Client, namespace: &str, object: &K) -> Result<(), BenchError>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let name = object.meta().name.as_deref().unwrap_or_default();
    let api = Api::<K>::namespaced(client.clone(), namespace);
    temporary::delete(&api, name, &format!("the {} {name}", K::kind(&()))).await?;
    Ok(())
}

async fn create<K>(client: &Client, namespace: &str, object: &K) -> Result<(), BenchError>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
{
    let name = object.meta().name.as_deref().unwrap_or_default();
    Api::<K>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), object)
        .await
        .map_err(BenchError::kube(format!(
            "creating the {} {name}",
            K::kind(&())
        )))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_engines_have_every_child_and_no_owner() {
        let children = Children::build("rt-0001", "ns", &five_engines()).unwrap();
        let names = children.names();
        assert_eq!(names.stateful_sets.len(), 5, "{names:?}");
        assert_eq!(names.config_maps.len(), 5, "{names:?}");
        // A credentials and a binding Secret per engine.
        assert_eq!(names.secrets.len(), 10, "{names:?}");
        // MongoDB's replica set is initiated by a Job.
        assert_eq!(names.jobs.len(), 1, "{names:?}");
        assert!(names.jobs.iter().all(|j| j.starts_with("rt-0001-mongodb-")));
        // A headless and a client Service per engine at least.
        assert!(names.services.len() >= 10, "{names:?}");
        assert!(children.cluster_ips() >= 5);
        assert!(children.cluster_ips() < names.services.len());
        for engine in &children.engines {
            assert_eq!(engine.stateful_set.metadata.owner_references, None);
            assert_eq!(engine.binding.metadata.owner_references, None);
        }
        assert_eq!(
            describe(&five_engines()),
            "mongodb 3, nats 3, s3 1, postgres 2, redis 3"
        );
    }

    #[test]
    fn generated_credentials_have_every_required_key() {
        for engine in Engine::ALL {
            let values = generate(engine);
            assert!(values.missing(engine).is_empty(), "{engine:?}");
            for credential in credentials::required(engine) {
                let value = values.get(credential.key).unwrap();
                match credential.generate {
                    Generate::Fixed(fixed) => assert_eq!(value, fixed),
                    Generate::Alphanumeric(n) => {
                        assert_eq!(value.len(), n);
                        assert!(value.chars().all(|c| c.is_ascii_alphanumeric()));
                    }
                    Generate::Hex(n) => {
                        assert_eq!(value.len(), n);
                        assert!(value.chars().all(|c| c.is_ascii_hexdigit()));
                    }
                }
            }
        }
    }

    #[test]
    fn one_member_of_each_named_engine() {
        let spec = one_member_of(&[Engine::Nats]);
        assert_eq!(describe(&spec), "nats 1");
        let names = Children::build("rt-0000", "ns", &spec).unwrap().names();
        assert_eq!(
            names.describe(),
            "1 StatefulSet, 2 Services, 1 ConfigMap, 2 Secrets"
        );
        assert_eq!(names.total(), 6);
    }
}
