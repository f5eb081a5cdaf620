//! `wharfd`: the Wharf daemon. The work lives in the library crates; this binary
//! parses the command line and starts the chosen part.

mod cli;
mod collect;
mod logging;

use clap::Parser;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    logging::init(cli.log_format);
    cli.run().await
}
