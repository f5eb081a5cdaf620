//! `wharf runtimes versions …` (list, get, apply, create, delete, and the state
//! actions start, stop, publish and unpublish) and `wharf runtimes invoke`, which
//! sends a request through a version's workflow and prints the answer's bytes.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use k8s_openapi::jiff::Timestamp;
use reqwest::Method;
use serde_json::Value;
use wharf_model::runtime_version::RuntimeVersion;
use wharf_model::wire::paths::{self, Collection, VersionAction};

use super::timeout::{Timeout, parse_invoke_timeout};
use super::{Context, ListArgs, copy_out, list_all, note_or_nothing, print_items, print_with};
use crate::client::add_query;
use crate::error::CliError;
use crate::manifest::{manifest_body, manifest_name, parse_object, read_manifest_text, typed};
use crate::version_views;

/// The kind a manifest of these commands holds.
const KIND: &str = "RuntimeVersion";

/// `wharf runtimes versions …`.
#[derive(Debug, Subcommand)]
pub enum VersionsCommand {
    /// List the namespace's RuntimeVersions.
    #[command(visible_alias = "ls")]
    List(ListVersionsArgs),
    /// Show one RuntimeVersion: its state, each workflow's nodes with their
    /// subjects and pods, its stream and its conditions.
    Get {
        /// The RuntimeVersion.
        name: String,
    },
    /// Create or update a RuntimeVersion from a manifest (server-side apply).
    Apply(FileArgs),
    /// Create a RuntimeVersion from a manifest; refused if it exists.
    Create(FileArgs),
    /// Delete a RuntimeVersion, its nodes and its stream.
    #[command(visible_alias = "rm")]
    Delete {
        /// The RuntimeVersion.
        name: String,
    },
    /// Run the version's nodes (state Started).
    Start {
        /// The RuntimeVersion.
        name: String,
    },
    /// Scale the version's nodes to zero, keeping everything else (state Stopped).
    Stop {
        /// The RuntimeVersion.
        name: String,
    },
    /// Make the version the one its Runtime serves (state Published); the
    /// version published before is Started.
    Publish {
        /// The RuntimeVersion.
        name: String,
    },
    /// Stop serving the version as its Runtime's, keeping it running (state
    /// Started).
    Unpublish {
        /// The RuntimeVersion.
        name: String,
    },
}

/// `wharf runtimes versions list`.
#[derive(Debug, Args)]
pub struct ListVersionsArgs {
    /// The label selector.
    #[command(flatten)]
    pub list: ListArgs,

    /// Only the versions of this Runtime.
    #[arg(long, value_name = "RUNTIME")]
    pub runtime: Option<String>,
}

/// `wharf runtimes versions apply|create`.
#[derive(Debug, Args)]
pub struct FileArgs {
    /// A RuntimeVersion manifest, YAML or JSON (`-` for standard input). Its
    /// metadata.name names the version; the namespace is the command's unless
    /// the manifest names one.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: PathBuf,
}

/// `wharf runtimes invoke`.
#[derive(Debug, Args)]
pub struct InvokeArgs {
    /// The Runtime.
    pub runtime: String,

    /// The workflow, by its name or the name it is invoked by (its entrypoint).
    pub workflow: String,

    /// The request: TEXT as given, @FILE for a file's bytes, @- for standard
    /// input.
    #[arg(short = 'd', long, value_name = "TEXT|@FILE|@-", value_parser = parse_data)]
    pub data: Data,

    /// The RuntimeVersion to send it through (default: the Runtime's published
    /// version).
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,

    /// How long to wait for the answer, at most 5m (the server's default: 30s).
    #[arg(long, value_name = "DURATION", value_parser = parse_invoke_timeout)]
    pub timeout: Option<Timeout>,

    /// The request's Content-Type, passed to the first node (e.g.
    /// application/json).
    #[arg(long, value_name = "TYPE")]
    pub content_type: Option<String>,
}

/// Where the bytes of a request come from (`--data`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Data {
    /// The text given.
    Text(String),
    /// A file's bytes (`@FILE`).
    File(PathBuf),
    /// Standard input (`@-`).
    Stdin,
}

/// Reads `--data`: `@-`, `@FILE` or text (as curl does).
pub fn parse_data(text: &str) -> Result<Data, String> {
    match text.strip_prefix('@') {
        Some("-") => Ok(Data::Stdin),
        Some("") => Err(
            "'@' names no file: write @FILE, @- for standard input, or the text itself".to_owned(),
        ),
        Some(path) => Ok(Data::File(PathBuf::from(path))),
        None => Ok(Data::Text(text.to_owned())),
    }
}

