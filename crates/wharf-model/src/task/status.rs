//! The observed state of a Task. The operator writes everything except the result
//! files, which the API server records when the collector's manifest arrives (a
//! separate field manager, so neither overwrites the other).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{RefusedResult, ResultFile};

/// What Wharf observed of a Task.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    /// A one-word summary of the Task's state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<TaskPhase>,

    /// `Complete` (succeeded) and `Failed` (failed or cancelled), each with a reason
    /// and a message, as a Job has them; `kubectl wait --for=condition=Complete` works.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,

    /// The Job that runs the Task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,

    /// When the first attempt started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Time>,

    /// When the Task ended (succeeded, failed or was cancelled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_time: Option<Time>,

    /// How long the Task ran, from start to end, e.g. `1m20s`. Set when it ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<String>,

    /// Attempts started so far, retries included; evicted pods are not counted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts: Option<i32>,

    /// The exit code of the last attempt's container, once it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,

    /// Why the Task is in its phase, one CamelCase word: `DeadlineExceeded`,
    /// `BackoffLimitExceeded`, `OOMKilled`, `ImagePullBackOff`, `Error`, `Cancelled`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,

    /// A sentence a person can act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,

    /// The result files the collector uploaded, ordered by name. Written by the API
    /// server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results: Option<Vec<ResultFile>>,

    /// Files in the results folder that were not collected, and why (symlinks,
    /// devices, names that leave the folder). Written by the API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_refused: Option<Vec<RefusedResult>>,

    /// Number of result files. Written by the API server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result_count: Option<i32>,

    /// Delivery of the callback, for a Task with one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback: Option<CallbackStatus>,

    /// The Task generation this status describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
}

impl TaskStatus {
    /// Whether the Task has ended: succeeded, failed or cancelled.
    pub fn is_finished(&self) -> bool {
        self.phase.is_some_and(TaskPhase::is_finished)
    }
}

/// A one-word summary of a Task's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum TaskPhase {
    /// Accepted; the Job or its pod is not running yet (waiting for a node, a queue,
    /// an image, or a missing reference).
    Pending,
    /// An attempt is running.
    Running,
    /// The container exited with code 0.
    Succeeded,
    /// Every attempt failed, or the timeout passed.
    Failed,
    /// Cancelled before it ended.
    Cancelled,
}

impl TaskPhase {
    /// Whether the phase is final.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }

    /// The phase as written in the resource.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "Pending",
            Self::Running => "Running",
            Self::Succeeded => "Succeeded",
            Self::Failed => "Failed",
            Self::Cancelled => "Cancelled",
        }
    }
}

impl std::fmt::Display for TaskPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the callback's delivery is going.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackStatus {
    /// `Pending` (not sent yet or retrying), `Delivered` or `Failed` (gave up).
    pub state: CallbackState,

    /// Attempts made so far.
    pub attempts: i32,

    /// The most recent attempts, newest last (at most 10).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<CallbackAttempt>,

    /// When the next attempt is due, while retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_attempt_time: Option<Time>,
}

/// The state of a callback's delivery.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum CallbackState {
    /// Not delivered yet; attempts continue.
    #[default]
    Pending,
    /// The receiver answered with a 2xx status.
    Delivered,
    /// Every attempt failed, or the URL is refused; no more attempts.
    Failed,
}

/// One attempt to deliver a callback.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallbackAttempt {
    /// When it was made.
    pub time: Time,
    /// The HTTP status the receiver answered, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<i32>")]
    pub status_code: Option<u16>,
    /// Why it failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}
