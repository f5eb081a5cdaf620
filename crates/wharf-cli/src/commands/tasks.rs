//! `wharf tasks …`: list, get, logs, cancel and delete, and following a Task to its
//! end; `run` is in [`super::task_run`], `results` in [`super::task_results`].

use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use k8s_openapi::jiff::Timestamp;
use reqwest::Method;
use serde_json::Value;
use wharf_model::task::{Task, TaskPhase};
use wharf_model::wire::paths::{self, Collection, TaskResource};

use super::task_results::{self, ResultsArgs};
use super::task_run::{self, RunArgs};
use super::timeout::{Timeout, parse_wait_limit};
use super::{Context, ListArgs, decode, note_or_nothing, print_list, print_with, stream_out};
use crate::client::add_query;
use crate::error::CliError;
use crate::progress::Spinner;
use crate::task_views::tasks_table;

/// The longest one server-side wait lasts. Waiting in rounds this long lets a
/// terminal show the phase as it changes, and keeps idle connections short.
const WAIT_ROUND: Duration = Duration::from_secs(30);

/// `wharf tasks …`.
#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Submit a Task; with --wait (or --results-dir) follow it until it ends and
    /// exit 9 if it fails.
    Run(Box<RunArgs>),
    /// List the namespace's Tasks.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one Task.
    Get {
        /// The Task.
        name: String,
    },
    /// Print a Task's logs (its newest attempt unless --attempt).
    Logs(TaskLogsArgs),
    /// Cancel a running Task: its pods are stopped and it ends as Cancelled.
    Cancel {
        /// The Task.
        name: String,
        /// Wait until it has ended.
        #[command(flatten)]
        wait: TaskWaitArgs,
    },
    /// Delete a Task, its Job, its pods and its result files.
    #[command(visible_alias = "rm")]
    Delete {
        /// The Task.
        name: String,
    },
    /// List a Task's result files, or download them.
    Results(ResultsArgs),
}

/// `--wait` and `--timeout-wait` of the commands that can follow a Task to its end.
#[derive(Debug, Clone, Args)]
pub struct TaskWaitArgs {
    /// Wait until the Task has ended, showing its phase on a terminal.
    #[arg(long)]
    pub wait: bool,

    /// Wait at most this long, e.g. 30m (implies --wait; default: until it ends).
    #[arg(long, visible_alias = "wait-timeout", value_name = "DURATION", value_parser = parse_wait_limit)]
    pub timeout_wait: Option<Timeout>,
}

impl TaskWaitArgs {
    /// Whether to wait at all.
    pub fn waits(&self) -> bool {
        self.wait || self.timeout_wait.is_some()
    }
}

/// `wharf tasks logs`.
#[derive(Debug, Args)]
pub struct TaskLogsArgs {
    /// The Task.
    pub name: String,

    /// Keep printing new lines as they come, until the attempt ends or interrupted.
    #[arg(short, long)]
    pub follow: bool,

    /// Only the last N lines.
    #[arg(long, value_name = "N")]
    pub tail: Option<u32>,

    /// Which attempt, counted from 1 (default: the newest).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub attempt: Option<u32>,
}

/// Runs one `wharf tasks` command.
pub async fn run(ctx: &Context, command: TasksCommand) -> Result<(), CliError> {
    let task = |name: &str| paths::task(&ctx.namespace, name);
    match command {
        TasksCommand::Run(args) => task_run::run(ctx, *args).await,
        TasksCommand::List(args) => list(ctx, args.selector.as_deref()).await,
        TasksCommand::Get { name } => print_task(ctx, &ctx.get(&task(&name)).await?),
        TasksCommand::Logs(args) => {
            let tail = args.tail.map(|t| t.to_string());
            let attempt = args.attempt.map(|a| a.to_string());
            let query = [
                ("follow", args.follow.then_some("true")),
                ("tail", tail.as_deref()),
                ("attempt", attempt.as_deref()),
            ];
            let path = paths::task_resource(&ctx.namespace, &args.name, TaskResource::Logs);
            stream_out(ctx, &path, &query).await
        }
        TasksCommand::Cancel { name, wait } => {
            let path = paths::task_resource(&ctx.namespace, &name, TaskResource::Cancel);
            let answer = ctx.call(Method::POST, &path, None).await?;
            let task = if wait.waits() {
                follow(ctx, &name, &wait, answer.body).await?
            } else {
                answer.body
            };
            print_task(ctx, &task)
        }
        TasksCommand::Delete { name } => {
            ctx.call(Method::DELETE, &task(&name), None).await?;
            note_or_nothing(ctx, &format!("task {name} deleted\n"))
        }
        TasksCommand::Results(args) => task_results::run(ctx, args).await,
    }
}

/// Prints a Task.
pub(super) fn print_task(ctx: &Context, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |task: Task| {
        tasks_table(&[task], Timestamp::now()).render()
    })
}

/// The phase of a Task, `Pending` until it has one.
fn phase_text(task: &Task) -> String {
    task.status
        .as_ref()
        .and_then(|s| s.phase)
        .map_or_else(|| "Pending".to_owned(), |p| p.to_string())
}

