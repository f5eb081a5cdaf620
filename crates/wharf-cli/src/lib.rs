//! The `wharf` command-line client. It talks to the Wharf HTTP API only, never to
//! Kubernetes: every permission is the API's to check.
//!
//! [`run`] is the whole program; `main.rs` only calls it.

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod config_files;
pub mod download;
pub mod error;
pub mod exit;
pub mod function_params;
pub mod function_views;
pub mod manifest;
pub mod output;
pub mod progress;
pub mod runtime_spec;
pub mod runtime_views;
pub mod space;
pub mod task_spec;
pub mod task_views;
pub mod template_spec;
pub mod template_views;
pub mod version_views;
pub mod views;
pub mod volume_spec;
pub mod volume_views;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::exit::Exit;

/// Parses the command line, runs the command and returns the exit code; errors are
/// printed to standard error as `error: …`.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Help and version are "errors" that print to stdout and exit 0.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(Exit::Usage.code()));
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "error: starting the async runtime: {error}"
            );
            return ExitCode::from(Exit::Failure.code());
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = writeln!(std::io::stderr().lock(), "error: {}", error.report());
            ExitCode::from(error.exit().code())
        }
    }
}
