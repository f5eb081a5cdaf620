//! `wharfd collect`: the result collector, run as a native sidecar of a Task's pod.
//! It waits for the kubelet's SIGTERM (sent once the Task's container has exited),
//! then uploads the results folder through the Wharf API and exits.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use wharf_collector::{CollectConfig, DEFAULT_TOKEN_FILE};
use wharf_model::task::DEFAULT_RESULTS_PATH;

/// Settings of the result collector.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// The results folder shared with the Task's container.
    #[arg(long, default_value = DEFAULT_RESULTS_PATH, env = "WHARF_RESULTS_DIR")]
    dir: PathBuf,

    /// The Wharf API's base URL, e.g. `http://wharf.wharf-system:8080`.
    #[arg(long, env = "WHARF_SERVER")]
    server: String,

    /// The Task's namespace.
    #[arg(long, env = "WHARF_NAMESPACE")]
    namespace: String,

    /// The Task's name.
    #[arg(long, env = "WHARF_TASK")]
    task: String,

    /// The file holding the upload token; read before every upload, because the
    /// kubelet rotates it.
    #[arg(long, default_value = DEFAULT_TOKEN_FILE, env = "WHARF_TOKEN_FILE")]
    token_file: PathBuf,

    /// Upload now instead of waiting for SIGTERM or SIGINT.
    #[arg(long)]
    once: bool,

    /// The most the upload may take, e.g. `25s` or `10m` (unlimited when unset).
    /// Keep it under the pod's termination grace period, after which the kubelet
    /// kills the collector.
    #[arg(long, env = "WHARF_COLLECT_TIMEOUT", value_parser = parse_timeout)]
    timeout: Option<Duration>,
}

fn parse_timeout(text: &str) -> Result<Duration, wharf_model::duration::InvalidDuration> {
    wharf_model::duration::parse_duration(text)
}

/// Waits for `shutdown` unless `--once`, then collects. Failed uploads end the
/// process with an error (exit code 1); refused files do not.
pub async fn run(args: CollectArgs, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let mut config = CollectConfig::new(args.server, args.namespace, args.task);
    config.dir = args.dir;
    config.token_file = args.token_file;
    config.timeout = args.timeout;
    if !args.once {
        tracing::info!(
            task = %config.task,
            namespace = %config.namespace,
            "waiting for the Task's container to exit"
        );
        shutdown.await;
    }
    let report = wharf_collector::collect(&config).await?;
    tracing::info!(
        uploaded = report.uploaded.len(),
        refused = report.refused.len(),
        "results collected"
    );
    Ok(())
}
