//! `wharf apps …`: deploy, list, get, delete, scale, restart, stop, start, status,
//! logs and events; `wharf apps env …` is in [`super::env`], and deploying from a
//! template and `wharf apps upgrade` are in [`super::app_templates`].

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use k8s_openapi::jiff::Timestamp;
use reqwest::Method;
use serde_json::Value;
use wharf_model::api::{AppState, EventEntry, ScaleRequest};
use wharf_model::app::{App, AppPort, SharedMount};
use wharf_model::runtime::binding_env::RuntimeEngine;
use wharf_model::wire::paths::{self, ApiPath, AppResource, Collection};

use super::app_templates;
use super::env::{self, EnvCommand};
use super::timeout::{Timeout, parse_timeout};
use super::{
    Context, ListArgs, decode, encode, note_or_nothing, print_list, print_with, stream_out,
};
use crate::client::add_query;
use crate::config_files::{ConfigFlag, parse_config, read_configs};
use crate::error::CliError;
use crate::manifest::{
    Overrides, apply_body, build_app, parse_env, parse_manifest, parse_port, read_manifest_text,
};
use crate::output::note;
use crate::progress::Spinner;
use crate::runtime_spec::{parse_engine, runtime_ref};
use crate::views;
use crate::volume_spec::parse_mount;

/// `--timeout` and `--no-wait` of the commands that wait for readiness.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// How long to wait for the App to be Ready, at most 10m (e.g. 90s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_timeout)]
    pub timeout: Timeout,

    /// Return at once instead of waiting for readiness.
    #[arg(long)]
    pub no_wait: bool,
}

/// `wharf apps …`.
#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Create or update an App (server-side apply; running it twice changes nothing)
    /// and wait until it is Ready. With --template, create it from a template of
    /// the catalogue instead (refused if it exists).
    // Boxed: its flags make it far larger than every other command.
    Deploy(Box<DeployArgs>),
    /// List the namespace's Apps.
    #[command(visible_alias = "ls")]
    List(ListArgs),
    /// Show one App.
    Get {
        /// The App.
        name: String,
    },
    /// Delete an App and everything it owns.
    #[command(visible_alias = "rm")]
    Delete {
        /// The App.
        name: String,
    },
    /// Set the number of pods and wait until they are Ready.
    Scale {
        /// The App.
        name: String,
        /// The number of pods, 0 to 1000.
        #[arg(value_parser = clap::value_parser!(i32).range(0..=1000))]
        replicas: i32,
        /// How long to wait.
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Replace every pod with a rolling update and wait until it is done.
    Restart {
        /// The App.
        name: String,
        /// How long to wait.
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Stop an App: zero pods, everything else kept.
    Stop {
        /// The App.
        name: String,
    },
    /// Start a stopped App with its previous number of pods and wait until it is Ready.
    Start {
        /// The App.
        name: String,
        /// How long to wait.
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Show an App's phase, conditions and pods.
    Status {
        /// The App.
        name: String,
    },
    /// Print an App's logs (each line prefixed with its pod when it has several).
    Logs(LogsArgs),
    /// Show the events of an App and the objects it owns, oldest first.
    Events {
        /// The App.
        name: String,
    },
    /// List, set and unset an App's environment variables.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Move an App deployed from a template to the template's current generation
    /// (its image, ports, variables…), keeping its hosts, replicas and the
    /// variables set since. It does not wait: see `wharf apps status NAME`.
    Upgrade {
        /// The App.
        name: String,
    },
}

/// `wharf apps deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The App's name: lower-case letters, digits and '-', starting with a letter.
    pub name: String,

    /// The container image, e.g. nginx:1.27.
    #[arg(long, required_unless_present_any = ["file", "template"])]
    pub image: Option<String>,

    /// Create the App from this template of the catalogue (see `wharf templates
    /// list`): its image, ports, variables and the rest, with --host, --replicas,
    /// --env and --volume over them. The App records the template's generation, for
    /// `wharf apps upgrade`.
    #[arg(
        long,
        value_name = "TEMPLATE",
        conflicts_with_all = ["image", "file", "ports", "runtime"]
    )]
    pub template: Option<String>,

    /// The number of pods (default 1).
    #[arg(long, value_parser = clap::value_parser!(i32).range(0..=1000))]
    pub replicas: Option<i32>,

    /// A port the container listens on, NAME:PORT[/tcp|udp|sctp], e.g. http:8080.
    /// Repeat for more; replaces the manifest's port of the same name.
    #[arg(long = "port", value_name = "NAME:PORT", value_parser = parse_port)]
    pub ports: Vec<AppPort>,

    /// A host name to route to the App, e.g. shop.example.com. Repeat for more.
    #[arg(long = "host", value_name = "HOST")]
    pub hosts: Vec<String>,

    /// An environment variable, KEY=VALUE. Repeat for more; replaces the manifest's
    /// variable of the same name.
    #[arg(long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    pub env: Vec<(String, String)>,

    /// A shared volume to mount, VOLUME:/PATH[:ro] (`:ro` read-only), e.g.
    /// site:/var/www/html; see `wharf volumes create`. Repeat for more; replaces
    /// the manifest's mount at the same path.
    #[arg(long = "volume", value_name = "VOLUME:/PATH[:ro]", value_parser = parse_mount)]
    pub volumes: Vec<SharedMount>,

    /// A local file mounted as configuration, PATH=LOCAL_FILE, e.g.
    /// /etc/nginx/conf.d/default.conf=./site.conf. Repeat for more; replaces the
    /// manifest's (or template's) file at the same path.
    #[arg(long = "config", value_name = "PATH=LOCAL_FILE", value_parser = parse_config)]
    pub configs: Vec<ConfigFlag>,

    /// A Runtime in the namespace whose connection variables (KRT_MONGO_URI,
    /// DATABASE_URL, …) the App gets from its binding Secrets; the App waits until
    /// the Runtime is Ready.
    #[arg(long, value_name = "RUNTIME")]
    pub runtime: Option<String>,

    /// Only these engines of --runtime, e.g. mongodb,nats (default: all of them).
    #[arg(long, value_name = "ENGINE,…", value_delimiter = ',', value_parser = parse_engine, requires = "runtime")]
    pub runtime_engines: Vec<RuntimeEngine>,

    /// An App manifest (YAML or JSON) to start from; the flags override its fields.
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub file: Option<PathBuf>,

    /// How long to wait.
    #[command(flatten)]
    pub wait: WaitArgs,
}

