//! The command line of `wharfd`.

use std::net::SocketAddr;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use wharf_model::app::build::Defaults;
use wharf_operator::OperatorConfig;
use wharf_server::{AuthMode, ServerConfig};

use crate::logging::LogFormat;

/// The Wharf daemon.
#[derive(Debug, Parser)]
#[command(name = "wharfd", version, about)]
pub struct Cli {
    /// Log format.
    #[arg(
        long,
        value_enum,
        default_value_t,
        env = "WHARF_LOG_FORMAT",
        global = true
    )]
    pub log_format: LogFormat,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the controllers that reconcile Wharf's resources.
    Operator(OperatorArgs),
    /// Run the HTTP API.
    Server(ServerArgs),
    /// Run the operator and the HTTP API in one process (the default for local use).
    All {
        #[command(flatten)]
        operator: OperatorArgs,
        #[command(flatten)]
        server: ServerArgs,
    },
    /// Print Wharf's CustomResourceDefinitions as YAML.
    Crd,
    /// Print the HTTP API's OpenAPI 3 document as JSON.
    Openapi,
}

/// Settings of the operator.
#[derive(Debug, Args)]
struct OperatorArgs {
    /// How many objects of one kind are reconciled at once.
    #[arg(long, default_value_t = 16, env = "WHARF_CONCURRENCY")]
    concurrency: u16,

    /// Most requests per second to the Kubernetes API (a burst of new Apps is
    /// throttled here first: each costs a few requests).
    #[arg(long, default_value_t = 1000, env = "WHARF_KUBE_QPS")]
    kube_qps: u32,

    /// Address of `/metrics`, `/healthz` and `/readyz`.
    #[arg(long, default_value = "127.0.0.1:9090", env = "WHARF_METRICS_ADDR")]
    metrics_addr: SocketAddr,

    /// IngressClass for Apps that name none.
    #[arg(long, env = "WHARF_INGRESS_CLASS")]
    ingress_class: Option<String>,

    /// cert-manager ClusterIssuer for Apps with `tls` that name no issuer.
    #[arg(long, env = "WHARF_TLS_CLUSTER_ISSUER")]
    tls_cluster_issuer: Option<String>,

    /// Watch only this namespace (one shard); all namespaces when unset.
    #[arg(long, env = "WHARF_WATCH_NAMESPACE")]
    watch_namespace: Option<String>,

    /// Reconcile only the Spaces with these labels (one shard); all when unset.
    #[arg(long, env = "WHARF_SPACE_SELECTOR")]
    space_selector: Option<String>,
}

/// Settings of the HTTP API.
#[derive(Debug, Args)]
struct ServerArgs {
    /// Where the API listens.
    #[arg(long, default_value = "127.0.0.1:8080", env = "WHARF_LISTEN")]
    listen: SocketAddr,

    /// Turn authentication off: every request acts with the server's own
    /// permissions. Only allowed on a loopback address; for a developer machine.
    #[arg(long, env = "WHARF_INSECURE_NO_AUTH")]
    insecure_no_auth: bool,
}

impl ServerArgs {
    fn config(&self) -> ServerConfig {
        ServerConfig {
            addr: self.listen,
            auth: if self.insecure_no_auth {
                AuthMode::Disabled
            } else {
                AuthMode::Kubernetes
            },
        }
    }
}

impl Cli {
    /// Runs the chosen command.
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Crd => {
                print!("{}", wharf_model::crds::all_yaml());
                Ok(())
            }
            Command::Openapi => {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&wharf_server::openapi::document_json())?
                );
                Ok(())
            }
            Command::Operator(args) => run_operator(args).await,
            Command::Server(args) => run_server(args).await,
            Command::All { operator, server } => {
                let (operator, server) = tokio::join!(run_operator(operator), run_server(server));
                operator.and(server)
            }
        }
    }
}

async fn kube_config() -> anyhow::Result<kube::Config> {
    kube::Config::infer()
        .await
        .context("finding the Kubernetes cluster (KUBECONFIG or in-cluster)")
}

async fn run_server(args: ServerArgs) -> anyhow::Result<()> {
    let client =
        kube::Client::try_from(kube_config().await?).context("making a Kubernetes client")?;
    wharf_server::run(client, args.config(), shutdown_signal()).await?;
    tracing::info!("API server stopped");
    Ok(())
}

async fn run_operator(args: OperatorArgs) -> anyhow::Result<()> {
    let kube_config = kube_config().await?;
    let client = wharf_operator::rate_limited_client(kube_config, args.kube_qps)
        .context("making a Kubernetes client")?;
    let config = OperatorConfig {
        concurrency: args.concurrency,
        metrics_addr: args.metrics_addr,
        app_defaults: Defaults {
            ingress_class: args.ingress_class,
            cluster_issuer: args.tls_cluster_issuer,
            ..Defaults::default()
        },
        namespace: args.watch_namespace,
        space_selector: args.space_selector,
    };
    tracing::info!(
        concurrency = config.concurrency,
        qps = args.kube_qps,
        "starting the operator"
    );
    wharf_operator::run(client, config, shutdown_signal()).await?;
    tracing::info!("operator stopped");
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
