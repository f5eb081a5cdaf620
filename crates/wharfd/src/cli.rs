//! The command line of `wharfd`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};
use wharf_model::app::build::{Defaults, GatewayParent};
use wharf_model::runtime::build::access::ServiceAccountRef;
use wharf_model::task::build::TaskDefaults;
use wharf_operator::OperatorConfig;
use wharf_operator::election::Election;
use wharf_operator::task::callback::CallbackPolicy;
use wharf_server::{AuthMode, S3Config, ServerConfig, StoreConfig};

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

    /// Dial `TO` where a Runtime's binding names `FROM` (both `host:port`):
    /// the operator making a RuntimeVersion's stream and the API invoking a
    /// workflow reach the Runtime's NATS there. For Wharf run outside the
    /// cluster (tests run NATS on 127.0.0.1); repeatable; the chart sets none.
    #[arg(long = "host-alias", value_name = "FROM=TO", value_parser = host_alias, global = true)]
    pub host_aliases: Vec<(String, String)>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[expect(
    clippy::large_enum_variant,
    reason = "parsed once at start; boxing the arguments buys nothing"
)]
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
    /// Upload a Task's result files to the Wharf API (the sidecar of a Task's pod).
    Collect(crate::collect::CollectArgs),
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

    /// Route Apps' hosts through this Gateway (`NAMESPACE/NAME[:SECTION]`) with
    /// Gateway API HTTPRoutes instead of Ingresses; TLS is then the Gateway
    /// listener's. Unset: Ingresses, and HTTPRoutes are never watched.
    #[arg(long, env = "WHARF_GATEWAY", value_name = "NAMESPACE/NAME[:SECTION]")]
    gateway: Option<GatewayParent>,

    /// Watch only this namespace (one shard); all namespaces when unset.
    #[arg(long, env = "WHARF_WATCH_NAMESPACE")]
    watch_namespace: Option<String>,

    /// Reconcile only the Spaces with these labels (one shard); all when unset.
    #[arg(long, env = "WHARF_SPACE_SELECTOR")]
    space_selector: Option<String>,

    /// Never hand a Runtime's PostgreSQL to CloudNativePG, even where its
    /// `Cluster` kind is served (Runtimes that already use it keep it).
    #[arg(long, env = "WHARF_WITHOUT_CLOUDNATIVE_PG")]
    without_cloudnative_pg: bool,

    /// The API server's ServiceAccount (`namespace/name`) when it runs as an
    /// identity of its own: each Runtime grants it `get` on exactly its binding
    /// Secrets, for the credentials read.
    #[arg(long, env = "WHARF_CREDENTIALS_READER")]
    credentials_reader: Option<ServiceAccountRef>,

    /// Run the controllers only while holding a Lease, so that of several operator
    /// replicas exactly one reconciles; the others wait as followers.
    #[arg(long, env = "WHARF_LEADER_ELECT")]
    leader_elect: bool,

    /// The namespace of the Lease (the pod's own, from `POD_NAMESPACE`).
    #[arg(
        long,
        env = "POD_NAMESPACE",
        required_if_eq("leader_elect", "true"),
        requires = "leader_elect"
    )]
    lease_namespace: Option<String>,

    /// The name of the Lease the replicas compete for.
    #[arg(long, default_value = "wharf-operator", env = "WHARF_LEASE_NAME")]
    lease_name: String,

    /// Seconds a Lease holds without renewal: the longest a takeover waits after
    /// the leader dies.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(2..=300), env = "WHARF_LEASE_SECONDS")]
    lease_seconds: u64,

    /// This replica's name in the Lease (default: the pod name from `POD_NAME`,
    /// else the host name and process id).
    #[arg(long, env = "POD_NAME")]
    identity: Option<String>,

    /// The image Task pods run `wharfd collect` from (Wharf's own image).
    #[arg(long, env = "WHARF_COLLECTOR_IMAGE")]
    collector_image: Option<String>,

    /// The Wharf API's URL as Task pods reach it, for uploading result files.
    #[arg(
        long,
        default_value = "http://wharf.wharf-system.svc:8080",
        env = "WHARF_COLLECTOR_API_URL"
    )]
    collector_api_url: String,

    /// Seconds a Task's collector gets to upload after the Task's container exits.
    #[arg(long, default_value_t = 600, env = "WHARF_UPLOAD_GRACE_SECONDS")]
    upload_grace_seconds: i64,

    /// The Wharf API's public base URL, so callbacks carry absolute download URLs.
    #[arg(long, env = "WHARF_API_PUBLIC_URL")]
    api_public_url: Option<String>,

    /// Address ranges Task callbacks may reach although they are loopback,
    /// link-local or private (comma-separated CIDRs, e.g. `10.20.0.0/16`).
    #[arg(long, value_delimiter = ',', env = "WHARF_CALLBACK_ALLOW_CIDR")]
    callback_allow_cidr: Vec<ipnet::IpNet>,

    /// More ranges Task callbacks must not reach: the cluster's pod and service
    /// ranges when they are public addresses (comma-separated CIDRs).
    #[arg(long, value_delimiter = ',', env = "WHARF_CALLBACK_DENY_CIDR")]
    callback_deny_cidr: Vec<ipnet::IpNet>,
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

    /// Directory that keeps Task result files (default
    /// `$XDG_DATA_HOME/wharf/results`, or `~/.local/share/wharf/results`).
    #[arg(long, env = "WHARF_RESULTS_DIR", conflicts_with = "results_s3_url")]
    results_dir: Option<PathBuf>,

    /// Keep Task result files in this S3-compatible bucket instead:
    /// `http(s)://host[:port]/bucket`, e.g. `https://s3.eu-west-1.amazonaws.com/results`.
    #[arg(
        long,
        env = "WHARF_RESULTS_S3_URL",
        requires = "results_s3_credentials_secret"
    )]
    results_s3_url: Option<String>,

    /// The region S3 requests are signed for (default: the AWS URL's, else us-east-1).
    #[arg(long, env = "WHARF_RESULTS_S3_REGION", requires = "results_s3_url")]
    results_s3_region: Option<String>,

    /// The Secret, as `namespace/name`, whose keys `accessKeyId` and
    /// `secretAccessKey` open the bucket; read once at start.
    #[arg(
        long,
        env = "WHARF_RESULTS_S3_CREDENTIALS_SECRET",
        requires = "results_s3_url"
    )]
    results_s3_credentials_secret: Option<String>,

    /// The namespace where the server keeps its own records (the
    /// `Idempotency-Key` records of function calls): its own namespace.
    #[arg(long, default_value = wharf_server::DEFAULT_STATE_NAMESPACE, env = "WHARF_STATE_NAMESPACE")]
    state_namespace: String,

    /// Serve the Aplite remote protocol here (its own listener; keep it on
    /// loopback and reach it with `kubectl port-forward`, or callers must send a
    /// token of `--aplite-service-account`).
    #[arg(long, env = "WHARF_APLITE_LISTEN", requires = "aplite_service_account")]
    aplite_listen: Option<SocketAddr>,

    /// The ServiceAccount (`namespace/name`) Aplite's calls act as: RBAC decides
    /// what they may do.
    #[arg(long, env = "WHARF_APLITE_SERVICE_ACCOUNT")]
    aplite_service_account: Option<ServiceAccountRef>,

    /// The namespace Aplite's functions act in (default: the ServiceAccount's).
    #[arg(long, env = "WHARF_APLITE_NAMESPACE")]
    aplite_namespace: Option<String>,

    /// The caller's own server, where the arguments of applications are fetched.
    #[arg(long, default_value = wharf_server::aplite::DEFAULT_CALLER_URL, env = "WHARF_APLITE_CALLER_URL")]
    aplite_caller_url: String,
}