/// `wharf apps logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The App.
    pub name: String,

    /// Keep printing new lines as they come, until interrupted.
    #[arg(short, long)]
    pub follow: bool,

    /// Only the last N lines of each pod.
    #[arg(long, value_name = "N")]
    pub tail: Option<u32>,

    /// Only lines newer than this, e.g. 10m.
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,

    /// Only this pod's logs (see `wharf apps status`).
    #[arg(long, value_name = "POD")]
    pub pod: Option<String>,
}

/// Runs one `wharf apps` command.
pub async fn run(ctx: &Context, command: AppsCommand) -> Result<(), CliError> {
    let app = |name: &str| paths::app(&ctx.namespace, name);
    let sub = |name: &str, resource| paths::app_resource(&ctx.namespace, name, resource);
    match command {
        AppsCommand::Deploy(args) => deploy(ctx, *args).await,
        AppsCommand::List(args) => list(ctx, args.selector.as_deref()).await,
        AppsCommand::Get { name } => print_app(ctx, &ctx.get(&app(&name)).await?),
        AppsCommand::Delete { name } => {
            ctx.call(Method::DELETE, &app(&name), None).await?;
            note_or_nothing(ctx, &format!("app {name} deleted\n"))
        }
        AppsCommand::Scale {
            name,
            replicas,
            wait,
        } => {
            let body = encode(&ScaleRequest { replicas })?;
            let path = sub(&name, AppResource::Scale);
            waited(ctx, Method::POST, &path, Some(&body), &name, &wait).await
        }
        AppsCommand::Restart { name, wait } => {
            let path = sub(&name, AppResource::Restart);
            waited(ctx, Method::POST, &path, None, &name, &wait).await
        }
        AppsCommand::Stop { name } => {
            let path = sub(&name, AppResource::Stop);
            print_app(ctx, &ctx.call(Method::POST, &path, None).await?.body)
        }
        AppsCommand::Start { name, wait } => {
            let path = sub(&name, AppResource::Start);
            waited(ctx, Method::POST, &path, None, &name, &wait).await
        }
        AppsCommand::Status { name } => {
            let state = ctx.get(&sub(&name, AppResource::State)).await?;
            print_with(ctx, &state, |state: AppState| {
                views::state_view(&state, Timestamp::now())
            })
        }
        AppsCommand::Logs(args) => {
            let tail = args.tail.map(|t| t.to_string());
            let query = [
                ("follow", args.follow.then_some("true")),
                ("tail", tail.as_deref()),
                ("since", args.since.as_deref()),
                ("pod", args.pod.as_deref()),
            ];
            stream_out(ctx, &sub(&args.name, AppResource::Logs), &query).await
        }
        AppsCommand::Events { name } => {
            let events = ctx.get(&sub(&name, AppResource::Events)).await?;
            print_with(ctx, &events, |events: Vec<EventEntry>| {
                if events.is_empty() {
                    note(&format!("No events for app {name}."));
                    return String::new();
                }
                views::events_table(&events, Timestamp::now()).render()
            })
        }
        AppsCommand::Env(command) => env::run(ctx, command).await,
        AppsCommand::Upgrade { name } => app_templates::upgrade(ctx, &name).await,
    }
}

