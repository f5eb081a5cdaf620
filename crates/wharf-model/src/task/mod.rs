//! The `Task` custom resource: a container run to completion as a `batch/v1` Job,
//! whose result files are collected into Wharf's result store and whose end can be
//! announced by a signed callback (seed 001).

pub mod build;
mod result_name;
mod results;
mod spec;
mod status;

pub use result_name::{MAX_RESULT_NAME, ResultNameError, validate_result_name};
pub use results::{RefusedResult, ResultFile, ResultManifest};
pub use spec::*;
pub use status::*;

/// The audience of the token a Task's collector presents. The API server issues it
/// only for Wharf, so it opens nothing in the Kubernetes API.
pub const COLLECTOR_AUDIENCE: &str = "wharf.dev/collector";

/// The ServiceAccount a Task's collector runs as: the identity its upload token
/// names. It exists while the Task runs and is deleted when the Task ends, which
/// revokes every token issued for it.
pub fn collector_service_account(task_name: &str) -> String {
    format!("wharf-task-{task_name}")
}

/// The user name the API server gives a Task collector's token.
pub fn collector_username(namespace: &str, task_name: &str) -> String {
    format!(
        "system:serviceaccount:{namespace}:{}",
        collector_service_account(task_name)
    )
}