impl ServerArgs {
    async fn config(&self, client: &kube::Client) -> anyhow::Result<ServerConfig> {
        Ok(ServerConfig {
            addr: self.listen,
            auth: if self.insecure_no_auth {
                AuthMode::Disabled
            } else {
                AuthMode::Kubernetes
            },
            results: self.results_config(client).await?,
            host_aliases: BTreeMap::new(),
            state_namespace: self.state_namespace.clone(),
            aplite: self.aplite_config(),
        })
    }

    fn aplite_config(&self) -> Option<(SocketAddr, wharf_server::aplite::ApliteConfig)> {
        let (addr, account) = (self.aplite_listen?, self.aplite_service_account.clone()?);
        let config = wharf_server::aplite::ApliteConfig {
            namespace: self
                .aplite_namespace
                .clone()
                .unwrap_or_else(|| account.namespace.clone()),
            service_account: (account.namespace, account.name),
            caller_url: self.aplite_caller_url.clone(),
        };
        Some((addr, config))
    }

    async fn results_config(&self, client: &kube::Client) -> anyhow::Result<StoreConfig> {
        let (Some(url), Some(secret)) = (&self.results_s3_url, &self.results_s3_credentials_secret)
        else {
            let dir = match &self.results_dir {
                Some(dir) => dir.clone(),
                None => default_results_dir()?,
            };
            return Ok(StoreConfig::Local { dir });
        };
        let s3 = S3Config::from_secret(client, url, self.results_s3_region.as_deref(), secret)
            .await
            .context("configuring the S3 result store")?;
        Ok(StoreConfig::S3(s3))
    }
}