/// Prints an App.
fn print_app(ctx: &Context, body: &Value) -> Result<(), CliError> {
    print_with(ctx, body, |app: App| {
        views::apps_table(&[app], Timestamp::now()).render()
    })
}

/// Sends a change that the server may wait on, prints the App, and fails with
/// [`CliError::WaitRanOut`] when it was not Ready in time.
pub(super) async fn waited(
    ctx: &Context,
    method: Method,
    path: &ApiPath,
    body: Option<&Value>,
    name: &str,
    wait: &WaitArgs,
) -> Result<(), CliError> {
    let duration = (!wait.no_wait).then_some(wait.timeout.duration);
    let mut url = ctx.url(path);
    add_query(
        &mut url,
        &[("wait", duration.map(|_| wait.timeout.text.as_str()))],
    );
    let spinner = duration.map(|_| Spinner::start(format!("waiting for app {name} to be Ready")));
    let answer = ctx.client.json(method, url, body, duration).await;
    drop(spinner);
    let answer = answer?;
    print_app(ctx, &answer.body)?;
    if duration.is_some() && answer.wait_ran_out() {
        return Err(CliError::WaitRanOut {
            name: name.to_owned(),
            timeout: wait.timeout.text.clone(),
            reason: ready_message(&decode(&answer.body)?),
        });
    }
    Ok(())
}

/// What the App's Ready condition says, e.g. `1/3 pods ready`.
fn ready_message(app: &App) -> Option<String> {
    app.status
        .as_ref()?
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.message.clone())
        .filter(|m| !m.is_empty())
}

async fn deploy(ctx: &Context, args: DeployArgs) -> Result<(), CliError> {
    if let Some(template) = &args.template {
        return app_templates::deploy(ctx, template, &args).await;
    }
    let manifest = match &args.file {
        Some(path) => Some(read_manifest(path)?),
        None => None,
    };
    let namespace =
        ctx.namespace_for(manifest.as_ref().and_then(|m| m.metadata.namespace.clone()))?;
    let overrides = Overrides {
        image: args.image,
        replicas: args.replicas,
        ports: args.ports,
        hosts: args.hosts,
        env: args.env,
        runtime: args
            .runtime
            .map(|name| runtime_ref(name, args.runtime_engines)),
        mounts: args.volumes,
        files: read_configs(&args.configs)?,
    };
    let app = build_app(&args.name, &namespace, manifest, &overrides)?;
    let body = apply_body(&app)?;
    let path = paths::app(&namespace, &args.name);
    waited(ctx, Method::PUT, &path, Some(&body), &args.name, &args.wait).await
}

fn read_manifest(path: &Path) -> Result<App, CliError> {
    parse_manifest(&read_manifest_text(path)?, &path.display().to_string())
}

