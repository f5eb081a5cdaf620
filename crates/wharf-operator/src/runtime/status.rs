//! A Runtime's status from what its engines' StatefulSets and bootstrap Jobs say.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::jiff::Timestamp;
use wharf_model::conditions::{ConditionUpdate, merge_conditions};
use wharf_model::runtime::build::EngineChildren;
use wharf_model::runtime::{EngineStatus, Runtime, RuntimePhase, RuntimeStatus};

use crate::kit::Problem;

/// One engine after its children were applied.
pub struct EngineObserved {
    /// What was applied.
    pub built: EngineChildren,
    /// The StatefulSet as the API server has it.
    pub set: StatefulSet,
    /// The bootstrap Job, for engines that have one.
    pub bootstrap: Option<Job>,
}

impl EngineObserved {
    fn ready_replicas(&self) -> i32 {
        let status = self.set.status.as_ref();
        // A StatefulSet's status speaks of the spec it has seen.
        let current = status.and_then(|s| s.observed_generation) == self.set.metadata.generation;
        if current {
            status.and_then(|s| s.ready_replicas).unwrap_or(0)
        } else {
            0
        }
    }

    fn replicas(&self) -> i32 {
        self.set.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }

    fn initialized(&self) -> bool {
        self.bootstrap.as_ref().is_none_or(|job| {
            job.status
                .as_ref()
                .and_then(|s| s.succeeded)
                .is_some_and(|n| n > 0)
        })
    }

    fn ready(&self) -> bool {
        self.ready_replicas() >= self.replicas() && self.initialized()
    }

    fn image(&self) -> String {
        self.set
            .spec
            .as_ref()
            .and_then(|s| s.template.spec.as_ref())
            .and_then(|p| p.containers.first())
            .and_then(|c| c.image.clone())
            .unwrap_or_default()
    }

    fn endpoint(&self) -> String {
        let service = &self.built.client;
        let port = service
            .spec
            .as_ref()
            .and_then(|s| s.ports.as_ref())
            .and_then(|p| p.first())
            .map(|p| p.port)
            .unwrap_or_default();
        format!(
            "{}.{}.svc:{port}",
            service.metadata.name.as_deref().unwrap_or_default(),
            service.metadata.namespace.as_deref().unwrap_or_default()
        )
    }
}

/// What one reconcile found.
pub enum Observed {
    /// Every engine's children applied.
    Engines(Vec<EngineObserved>),
    /// Something the user must fix.
    Failed(Problem),
    /// Deleted, and held by `deletionPolicy: DoNotDelete`.
    Held,
}

impl Observed {
    /// A problem the user must fix.
    pub fn failed(problem: Problem) -> Self {
        Self::Failed(problem)
    }
}

/// The status `observed` means for `runtime`.
pub fn compute(runtime: &Runtime, observed: &Observed) -> RuntimeStatus {
    let previous = runtime.status.clone().unwrap_or_default();
    let generation = runtime.metadata.generation;
    let mut status = RuntimeStatus {
        observed_generation: generation,
        engines: previous.engines.clone(),
        summary: previous.summary.clone(),
        ..RuntimeStatus::default()
    };
    let mut updates = Vec::new();
    match observed {
        Observed::Failed(problem) => {
            status.phase = Some(RuntimePhase::Failed);
            updates.push(ConditionUpdate::new(
                "Ready",
                false,
                problem.reason,
                problem.message.clone(),
            ));
        }
        Observed::Held => {
            status.phase = Some(RuntimePhase::Deleting);
            updates.push(ConditionUpdate::new(
                "Deleting",
                true,
                "DeletionHeld",
                "deletionPolicy is DoNotDelete: set it to Retain (keep the volumes) or Delete to let the deletion finish",
            ));
        }
        Observed::Engines(engines) => {
            status.engines.clear();
            let mut waiting = Vec::new();
            for engine in engines {
                let name = engine.built.engine.name();
                let ready = engine.ready();
                status.engines.insert(
                    name.to_owned(),
                    EngineStatus {
                        binding: engine
                            .built
                            .binding
                            .metadata
                            .name
                            .clone()
                            .unwrap_or_default(),
                        endpoint: engine.endpoint(),
                        image: engine.image(),
                        replicas: engine.replicas(),
                        ready_replicas: engine.ready_replicas(),
                        ready,
                        note: engine.built.note.clone(),
                    },
                );
                let message = if ready {
                    format!("{name} serves at {}", engine.endpoint())
                } else if !engine.initialized() && engine.ready_replicas() >= engine.replicas() {
                    format!("{name}: members are up; its bootstrap Job has not finished")
                } else {
                    format!(
                        "{name}: {} of {} members ready",
                        engine.ready_replicas(),
                        engine.replicas()
                    )
                };
                if !ready {
                    waiting.push(message.clone());
                }
                updates.push(ConditionUpdate::new(
                    engine.built.engine.condition(),
                    ready,
                    if ready { "Ready" } else { "Starting" },
                    message,
                ));
            }
            let initialized = engines.iter().all(EngineObserved::initialized);
            updates.push(ConditionUpdate::new(
                "Initialized",
                initialized,
                if initialized {
                    "Bootstrapped"
                } else {
                    "Bootstrapping"
                },
                if initialized {
                    "every engine's one-time setup is done".to_owned()
                } else {
                    "an engine's one-time setup is running".to_owned()
                },
            ));
            let ready_count = engines.iter().filter(|e| e.ready()).count();
            status.summary = Some(format!("{ready_count}/{}", engines.len()));
            let all_ready = waiting.is_empty();
            status.phase = Some(if all_ready {
                RuntimePhase::Ready
            } else {
                RuntimePhase::Provisioning
            });
            updates.push(ConditionUpdate::new(
                "Ready",
                all_ready,
                if all_ready { "Ready" } else { "Provisioning" },
                if all_ready {
                    "every engine is ready".to_owned()
                } else {
                    waiting.join("; ")
                },
            ));
        }
    }
    status.conditions =
        merge_conditions(&previous.conditions, updates, generation, Timestamp::now());
    status
}
