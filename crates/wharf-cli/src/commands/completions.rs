//! `wharf completions SHELL`: a completion script for the shell, on standard output.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::error::CliError;
use crate::output::emit;

/// Prints the completion script of `shell`.
pub fn print(shell: Shell) -> Result<(), CliError> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "wharf", &mut script);
    emit(&String::from_utf8_lossy(&script))
}
