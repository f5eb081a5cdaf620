//! Building what the `wharf runtimes` commands send: parsing `ENGINE=VALUE`
//! flags, and the Runtime that `wharf runtimes create` posts; and the Runtime
//! reference `wharf apps deploy --runtime` puts in an App.

use std::collections::BTreeMap;

use clap::ValueEnum;
use wharf_model::runtime::binding_env::{RuntimeEngine, RuntimeRef};
use wharf_model::runtime::{DeletionPolicy, EngineSpec, Runtime, RuntimeSpec, S3Spec, Storage};

use crate::error::CliError;

/// Every engine, as written on the command line and in the spec.
const ENGINES: [(&str, RuntimeEngine); 5] = [
    ("mongodb", RuntimeEngine::Mongodb),
    ("nats", RuntimeEngine::Nats),
    ("s3", RuntimeEngine::S3),
    ("postgres", RuntimeEngine::Postgres),
    ("redis", RuntimeEngine::Redis),
];

/// The name of `engine` as the spec spells it.
pub fn engine_name(engine: RuntimeEngine) -> &'static str {
    ENGINES
        .iter()
        .find(|(_, e)| *e == engine)
        .map_or("", |(name, _)| name)
}

/// Reads an engine's name: `mongodb`, `nats`, `s3`, `postgres` or `redis`.
pub fn parse_engine(text: &str) -> Result<RuntimeEngine, String> {
    ENGINES
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, engine)| *engine)
        .ok_or_else(|| {
            format!("'{text}' is not an engine: use mongodb, nats, s3, postgres or redis")
        })
}

/// `ENGINE=VALUE`, e.g. `nats=3`: the engine and the text after `=`.
fn engine_pair<'a>(text: &'a str, example: &str) -> Result<(RuntimeEngine, &'a str), String> {
    let (engine, value) = text
        .split_once('=')
        .ok_or_else(|| format!("'{text}' is not ENGINE=VALUE, e.g. {example}"))?;
    if value.is_empty() {
        return Err(format!("'{text}' has no value after '=', e.g. {example}"));
    }
    Ok((parse_engine(engine)?, value))
}

/// `--replicas ENGINE=N`, e.g. `nats=3`.
pub fn parse_replicas(text: &str) -> Result<(RuntimeEngine, i32), String> {
    let (engine, value) = engine_pair(text, "nats=3")?;
    let replicas = value
        .parse::<i32>()
        .ok()
        .filter(|n| (1..=5).contains(n))
        .ok_or_else(|| format!("'{value}' is not a number of members from 1 to 5"))?;
    Ok((engine, replicas))
}

/// `--engine-version ENGINE=TAG` or `--storage ENGINE=SIZE`, e.g. `postgres=17`.
pub fn parse_engine_text(text: &str) -> Result<(RuntimeEngine, String), String> {
    let (engine, value) = engine_pair(text, "postgres=17")?;
    Ok((engine, value.to_owned()))
}

/// `--deletion-policy`: what deleting the Runtime does to its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DeletionPolicyArg {
    /// Keep the volumes (and credentials): a new Runtime of the same name finds
    /// its data.
    #[value(name = "Retain", alias = "retain")]
    Retain,
    /// Remove the volumes with the Runtime.
    #[value(name = "Delete", alias = "delete")]
    Delete,
    /// Refuse deletion until the policy is changed.
    #[value(name = "DoNotDelete", alias = "do-not-delete")]
    DoNotDelete,
}

impl From<DeletionPolicyArg> for DeletionPolicy {
    fn from(policy: DeletionPolicyArg) -> Self {
        match policy {
            DeletionPolicyArg::Retain => Self::Retain,
            DeletionPolicyArg::Delete => Self::Delete,
            DeletionPolicyArg::DoNotDelete => Self::DoNotDelete,
        }
    }
}

/// What `wharf runtimes create` puts in the Runtime, besides its name.
#[derive(Clone, Debug, Default)]
pub struct NewRuntime {
    /// The engines asked for (`--mongodb`, `--nats`, …).
    pub engines: Vec<RuntimeEngine>,
    /// `--replicas ENGINE=N`.
    pub replicas: Vec<(RuntimeEngine, i32)>,
    /// `--engine-version ENGINE=TAG`.
    pub versions: Vec<(RuntimeEngine, String)>,
    /// `--storage ENGINE=SIZE`.
    pub storage: Vec<(RuntimeEngine, String)>,
    /// `--storage-class`: every engine's volumes.
    pub storage_class: Option<String>,
    /// `--bucket`: the S3 store's bucket.
    pub bucket: Option<String>,
    /// `--deletion-policy`; the server's default (`Retain`) when unset.
    pub deletion_policy: Option<DeletionPolicyArg>,
    /// `--label`: a key given twice takes its last value.
    pub labels: Vec<(String, String)>,
}

/// An engine with the spec's defaults: one member (`EngineSpec::default()` has
/// none; the defaults are serde's, for what is read).
fn one_member() -> EngineSpec {
    EngineSpec {
        replicas: 1,
        ..EngineSpec::default()
    }
}