impl Data {
    /// The request's bytes.
    fn read(self) -> Result<Vec<u8>, CliError> {
        match self {
            Self::Text(text) => Ok(text.into_bytes()),
            Self::File(path) => std::fs::read(&path)
                .map_err(|e| CliError::invalid(format!("reading {}: {e}", path.display()))),
            Self::Stdin => {
                let mut bytes = Vec::new();
                std::io::stdin().read_to_end(&mut bytes).map_err(|e| {
                    CliError::invalid(format!("reading the request from standard input: {e}"))
                })?;
                Ok(bytes)
            }
        }
    }
}

/// Runs one `wharf runtimes versions` command.
pub async fn run(ctx: &Context, command: VersionsCommand) -> Result<(), CliError> {
    let version = |name: &str| paths::runtime_version(&ctx.namespace, name);
    match command {
        VersionsCommand::List(args) => list(ctx, args).await,
        VersionsCommand::Get { name } => print_with(
            ctx,
            &ctx.get(&version(&name)).await?,
            |version: RuntimeVersion| version_views::version_view(&version, Timestamp::now()),
        ),
        VersionsCommand::Apply(args) => send(ctx, &args.file, Method::PUT).await,
        VersionsCommand::Create(args) => send(ctx, &args.file, Method::POST).await,
        VersionsCommand::Delete { name } => {
            let answer = ctx.call(Method::DELETE, &version(&name), None).await?;
            let text = if answer.body.is_null() {
                format!("runtimeversion {name} deleted\n")
            } else {
                format!("runtimeversion {name} is being deleted (its stream goes first)\n")
            };
            note_or_nothing(ctx, &text)
        }
        VersionsCommand::Start { name } => act(ctx, &name, VersionAction::Start).await,
        VersionsCommand::Stop { name } => act(ctx, &name, VersionAction::Stop).await,
        VersionsCommand::Publish { name } => act(ctx, &name, VersionAction::Publish).await,
        VersionsCommand::Unpublish { name } => act(ctx, &name, VersionAction::Unpublish).await,
    }
}

/// Lists the versions, those of `--runtime` only when given (the API lists a
/// namespace's versions; the Runtime is a field of each).
async fn list(ctx: &Context, args: ListVersionsArgs) -> Result<(), CliError> {
    let path = paths::collection(&ctx.namespace, Collection::RuntimeVersions);
    let mut items = list_all(ctx, &path, args.list.selector.as_deref()).await?;
    let noun = match &args.runtime {
        Some(runtime) => {
            items.retain(|item| runs_on(item, runtime));
            format!("runtime versions of runtime {runtime}")
        }
        None => "runtime versions".to_owned(),
    };
    print_items(ctx, items, &noun, |versions| {
        version_views::versions_table(versions, Timestamp::now()).render()
    })
}

/// Whether the listed version `item` runs on `runtime`.
fn runs_on(item: &Value, runtime: &str) -> bool {
    item.pointer("/spec/runtime").and_then(Value::as_str) == Some(runtime)
}

/// Sends the manifest in `file`: `PUT` applies it, `POST` creates it.
async fn send(ctx: &Context, file: &Path, method: Method) -> Result<(), CliError> {
    let source = file.display().to_string();
    let value = parse_object(&read_manifest_text(file)?, &source, KIND)?;
    // Read as a RuntimeVersion to refuse what cannot be one, naming the field.
    let version: RuntimeVersion = typed(value.clone(), &source)?;
    let name = manifest_name(version.metadata.name, &source, KIND)?;
    let namespace = ctx.namespace_for(version.metadata.namespace)?;
    let body = manifest_body(value, KIND, &namespace);
    let path = if method == Method::POST {
        paths::collection(&namespace, Collection::RuntimeVersions)
    } else {
        paths::runtime_version(&namespace, &name)
    };
    let answer = ctx.call(method, &path, Some(&body)).await?;
    print_with(ctx, &answer.body, |version: RuntimeVersion| {
        version_views::versions_table(&[version], Timestamp::now()).render()
    })
}

/// Sets a version's state through its action and says what it is now.
async fn act(ctx: &Context, name: &str, action: VersionAction) -> Result<(), CliError> {
    let path = paths::runtime_version_action(&ctx.namespace, name, action);
    let answer = ctx.call(Method::POST, &path, None).await?;
    print_with(ctx, &answer.body, |version: RuntimeVersion| {
        version_views::state_line(&version)
    })
}

