//! `wharf runtimes …`: create, list, get, status, delete and credentials; the
//! versions (`wharf runtimes versions …`) and `invoke` live in
//! [`super::runtime_versions`].

use clap::{ArgGroup, Args, Subcommand};
use k8s_openapi::jiff::Timestamp;
use reqwest::Method;
use serde_json::Value;
use wharf_model::api::RuntimeCredentials;
use wharf_model::runtime::Runtime;
use wharf_model::runtime::binding_env::RuntimeEngine;
use wharf_model::wire::paths::{self, Collection, RuntimeResource};

use super::runtime_versions::{self, InvokeArgs, VersionsCommand};
use super::timeout::{Timeout, parse_timeout};
use super::{Context, ListArgs, decode, encode, note_or_nothing, print_list, print_with};
use crate::client::add_query;
use crate::error::CliError;
use crate::output::{OutputFormat, emit, note};
use crate::progress::Spinner;
use crate::runtime_spec::{
    DeletionPolicyArg, NewRuntime, build_runtime, parse_engine_text, parse_replicas,
};
use crate::runtime_views;
use crate::space::parse_label;

/// `wharf runtimes …`.
#[derive(Debug, Subcommand)]
pub enum RuntimesCommand {
    /// Create a Runtime: databases, messaging and storage for the namespace, whose
    /// credentials Apps get with `wharf apps deploy --runtime NAME`.
    Create(CreateRuntimeArgs),
    /// List the namespace's Runtimes.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one Runtime.
    Get {
        /// The Runtime.
        name: String,
    },
    /// Show a Runtime's phase, engines (endpoint, binding Secret, members) and
    /// conditions.
    Status {
        /// The Runtime.
        name: String,
    },
    /// Delete a Runtime; its deletion policy decides whether its volumes go too.
    #[command(visible_alias = "rm")]
    Delete {
        /// The Runtime.
        name: String,
    },
    /// Print a Runtime's connection details. Passwords (and URIs holding them)
    /// are hidden unless --show-secrets; --env prints `export` lines for
    /// `eval "$(wharf runtimes credentials NAME --env)"`; -o json|yaml prints
    /// everything, for programs.
    Credentials(CredentialsArgs),
    /// Manage RuntimeVersions: workflows of container nodes chained by NATS
    /// subjects on a Runtime, Stopped, Started or Published.
    #[command(subcommand)]
    Versions(VersionsCommand),
    /// Send a request through a workflow of a Runtime's published version (or
    /// of --version) and print the answer's bytes as they are.
    #[command(disable_version_flag = true)]
    Invoke(InvokeArgs),
}

/// `wharf runtimes create`.
#[derive(Debug, Args)]
#[command(group(
    ArgGroup::new("engines")
        .args(["mongodb", "nats", "s3", "postgres", "redis"])
        .multiple(true)
        .required(true)
))]
pub struct CreateRuntimeArgs {
    /// The Runtime's name: at most 40 lower-case letters, digits and '-',
    /// starting with a letter.
    pub name: String,

    /// MongoDB, as a replica set.
    #[arg(long)]
    pub mongodb: bool,

    /// NATS with JetStream.
    #[arg(long)]
    pub nats: bool,

    /// An S3-compatible store (Garage) with one bucket.
    #[arg(long)]
    pub s3: bool,

    /// PostgreSQL.
    #[arg(long)]
    pub postgres: bool,

    /// Valkey (the Redis protocol).
    #[arg(long)]
    pub redis: bool,

    /// An engine's members, ENGINE=N: 1 or 3 (PostgreSQL 1 to 5, S3 only 1),
    /// e.g. nats=3. Repeat for more engines.
    #[arg(long = "replicas", value_name = "ENGINE=N", value_parser = parse_replicas)]
    pub replicas: Vec<(RuntimeEngine, i32)>,

    /// An engine's version (its official image's tag), ENGINE=TAG, e.g.
    /// postgres=17. Repeat for more engines.
    #[arg(long = "engine-version", value_name = "ENGINE=TAG", value_parser = parse_engine_text)]
    pub versions: Vec<(RuntimeEngine, String)>,

