//! `wharf tasks …`: run (and follow), list, get, logs, cancel, delete and results.

use std::path::Path;
use std::time::{Duration, Instant};

use k8s_openapi::jiff::Timestamp;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use wharf_model::api::{ENV_PART, TASK_PART, TaskList, TaskResultList};
use wharf_model::task::{Task, TaskPhase};

use super::Context;
use super::apps::{decode, list_all, note_or_nothing, print_with, stream_out};
use crate::cli::{ResultsArgs, RunArgs, TaskLogsArgs, TaskWaitArgs, TasksCommand};
use crate::client::add_query;
use crate::download::{download_archive, download_result};
use crate::error::CliError;
use crate::output::note;
use crate::progress::Spinner;
use crate::task_spec::{build_task, read_env_file};
use crate::task_views::{human_size, results_table, tasks_table};

/// The longest one server-side wait lasts. Waiting in rounds this long lets a
/// terminal show the phase as it changes, and keeps idle connections short.
const WAIT_ROUND: Duration = Duration::from_secs(30);

/// Runs one `wharf tasks` command.
pub async fn run(ctx: &Context, command: TasksCommand) -> Result<(), CliError> {
    match command {
        TasksCommand::Run(args) => run_task(ctx, *args).await,
        TasksCommand::List { selector } => list(ctx, selector.as_deref()).await,
        TasksCommand::Get { name } => {
            let url = ctx.client.tasks_url(&ctx.namespace, &[&name]);
            let answer = ctx.client.json(Method::GET, url, None, None).await?;
            print_task(ctx, &answer.body)
        }
        TasksCommand::Logs(args) => logs(ctx, args).await,
        TasksCommand::Cancel { name, wait } => {
            let url = ctx.client.tasks_url(&ctx.namespace, &[&name, "cancel"]);
            let answer = ctx.client.json(Method::POST, url, None, None).await?;
            let task = if wait.waits() {
                follow(ctx, &name, &wait, answer.body).await?
            } else {
                answer.body
            };
            print_task(ctx, &task)
        }
        TasksCommand::Delete { name } => {
            let url = ctx.client.tasks_url(&ctx.namespace, &[&name]);
            ctx.client.json(Method::DELETE, url, None, None).await?;
            note_or_nothing(ctx, &format!("task {name} deleted\n"))
        }
        TasksCommand::Results(args) => results(ctx, args).await,
    }
}

/// Prints a Task.
fn print_task(ctx: &Context, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |task: Task| {
        tasks_table(&[task], Timestamp::now()).render()
    })
}

/// The phase of a Task as the API sent it, when it has one.
fn phase_of(task: &Value) -> Option<TaskPhase> {
    serde_json::from_value(task.pointer("/status/phase")?.clone()).ok()
}

/// What a spinner says about a Task: its phase and, past the first, its attempt.
fn progress_message(name: &str, task: &Value) -> String {
    let phase = phase_of(task).map_or_else(|| "Pending".to_owned(), |p| p.to_string());
    match task.pointer("/status/attempts").and_then(Value::as_i64) {
        Some(attempt) if attempt > 1 => format!("task {name}: {phase} (attempt {attempt})"),
        _ => format!("task {name}: {phase}"),
    }
}

/// The `?wait=` of one round: at most [`WAIT_ROUND`], at most what is left, at
/// least a second.
fn round(left: Option<Duration>) -> Duration {
    left.map_or(WAIT_ROUND, |left| left.min(WAIT_ROUND))
        .max(Duration::from_secs(1))
}

/// Waits, in server-side rounds, until the Task has ended or `wait`'s limit passed;
/// `task` is how it was last seen. Returns it as it ended.
async fn follow(
    ctx: &Context,
    name: &str,
    wait: &TaskWaitArgs,
    mut task: Value,
) -> Result<Value, CliError> {
    let started = Instant::now();
    let limit = wait.timeout_wait.as_ref().map(|t| t.duration);
    let spinner = Spinner::start(progress_message(name, &task));
    while !phase_of(&task).is_some_and(TaskPhase::is_finished) {
        let left = limit.map(|l| l.saturating_sub(started.elapsed()));
        if left.is_some_and(|l| l.is_zero()) {
            return Err(CliError::TaskWaitRanOut {
                name: name.to_owned(),
                timeout: wait
                    .timeout_wait
                    .as_ref()
                    .map(|t| t.text.clone())
                    .unwrap_or_default(),
                phase: phase_of(&task).map_or_else(|| "Pending".to_owned(), |p| p.to_string()),
            });
        }
        let this_round = round(left);
        let mut url = ctx.client.tasks_url(&ctx.namespace, &[name]);
        let seconds = format!("{}s", this_round.as_secs());
        add_query(&mut url, &[("wait", Some(&seconds))]);
        task = ctx
            .client
            .json(Method::GET, url, None, Some(this_round))
            .await?
            .body;
        spinner.set_message(progress_message(name, &task));
    }
    Ok(task)
}

