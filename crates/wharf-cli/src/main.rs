//! `wharf`: the command-line client of the Wharf API.

use clap::Parser;

/// Apps, batch jobs and infrastructure runtimes on Kubernetes through one API.
#[derive(Debug, Parser)]
#[command(name = "wharf", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