async fn list(ctx: &Context, selector: Option<&str>) -> Result<(), CliError> {
    print_list(ctx, Collection::Apps, selector, "apps", |items| {
        views::apps_table(items, Timestamp::now()).render()
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::cli::{Command, parse_line};
    use crate::output::OutputFormat;

    #[test]
    fn the_ready_condition_explains_a_wait_that_ran_out() {
        let app: App = serde_json::from_value(json!({
            "metadata": { "name": "web" },
            "spec": { "image": "web:1" },
            "status": { "conditions": [
                { "type": "Progressing", "status": "True", "reason": "Rolling", "message": "rolling",
                  "lastTransitionTime": "2026-05-01T11:59:00Z" },
                { "type": "Ready", "status": "False", "reason": "PodsNotReady", "message": "1/3 pods ready",
                  "lastTransitionTime": "2026-05-01T11:59:00Z" }
            ] }
        }))
        .unwrap();
        assert_eq!(ready_message(&app).as_deref(), Some("1/3 pods ready"));
        let bare: App =
            serde_json::from_value(json!({ "metadata": {}, "spec": { "image": "x" } })).unwrap();
        assert_eq!(ready_message(&bare), None);
    }

    #[test]
    fn deploy_reads_repeated_flags() {
        let cli = parse_line("-n shop -o json apps deploy web --image web:1 --port http:8080 --port admin:9000 --env A=1 --env B=x=y --host web.example.com --timeout 90s")
        .unwrap();
        assert_eq!(cli.namespace.as_deref(), Some("shop"));
        assert_eq!(cli.output, OutputFormat::Json);
        let Command::Apps(AppsCommand::Deploy(deploy)) = cli.command else {
            panic!("not a deploy");
        };
        assert_eq!(deploy.ports.len(), 2);
        assert_eq!(deploy.ports[1].port, 9000);
        assert_eq!(deploy.env[1], ("B".into(), "x=y".into()));
        assert_eq!(deploy.hosts, ["web.example.com"]);
        assert_eq!(deploy.wait.timeout.duration, Duration::from_secs(90));
        assert!(!deploy.wait.no_wait);
    }

    #[test]
    fn deploy_mounts_shared_volumes_and_refuses_bad_ones() {
        let cli = parse_line(
            "apps deploy web --image w --volume site:/var/www/html --volume logs:/logs:ro",
        )
        .unwrap();
        let Command::Apps(AppsCommand::Deploy(deploy)) = cli.command else {
            panic!("not a deploy");
        };
        let mounts: Vec<_> = deploy
            .volumes
            .iter()
            .map(|m| (m.volume.as_str(), m.mount_path.as_str(), m.read_only))
            .collect();
        assert_eq!(
            mounts,
            [("site", "/var/www/html", false), ("logs", "/logs", true)]
        );
        for (bad, says) in [
            (
                "apps deploy web --image w --volume site",
                "'site' is not NAME:/PATH[:ro]",
            ),
            (
                "apps deploy web --image w --volume site:data",
                "must be absolute",
            ),
            (
                "apps deploy web --image w --volume site:/data:rw",
                "only option is ':ro'",
            ),
        ] {
            let error = parse_line(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
            assert!(error.to_string().contains(says), "{bad:?}: {error}");
        }
    }

    #[test]
    fn deploy_names_a_runtime_and_some_of_its_engines() {
        let cli =
            parse_line("apps deploy web --image w --runtime rt --runtime-engines mongodb,nats")
                .unwrap();
        let Command::Apps(AppsCommand::Deploy(deploy)) = cli.command else {
            panic!("not a deploy");
        };
        assert_eq!(deploy.runtime.as_deref(), Some("rt"));
        assert_eq!(
            deploy.runtime_engines,
            [RuntimeEngine::Mongodb, RuntimeEngine::Nats]
        );
        assert!(parse_line("apps deploy web --image w --runtime-engines nats").is_err());
        assert!(
            parse_line("apps deploy web --image w --runtime rt --runtime-engines kafka").is_err()
        );
    }

    #[test]
    fn bad_flags_are_usage_errors_with_a_clear_message() {
        let error = parse_line("apps deploy web --image w --port 8080").unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("http:8080"), "{error}");
        let error = parse_line("apps deploy web").unwrap_err();
        assert!(error.to_string().contains("--image"), "{error}");
        assert!(parse_line("apps deploy web -f app.yaml").is_ok());
        assert!(parse_line("apps scale web 1001").is_err());
        assert!(parse_line("apps env set web").is_err());
        assert!(parse_line("apps env set web NOVALUE").is_err());
        assert!(parse_line("apps deploy web --image w --timeout 11m").is_err());
    }
}
