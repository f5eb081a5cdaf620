//! Turns a workload's environment into container variables backed by a ConfigMap
//! (plain values) and a Secret (generated values and values built from them).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1 as core;

use super::substitute::{BuiltIns, Substitutable, SubstitutionError, resolve_all};
use super::{EnvFromSource, EnvVar, GenerateSpec};

/// The container side of a workload's environment and the data behind it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BuiltEnv {
    /// The container's `env`, in the order the workload lists them.
    pub vars: Vec<core::EnvVar>,
    /// The container's `envFrom`.
    pub env_from: Vec<core::EnvFromSource>,
    /// Plain values, for the workload's env ConfigMap.
    pub config: BTreeMap<String, String>,
    /// Secret values, for the workload's env Secret.
    pub secret: BTreeMap<String, String>,
}

/// Why an environment could not be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    /// `${…}` references form a cycle.
    #[error(transparent)]
    Substitution(#[from] SubstitutionError),
    /// A generated secret has no value yet; the caller generates it first (see
    /// [`missing_generated`]).
    #[error("environment variable {0} has no generated value yet")]
    NotGenerated(String),
}

/// The variables that want a generated secret but have none in `generated`.
pub fn missing_generated<'a>(
    env: &'a [EnvVar],
    generated: &BTreeMap<String, String>,
) -> Vec<(&'a str, &'a GenerateSpec)> {
    env.iter()
        .filter_map(|var| Some((var.name.as_str(), &var.secret.as_ref()?.generate)))
        .filter(|(name, _)| !generated.contains_key(*name))
        .collect()
}

/// Builds the environment. Plain values go to the ConfigMap `config_map_name`,
/// secret ones to the Secret `secret_name`; `generated` holds the generated secret
/// values by variable name.
pub fn build_env(
    env: &[EnvVar],
    env_from: &[EnvFromSource],
    built_ins: &BuiltIns,
    generated: &BTreeMap<String, String>,
    config_map_name: &str,
    secret_name: &str,
) -> Result<BuiltEnv, EnvError> {
    let mut substitutable = BTreeMap::new();
    for var in env {
        if let Some(text) = &var.value {
            substitutable.insert(
                var.name.clone(),
                Substitutable {
                    text: text.clone(),
                    secret: false,
                },
            );
        } else if var.secret.is_some() {
            let value = generated
                .get(&var.name)
                .ok_or_else(|| EnvError::NotGenerated(var.name.clone()))?;
            // A generated value is used as it is: `${` in random text is no reference.
            let text = value.replace("${", "$${");
            substitutable.insert(var.name.clone(), Substitutable { text, secret: true });
        }
    }
    let resolved = resolve_all(&substitutable, built_ins)?;

    let mut built = BuiltEnv::default();
    for var in env {
        let value_from = if let Some(value) = resolved.get(&var.name) {
            if value.secret {
                built.secret.insert(var.name.clone(), value.value.clone());
                secret_key(secret_name, &var.name)
            } else {
                built.config.insert(var.name.clone(), value.value.clone());
                config_map_key(config_map_name, &var.name)
            }
        } else if let Some(reference) = &var.secret_ref {
            secret_key(&reference.name, &reference.key)
        } else if let Some(reference) = &var.config_map_ref {
            config_map_key(&reference.name, &reference.key)
        } else {
            // The CRD schema requires exactly one source; an object that slipped past
            // it (an older schema) gets an empty value rather than a crash.
            core::EnvVarSource::default()
        };
        built.vars.push(core::EnvVar {
            name: var.name.clone(),
            value_from: Some(value_from),
            ..Default::default()
        });
    }
    built.env_from = env_from
        .iter()
        .map(|source| core::EnvFromSource {
            prefix: source.prefix.clone(),
            config_map_ref: source
                .config_map
                .as_ref()
                .map(|name| core::ConfigMapEnvSource {
                    name: name.clone(),
                    optional: None,
                }),
            secret_ref: source.secret.as_ref().map(|name| core::SecretEnvSource {
                name: name.clone(),
                optional: None,
            }),
        })
        .collect();
    Ok(built)
}

fn secret_key(name: &str, key: &str) -> core::EnvVarSource {
    core::EnvVarSource {
        secret_key_ref: Some(core::SecretKeySelector {
            name: name.to_owned(),
            key: key.to_owned(),
            optional: None,
        }),
        ..Default::default()
    }
}

fn config_map_key(name: &str, key: &str) -> core::EnvVarSource {
    core::EnvVarSource {
        config_map_key_ref: Some(core::ConfigMapKeySelector {
            name: name.to_owned(),
            key: key.to_owned(),
            optional: None,
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::{KeyRef, SecretSource};

    fn literal(name: &str, value: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: Some(value.into()),
            ..Default::default()
        }
    }

    fn generated_var(name: &str) -> EnvVar {
        EnvVar {
            name: name.into(),
            secret: Some(SecretSource::default()),
            ..Default::default()
        }
    }

    #[test]
    fn plain_values_go_to_the_config_map_and_secret_ones_to_the_secret() {
        let env = vec![
            literal("MODE", "prod"),
            generated_var("TOKEN"),
            literal("AUTH", "Bearer ${TOKEN}"),
            EnvVar {
                name: "DB".into(),
                secret_ref: Some(KeyRef {
                    name: "db".into(),
                    key: "url".into(),
                }),
                ..Default::default()
            },
        ];
        let generated = BTreeMap::from([("TOKEN".to_owned(), "abc${x".to_owned())]);
        let built = build_env(
            &env,
            &[],
            &BuiltIns::default(),
            &generated,
            "web-env",
            "web-env",
        )
        .unwrap();
        assert_eq!(
            built.config,
            BTreeMap::from([("MODE".into(), "prod".into())])
        );
        assert_eq!(
            built.secret,
            BTreeMap::from([
                ("TOKEN".into(), "abc${x".into()),
                ("AUTH".into(), "Bearer abc${x".into())
            ])
        );
        let names: Vec<_> = built.vars.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["MODE", "TOKEN", "AUTH", "DB"]);
        let db = built.vars[3]
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!((db.name.as_str(), db.key.as_str()), ("db", "url"));
    }

    #[test]
    fn generated_values_must_be_supplied() {
        let env = vec![generated_var("TOKEN")];
        assert_eq!(missing_generated(&env, &BTreeMap::new()).len(), 1);
        let err =
            build_env(&env, &[], &BuiltIns::default(), &BTreeMap::new(), "a", "a").unwrap_err();
        assert_eq!(err, EnvError::NotGenerated("TOKEN".into()));
    }
}
