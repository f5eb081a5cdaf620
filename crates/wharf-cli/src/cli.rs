//! The command line: every command, flag and argument, and the help text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use clap_complete::Shell;
use wharf_model::app::AppPort;
use wharf_model::duration::parse_duration;

use crate::exit::EXIT_CODES_HELP;
use crate::manifest::{parse_env, parse_port};
use crate::output::OutputFormat;

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
    }
}
