//! What an App or Task that names a Runtime gets: environment variables that read
//! the Runtime's binding Secrets through `secretKeyRef` (the values are never
//! copied into the workload), under KRE's names (`KRT_MONGO_URI`,
//! `KRT_NATS_SERVER`) and the names libraries look for (`DATABASE_URL`,
//! `REDIS_URL`, `NATS_URL`, `AWS_ENDPOINT_URL_S3`, …).

use k8s_openapi::api::core::v1 as core;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::build::{Engine, Names};
use crate::workload::env_build::BuiltEnv;

/// A workload's use of a Runtime in its namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct RuntimeRef {
    /// The Runtime's name.
    #[schemars(length(min = 1, max = 40))]
    pub name: String,

    /// The engines whose connection variables the workload gets; every engine
    /// of the Runtime when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(length(max = 5))]
    pub engines: Vec<RuntimeEngine>,
}

/// An engine, as a workload names it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum RuntimeEngine {
    /// MongoDB.
    Mongodb,
    /// NATS.
    Nats,
    /// S3.
    S3,
    /// PostgreSQL.
    Postgres,
    /// Valkey.
    Redis,
}

impl RuntimeEngine {
    /// The builders' engine.
    pub fn engine(self) -> Engine {
        match self {
            Self::Mongodb => Engine::Mongodb,
            Self::Nats => Engine::Nats,
            Self::S3 => Engine::S3,
            Self::Postgres => Engine::Postgres,
            Self::Redis => Engine::Redis,
        }
    }
}

/// The variables of `engine`: (variable, binding key).
pub fn variables(engine: Engine) -> &'static [(&'static str, &'static str)] {
    match engine {
        Engine::Mongodb => &[("KRT_MONGO_URI", "uri"), ("MONGODB_URI", "uri")],
        Engine::Nats => &[("KRT_NATS_SERVER", "server"), ("NATS_URL", "uri")],
        Engine::S3 => &[
            ("AWS_ENDPOINT_URL_S3", "endpoint"),
            ("AWS_ACCESS_KEY_ID", "accessKeyId"),
            ("AWS_SECRET_ACCESS_KEY", "secretAccessKey"),
            ("AWS_REGION", "region"),
            ("S3_BUCKET", "bucket"),
        ],
        Engine::Postgres => &[
            ("DATABASE_URL", "uri"),
            ("PGHOST", "host"),
            ("PGPORT", "port"),
            ("PGUSER", "username"),
            ("PGPASSWORD", "password"),
            ("PGDATABASE", "database"),
        ],
        Engine::Redis => &[("REDIS_URL", "uri")],
    }
}

/// The environment `reference` gives a workload, for the engines in `present`
/// (those the Runtime has), leaving out names the workload sets itself.
pub fn binding_env(
    reference: &RuntimeRef,
    present: &[Engine],
    own: &[String],
) -> Vec<core::EnvVar> {
    let wanted: Vec<Engine> = if reference.engines.is_empty() {
        present.to_vec()
    } else {
        reference.engines.iter().map(|e| e.engine()).collect()
    };
    let mut env = Vec::new();
    for engine in Engine::ALL.into_iter().filter(|e| wanted.contains(e)) {
        let secret = Names::of(&reference.name, engine).binding;
        for (name, key) in variables(engine) {
            if own.iter().any(|o| o == name) {
                continue;
            }
            env.push(core::EnvVar {
                name: (*name).to_owned(),
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector {
                        name: secret.clone(),
                        key: (*key).to_owned(),
                        optional: Some(false),
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
    env
}

/// Puts `reference`'s variables before the workload's own in `env` (so the
/// workload's values may refer to them as `$(DATABASE_URL)`).
pub fn prepend(env: &mut BuiltEnv, reference: &RuntimeRef, present: &[Engine]) {
    let own: Vec<String> = env.vars.iter().map(|v| v.name.clone()).collect();
    let mut vars = binding_env(reference, present, &own);
    vars.append(&mut env.vars);
    env.vars = vars;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(env: &[core::EnvVar]) -> Vec<&str> {
        env.iter().map(|e| e.name.as_str()).collect()
    }

    #[test]
    fn every_engine_of_the_runtime_when_none_is_named() {
        let reference = RuntimeRef {
            name: "rt".into(),
            engines: vec![],
        };
        let env = binding_env(&reference, &[Engine::Mongodb, Engine::Nats], &[]);
        assert_eq!(
            names(&env),
            [
                "KRT_MONGO_URI",
                "MONGODB_URI",
                "KRT_NATS_SERVER",
                "NATS_URL"
            ]
        );
        let uri = env[0]
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!(
            (uri.name.as_str(), uri.key.as_str()),
            ("rt-mongodb-binding", "uri")
        );
    }

    #[test]
    fn only_the_named_engines_and_never_over_the_workloads_own() {
        let reference = RuntimeRef {
            name: "rt".into(),
            engines: vec![RuntimeEngine::Postgres],
        };
        let env = binding_env(
            &reference,
            &[Engine::Postgres, Engine::Nats],
            &["PGHOST".to_owned()],
        );
        assert!(names(&env).contains(&"DATABASE_URL"));
        assert!(!names(&env).contains(&"PGHOST"));
        assert!(!names(&env).contains(&"NATS_URL"));
    }
}
