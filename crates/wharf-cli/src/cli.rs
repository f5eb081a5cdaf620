//! The command line: every command, flag and argument, and the help text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;
use wharf_model::app::AppPort;
use wharf_model::duration::parse_duration;
use wharf_model::space::Member;

use crate::exit::EXIT_CODES_HELP;
use crate::manifest::{parse_env, parse_port};
use crate::output::OutputFormat;
use crate::space::{PodSecurityArg, RoleArg, parse_label, parse_member};

/// The longest wait the server allows.
const MAX_WAIT: Duration = Duration::from_secs(600);

const LONG_ABOUT: &str = "\
Deploy and run apps on Kubernetes through the Wharf API.

Log in once with `wharf login --server URL --token TOKEN`; the server, token and
default namespace are kept in <config dir>/wharf/config.json (readable by you only).
WHARF_SERVER, WHARF_TOKEN and WHARF_NAMESPACE override it; WHARF_CONFIG names
another file.";

/// Apps, batch jobs and infrastructure runtimes on Kubernetes through one API.
#[derive(Debug, Parser)]
#[command(
    name = "wharf",
    version,
    about,
    long_about = LONG_ABOUT,
    after_long_help = EXIT_CODES_HELP,
    propagate_version = true
)]
pub struct Cli {
    /// The namespace (default: the one saved at login, else `default`).
    #[arg(short, long, global = true, env = "WHARF_NAMESPACE")]
    pub namespace: Option<String>,

    /// How to print results.
    #[arg(short, long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check a server and a token, and save them (and `-n`) as the defaults.
    Login(LoginArgs),
    /// Forget the saved token.
    Logout,
    /// Deploy and operate apps.
    #[command(subcommand)]
    Apps(AppsCommand),
    /// Run batch jobs (Tasks), follow them, and download their result files.
    #[command(subcommand)]
    Tasks(TasksCommand),
    /// Create and manage Spaces: tenants with a namespace, members, a quota and
    /// isolation.
    #[command(subcommand)]
    Spaces(SpacesCommand),
    /// Print a shell completion script, e.g. `wharf completions bash > /etc/bash_completion.d/wharf`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// `wharf login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The Wharf API's URL, e.g. https://wharf.example.com (default: WHARF_SERVER, then
    /// the saved server).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,

    /// The bearer token (default: WHARF_TOKEN). Prefer --token-stdin: a flag is
    /// visible to other users in the process list.
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_stdin")]
    pub token: Option<String>,

    /// Read the token from standard input.
    #[arg(long)]
    pub token_stdin: bool,
}

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

/// A wait's length, as written and as a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeout {
    /// As the user wrote it, e.g. `5m`; sent to the server as `?wait=`.
    pub text: String,
    /// Its length.
    pub duration: Duration,
}

/// Reads `--timeout`: a duration from 1s to 10m.
pub fn parse_timeout(text: &str) -> Result<Timeout, String> {
    let duration = parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("the timeout must be at least 1s; use --no-wait not to wait".into());
    }
    if duration > MAX_WAIT {
        return Err(format!(
            "{text} is longer than the server waits: use at most 10m"
        ));
    }
    Ok(Timeout {
        text: text.to_owned(),
        duration,
    })
}

/// `wharf apps …`.
#[derive(Debug, Subcommand)]
pub enum AppsCommand {
    /// Create or update an App (server-side apply; running it twice changes nothing)
    /// and wait until it is Ready.
    Deploy(DeployArgs),
    /// List the namespace's Apps.
    #[command(visible_alias = "ls")]
    List {
        /// Only Apps whose labels match, e.g. `team=shop,tier!=db`.
        #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
        selector: Option<String>,
    },
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
}

/// `wharf apps deploy`.
#[derive(Debug, Args)]
pub struct DeployArgs {
    /// The App's name: lower-case letters, digits and '-', starting with a letter.
    pub name: String,

