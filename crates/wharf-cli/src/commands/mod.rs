//! The commands: each takes its parsed arguments, talks to the API and prints.

mod apps;
mod completions;
mod env;
mod login;
mod spaces;
mod tasks;

use crate::cli::{Cli, Command};
use crate::client::Client;
use crate::config::{self, env_var};
use crate::error::CliError;
use crate::output::OutputFormat;

/// What every App, Task and Space command needs: a client, the namespace and the output format.
#[derive(Debug)]
pub struct Context {
    /// The API client, with the token.
    pub client: Client,
    /// The namespace to act in.
    pub namespace: String,
    /// Whether the namespace was named on the command line or in `WHARF_NAMESPACE`,
    /// rather than taken from the config file.
    pub namespace_given: bool,
    /// How to print results.
    pub output: OutputFormat,
}

impl Context {
    /// The context from the config file, the environment and the global flags.
    pub fn load(namespace: Option<String>, output: OutputFormat) -> Result<Self, CliError> {
        let path = config::config_path()?;
        let file = config::load(&path)?;
        let namespace_given = namespace.as_deref().is_some_and(|n| !n.is_empty());
        let settings = config::resolve(file, env_var, namespace);
        let server = settings.server.ok_or(CliError::NotLoggedIn)?;
        Ok(Self {
            client: Client::new(&server, settings.token)?,
            namespace: settings.namespace,
            namespace_given,
            output,
        })
    }
}

/// Runs the command the user asked for.
pub async fn run(cli: Cli) -> Result<(), CliError> {
    match cli.command {
        Command::Login(args) => login::login(args, cli.namespace).await,
        Command::Logout => login::logout(),
        Command::Completions { shell } => completions::print(shell),
        Command::Apps(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            apps::run(&context, command).await
        }
        Command::Tasks(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            tasks::run(&context, command).await
        }
        Command::Spaces(command) => {
            let context = Context::load(cli.namespace, cli.output)?;
            spaces::run(&context, command).await
        }
    }
}
