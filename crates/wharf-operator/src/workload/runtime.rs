//! A workload's Runtime: whether it is there and ready, and which engines it has,
//! so the workload gets their connection variables or waits for them.

use kube::Api;
use wharf_model::conditions::is_true;
use wharf_model::runtime::binding_env::RuntimeRef;
use wharf_model::runtime::build::{self, Engine};
use wharf_model::runtime::{Runtime, RuntimePhase};

use crate::error::{Error, ObjectName};
use crate::kit::Problem;

/// Where a workload's Runtime stands.
pub enum RuntimeState {
    /// Ready, with these engines.
    Ready(Vec<Engine>),
    /// Not there, not ready, or without an engine the workload names: the
    /// workload waits (and is looked at again shortly).
    Waiting(Problem),
}

/// Reads the Runtime `reference` names in `namespace` for `owner` (`what` is the
/// workload's kind in words, e.g. "the App").
pub async fn state(
    client: &kube::Client,
    owner: &ObjectName,
    namespace: &str,
    reference: &RuntimeRef,
    what: &str,
) -> Result<RuntimeState, Error> {
    let name = &reference.name;
    let runtime = Api::<Runtime>::namespaced(client.clone(), namespace)
        .get_opt(name)
        .await
        .map_err(|source| Error::ReadReference {
            owner: owner.clone(),
            reference: ObjectName::new::<Runtime>(Some(namespace), name),
            source,
        })?;
    let Some(runtime) = runtime else {
        return Ok(RuntimeState::Waiting(Problem::new(
            "RuntimeMissing",
            format!(
                "Runtime {name} does not exist in namespace {namespace}; {what} starts once it is created and ready"
            ),
        )));
    };
    let engines: Vec<Engine> = build::engines(&runtime)
        .into_iter()
        .map(|(e, _)| e)
        .collect();
    let absent: Vec<&str> = reference
        .engines
        .iter()
        .map(|e| e.engine())
        .filter(|e| !engines.contains(e))
        .map(Engine::name)
        .collect();
    if !absent.is_empty() {
        return Ok(RuntimeState::Waiting(Problem::new(
            "RuntimeEngineMissing",
            format!(
                "Runtime {name} has no {}; add it to the Runtime or remove it from {what}'s runtime.engines",
                absent.join(", ")
            ),
        )));
    }
    let status = runtime.status.clone().unwrap_or_default();
    let current = status.observed_generation == runtime.metadata.generation;
    if !(current
        && status.phase == Some(RuntimePhase::Ready)
        && is_true(&status.conditions, "Ready"))
    {
        let why = status
            .conditions
            .iter()
            .find(|c| c.type_ == "Ready")
            .map(|c| c.message.clone())
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| "it is starting".to_owned());
        return Ok(RuntimeState::Waiting(Problem::new(
            "RuntimeNotReady",
            format!("waiting for Runtime {name}: {why}; {what} starts by itself when it is ready"),
        )));
    }
    Ok(RuntimeState::Ready(engines))
}