    /// The container image, e.g. nginx:1.27.
    #[arg(long, required_unless_present = "file")]
    pub image: Option<String>,

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

/// `wharf apps env …`.
#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// List an App's variables (secret values are never shown).
    #[command(visible_alias = "ls")]
    List {
        /// The App.
        name: String,
    },
    /// Set variables to literal values; the pods roll with the new values.
    Set {
        /// The App.
        name: String,
        /// KEY=VALUE pairs.
        #[arg(required = true, value_name = "KEY=VALUE", value_parser = parse_env)]
        vars: Vec<(String, String)>,
    },
    /// Remove variables; the pods roll without them.
    Unset {
        /// The App.
        name: String,
        /// Variable names.
        #[arg(required = true, value_name = "KEY")]
        keys: Vec<String>,
    },
}

/// `wharf tasks …`.
#[derive(Debug, Subcommand)]
pub enum TasksCommand {
    /// Submit a Task; with --wait (or --results-dir) follow it until it ends and
    /// exit 9 if it fails.
    Run(Box<RunArgs>),
    /// List the namespace's Tasks.
    #[command(visible_alias = "ls")]
    List {
        /// Only Tasks whose labels match, e.g. `team=data`.
        #[arg(short = 'l', long = "selector", value_name = "SELECTOR")]
        selector: Option<String>,
    },
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

/// Reads `--timeout-wait`: any duration of at least 1s (it may exceed the server's
/// ten minutes: the client asks again).
pub fn parse_wait_limit(text: &str) -> Result<Timeout, String> {
    let duration = parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err("the wait must be at least 1s".into());
    }
    Ok(Timeout {
        text: text.to_owned(),
        duration,
    })
}

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

/// `wharf tasks results`.
#[derive(Debug, Args)]
pub struct ResultsArgs {
    /// The Task.
    pub name: String,

    /// Download every result file into this folder (sub-folders as named), each
    /// checked against its SHA-256.
    #[arg(long, value_name = "DIR", conflicts_with = "archive")]
    pub download: Option<PathBuf>,

    /// Download all result files as one .tar.gz archive.
    #[arg(long, value_name = "FILE")]
    pub archive: Option<PathBuf>,
}

/// `wharf spaces …`.
#[derive(Debug, Subcommand)]
pub enum SpacesCommand {
    /// Create a Space; you become its owner.
    Create(CreateSpaceArgs),
    /// List the Spaces you may see.
    #[command(visible_alias = "ls")]
    List,
    /// Show one Space.
    Get {
        /// The Space.
        name: String,
    },
    /// Delete a Space, its namespace and everything in it.
    #[command(visible_alias = "rm")]
    Delete {
        /// The Space.
        name: String,
    },
    /// List, add and remove a Space's members.
    #[command(subcommand)]
    Members(MembersCommand),
    /// Make a user or group the owner; the current owners become developers.
    Transfer {
        /// The Space.
        name: String,
        /// The new owner.
        #[command(flatten)]
        to: SubjectArgs,
    },
    /// Show a Space's quota and what is used of it.
    Quota {
        /// The Space.
        name: String,
    },
    /// Check whether a Space name (and the namespace it would get) is free; exits 5
    /// with the reason when it is not.
    Available {
        /// The name.
        name: String,
    },
}

/// `wharf spaces create`.
#[derive(Debug, Args)]
pub struct CreateSpaceArgs {
    /// The Space's name: at most 63 lower-case letters, digits and '-'.
    pub name: String,

    /// The Space's namespace (default: the Space's name). It cannot change later.
    #[arg(long, value_name = "NS")]
    pub namespace_name: Option<String>,

    /// The base domain: Apps without hosts are reachable at <app>.<domain>.
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,

    /// The Pod Security Standard enforced in the namespace (default: restricted).
    #[arg(long, value_enum, value_name = "LEVEL")]
    pub pod_security: Option<PodSecurityArg>,

    /// Let pods of other Spaces reach this Space's pods.
    #[arg(long)]
    pub no_isolation: bool,

    /// The most CPU the Space's pods may request in total, e.g. 4 or 2500m.
    #[arg(long, value_name = "QUANTITY")]
    pub quota_cpu: Option<String>,

    /// The most memory the Space's pods may request in total, e.g. 8Gi.
    #[arg(long, value_name = "QUANTITY")]
    pub quota_memory: Option<String>,