/// What a spinner says about a Task: its phase and, past the first, its attempt.
fn progress_message(name: &str, task: &Task) -> String {
    let phase = phase_text(task);
    match task.status.as_ref().and_then(|s| s.attempts) {
        Some(attempt) if attempt > 1 => format!("task {name}: {phase} (attempt {attempt})"),
        _ => format!("task {name}: {phase}"),
    }
}

/// Whether the Task has ended.
fn finished(task: &Task) -> bool {
    task.status
        .as_ref()
        .and_then(|s| s.phase)
        .is_some_and(TaskPhase::is_finished)
}

/// The `?wait=` of one round: at most [`WAIT_ROUND`], at most what is left, at
/// least a second.
fn round(left: Option<Duration>) -> Duration {
    left.map_or(WAIT_ROUND, |left| left.min(WAIT_ROUND))
        .max(Duration::from_secs(1))
}

/// Waits, in server-side rounds, until the Task has ended or `wait`'s limit passed;
/// `body` is how it was last seen. Returns it as it ended, as the server sent it.
pub(super) async fn follow(
    ctx: &Context,
    name: &str,
    wait: &TaskWaitArgs,
    mut body: Value,
) -> Result<Value, CliError> {
    let started = Instant::now();
    let limit = wait.timeout_wait.as_ref().map(|t| t.duration);
    let mut task: Task = decode(&body)?;
    let spinner = Spinner::start(progress_message(name, &task));
    while !finished(&task) {
        let left = limit.map(|l| l.saturating_sub(started.elapsed()));
        if left.is_some_and(|l| l.is_zero()) {
            return Err(CliError::TaskWaitRanOut {
                name: name.to_owned(),
                timeout: wait
                    .timeout_wait
                    .as_ref()
                    .map(|t| t.text.clone())
                    .unwrap_or_default(),
                phase: phase_text(&task),
            });
        }
        let this_round = round(left);
        let mut url = ctx.url(&paths::task(&ctx.namespace, name));
        let seconds = format!("{}s", this_round.as_secs());
        add_query(&mut url, &[("wait", Some(&seconds))]);
        body = ctx
            .client
            .json(Method::GET, url, None, Some(this_round))
            .await?
            .body;
        task = decode(&body)?;
        spinner.set_message(progress_message(name, &task));
    }
    Ok(body)
}

/// Fails with [`CliError::TaskFailed`] unless the Task succeeded.
pub(super) fn succeeded(name: &str, task: &Task) -> Result<(), CliError> {
    let status = task.status.clone().unwrap_or_default();
    match status.phase {
        Some(TaskPhase::Succeeded) => Ok(()),
        phase => Err(CliError::TaskFailed {
            name: name.to_owned(),
            phase: phase.map_or_else(|| "Failed".to_owned(), |p| p.to_string()),
            reason: status.reason,
            message: status.message,
        }),
    }
}

async fn list(ctx: &Context, selector: Option<&str>) -> Result<(), CliError> {
    print_list(ctx, Collection::Tasks, selector, "tasks", |items| {
        tasks_table(items, Timestamp::now()).render()
    })
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::cli::{Command, parse_line};

    fn task(status: Value) -> Task {
        serde_json::from_value(
            json!({ "metadata": {}, "spec": { "image": "x" }, "status": status }),
        )
        .unwrap()
    }

    #[test]
    fn rounds_are_bounded_by_what_is_left() {
        assert_eq!(round(None), WAIT_ROUND);
        assert_eq!(round(Some(Duration::from_secs(600))), WAIT_ROUND);
        assert_eq!(round(Some(Duration::from_secs(5))), Duration::from_secs(5));
        assert_eq!(
            round(Some(Duration::from_millis(10))),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn the_spinner_shows_phase_and_attempt() {
        assert_eq!(
            progress_message("etl", &task(json!({}))),
            "task etl: Pending"
        );
        assert_eq!(
            progress_message("etl", &task(json!({ "phase": "Running", "attempts": 2 }))),
            "task etl: Running (attempt 2)"
        );
    }

    #[test]
    fn only_success_is_success() {
        assert!(succeeded("t", &task(json!({ "phase": "Succeeded" }))).is_ok());
        let failed = succeeded(
            "t",
            &task(json!({ "phase": "Failed", "reason": "DeadlineExceeded" })),
        )
        .unwrap_err();
        assert_eq!(failed.exit(), crate::exit::Exit::TaskFailed);
        assert!(failed.to_string().contains("DeadlineExceeded"), "{failed}");
        let cancelled = succeeded("t", &task(json!({ "phase": "Cancelled" }))).unwrap_err();
        assert!(
            cancelled.to_string().contains("was cancelled"),
            "{cancelled}"
        );
    }

    #[test]
    fn logs_cancel_and_results_flags() {
        for bad in [
            "tasks logs t --attempt 0",
            "tasks results t --download d --archive a.tar.gz",
        ] {
            let error = parse_line(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
        let cancel = parse_line("tasks cancel t --wait").unwrap();
        let Command::Tasks(TasksCommand::Cancel { wait, .. }) = cancel.command else {
            panic!("not a cancel");
        };
        assert!(wait.waits() && wait.timeout_wait.is_none());
    }
}
