//! A Runtime's children, built without I/O: per engine a StatefulSet, a headless
//! and a client Service, a ConfigMap and a binding Secret (and what the engine
//! needs besides). The credentials Secrets are made by the operator, once; the
//! builders read them.

pub mod access;
pub mod children;
pub mod cnpg;
pub mod credentials;
pub mod engine;
pub mod env;
pub mod hosts;
pub mod mongodb;
pub mod nats;
pub mod postgres;
pub mod quantity;
pub mod redis;
pub mod s3;

use std::collections::BTreeMap;

pub use children::{EngineChildren, Names};
pub use credentials::{Credentials, MissingCredential};
pub use engine::{Engine, EngineParts};
pub use hosts::{Addr, ClusterHosts, Hosts, LoopbackHosts};

use super::{EngineSpec, Runtime};
use crate::workload::{ChildMeta, MissingMetadata};

/// The label that names a child's Runtime.
pub const RUNTIME_LABEL: &str = "wharf.dev/runtime";

/// Why a Runtime's children cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The Runtime was not read from the API server.
    #[error(transparent)]
    Metadata(#[from] MissingMetadata),
    /// The operator has not made an engine's credentials yet.
    #[error("{}: {}", .0.name(), .1)]
    Credentials(Engine, MissingCredential),
    /// CloudNativePG's app Secret lacks an entry the binding needs.
    #[error("postgres: CloudNativePG's app Secret {secret} has no {key}")]
    AppSecret {
        /// The Secret's name.
        secret: String,
        /// The missing entry.
        key: String,
    },
    /// This build of Wharf cannot run the engine yet.
    #[error("{}: this version of Wharf cannot run this engine yet", .0.name())]
    Unsupported(Engine),
}

/// A Secret's entries that are text (Wharf writes only text into the Secrets
/// it makes), by key.
pub fn secret_entries(secret: &k8s_openapi::api::core::v1::Secret) -> BTreeMap<String, String> {
    secret
        .data
        .iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.clone(), String::from_utf8(v.0.clone()).ok()?)))
        .collect()
}

/// What the builders need to know of the cluster.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Cluster {
    /// CloudNativePG's `Cluster` kind is served: PostgreSQL is delegated to it.
    pub cloudnative_pg: bool,
}

/// The engines `runtime` asks for, with their settings as one shape (S3's
/// extra settings are read from the spec by its builder).
pub fn engines(runtime: &Runtime) -> Vec<(Engine, EngineSpec)> {
    let spec = &runtime.spec;
    let s3 = spec.s3.as_ref().map(|s3| EngineSpec {
        version: s3.version.clone(),
        image: s3.image.clone(),
        replicas: s3.replicas,
        storage: s3.storage.clone(),
        resources: s3.resources.clone(),
    });
    [
        (Engine::Mongodb, spec.mongodb.clone()),
        (Engine::Nats, spec.nats.clone()),
        (Engine::S3, s3),
        (Engine::Postgres, spec.postgres.clone()),
        (Engine::Redis, spec.redis.clone()),
    ]
    .into_iter()
    .filter_map(|(engine, spec)| spec.map(|s| (engine, s)))
    .collect()
}

/// The image an engine runs: its `image`, else its official image at `version`
/// or Wharf's default tag.
pub fn image(engine: Engine, spec: &EngineSpec) -> String {
    spec.image.clone().unwrap_or_else(|| {
        format!(
            "{}:{}",
            engine.repository(),
            spec.version.as_deref().unwrap_or(engine.default_version())
        )
    })
}

/// The in-cluster addresses of `engine`'s members in `runtime`'s namespace.
pub fn cluster_hosts(meta: &ChildMeta, engine: Engine) -> ClusterHosts {
    let names = Names::of(&meta.name, engine);
    ClusterHosts {
        set: names.base.clone(),
        headless: names.headless,
        client: names.base,
        namespace: meta.namespace.clone(),
    }
}

/// Builds the children of every engine `runtime` asks for. `credentials` holds
/// each engine's credentials Secret's data.
pub fn build(
    runtime: &Runtime,
    credentials: &BTreeMap<Engine, Credentials>,
    cluster: Cluster,
) -> Result<Vec<EngineChildren>, BuildError> {
    let meta = ChildMeta::of(runtime, RUNTIME_LABEL)?;
    let empty = Credentials::default();
    engines(runtime)
        .into_iter()
        // CloudNativePG runs PostgreSQL: see [`cnpg`].
        .filter(|(engine, _)| !(cluster.cloudnative_pg && *engine == Engine::Postgres))
        .map(|(engine, spec)| {
            let credentials = credentials.get(&engine).unwrap_or(&empty);
            build_engine(&meta, runtime, engine, &spec, credentials, cluster)
        })
        .collect()
}