/// `$XDG_DATA_HOME/wharf/results`, or `~/.local/share/wharf/results`.
fn default_results_dir() -> anyhow::Result<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(data) = var("XDG_DATA_HOME").filter(|p| p.is_absolute()) {
        return Ok(data.join("wharf/results"));
    }
    let home = var("HOME").context("neither XDG_DATA_HOME nor HOME is set: pass --results-dir")?;
    Ok(home.join(".local/share/wharf/results"))
}

impl Cli {
    /// Runs the chosen command.
    pub async fn run(self) -> anyhow::Result<()> {
        let aliases: BTreeMap<String, String> = self.host_aliases.into_iter().collect();
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
            Command::Collect(args) => {
                crate::collect::run(args, wharf_operator::signal::interrupted()).await
            }
            Command::Operator(args) => run_operator(args, aliases).await,
            Command::Server(args) => run_server(args, aliases).await,
            Command::All { operator, server } => {
                // Either half failing (the API port taken, the metrics port taken)
                // stops both at once with its error, rather than leaving the other
                // half running until SIGTERM.
                tokio::try_join!(
                    async {
                        run_operator(operator, aliases.clone())
                            .await
                            .context("the operator failed")
                    },
                    async {
                        run_server(server, aliases.clone())
                            .await
                            .context("the API server failed")
                    },
                )?;
                Ok(())
            }
        }
    }
}

async fn kube_config() -> anyhow::Result<kube::Config> {
    kube::Config::infer()
        .await
        .context("finding the Kubernetes cluster (KUBECONFIG or in-cluster)")
}

async fn run_server(args: ServerArgs, aliases: BTreeMap<String, String>) -> anyhow::Result<()> {
    let client =
        kube::Client::try_from(kube_config().await?).context("making a Kubernetes client")?;
    let mut config = args.config(&client).await?;
    config.host_aliases = aliases;
    wharf_server::run(client, config, wharf_operator::signal::interrupted()).await?;
    tracing::info!("API server stopped");
    Ok(())
}

/// A `FROM=TO` host alias, each side a `host:port`.
fn host_alias(text: &str) -> Result<(String, String), String> {
    let has_port = |side: &str| {
        side.rsplit_once(':')
            .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok())
    };
    match text.split_once('=') {
        Some((from, to)) if has_port(from) && has_port(to) => Ok((from.to_owned(), to.to_owned())),
        _ => Err(format!(
            "{text:?} is not a host alias: write it as FROM=TO, each host:port (e.g. rt-nats.shop.svc:4222=127.0.0.1:4222)"
        )),
    }
}

/// The leader election `args` ask for, if any.
fn election(args: &OperatorArgs) -> Option<Election> {
    if !args.leader_elect {
        return None;
    }
    let identity = args.identity.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_else(|_| "wharfd".to_owned());
        format!("{host}-{}", std::process::id())
    });
    Some(Election {
        lease: args.lease_name.clone(),
        namespace: args.lease_namespace.clone()?,
        identity,
        duration: std::time::Duration::from_secs(args.lease_seconds),
    })
}

async fn run_operator(args: OperatorArgs, aliases: BTreeMap<String, String>) -> anyhow::Result<()> {
    let kube_config = kube_config().await?;
    let client = wharf_operator::rate_limited_client(kube_config, args.kube_qps)
        .context("making a Kubernetes client")?;
    let election = election(&args);
    let config = OperatorConfig {
        concurrency: args.concurrency,
        metrics_addr: args.metrics_addr,
        app_defaults: Defaults {
            ingress_class: args.ingress_class,
            cluster_issuer: args.tls_cluster_issuer,
            gateway: args.gateway,
            ..Defaults::default()
        },
        task_defaults: TaskDefaults {
            collector_image: args
                .collector_image
                .unwrap_or_else(|| TaskDefaults::default().collector_image),
            api_url: args.collector_api_url,
            upload_grace_seconds: args.upload_grace_seconds.max(1),
            restricted_pods: false,
            runtime_engines: Vec::new(),
        },
        callback_policy: CallbackPolicy {
            allow: args.callback_allow_cidr,
            deny: args.callback_deny_cidr,
            ..CallbackPolicy::default()
        },
        api_public_url: args.api_public_url,
        namespace: args.watch_namespace,
        space_selector: args.space_selector,
        election,
        cloudnative_pg: !args.without_cloudnative_pg,
        credentials_reader: args.credentials_reader,
        host_aliases: aliases,
    };
    tracing::info!(
        concurrency = config.concurrency,
        qps = args.kube_qps,
        "starting the operator"
    );
    wharf_operator::run(client, config, wharf_operator::signal::interrupted()).await?;
    tracing::info!("operator stopped");
    Ok(())
}
