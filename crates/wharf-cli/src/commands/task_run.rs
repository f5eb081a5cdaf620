//! `wharf tasks run`: submit a Task (with dotenv files as a multipart form), and
//! with `--wait` or `--results-dir` follow it to its end and fetch its results.

use std::path::PathBuf;

use clap::Args;
use reqwest::Method;
use reqwest::multipart::{Form, Part};
use wharf_model::api::{ENV_PART, TASK_PART};
use wharf_model::duration::parse_duration;
use wharf_model::task::Task;
use wharf_model::wire::paths::{self, Collection};

use super::tasks::{TaskWaitArgs, follow, print_task, succeeded};
use super::{Context, decode, task_results};
use crate::error::CliError;
use crate::manifest::parse_env;
use crate::space::parse_label;
use crate::task_spec::{build_task, read_env_file};

/// `wharf tasks run`.
#[derive(Debug, Args)]
#[command(after_help = "\
Examples:
  wharf tasks run --image python:3.13 --command python3 -- -c 'print(42)'
  wharf tasks run --image registry.example.com/etl:2 --env-file prod.env --results-dir ./out")]
pub struct RunArgs {
    /// The container image, e.g. python:3.13.
    #[arg(long)]
    pub image: String,

    /// The Task's name (default: task- and five random characters).
    #[arg(long)]
    pub name: Option<String>,

    /// One word of the entrypoint; repeat for more, e.g. --command python3 (the
    /// image's own when absent). Arguments go after `--`.
    #[arg(long = "command", value_name = "WORD", allow_hyphen_values = true)]
    pub command: Vec<String>,

    /// Arguments to the entrypoint.
    #[arg(last = true, value_name = "ARGS")]
    pub args: Vec<String>,

    /// An environment variable, KEY=VALUE. Repeat for more.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,

    /// A dotenv file (KEY=VALUE lines, at most 256 KiB); its variables reach the
    /// Task through a ConfigMap deleted with it. Repeat for more.
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,

    /// The longest the Task may run, all attempts together, e.g. 30m or 2h.
    #[arg(long, value_name = "DURATION", value_parser = parse_task_duration)]
    pub timeout: Option<String>,

    /// How many times a failed attempt is retried (0 to 100).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i32).range(0..=100))]
    pub retries: Option<i32>,

    /// Where the Task writes its result files (default /results).
    #[arg(long, value_name = "PATH", conflicts_with = "no_results")]
    pub results_path: Option<String>,

    /// The most the results folder may hold, e.g. 512Mi (default 1Gi).
    #[arg(long, value_name = "QUANTITY", conflicts_with = "no_results")]
    pub max_size: Option<String>,

    /// Collect no result files.
    #[arg(long)]
    pub no_results: bool,

    /// A URL that receives a signed POST when the Task ends.
    #[arg(long, value_name = "URL")]
    pub callback_url: Option<String>,

    /// The Secret whose key `key` signs the callback.
    #[arg(long, value_name = "SECRET", requires = "callback_url")]
    pub callback_secret: Option<String>,

    /// The Kueue LocalQueue to submit to.
    #[arg(long, value_name = "QUEUE")]
    pub queue: Option<String>,

    /// A label on the Task, KEY=VALUE (see `wharf tasks list -l`). Repeat for more.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,

    /// An annotation on the Task, KEY=VALUE; its pods carry it too. Repeat for more.
    #[arg(long = "annotation", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub annotations: Vec<(String, String)>,

    /// Follow the Task until it ends.
    #[command(flatten)]
    pub wait: TaskWaitArgs,

    /// After the Task succeeds, download its result files into this folder
    /// (implies --wait); each is checked against its SHA-256.
    #[arg(long, value_name = "DIR", conflicts_with = "no_results")]
    pub results_dir: Option<PathBuf>,
}

/// Reads a Task duration such as `30m` or `1h30m`.
fn parse_task_duration(text: &str) -> Result<String, String> {
    match parse_duration(text) {
        Ok(d) if d.is_zero() => Err("the timeout must be at least 1s".into()),
        Ok(_) => Ok(text.to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// Submits the Task, and follows it when asked to.
pub(super) async fn run(ctx: &Context, args: RunArgs) -> Result<(), CliError> {
    let task = build_task(&args)?;
    let env_files = args
        .env_files
        .iter()
        .map(|path| read_env_file(path))
        .collect::<Result<Vec<_>, _>>()?;
    let waits = args.wait.waits() || args.results_dir.is_some();
    let path = paths::collection(&ctx.namespace, Collection::Tasks);
    let created = if env_files.is_empty() {
        ctx.call(Method::POST, &path, Some(&task)).await?
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
        ctx.client.post_form(ctx.url(&path), form, None).await?
    };
    let name = decode::<Task>(&created.body)?
        .metadata
        .name
        .ok_or_else(|| CliError::BadAnswer("a created Task without a name".into()))?;
    if !waits {
        return print_task(ctx, &created.body);
    }
    let ended = follow(ctx, &name, &args.wait, created.body).await?;
    print_task(ctx, &ended)?;
    succeeded(&name, &decode(&ended)?)?;
    if let Some(dir) = &args.results_dir {
        task_results::download_all(ctx, &name, dir).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::cli::{Command, parse_line};
    use crate::commands::tasks::TasksCommand;

    #[test]
    fn tasks_run_reads_command_args_env_and_results() {
        let cli = parse_line("tasks run --image python:3.13 --name etl --command python3 --command -u --env A=1 --env-file prod.env --env-file extra.env --timeout 30m --retries 2 --max-size 2Gi --callback-url https://hooks.example.com/x --callback-secret hook --queue gpu --timeout-wait 2h --results-dir out -- -c print(1)")
        .unwrap();
        let Command::Tasks(TasksCommand::Run(run)) = cli.command else {
            panic!("not a run");
        };
        assert_eq!(run.command, ["python3", "-u"]);
        assert_eq!(run.args, ["-c", "print(1)"]);
        assert_eq!(run.env, [("A".to_owned(), "1".to_owned())]);
        assert_eq!(run.env_files.len(), 2);
        assert_eq!(run.timeout.as_deref(), Some("30m"));
        assert_eq!(run.retries, Some(2));
        assert_eq!(
            run.wait.timeout_wait.as_ref().map(|t| t.duration),
            Some(Duration::from_secs(7200))
        );
        assert!(run.wait.waits());
        assert_eq!(
            run.results_dir.as_deref(),
            Some(std::path::Path::new("out"))
        );
    }

    #[test]
    fn run_flags_that_cannot_go_together_are_refused() {
        for bad in [
            "tasks run",
            "tasks run --image x --retries 101",
            "tasks run --image x --timeout 0s",
            "tasks run --image x --no-results --results-dir d",
            "tasks run --image x --no-results --max-size 1Gi",
            "tasks run --image x --callback-secret s",
            "tasks run --image x --timeout-wait 0s",
        ] {
            let error = parse_line(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
    }
}