/// Fails with [`CliError::TaskFailed`] unless the Task succeeded.
fn succeeded(name: &str, task: &Value) -> Result<(), CliError> {
    match phase_of(task) {
        Some(TaskPhase::Succeeded) => Ok(()),
        phase => {
            let text = |pointer: &str| {
                task.pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            Err(CliError::TaskFailed {
                name: name.to_owned(),
                phase: phase.map_or_else(|| "Failed".to_owned(), |p| p.to_string()),
                reason: text("/status/reason"),
                message: text("/status/message"),
            })
        }
    }
}

async fn run_task(ctx: &Context, args: RunArgs) -> Result<(), CliError> {
    let task = build_task(&args)?;
    let env_files = args
        .env_files
        .iter()
        .map(|path| read_env_file(path))
        .collect::<Result<Vec<_>, _>>()?;
    let waits = args.wait.waits() || args.results_dir.is_some();
    let url = ctx.client.tasks_url(&ctx.namespace, &[]);
    let created = if env_files.is_empty() {
        ctx.client
            .json(Method::POST, url, Some(&task), None)
            .await?
    } else {
        let mut form = Form::new().part(
            TASK_PART,
            Part::text(task.to_string())
                .mime_str("application/json")
                .map_err(|e| CliError::Other(format!("building the form: {e}")))?,
        );
        for file in env_files {
            form = form.part(ENV_PART, Part::text(file.text).file_name(file.name));
        }
        ctx.client.post_form(url, form, None).await?
    };
    let name = created
        .body
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .ok_or_else(|| CliError::BadAnswer("a created Task without a name".into()))?
        .to_owned();
    if !waits {
        return print_task(ctx, &created.body);
    }
    let ended = follow(ctx, &name, &args.wait, created.body).await?;
    print_task(ctx, &ended)?;
    succeeded(&name, &ended)?;
    if let Some(dir) = &args.results_dir {
        download_all(ctx, &name, dir).await?;
    }
    Ok(())
}

async fn list(ctx: &Context, selector: Option<&str>) -> Result<(), CliError> {
    let items = list_all(ctx, &ctx.client.tasks_url(&ctx.namespace, &[]), selector).await?;
    let body = json!({ "items": items });
    print_with(ctx, &body, |list: TaskList| {
        if list.items.is_empty() {
            note(&format!("No tasks in namespace {}.", ctx.namespace));
            return String::new();
        }
        tasks_table(&list.items, Timestamp::now()).render()
    })
}

async fn logs(ctx: &Context, args: TaskLogsArgs) -> Result<(), CliError> {
    let mut url = ctx.client.tasks_url(&ctx.namespace, &[&args.name, "logs"]);
    let tail = args.tail.map(|t| t.to_string());
    let attempt = args.attempt.map(|a| a.to_string());
    add_query(
        &mut url,
        &[
            ("follow", args.follow.then_some("true")),
            ("tail", tail.as_deref()),
            ("attempt", attempt.as_deref()),
        ],
    );
    stream_out(ctx, url).await
}

/// The Task's result files as the server lists them.
async fn result_list(ctx: &Context, name: &str) -> Result<(Value, TaskResultList), CliError> {
    let url = ctx.client.tasks_url(&ctx.namespace, &[name, "results"]);
    let answer = ctx.client.json(Method::GET, url, None, None).await?;
    let list = decode(&answer.body)?;
    Ok((answer.body, list))
}

/// Downloads every result file of the Task into `dir`, and says what arrived.
async fn download_all(ctx: &Context, name: &str, dir: &Path) -> Result<TaskResultList, CliError> {
    let (_, list) = result_list(ctx, name).await?;
    std::fs::create_dir_all(dir).map_err(|e| CliError::Download {
        path: dir.to_path_buf(),
        message: format!("creating the folder: {e}"),
    })?;
    let spinner = Spinner::start(format!("downloading the results of task {name}"));
    let mut total = 0;
    for (i, entry) in list.items.iter().enumerate() {
        spinner.set_message(format!(
            "downloading {} ({}/{})",
            entry.name,
            i + 1,
            list.items.len()
        ));
        download_result(&ctx.client, &ctx.namespace, name, entry, dir).await?;
        total += entry.size;
    }
    drop(spinner);
    note(&format!(
        "Downloaded {} result file(s) of task {name}, {}, to {}.",
        list.items.len(),
        human_size(total),
        dir.display()
    ));
    for refused in &list.refused {
        note(&format!(
            "Not collected: {} ({})",
            refused.name, refused.reason
        ));
    }
    Ok(list)
}

async fn results(ctx: &Context, args: ResultsArgs) -> Result<(), CliError> {
    if let Some(file) = &args.archive {
        let size = download_archive(&ctx.client, &ctx.namespace, &args.name, file).await?;
        note(&format!(
            "Wrote the results of task {} to {} ({}).",
            args.name,
            file.display(),
            human_size(size)
        ));
        return Ok(());
    }
    if let Some(dir) = &args.download {
        download_all(ctx, &args.name, dir).await?;
    }
    let (body, _) = result_list(ctx, &args.name).await?;
    print_with(ctx, &body, |list: TaskResultList| {
        if list.items.is_empty() {
            note(&format!("Task {} has no result files.", args.name));
        }
        for refused in &list.refused {
            note(&format!(
                "Not collected: {} ({})",
                refused.name, refused.reason
            ));
        }
        if list.items.is_empty() {
            String::new()
        } else {
            results_table(&list.items).render()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(progress_message("etl", &json!({})), "task etl: Pending");
        assert_eq!(
            progress_message(
                "etl",
                &json!({ "status": { "phase": "Running", "attempts": 2 } })
            ),
            "task etl: Running (attempt 2)"
        );
    }

    #[test]
    fn only_success_is_success() {
        assert!(succeeded("t", &json!({ "status": { "phase": "Succeeded" } })).is_ok());
        let failed = succeeded(
            "t",
            &json!({ "status": { "phase": "Failed", "reason": "DeadlineExceeded" } }),
        )
        .unwrap_err();
        assert_eq!(failed.exit(), crate::exit::Exit::TaskFailed);
        assert!(failed.to_string().contains("DeadlineExceeded"), "{failed}");
        let cancelled = succeeded("t", &json!({ "status": { "phase": "Cancelled" } })).unwrap_err();
        assert!(
            cancelled.to_string().contains("was cancelled"),
            "{cancelled}"
        );
    }
}