    /// The most pods the Space may have.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(i64).range(0..=100_000))]
    pub quota_pods: Option<i64>,

    /// A member besides you, KIND:NAME=ROLE with KIND user or group and ROLE owner,
    /// developer or viewer, e.g. user:bob@example.com=developer. Repeat for more.
    #[arg(long = "member", value_name = "KIND:NAME=ROLE", value_parser = parse_member)]
    pub members: Vec<Member>,

    /// A label on the Space, KEY=VALUE. Repeat for more.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
}

/// `--user U` or `--group G`: whom a member command is about.
#[derive(Debug, Clone, Args)]
#[group(required = true, multiple = false)]
pub struct SubjectArgs {
    /// A user, as the Kubernetes API server knows it, e.g. alice@example.com or
    /// system:serviceaccount:ci:deployer.
    #[arg(long, value_name = "USER")]
    pub user: Option<String>,

    /// A group, e.g. team-shop.
    #[arg(long, value_name = "GROUP")]
    pub group: Option<String>,
}

/// `wharf spaces members …`.
#[derive(Debug, Subcommand)]
pub enum MembersCommand {
    /// List a Space's members and their roles.
    #[command(visible_alias = "ls")]
    List {
        /// The Space.
        name: String,
    },
    /// Add a member, or change a member's role.
    Add {
        /// The Space.
        name: String,
        /// The member.
        #[command(flatten)]
        who: SubjectArgs,
        /// What the member may do.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// Remove a member; their access ends within seconds.
    #[command(visible_alias = "rm")]
    Remove {
        /// The Space.
        name: String,
        /// The member.
        #[command(flatten)]
        who: SubjectArgs,
    },
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("wharf").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn deploy_reads_repeated_flags() {
        let cli = parse(&[
            "-n",
            "shop",
            "-o",
            "json",
            "apps",
            "deploy",
            "web",
            "--image",
            "web:1",
            "--port",
            "http:8080",
            "--port",
            "admin:9000",
            "--env",
            "A=1",
            "--env",
            "B=x=y",
            "--host",
            "web.example.com",
            "--timeout",
            "90s",
        ])
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
    fn bad_flags_are_usage_errors_with_a_clear_message() {
        let error =
            parse(&["apps", "deploy", "web", "--image", "w", "--port", "8080"]).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error.to_string().contains("http:8080"), "{error}");
        let error = parse(&["apps", "deploy", "web"]).unwrap_err();
        assert!(error.to_string().contains("--image"), "{error}");
        assert!(parse(&["apps", "deploy", "web", "-f", "app.yaml"]).is_ok());
        assert!(parse(&["apps", "scale", "web", "1001"]).is_err());
        assert!(parse(&["apps", "env", "set", "web"]).is_err());
        assert!(parse(&["apps", "env", "set", "web", "NOVALUE"]).is_err());
        assert!(parse(&["-o", "xml", "apps", "list"]).is_err());
        assert!(parse(&["login", "--token", "t", "--token-stdin"]).is_err());
    }

    #[test]
    fn space_create_reads_every_flag() {
        let cli = parse(&[
            "spaces",
            "create",
            "shop",
            "--namespace-name",
            "shop-prod",
            "--domain",
            "shop.example.com",
            "--pod-security",
            "baseline",
            "--no-isolation",
            "--quota-cpu",
            "4",
            "--quota-memory",
            "8Gi",
            "--quota-pods",
            "20",
            "--member",
            "user:bob=developer",
            "--member",
            "group:ops=viewer",
            "--label",
            "a=b",
        ])
        .unwrap();
        let Command::Spaces(SpacesCommand::Create(create)) = cli.command else {
            panic!("not a create");
        };
        assert_eq!(create.namespace_name.as_deref(), Some("shop-prod"));
        assert_eq!(create.pod_security, Some(PodSecurityArg::Baseline));
        assert!(create.no_isolation);
        assert_eq!(create.quota_pods, Some(20));
        assert_eq!(create.members.len(), 2);
        assert_eq!(create.members[1].name, "ops");
        assert_eq!(create.labels, [("a".to_owned(), "b".to_owned())]);
    }

    #[test]
    fn member_commands_need_exactly_one_subject() {
        let cli = parse(&[
            "spaces", "members", "add", "shop", "--group", "ops", "--role", "viewer",
        ])
        .unwrap();
        let Command::Spaces(SpacesCommand::Members(MembersCommand::Add { who, role, .. })) =
            cli.command
        else {
            panic!("not a members add");
        };
        assert_eq!(who.group.as_deref(), Some("ops"));
        assert_eq!(role, RoleArg::Viewer);
        for bad in [
            &["spaces", "members", "add", "shop", "--role", "viewer"][..],
            &[
                "spaces", "members", "add", "shop", "--user", "a", "--group", "b", "--role",
                "owner",
            ],
            &[
                "spaces", "members", "add", "shop", "--user", "a", "--role", "boss",
            ],
            &["spaces", "members", "add", "shop", "--user", "a"],
            &["spaces", "members", "remove", "shop"],
            &["spaces", "transfer", "shop"],
            &["spaces", "create", "shop", "--member", "bob=owner"],
            &["spaces", "create", "shop", "--pod-security", "lax"],
            &["spaces", "create", "shop", "--quota-pods", "-1"],
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
        assert!(parse(&["spaces", "transfer", "shop", "--user", "alice"]).is_ok());
        assert!(parse(&["spaces", "members", "rm", "shop", "--group", "ops"]).is_ok());
    }

    #[test]
    fn tasks_run_reads_command_args_env_and_results() {
        let cli = parse(&[
            "tasks",
            "run",
            "--image",
            "python:3.13",
            "--name",
            "etl",
            "--command",
            "python3",
            "--command",
            "-u",
            "--env",
            "A=1",
            "--env-file",
            "prod.env",
            "--env-file",
            "extra.env",
            "--timeout",
            "30m",
            "--retries",
            "2",
            "--max-size",
            "2Gi",
            "--callback-url",
            "https://hooks.example.com/x",
            "--callback-secret",
            "hook",
            "--queue",
            "gpu",
            "--timeout-wait",
            "2h",
            "--results-dir",
            "out",
            "--",
            "-c",
            "print(1)",
        ])
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
    fn tasks_flags_that_cannot_go_together_are_refused() {
        for bad in [
            &["tasks", "run"][..],
            &["tasks", "run", "--image", "x", "--retries", "101"],
            &["tasks", "run", "--image", "x", "--timeout", "0s"],
            &[
                "tasks",
                "run",
                "--image",
                "x",
                "--no-results",
                "--results-dir",
                "d",
            ],
            &[
                "tasks",
                "run",
                "--image",
                "x",
                "--no-results",
                "--max-size",
                "1Gi",
            ],
            &["tasks", "run", "--image", "x", "--callback-secret", "s"],
            &["tasks", "run", "--image", "x", "--timeout-wait", "0s"],
            &["tasks", "logs", "t", "--attempt", "0"],
            &[
                "tasks",
                "results",
                "t",
                "--download",
                "d",
                "--archive",
                "a.tar.gz",
            ],
        ] {
            let error = parse(bad).unwrap_err();
            assert_eq!(error.exit_code(), 2, "{bad:?}: {error}");
        }
        let cancel = parse(&["tasks", "cancel", "t", "--wait"]).unwrap();
        let Command::Tasks(TasksCommand::Cancel { wait, .. }) = cancel.command else {
            panic!("not a cancel");
        };
        assert!(wait.waits() && wait.timeout_wait.is_none());
    }

    #[test]
    fn timeouts_are_bounded() {
        assert_eq!(
            parse_timeout("5m").unwrap().duration,
            Duration::from_secs(300)
        );
        assert!(parse_timeout("11m").is_err());
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("soon").is_err());
    }

    #[test]
    fn the_long_help_documents_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"), "{help}");
        assert!(help.contains("6  the wait ran out"), "{help}");
        assert!(help.contains("9  the Task waited for failed"), "{help}");
    }
}
