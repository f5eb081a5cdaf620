//! A node's environment, under the names KRE's runners read: the Runtime's
//! bindings (by `secretKeyRef`), where the node sits (`KRT_VERSION`,
//! `KRT_WORKFLOW`, `KRT_NODE`), its subjects (`KRT_NATS_INPUT`,
//! `KRT_NATS_OUTPUT`, `KRT_NATS_STREAM`), the version's config and the node's
//! own env, later names winning over earlier ones.

use k8s_openapi::api::core::v1 as core;

use crate::runtime::binding_env::{RuntimeRef, binding_env};
use crate::runtime::build::Engine;
use crate::runtime_version::subjects::Hop;
use crate::workload::EnvVar;

/// The subject a node reads.
pub const KRT_NATS_INPUT: &str = "KRT_NATS_INPUT";

/// The subject a node writes.
pub const KRT_NATS_OUTPUT: &str = "KRT_NATS_OUTPUT";

/// Where a node sits, as variables.
pub(super) struct Position<'a> {
    pub runtime: &'a str,
    pub version: &'a str,
    pub workflow: &'a str,
    pub stream: &'a str,
    pub queue: &'a str,
    pub hop: &'a Hop,
}

/// The node's variables: bindings, `config`, `own`, then its position (a name
/// given twice keeps its last value, at the place of its first).
pub(super) fn node_env(
    position: &Position<'_>,
    engines: &[Engine],
    config: &[EnvVar],
    own: &[EnvVar],
) -> Vec<core::EnvVar> {
    let mut env = configured(position.runtime, engines, config, own);
    // Where the node sits is Wharf's to say: these win over config and env.
    let position_vars = [
        ("KRT_RUNTIME", position.runtime),
        ("KRT_VERSION", position.version),
        ("KRT_WORKFLOW", position.workflow),
        ("KRT_NODE", &position.hop.node),
        ("KRT_NATS_STREAM", position.stream),
        (KRT_NATS_INPUT, &position.hop.input),
        (KRT_NATS_OUTPUT, &position.hop.output),
        ("KRT_NATS_QUEUE", position.queue),
        (
            "KRT_LAST_NODE",
            if position.hop.last { "true" } else { "false" },
        ),
    ];
    for (name, value) in position_vars {
        set(&mut env, literal(name, value));
    }
    env
}

/// The entrypoint's variables: bindings, `config`, `own`, then where it sits
/// and `KRT_NATS_SUBJECTS`, a JSON object of each workflow's `input` and
/// `output` subjects by the name it is invoked by.
pub(super) fn entrypoint_env(
    runtime: &str,
    version: &str,
    stream: &str,
    subjects: &str,
    engines: &[Engine],
    config: &[EnvVar],
    own: &[EnvVar],
) -> Vec<core::EnvVar> {
    let mut env = configured(runtime, engines, config, own);
    for (name, value) in [
        ("KRT_RUNTIME", runtime),
        ("KRT_VERSION", version),
        ("KRT_NATS_STREAM", stream),
        ("KRT_NATS_SUBJECTS", subjects),
    ] {
        set(&mut env, literal(name, value));
    }
    env
}

/// The bindings of `engines`, then `config` and `own`.
fn configured(
    runtime: &str,
    engines: &[Engine],
    config: &[EnvVar],
    own: &[EnvVar],
) -> Vec<core::EnvVar> {
    let given: Vec<String> = config.iter().chain(own).map(|v| v.name.clone()).collect();
    let reference = RuntimeRef {
        name: runtime.to_owned(),
        engines: vec![],
    };
    let mut env = binding_env(&reference, engines, &given);
    for var in config.iter().chain(own) {
        set(&mut env, container_var(var));
    }
    env
}

fn set(env: &mut Vec<core::EnvVar>, var: core::EnvVar) {
    match env.iter_mut().find(|e| e.name == var.name) {
        Some(existing) => *existing = var,
        None => env.push(var),
    }
}

fn literal(name: &str, value: &str) -> core::EnvVar {
    core::EnvVar {
        name: name.to_owned(),
        value: Some(value.to_owned()),
        ..Default::default()
    }
}

/// A `value`, `secretRef` or `configMapRef` variable as the container takes it
/// (the schema refuses generated secrets here).
fn container_var(var: &EnvVar) -> core::EnvVar {
    let source = if let Some(key) = &var.secret_ref {
        Some(core::EnvVarSource {
            secret_key_ref: Some(core::SecretKeySelector {
                name: key.name.clone(),
                key: key.key.clone(),
                optional: Some(false),
            }),
            ..Default::default()
        })
    } else {
        var.config_map_ref.as_ref().map(|key| core::EnvVarSource {
            config_map_key_ref: Some(core::ConfigMapKeySelector {
                name: key.name.clone(),
                key: key.key.clone(),
                optional: Some(false),
            }),
            ..Default::default()
        })
    };
    core::EnvVar {
        name: var.name.clone(),
        value: source
            .is_none()
            .then(|| var.value.clone().unwrap_or_default()),
        value_from: source,
    }
}