/// The Runtime `wharf runtimes create NAME` posts. A flag about an engine that
/// was not asked for is refused rather than ignored.
pub fn build_runtime(name: &str, new: NewRuntime) -> Result<Runtime, CliError> {
    let asked = |engine: RuntimeEngine, flag: &str| {
        if new.engines.contains(&engine) {
            Ok(())
        } else {
            let engine = engine_name(engine);
            Err(CliError::invalid(format!(
                "{flag} {engine}=… is for an engine not asked for: add --{engine}"
            )))
        }
    };
    let mut engines: BTreeMap<RuntimeEngine, EngineSpec> = new
        .engines
        .iter()
        .map(|engine| (*engine, one_member()))
        .collect();
    for (engine, replicas) in &new.replicas {
        asked(*engine, "--replicas")?;
        if let Some(spec) = engines.get_mut(engine) {
            spec.replicas = *replicas;
        }
    }
    for (engine, version) in &new.versions {
        asked(*engine, "--engine-version")?;
        if let Some(spec) = engines.get_mut(engine) {
            spec.version = Some(version.clone());
        }
    }
    for (engine, size) in &new.storage {
        asked(*engine, "--storage")?;
        if let Some(spec) = engines.get_mut(engine) {
            spec.storage.size.clone_from(size);
        }
    }
    if new.bucket.is_some() {
        asked(RuntimeEngine::S3, "--bucket")?;
    }
    for spec in engines.values_mut() {
        spec.storage.class.clone_from(&new.storage_class);
    }
    let take = |engine| engines.get(&engine).cloned();
    let s3 = take(RuntimeEngine::S3).map(|spec| S3Spec {
        version: spec.version,
        image: spec.image,
        replicas: spec.replicas,
        bucket: new.bucket.clone().unwrap_or(S3Spec::default().bucket),
        storage: Storage {
            size: spec.storage.size,
            class: spec.storage.class,
        },
        ..S3Spec::default()
    });
    let spec = RuntimeSpec {
        mongodb: take(RuntimeEngine::Mongodb),
        nats: take(RuntimeEngine::Nats),
        s3,
        postgres: take(RuntimeEngine::Postgres),
        redis: take(RuntimeEngine::Redis),
        deletion_policy: new.deletion_policy.map(Into::into).unwrap_or_default(),
        entrypoint: None,
    };
    let mut runtime = Runtime::new(name, spec);
    if !new.labels.is_empty() {
        runtime.metadata.labels = Some(new.labels.into_iter().collect());
    }
    Ok(runtime)
}

/// The Runtime reference of `wharf apps deploy --runtime NAME [--runtime-engines
/// E,…]`: every engine of the Runtime when none is named.
pub fn runtime_ref(name: String, engines: Vec<RuntimeEngine>) -> RuntimeRef {
    let mut engines = engines;
    engines.sort_unstable();
    engines.dedup();
    RuntimeRef { name, engines }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn engine_flags_are_read_with_clear_complaints() {
        assert_eq!(parse_replicas("nats=3"), Ok((RuntimeEngine::Nats, 3)));
        assert_eq!(parse_replicas("NATS=1"), Ok((RuntimeEngine::Nats, 1)));
        assert!(parse_replicas("nats").unwrap_err().contains("nats=3"));
        assert!(parse_replicas("nats=").unwrap_err().contains("no value"));
        assert!(parse_replicas("nats=9").unwrap_err().contains("1 to 5"));
        assert!(
            parse_replicas("kafka=1")
                .unwrap_err()
                .contains("not an engine")
        );
        assert_eq!(
            parse_engine_text("postgres=17"),
            Ok((RuntimeEngine::Postgres, "17".into()))
        );
        assert_eq!(engine_name(RuntimeEngine::S3), "s3");
    }

    #[test]
    fn the_runtime_has_the_engines_and_settings_asked_for() {
        let runtime = build_runtime(
            "rt",
            NewRuntime {
                engines: vec![RuntimeEngine::Nats, RuntimeEngine::S3],
                replicas: vec![(RuntimeEngine::Nats, 3)],
                versions: vec![(RuntimeEngine::Nats, "2.11".into())],
                storage: vec![(RuntimeEngine::S3, "20Gi".into())],
                storage_class: Some("fast".into()),
                bucket: Some("models".into()),
                deletion_policy: Some(DeletionPolicyArg::Delete),
                labels: vec![("team".into(), "ml".into())],
            },
        )
        .unwrap();
        let json = serde_json::to_value(&runtime).unwrap();
        assert_eq!(json["metadata"]["name"], "rt");
        assert_eq!(json["metadata"]["labels"]["team"], "ml");
        let spec = &json["spec"];
        assert_eq!(spec["nats"]["replicas"], 3);
        assert_eq!(spec["nats"]["version"], "2.11");
        assert_eq!(
            spec["nats"]["storage"],
            json!({ "size": "1Gi", "class": "fast" })
        );
        assert_eq!(spec["s3"]["bucket"], "models");
        assert_eq!(
            spec["s3"]["replicas"], 1,
            "one member unless asked for more"
        );
        assert_eq!(spec["s3"]["storage"]["size"], "20Gi");
        assert_eq!(spec["deletionPolicy"], "Delete");
        assert!(spec.get("mongodb").is_none());
    }

    #[test]
    fn a_setting_for_an_engine_not_asked_for_is_refused() {
        let new = NewRuntime {
            engines: vec![RuntimeEngine::Nats],
            replicas: vec![(RuntimeEngine::Postgres, 3)],
            ..NewRuntime::default()
        };
        let error = build_runtime("rt", new).unwrap_err();
        assert!(error.to_string().contains("--postgres"), "{error}");
        let new = NewRuntime {
            engines: vec![RuntimeEngine::Nats],
            bucket: Some("b".into()),
            ..NewRuntime::default()
        };
        assert!(
            build_runtime("rt", new)
                .unwrap_err()
                .to_string()
                .contains("--s3")
        );
    }

    #[test]
    fn an_apps_runtime_names_each_engine_once() {
        let reference = runtime_ref(
            "rt".into(),
            vec![
                RuntimeEngine::Nats,
                RuntimeEngine::Mongodb,
                RuntimeEngine::Nats,
            ],
        );
        assert_eq!(
            serde_json::to_value(reference).unwrap(),
            json!({ "name": "rt", "engines": ["mongodb", "nats"] })
        );
    }
}