    /// The size of each member's volume, ENGINE=SIZE, e.g. mongodb=20Gi (default
    /// 1Gi). Repeat for more engines.
    #[arg(long = "storage", value_name = "ENGINE=SIZE", value_parser = parse_engine_text)]
    pub storage: Vec<(RuntimeEngine, String)>,

    /// The StorageClass of every volume (default: the cluster's).
    #[arg(long, value_name = "CLASS")]
    pub storage_class: Option<String>,

    /// The S3 store's bucket (default: data).
    #[arg(long, value_name = "NAME")]
    pub bucket: Option<String>,

    /// What deleting the Runtime does to its data (default: Retain).
    #[arg(long, value_enum, value_name = "POLICY")]
    pub deletion_policy: Option<DeletionPolicyArg>,

    /// A label on the Runtime, KEY=VALUE. Repeat for more.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,

    /// Wait until every engine is Ready.
    #[arg(long)]
    pub wait: bool,

    /// How long --wait waits, at most 10m (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_timeout, requires = "wait")]
    pub timeout: Timeout,
}

/// `wharf runtimes credentials`.
#[derive(Debug, Args)]
pub struct CredentialsArgs {
    /// The Runtime.
    pub name: String,

    /// Print passwords and the URIs that hold them.
    #[arg(long, conflicts_with = "env")]
    pub show_secrets: bool,

    /// Print `export NAME='value'` lines of the variables a bound App gets
    /// (KRT_MONGO_URI, DATABASE_URL, …), secrets included, for `eval`.
    #[arg(long)]
    pub env: bool,
}

/// Runs one `wharf runtimes` command.
pub async fn run(ctx: &Context, command: RuntimesCommand) -> Result<(), CliError> {
    let runtime = |name: &str| paths::runtime(&ctx.namespace, name);
    match command {
        RuntimesCommand::Create(args) => create(ctx, args).await,
        RuntimesCommand::List(args) => {
            print_list(
                ctx,
                Collection::Runtimes,
                args.selector.as_deref(),
                "runtimes",
                |items| runtime_views::runtimes_table(items, Timestamp::now()).render(),
            )
            .await
        }
        RuntimesCommand::Get { name } => print_runtime(ctx, &ctx.get(&runtime(&name)).await?),
        RuntimesCommand::Status { name } => {
            // The whole Runtime: the status view names its engines from the spec.
            let body = ctx.get(&runtime(&name)).await?;
            match crate::output::render_value(ctx.output, &body["status"])? {
                Some(text) => emit(&text),
                None => emit(&runtime_views::status_view(
                    &decode(&body)?,
                    Timestamp::now(),
                )),
            }
        }
        RuntimesCommand::Delete { name } => {
            let answer = ctx.call(Method::DELETE, &runtime(&name), None).await?;
            let text = if answer.body.is_null() {
                format!("runtime {name} deleted\n")
            } else {
                format!("runtime {name} is being deleted (see `wharf runtimes status {name}`)\n")
            };
            note_or_nothing(ctx, &text)
        }
        RuntimesCommand::Credentials(args) => credentials(ctx, args).await,
        RuntimesCommand::Versions(command) => runtime_versions::run(ctx, command).await,
        RuntimesCommand::Invoke(args) => runtime_versions::invoke(ctx, args).await,
    }
}

/// Prints a Runtime.
fn print_runtime(ctx: &Context, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |runtime: Runtime| {
        runtime_views::runtimes_table(&[runtime], Timestamp::now()).render()
    })
}