fn build_engine(
    meta: &ChildMeta,
    runtime: &Runtime,
    engine: Engine,
    spec: &EngineSpec,
    credentials: &Credentials,
    _cluster: Cluster,
) -> Result<EngineChildren, BuildError> {
    let missing = |m: MissingCredential| BuildError::Credentials(engine, m);
    let names = Names::of(&meta.name, engine);
    let hosts = cluster_hosts(meta, engine);
    let image = image(engine, spec);
    let frame = children::Frame {
        meta,
        engine,
        replicas: spec.replicas,
        storage: &spec.storage,
        deletion: runtime.spec.deletion_policy,
        data_dir: match engine {
            Engine::Postgres => postgres::DATA_DIR,
            _ => children::DATA_DIR,
        },
    };
    let (mut parts, ports) = match engine {
        Engine::Nats => {
            let nats = nats::Nats {
                runtime: &meta.name,
                names: &names,
                replicas: spec.replicas,
                storage_size: &spec.storage.size,
                hosts: &hosts,
                data_dir: children::DATA_DIR,
            };
            (
                nats.parts(&image, credentials).map_err(missing)?,
                nats::Nats::ports(),
            )
        }
        Engine::Postgres => {
            let postgres = postgres::Postgres {
                runtime: &meta.name,
                names: &names,
                replicas: spec.replicas,
                hosts: &hosts,
                data_dir: postgres::DATA_DIR,
                config_dir: children::CONFIG_DIR,
                socket_dir: "/tmp",
            };
            let mut parts = postgres.parts(&image, credentials).map_err(missing)?;
            // Reads may go to any member, the primary included.
            parts.services.push(frame.service(
                &format!("{}-ro", names.base),
                &parts.client_ports,
                false,
                None,
            ));
            (parts, vec![("postgres".to_owned(), postgres::PORT)])
        }
        Engine::Mongodb => {
            let mongodb = mongodb::Mongodb {
                runtime: &meta.name,
                names: &names,
                replicas: spec.replicas,
                hosts: &hosts,
                data_dir: children::DATA_DIR,
                config_dir: children::CONFIG_DIR,
            };
            let mut parts = mongodb.parts(&image, credentials).map_err(missing)?;
            let user = credentials.get(credentials::USERNAME).map_err(missing)?;
            parts.bootstrap =
                Some(mongodb.bootstrap_job(&image, frame.object(&mongodb.bootstrap_name(user))));
            parts.superseded_bootstraps = [1, 3]
                .into_iter()
                .filter(|&members| members != spec.replicas)
                .map(|members| {
                    mongodb::Mongodb {
                        replicas: members,
                        ..mongodb
                    }
                    .bootstrap_name(user)
                })
                .collect();
            (parts, vec![("mongodb".to_owned(), mongodb::PORT)])
        }
        Engine::S3 => {
            // Present: `engines` lists S3 only when the spec has it.
            let s3 = runtime.spec.s3.clone().unwrap_or_default();
            let garage = s3::Garage {
                runtime: &meta.name,
                names: &names,
                hosts: &hosts,
                data_dir: children::DATA_DIR,
                config_dir: children::CONFIG_DIR,
                bucket: &s3.bucket,
                region: &s3.region,
            };
            (
                garage.parts(&image, credentials).map_err(missing)?,
                s3::Garage::ports(),
            )
        }
        Engine::Redis => {
            let redis = redis::Redis {
                runtime: &meta.name,
                names: &names,
                replicas: spec.replicas,
                hosts: &hosts,
                data_dir: children::DATA_DIR,
                config_dir: children::CONFIG_DIR,
                sentinel: redis::SentinelTimings::default(),
            };
            (
                redis.parts(&image, credentials).map_err(missing)?,
                redis.ports(),
            )
        }
    };
    parts.container.resources.clone_from(&spec.resources);
    Ok(frame.children(parts, &ports))
}

#[cfg(test)]
mod tests;
