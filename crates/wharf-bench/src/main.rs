//! `wharf-bench`: benchmarks of Wharf against a real cluster. The work lives in the
//! library; this binary parses the command line, runs the chosen benchmark and
//! turns an error into a message and a non-zero exit code.

use std::process::ExitCode;

use clap::Parser;
use wharf_bench::cli::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    match Cli::parse().run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("wharf-bench: {}", error.report());
            ExitCode::FAILURE
        }
    }
}
