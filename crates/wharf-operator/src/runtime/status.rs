//! A Runtime's status from what its engines' StatefulSets and bootstrap Jobs say.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::jiff::Timestamp;
use kube::ResourceExt;
use wharf_model::conditions::{ConditionUpdate, merge_conditions};
use wharf_model::runtime::build::{Engine, EngineChildren};
use wharf_model::runtime::{EngineStatus, Runtime, RuntimePhase, RuntimeStatus};
use wharf_model::runtime_version::PUBLISHED_ANNOTATION;

use crate::kit::Problem;

/// Who runs PostgreSQL when CloudNativePG does.
pub const CNPG_PROVIDER: &str = "cloudnative-pg";

/// Who runs an engine through Wharf's own StatefulSet.
pub const WHARF_PROVIDER: &str = "wharf";

/// One engine after its children were applied: what its status says.
pub struct EngineObserved {
    /// Which engine.
    pub engine: Engine,
    /// [`WHARF_PROVIDER`] or [`CNPG_PROVIDER`].
    pub provider: &'static str,
    /// The binding Secret's name.
    pub binding: String,
    /// Where clients connect, `host:port`.
    pub endpoint: String,
    /// The image the members run.
    pub image: String,
    /// Members asked for (or kept, while they leave).
    pub replicas: i32,
    /// Members ready.
    pub ready_replicas: i32,
    /// One-time setup done (a bootstrap Job, CNPG's initdb).
    pub initialized: bool,
    /// The members the spec asks for, while more are kept until the engine
    /// has been reconfigured without them.
    pub shrinking_to: Option<i32>,
    /// Waiting on something other than members (CNPG's own phase).
    pub waiting_on: Option<String>,
    /// What the setup means for users.
    pub note: Option<String>,
}

impl EngineObserved {
    /// An engine Wharf runs as a StatefulSet (and a bootstrap Job).
    pub fn members(
        built: &EngineChildren,
        set: &StatefulSet,
        bootstrap: Option<&Job>,
        shrinking_to: Option<i32>,
    ) -> Self {
        let status = set.status.as_ref();
        // A StatefulSet's status speaks of the spec it has seen.
        let current = status.and_then(|s| s.observed_generation) == set.metadata.generation;
        let ready_replicas = if current {
            status.and_then(|s| s.ready_replicas).unwrap_or(0)
        } else {
            0
        };
        let spec = set.spec.as_ref();
        Self {
            engine: built.engine,
            provider: WHARF_PROVIDER,
            binding: built.binding.metadata.name.clone().unwrap_or_default(),
            endpoint: service_endpoint(&built.client),
            image: spec
                .and_then(|s| s.template.spec.as_ref())
                .and_then(|p| p.containers.first())
                .and_then(|c| c.image.clone())
                .unwrap_or_default(),
            replicas: spec.and_then(|s| s.replicas).unwrap_or(1),
            ready_replicas,
            initialized: bootstrap.is_none_or(job_succeeded),
            shrinking_to,
            waiting_on: None,
            note: built.note.clone(),
        }
    }

    fn ready(&self) -> bool {
        self.ready_replicas >= self.replicas
            && self.initialized
            && self.shrinking_to.is_none()
            && self.waiting_on.is_none()
    }
}

/// `host:port` of a client Service.
pub fn service_endpoint(service: &Service) -> String {
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

/// Whether a bootstrap Job has done its work.
pub fn job_succeeded(job: &Job) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.succeeded)
        .is_some_and(|n| n > 0)
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
        published_version: runtime.annotations().get(PUBLISHED_ANNOTATION).cloned(),
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
                let name = engine.engine.name();
                let ready = engine.ready();
                status.engines.insert(
                    name.to_owned(),
                    EngineStatus {
                        binding: engine.binding.clone(),
                        endpoint: engine.endpoint.clone(),
                        image: engine.image.clone(),
                        replicas: engine.replicas,
                        ready_replicas: engine.ready_replicas,
                        ready,
                        note: engine.note.clone(),
                        provider: Some(engine.provider.to_owned()),
                    },
                );
                let message = if ready {
                    format!("{name} serves at {}", engine.endpoint)
                } else if let Some(wanted) = engine.shrinking_to {
                    format!(
                        "{name}: reconfiguring from {} members to {wanted}; the others stop once they have left",
                        engine.replicas
                    )
                } else if let Some(what) = &engine.waiting_on {
                    format!("{name}: {what}")
                } else if !engine.initialized && engine.ready_replicas >= engine.replicas {
                    format!("{name}: members are up; its bootstrap Job has not finished")
                } else {
                    format!(
                        "{name}: {} of {} members ready",
                        engine.ready_replicas, engine.replicas
                    )
                };
                if !ready {
                    waiting.push(message.clone());
                }
                updates.push(ConditionUpdate::new(
                    engine.engine.condition(),
                    ready,
                    if ready { "Ready" } else { "Starting" },
                    message,
                ));
            }
            let initialized = engines.iter().all(|e| e.initialized);
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
