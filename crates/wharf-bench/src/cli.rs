//! The command line of `wharf-bench`: one subcommand per benchmark.

use clap::{Parser, Subcommand};

use crate::BenchError;
use crate::api::ApiArgs;
use crate::apps::AppsArgs;
use crate::invoke::InvokeArgs;
use crate::results::ResultsArgs;
use crate::runtimes::RuntimesArgs;
use crate::tasks::TasksArgs;

/// Benchmarks of Wharf against the cluster of `KUBECONFIG` (or the running local
/// cluster). They print their measurements; the exit code is non-zero only when a
/// benchmark could not run.
#[derive(Debug, Parser)]
#[command(name = "wharf-bench", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Creates Apps through Wharf and the same Deployments and Services directly,
    /// and compares how long each takes, with wharfd's peak memory.
    Apps(AppsArgs),
    /// Reads one App through the API at a fixed rate (latency percentiles), then
    /// creates Apps through the API as fast as it answers (throughput).
    Api(ApiArgs),
    /// Submits Tasks through the API and the same Jobs directly, and compares how
    /// long each takes until all have finished.
    Tasks(TasksArgs),
    /// Creates a Runtime with all five engines through Wharf and its children
    /// directly, and compares how long each takes and the API requests spent;
    /// then measures wharfd's memory with many Runtimes.
    Runtimes(RuntimesArgs),
    /// Downloads a large result file through the API and compares it with reading
    /// the file from disk, with the server's memory while it streams.
    Results(ResultsArgs),
    /// Sends requests through a three-node workflow with Wharf's invoke endpoint
    /// and the same chain over NATS directly, and compares their round-trip
    /// latency (p50, p99) and throughput.
    Invoke(InvokeArgs),
}

impl Cli {
    /// Runs the chosen benchmark.
    pub async fn run(self) -> Result<(), BenchError> {
        match self.command {
            Command::Apps(args) => crate::apps::run(args).await,
            Command::Api(args) => crate::api::run(args).await,
            Command::Tasks(args) => crate::tasks::run(args).await,
            Command::Results(args) => crate::results::run(args).await,
            Command::Runtimes(args) => crate::runtimes::run(args).await,
            Command::Invoke(args) => crate::invoke::run(args).await,
        }
    }
}
