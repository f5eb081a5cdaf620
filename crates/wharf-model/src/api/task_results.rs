//! The listing of a Task's result files.

use serde::{Deserialize, Serialize};

use crate::task::{RefusedResult, TaskStatus};
use crate::wire::paths;

/// A Task's result files: what can be downloaded, and what was not collected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TaskResultList {
    /// The stored files, ordered by name.
    pub items: Vec<TaskResultEntry>,
    /// Files found in the results folder but not collected, and why.
    #[serde(default)]
    pub refused: Vec<RefusedResult>,
}

impl TaskResultList {
    /// The listing of Task `namespace/name` with `status`: each stored file with
    /// the path that downloads it (the one builder the callback uses too).
    pub fn from_status(namespace: &str, name: &str, status: &TaskStatus) -> Self {
        let items = status
            .results
            .iter()
            .flatten()
            .map(|file| TaskResultEntry {
                download_path: paths::task_result(namespace, name, &file.name).to_string(),
                name: file.name.clone(),
                size: file.size,
                sha256: file.sha256.clone(),
            })
            .collect();
        Self {
            items,
            refused: status.results_refused.clone().unwrap_or_default(),
        }
    }
}

/// One stored result file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TaskResultEntry {
    /// The file's path relative to the results folder, e.g. `out/report.csv`.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, 64 lower-case hex digits (also the download's ETag).
    pub sha256: String,
    /// The API path that downloads it, with each name segment percent-encoded.
    pub download_path: String,
}
