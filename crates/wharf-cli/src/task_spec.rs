//! Building the Task that `wharf tasks run` submits from its flags, and reading the
//! dotenv files it sends along. Both are checked here with the rules the server
//! applies, so a mistake is reported before anything is sent.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};
use wharf_model::api::{DEFAULT_GENERATE_NAME, MAX_ENV_FILE, parse_dotenv, validate_task};
use wharf_model::task::{CallbackSecretRef, CallbackSpec, ResultsSpec, Task, TaskSpec};
use wharf_model::workload::EnvVar;
use wharf_model::{API_GROUP, API_VERSION};

use crate::commands::task_run::RunArgs;
use crate::error::CliError;

/// A dotenv file to send with the Task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvFile {
    /// The file's name (without folders), which the server names in its messages.
    pub name: String,
    /// Its content, checked to be a valid dotenv file.
    pub text: String,
}

/// The Task `args` describe, as the JSON body of `POST …/tasks`. Without `--name`
/// it carries `generateName` and the server picks the name.
pub fn build_task(args: &RunArgs) -> Result<Value, CliError> {
    let spec = TaskSpec {
        image: args.image.clone(),
        command: args.command.clone(),
        args: args.args.clone(),
        env: args
            .env
            .iter()
            .map(|(name, value)| EnvVar::literal(name, value))
            .collect(),
        timeout: args.timeout.clone(),
        retries: args.retries.unwrap_or(0),
        results: (!args.no_results).then(|| ResultsSpec {
            path: args.results_path.clone(),
            max_size: args.max_size.clone(),
        }),
        callback: args.callback_url.as_ref().map(|url| CallbackSpec {
            url: url.clone(),
            secret_ref: args.callback_secret.as_ref().map(|name| CallbackSecretRef {
                name: name.clone(),
                key: None,
            }),
        }),
        queue: args.queue.clone(),
        ..TaskSpec::default()
    };
    // A name Wharf will pick is valid by construction; check the spec with a stand-in.
    let checked_name = args.name.as_deref().unwrap_or("task-check");
    if let Some(error) = validate_task(checked_name, &spec).into_iter().next() {
        return Err(CliError::invalid_field(error.field, error.message));
    }
    let mut metadata = match &args.name {
        Some(name) => json!({ "name": name }),
        None => json!({ "generateName": DEFAULT_GENERATE_NAME }),
    };
    for (field, pairs) in [("labels", &args.labels), ("annotations", &args.annotations)] {
        if !pairs.is_empty() {
            let map: BTreeMap<&str, &str> = pairs
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            metadata[field] = json!(map);
        }
    }
    let mut task = serde_json::to_value(Task {
        spec,
        ..Task::default()
    })
    .map_err(|e| CliError::Other(format!("encoding the Task: {e}")))?;
    task["apiVersion"] = format!("{API_GROUP}/{API_VERSION}").into();
    task["kind"] = "Task".into();
    task["metadata"] = metadata;
    if let Some(object) = task.as_object_mut() {
        object.remove("status");
    }
    Ok(task)
}

