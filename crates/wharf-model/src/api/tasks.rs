//! Bodies and conventions of the `/v1/namespaces/{ns}/tasks` routes, shared by the
//! server and the CLI.

use serde::{Deserialize, Serialize};

use crate::task::Task;

/// A page of Tasks.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct TaskList {
    /// The Tasks on this page, ordered by name.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<Task>,
    /// Pass as `continue` to get the next page; absent on the last page.
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
}

/// The header saying whether a waited-for Task finished before the deadline
/// (`true` or `false`).
pub const FINISHED_HEADER: &str = "wharf-finished";

/// The multipart part holding the Task as JSON.
pub const TASK_PART: &str = "task";

/// A multipart part holding one dotenv file.
pub const ENV_PART: &str = "env";

/// The largest dotenv file a submission may carry.
pub const MAX_ENV_FILE: usize = 256 * 1024;

/// The prefix of the names Wharf picks for a Task created without one.
pub const DEFAULT_GENERATE_NAME: &str = "task-";

/// The ConfigMap that holds the `n`th dotenv file (from 1) of a Task's submission.
pub fn env_file_config_map(task: &str, n: usize) -> String {
    format!("{task}-env-{n}")
}
