//! `wharfd`: the Wharf daemon. The work lives in the library crates; this binary
//! only parses the command line and starts the chosen part.

use clap::Parser;

/// The Wharf daemon.
#[derive(Debug, Parser)]
#[command(name = "wharfd", version, about)]
struct Cli {}

fn main() {
    let _cli = Cli::parse();
}