/// Reads a dotenv file and checks it: at most 256 KiB of UTF-8 `KEY=VALUE` lines.
pub fn read_env_file(path: &Path) -> Result<EnvFile, CliError> {
    let shown = path.display();
    let bytes =
        std::fs::read(path).map_err(|e| CliError::invalid(format!("reading {shown}: {e}")))?;
    if bytes.len() > MAX_ENV_FILE {
        return Err(CliError::invalid(format!(
            "{shown} is larger than 256 KiB; split it or keep the values in a Secret"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| CliError::invalid(format!("{shown} is not UTF-8 text")))?;
    parse_dotenv(&text).map_err(|e| CliError::invalid(format!("{shown}: {e}")))?;
    let name = path
        .file_name()
        .map_or_else(|| "env".to_owned(), |n| n.to_string_lossy().into_owned());
    Ok(EnvFile { name, text })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::commands::tasks::TasksCommand;

    fn run_args(args: &[&str]) -> RunArgs {
        let cli = Cli::try_parse_from(["wharf", "tasks", "run"].iter().chain(args)).unwrap();
        match cli.command {
            Command::Tasks(TasksCommand::Run(run)) => *run,
            other => panic!("not a run: {other:?}"),
        }
    }

    #[test]
    fn a_minimal_run_collects_results_at_the_default_path() {
        let task = build_task(&run_args(&["--image", "busybox"])).unwrap();
        assert_eq!(
            task,
            json!({
                "apiVersion": "wharf.dev/v1alpha1",
                "kind": "Task",
                "metadata": { "generateName": "task-" },
                "spec": { "image": "busybox", "results": {} }
            })
        );
    }

    #[test]
    fn every_flag_lands_in_its_field() {
        let task = build_task(&run_args(&[
            "--image",
            "python:3.13",
            "--name",
            "etl",
            "--command",
            "python3",
            "--env",
            "A=1",
            "--env",
            "B=x=y",
            "--timeout",
            "1h30m",
            "--retries",
            "3",
            "--results-path",
            "/out",
            "--max-size",
            "2Gi",
            "--callback-url",
            "https://hooks.example.com/done",
            "--callback-secret",
            "hook",
            "--queue",
            "batch",
            "--label",
            "team=data",
            "--annotation",
            "note=nightly run",
            "--",
            "-c",
            "print(1)",
        ]))
        .unwrap();
        assert_eq!(
            task["metadata"],
            json!({ "name": "etl", "labels": { "team": "data" }, "annotations": { "note": "nightly run" } })
        );
        assert_eq!(
            task["spec"],
            json!({
                "image": "python:3.13",
                "command": ["python3"],
                "args": ["-c", "print(1)"],
                "env": [{ "name": "A", "value": "1" }, { "name": "B", "value": "x=y" }],
                "timeout": "1h30m",
                "retries": 3,
                "results": { "path": "/out", "maxSize": "2Gi" },
                "callback": { "url": "https://hooks.example.com/done", "secretRef": { "name": "hook" } },
                "queue": "batch"
            })
        );
        let without = build_task(&run_args(&["--image", "x", "--no-results"])).unwrap();
        assert!(without["spec"].get("results").is_none(), "{without}");
    }

    #[test]
    fn mistakes_are_refused_before_sending_with_their_field() {
        let cases = [
            (&["--image", "bad image"][..], "spec.image"),
            (&["--image", "x", "--name", "Bad"], "metadata.name"),
            (&["--image", "x", "--env", "1A=x"], "spec.env[0].name"),
            (
                &["--image", "x", "--env", "A=1", "--env", "A=2"],
                "spec.env[1].name",
            ),
            (
                &["--image", "x", "--max-size", "lots"],
                "spec.results.maxSize",
            ),
            (
                &["--image", "x", "--results-path", "out"],
                "spec.results.path",
            ),
            (
                &["--image", "x", "--callback-url", "ftp://x"],
                "spec.callback.url",
            ),
        ];
        for (args, field) in cases {
            match build_task(&run_args(args)) {
                Err(CliError::Invalid { field: Some(f), .. }) => assert_eq!(f, field, "{args:?}"),
                other => panic!("{args:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn env_files_are_checked_before_sending() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("prod.env");
        std::fs::write(&good, "# db\nDB_HOST=db\n").unwrap();
        let file = read_env_file(&good).unwrap();
        assert_eq!(file.name, "prod.env");
        assert_eq!(file.text, "# db\nDB_HOST=db\n");

        let bad = dir.path().join("bad.env");
        std::fs::write(&bad, "A=1\nnot a pair\n").unwrap();
        let error = read_env_file(&bad).unwrap_err().to_string();
        assert!(error.contains("bad.env: line 2"), "{error}");
        let big = dir.path().join("big.env");
        std::fs::write(&big, "A=".to_owned() + &"x".repeat(MAX_ENV_FILE)).unwrap();
        assert!(
            read_env_file(&big)
                .unwrap_err()
                .to_string()
                .contains("256 KiB")
        );
        assert!(read_env_file(&dir.path().join("missing.env")).is_err());
    }
}
