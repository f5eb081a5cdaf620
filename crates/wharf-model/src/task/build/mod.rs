//! The pure mapping from a Task to the Kubernetes objects it owns.
//!
//! Given the Task, the generated secret values it already has and the operator's
//! settings, [`build`] returns every child: the Job, the env ConfigMap and Secret,
//! the files ConfigMap and, for a Task with results, the collector's
//! ServiceAccount. Nothing here talks to a cluster.

mod collector;
mod job;

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, ServiceAccount};

pub use collector::{COLLECTOR_CONTAINER, COLLECTOR_TOKEN_DIR, RESULTS_MOUNT};
pub use job::{CONTAINER_NAME, QUEUE_LABEL, job_annotations};

use super::{Task, collector_service_account};
use crate::workload::ChildMeta;
use crate::workload::env_build::EnvError;
pub use crate::workload::{env_object_name, files_object_name};

/// Label with the Task's name on every child and pod.
pub const TASK_LABEL: &str = "wharf.dev/task";

/// Settings of the operator that shape every Task's children.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskDefaults {
    /// The image that runs `wharfd collect` (Wharf's own image).
    pub collector_image: String,
    /// The Wharf API base URL as pods reach it, e.g. `http://wharf.wharf-system.svc:8080`.
    pub api_url: String,
    /// Seconds the collector gets after the Task's container exits to upload (the
    /// pod's termination grace period).
    pub upload_grace_seconds: i64,
    /// Make pods meet the `restricted` Pod Security Standard (Tasks in a restricted
    /// Space).
    pub restricted_pods: bool,
    /// The engines of the Runtime the Task names (`spec.runtime`), as the
    /// operator read them: the Task gets their connection variables.
    pub runtime_engines: Vec<crate::runtime::build::Engine>,
}

impl Default for TaskDefaults {
    fn default() -> Self {
        Self {
            collector_image: format!("ghcr.io/wharf-dev/wharfd:{}", env!("CARGO_PKG_VERSION")),
            api_url: "http://wharf.wharf-system.svc:8080".into(),
            upload_grace_seconds: 600,
            restricted_pods: false,
            runtime_engines: Vec::new(),
        }
    }
}

/// Every object a Task owns. Absent options are objects the Task does not need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TaskChildren {
    /// The Job that runs the Task.
    pub job: Job,
    /// Plain environment values, when there are any.
    pub env_config_map: Option<ConfigMap>,
    /// Generated secret values and values built from them, when there are any.
    pub env_secret: Option<Secret>,
    /// Mounted files, when there are any.
    pub files_config_map: Option<ConfigMap>,
    /// The identity of the result collector, for a Task with results.
    pub collector_account: Option<ServiceAccount>,
}

/// Why a Task cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The Task has no name, namespace or uid (it was not read from the API server).
    #[error(transparent)]
    MissingMetadata(#[from] crate::workload::MissingMetadata),
    /// The environment cannot be built.
    #[error(transparent)]
    Env(#[from] EnvError),
    /// `timeout` is not a duration (the CRD's pattern should have caught it).
    #[error("timeout: {0}")]
    Timeout(#[from] crate::duration::InvalidDuration),
}

/// Builds every child of `task`. `generated` holds the generated secret values by
/// variable name.
pub fn build(
    task: &Task,
    generated: &BTreeMap<String, String>,
    defaults: &TaskDefaults,
) -> Result<TaskChildren, BuildError> {
    let meta = ChildMeta::of(task, TASK_LABEL)?;
    let spec = &task.spec;
    let mut config = meta.config(
        String::new(),
        &spec.env,
        &spec.env_from,
        &spec.files,
        generated,
    )?;
    if let Some(runtime) = &spec.runtime {
        crate::runtime::binding_env::prepend(&mut config.env, runtime, &defaults.runtime_engines);
    }
    let collector_account = spec.results.as_ref().map(|_| ServiceAccount {
        metadata: meta.object(&collector_service_account(&meta.name)),
        // The token is projected into the collector alone, never automounted.
        automount_service_account_token: Some(false),
        ..Default::default()
    });
    let job = job::job(&meta, task, config.env, defaults)?;
    Ok(TaskChildren {
        job,
        env_config_map: config.env_config_map,
        env_secret: config.env_secret,
        files_config_map: config.files_config_map,
        collector_account,
    })
}

#[cfg(test)]
mod tests;