async fn create(ctx: &Context, args: CreateRuntimeArgs) -> Result<(), CliError> {
    let engines = [
        (args.mongodb, RuntimeEngine::Mongodb),
        (args.nats, RuntimeEngine::Nats),
        (args.s3, RuntimeEngine::S3),
        (args.postgres, RuntimeEngine::Postgres),
        (args.redis, RuntimeEngine::Redis),
    ]
    .into_iter()
    .filter_map(|(asked, engine)| asked.then_some(engine))
    .collect();
    let new = NewRuntime {
        engines,
        replicas: args.replicas,
        versions: args.versions,
        storage: args.storage,
        storage_class: args.storage_class,
        bucket: args.bucket,
        deletion_policy: args.deletion_policy,
        labels: args.labels,
    };
    let body = encode(&build_runtime(&args.name, new)?)?;
    let duration = args.wait.then_some(args.timeout.duration);
    let mut url = ctx.url(&paths::collection(&ctx.namespace, Collection::Runtimes));
    add_query(
        &mut url,
        &[("wait", duration.map(|_| args.timeout.text.as_str()))],
    );
    let spinner =
        duration.map(|_| Spinner::start(format!("waiting for runtime {} to be Ready", args.name)));
    let answer = ctx
        .client
        .json(Method::POST, url, Some(&body), duration)
        .await;
    drop(spinner);
    let answer = answer?;
    print_runtime(ctx, &answer.body)?;
    if duration.is_some() && answer.wait_ran_out() {
        let runtime: Runtime = decode(&answer.body)?;
        return Err(CliError::RuntimeWaitRanOut {
            name: args.name,
            timeout: args.timeout.text,
            reason: runtime
                .status
                .and_then(|s| s.conditions.into_iter().find(|c| c.type_ == "Ready"))
                .map(|c| c.message)
                .filter(|m| !m.is_empty()),
        });
    }
    Ok(())
}

async fn credentials(ctx: &Context, args: CredentialsArgs) -> Result<(), CliError> {
    let path = paths::runtime_resource(&ctx.namespace, &args.name, RuntimeResource::Credentials);
    let body = ctx.get(&path).await?;
    let credentials: RuntimeCredentials = decode(&body)?;
    for engine in &credentials.pending {
        note(&format!(
            "{engine}: no binding yet; see `wharf runtimes status {}`",
            args.name
        ));
    }
    if args.env {
        return emit(&runtime_views::credentials_exports(&credentials));
    }
    if ctx.output != OutputFormat::Table {
        return print_with(ctx, &body, |_: Value| String::new());
    }
    if credentials.engines.is_empty() {
        return Ok(());
    }
    emit(&runtime_views::credentials_table(&credentials, args.show_secrets).render())?;
    if !args.show_secrets {
        note("Secrets are hidden: --show-secrets prints them, --env prints export lines.");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::cli::{Command, parse_line};

    #[test]
    fn create_reads_engines_and_their_settings() {
        let cli = parse_line("runtimes create rt --nats --postgres --replicas nats=3 --engine-version postgres=17 --storage postgres=20Gi --storage-class fast --deletion-policy DoNotDelete --label team=ml --wait --timeout 90s")
            .unwrap();
        let Command::Runtimes(RuntimesCommand::Create(create)) = cli.command else {
            panic!("not a create");
        };
        assert!(create.nats && create.postgres && !create.mongodb);
        assert_eq!(create.replicas, [(RuntimeEngine::Nats, 3)]);
        assert_eq!(
            create.versions,
            [(RuntimeEngine::Postgres, "17".to_owned())]
        );
        assert_eq!(create.deletion_policy, Some(DeletionPolicyArg::DoNotDelete));
        assert_eq!(create.timeout.duration, Duration::from_secs(90));
        assert!(create.wait);
        let lower = parse_line("runtimes create rt --s3 --deletion-policy do-not-delete").unwrap();
        let Command::Runtimes(RuntimesCommand::Create(lower)) = lower.command else {
            panic!("not a create");
        };
        assert_eq!(lower.deletion_policy, Some(DeletionPolicyArg::DoNotDelete));
    }

    #[test]
    fn bad_command_lines_are_usage_errors() {
        for bad in [
            "runtimes create rt",
            "runtimes create rt --nats --replicas 3",
            "runtimes create rt --nats --replicas kafka=1",
            "runtimes create rt --nats --deletion-policy Sometimes",
            "runtimes create rt --nats --timeout 1m",
            "runtimes credentials rt --env --show-secrets",
            "runtimes credentials",
        ] {
            let error = parse_line(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
        assert!(parse_line("runtimes rm rt").is_ok());
        assert!(parse_line("runtimes ls -l team=ml").is_ok());
    }
}
