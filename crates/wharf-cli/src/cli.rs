//! The top of the command line: the global flags and the command families. Each
//! family's arguments live beside its code in [`crate::commands`].

use clap::{Parser, Subcommand};
use clap_complete::Shell;

use crate::commands::apps::AppsCommand;
use crate::commands::functions::FunctionsCommand;
use crate::commands::login::LoginArgs;
use crate::commands::runtimes::RuntimesCommand;
use crate::commands::spaces::SpacesCommand;
use crate::commands::tasks::TasksCommand;
use crate::commands::templates::TemplatesCommand;
use crate::commands::volumes::VolumesCommand;
use crate::exit::EXIT_CODES_HELP;
use crate::output::OutputFormat;

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
    /// Create and manage Runtimes: MongoDB, NATS, S3, PostgreSQL and Valkey for a
    /// namespace, and read their credentials; run versions of a model's serving
    /// on them and invoke their workflows.
    #[command(subcommand)]
    Runtimes(RuntimesCommand),
    /// Create and manage Spaces: tenants with a namespace, members, a quota and
    /// isolation.
    #[command(subcommand)]
    Spaces(SpacesCommand),
    /// Manage the image catalogue: the templates Apps are deployed from
    /// (`wharf apps deploy NAME --template TEMPLATE`).
    #[command(subcommand)]
    Templates(TemplatesCommand),
    /// Create shared volumes that several Apps mount.
    ///
    /// An App mounts one with `wharf apps deploy NAME --volume VOLUME:/PATH[:ro]`.
    #[command(subcommand)]
    Volumes(VolumesCommand),
    /// List the API's functions (the operations of Wharf, with JSON Schemas of
    /// their parameters and results) and call one by name.
    #[command(subcommand)]
    Functions(FunctionsCommand),
    /// Print a shell completion script, e.g. `wharf completions bash > /etc/bash_completion.d/wharf`.
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: Shell,
    },
}

/// Parses a command line given without the program name, for the tests of every
/// command family.
#[cfg(test)]
pub(crate) fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("wharf").chain(args.iter().copied()))
}

/// Parses a command line written as one string (words without spaces), for tests.
#[cfg(test)]
pub(crate) fn parse_line(line: &str) -> Result<Cli, clap::Error> {
    parse(&line.split_whitespace().collect::<Vec<_>>())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_and_usage_errors() {
        let cli = parse(&["-n", "shop", "-o", "json", "apps", "list"]).unwrap();
        assert_eq!(cli.namespace.as_deref(), Some("shop"));
        assert_eq!(cli.output, OutputFormat::Json);
        assert!(parse(&["-o", "xml", "apps", "list"]).is_err());
        assert!(parse(&["login", "--token", "t", "--token-stdin"]).is_err());
    }

    #[test]
    fn the_long_help_documents_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("Exit codes:"), "{help}");
        assert!(help.contains("6  the wait ran out"), "{help}");
        assert!(help.contains("9  the Task waited for failed"), "{help}");
    }
}