/// Sends `--data` through the workflow and copies the answer's bytes to
/// standard output as they are.
pub async fn invoke(ctx: &Context, args: InvokeArgs) -> Result<(), CliError> {
    let body = args.data.read()?;
    let path = paths::invoke(
        &ctx.namespace,
        &args.runtime,
        args.version.as_deref(),
        &args.workflow,
    );
    let mut url = ctx.url(&path);
    add_query(
        &mut url,
        &[("timeout", args.timeout.as_ref().map(|t| t.text.as_str()))],
    );
    let wait = args.timeout.as_ref().map(|t| t.duration);
    let response = ctx
        .client
        .post_bytes(url, body, args.content_type.as_deref(), wait)
        .await?;
    copy_out(ctx, response).await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::cli::{Command, parse, parse_line};
    use crate::commands::runtimes::RuntimesCommand;

    fn invoke_args(line: &str) -> InvokeArgs {
        let cli = parse_line(line).unwrap();
        let Command::Runtimes(RuntimesCommand::Invoke(args)) = cli.command else {
            panic!("not an invoke: {line}");
        };
        args
    }

    #[test]
    fn data_is_text_a_file_or_standard_input() {
        assert_eq!(parse_data("hello"), Ok(Data::Text("hello".into())));
        assert_eq!(parse_data(""), Ok(Data::Text(String::new())));
        assert_eq!(parse_data("@-"), Ok(Data::Stdin));
        assert_eq!(
            parse_data("@in/letter.png"),
            Ok(Data::File(PathBuf::from("in/letter.png")))
        );
        assert!(parse_data("@").unwrap_err().contains("@FILE"));
    }

    #[test]
    fn data_is_read_as_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("letter.bin");
        std::fs::write(&file, [0, 159, 146, 150]).unwrap();
        assert_eq!(Data::File(file).read().unwrap(), [0, 159, 146, 150]);
        assert_eq!(Data::Text("a b".into()).read().unwrap(), b"a b");
        let missing = Data::File(dir.path().join("none")).read().unwrap_err();
        assert!(missing.to_string().contains("none"), "{missing}");
        assert_eq!(missing.exit(), crate::exit::Exit::Invalid);
    }

    #[test]
    fn invoke_reads_its_flags() {
        let args = invoke_args(
            "runtimes invoke rt ClassifyLetter --data @- --version v1 --timeout 10s --content-type application/json",
        );
        assert_eq!(
            (args.runtime.as_str(), args.workflow.as_str()),
            ("rt", "ClassifyLetter")
        );
        assert_eq!(args.data, Data::Stdin);
        assert_eq!(args.version.as_deref(), Some("v1"));
        assert_eq!(
            args.timeout.map(|t| t.duration),
            Some(Duration::from_secs(10))
        );
        assert_eq!(args.content_type.as_deref(), Some("application/json"));
        let text = parse(&["runtimes", "invoke", "rt", "wf", "-d", "a letter"]).unwrap();
        let Command::Runtimes(RuntimesCommand::Invoke(text)) = text.command else {
            panic!("not an invoke");
        };
        assert_eq!(text.data, Data::Text("a letter".into()));
        assert!(text.version.is_none() && text.timeout.is_none());
    }

    #[test]
    fn version_commands_parse_and_bad_lines_are_usage_errors() {
        for good in [
            "runtimes versions list --runtime rt -l team=ml",
            "runtimes versions ls",
            "runtimes versions get v1",
            "runtimes versions apply -f v1.yaml",
            "runtimes versions create --file -",
            "runtimes versions rm v1",
            "runtimes versions start v1",
            "runtimes versions stop v1",
            "runtimes versions publish v1",
            "runtimes versions unpublish v1",
        ] {
            assert!(parse_line(good).is_ok(), "{good}");
        }
        for bad in [
            "runtimes versions apply",
            "runtimes versions start",
            "runtimes invoke rt wf",
            "runtimes invoke rt --data x",
            "runtimes invoke rt wf --data @",
            "runtimes invoke rt wf --data x --timeout 6m",
            "runtimes invoke rt wf --data x --timeout 0s",
        ] {
            let error = parse_line(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
    }

    #[test]
    fn the_runtime_filter_reads_spec_runtime() {
        let item = json!({ "metadata": { "name": "v1" }, "spec": { "runtime": "rt" } });
        assert!(runs_on(&item, "rt"));
        assert!(!runs_on(&item, "other"));
        assert!(!runs_on(&json!({ "metadata": {} }), "rt"));
    }
}
