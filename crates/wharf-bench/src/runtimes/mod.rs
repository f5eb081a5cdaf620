//! The Runtime benchmark (`wharf-bench runtimes`), in two parts:
//!
//! 1. [`creation`]: one Runtime with all five engines, N times through a `wharfd
//!    operator` child process, each time beside the same children created
//!    directly with a kube client (the baseline, in another namespace): the time
//!    until every child exists and the API requests each side's own
//!    ServiceAccount spent (counted apart from the rest of the cluster, see
//!    [`user_requests`](crate::user_requests)), as medians.
//! 2. [`memory`]: wharfd's resident memory with no Runtime (the baseline) and with
//!    many (1,000 by default), once all have their children.
//!
//! Each part works in namespaces of its own, deleted before the next part starts.

mod children;
pub mod creation;
pub mod memory;
pub mod objects;
pub mod report;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};
use futures::{StreamExt, TryStreamExt, stream};
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, CustomResourceExt};
use rand::Rng;
use serde_json::json;
use wharf_model::runtime::Runtime;
use wharf_model::runtime::build::Engine;

use crate::capacity::Needs;
use crate::fan_out::FanOut;
use crate::user_requests::{self, Resource};
use crate::wharfd::OperatorOptions;
use crate::{BenchError, accounts, capacity, cluster, namespace};

use objects::Children;
use report::{CreationReport, MemoryReport};

/// How long wharfd may take to sync its caches and report ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long after its milestone a measurement waits for what the milestone
/// itself set off (reconciles triggered by the new children's first status
/// changes, Kubernetes' Events for the new pods).
const SETTLE: Duration = Duration::from_secs(3);

/// How long a namespace with everything in it may take to be deleted.
const DELETE_TIMEOUT: Duration = Duration::from_secs(600);

/// The resources whose requests are counted one by one: Runtimes, the children
/// and Events; the rest are counted together.
const COUNTED: &[Resource] = &[
    ("wharf.dev", "runtimes"),
    ("apps", "statefulsets"),
    ("", "services"),
    ("", "configmaps"),
    ("", "secrets"),
    ("batch", "jobs"),
    ("", "events"),
    ("events.k8s.io", "events"),
];

/// Settings of `wharf-bench runtimes`.
#[derive(Debug, Clone, Args)]
pub struct RuntimesArgs {
    /// How many times one Runtime with all five engines is created on each side
    /// (0 skips this part).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(0..=999))]
    pub count: u32,

    /// How many Runtimes wharfd's memory is measured with (0 skips this part).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(0..=9999))]
    pub runtimes: u32,

    /// The engines of each of those Runtimes, one member each (comma-separated).
    /// The default keeps the cluster's load small; the operator's caches grow
    /// with the children, so five engines cost about five times as much.
    #[arg(long, value_enum, value_delimiter = ',', default_value = "nats")]
    pub memory_engines: Vec<EngineArg>,

    /// How many of those Runtimes are created at once; also wharfd's
    /// --concurrency.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// The wharfd binary to run as the operator.
    #[arg(long, value_name = "PATH", default_value = "target/release/wharfd")]
    pub wharfd: PathBuf,

    /// Another argument for `wharfd operator`, e.g. `--wharfd-arg=--kube-qps=400`
    /// (repeatable).
    #[arg(long = "wharfd-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub wharfd_args: Vec<String>,

    /// Seconds one run of part one, or all of part two, may take before the
    /// benchmark fails. Part two with 1,000 Runtimes took over ten minutes on a
    /// loaded two-core test cluster.
    #[arg(long, value_name = "SECONDS", default_value_t = 1800)]
    pub timeout: u64,
}

/// An engine, as the command line names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EngineArg {
    /// MongoDB.
    Mongodb,
    /// NATS JetStream.
    Nats,
    /// S3 (Garage).
    S3,
    /// PostgreSQL.
    Postgres,
    /// Valkey.
    Redis,
}

impl From<EngineArg> for Engine {
    fn from(engine: EngineArg) -> Self {
        match engine {
            EngineArg::Mongodb => Engine::Mongodb,
            EngineArg::Nats => Engine::Nats,
            EngineArg::S3 => Engine::S3,
            EngineArg::Postgres => Engine::Postgres,
            EngineArg::Redis => Engine::Redis,
        }
    }
}

/// Whether the operator has written `runtime`'s status for its current spec.
fn reported(runtime: &Runtime) -> bool {
    runtime.metadata.generation.is_some()
        && runtime.status.as_ref().and_then(|s| s.observed_generation)
            == runtime.metadata.generation
}

/// What one run adds to the cluster, by name.
struct Names {
    /// Part one's baseline namespace.
    baseline: String,
    /// Part one's Wharf namespace.
    creation: String,
    /// Part two's namespace.
    memory: String,
    /// Part one's ClusterRoleBinding.
    binding: String,
    /// The start of part one's FlowSchemas' names.
    flow_schemas: String,
}

/// Runs the benchmark and prints its report.
pub async fn run(args: RuntimesArgs) -> Result<(), BenchError> {
    // Checked before anything is created.
    if !args.wharfd.is_file() {
        return Err(BenchError::WharfdMissing(args.wharfd));
    }
    let cluster = cluster::connect().await?;
    let client = &cluster.client;
    eprintln!(
        "[bench] cluster of {}; installing Wharf's CRDs",
        cluster.kubeconfig.display()
    );
    cluster::install_crds(client, &[Runtime::crd_name()]).await?;

    let run_id = format!("{:08x}", rand::rng().random::<u32>());
    let names = Names {
        baseline: format!("wharf-bench-rt-base-{run_id}"),
        creation: format!("wharf-bench-rt-{run_id}"),
        memory: format!("wharf-bench-rt-mem-{run_id}"),
        binding: format!("wharf-bench-{run_id}"),
        flow_schemas: format!("wharf-bench-{run_id}-"),
    };
    let memory_engines: Vec<Engine> = args.memory_engines.iter().map(|&e| e.into()).collect();
    let memory_spec = objects::one_member_of(&memory_engines);
    let room = capacity::ensure_room(client, needs(&args, &memory_spec)?, &run_id).await?;

    // Wharf's own five engines are measured against the same children by hand:
    // PostgreSQL stays Wharf's even where CloudNativePG's kind is served.
    let mut wharfd_args = vec!["--without-cloudnative-pg".to_owned()];
    wharfd_args.extend(args.wharfd_args.iter().cloned());
    let operator = |namespace: &str| OperatorOptions {
        binary: args.wharfd.clone(),
        kubeconfig: cluster.kubeconfig.clone(),
        namespace: namespace.to_owned(),
        concurrency: args.concurrency,
        extra_args: wharfd_args.clone(),
    };
    let timeout = Duration::from_secs(args.timeout);
    let measure = async {
        if args.count > 0 {
            let spec = objects::five_engines();
            eprintln!(
                "[bench] part 1: a Runtime with five engines ({}), {} times by hand and \
                 through {}",
                objects::describe(&spec),
                args.count,
                args.wharfd.display()
            );
            namespace::create(client, &names.baseline).await?;
            namespace::create(client, &names.creation).await?;
            let setting = creation::Setting {
                baseline_ns: &names.baseline,
                operator: operator(&names.creation),
                binding: &names.binding,
                flow_schemas: &names.flow_schemas,
            };
            let outcome = creation::run(client, &setting, args.count as usize, timeout).await?;
            // Part two starts on a quiet cluster.
            remove(client, &names.baseline, Some(DELETE_TIMEOUT)).await;
            remove(client, &names.creation, Some(DELETE_TIMEOUT)).await;
            let children = Children::build(&objects::name(0), "ns", &spec)?.names();
            // Printed now: a failure in part two does not lose part one's figures.
            println!(
                "{}",
                CreationReport {
                    engines: objects::describe(&spec),
                    children: children.describe(),
                    outcome,
                }
            );
        }
        let mut memory = None;
        if args.runtimes > 0 {
            eprintln!(
                "[bench] part 2: wharfd's memory with {} Runtimes of {}",
                args.runtimes,
                objects::describe(&memory_spec)
            );
            namespace::create(client, &names.memory).await?;
            let fan_out = FanOut {
                concurrency: usize::from(args.concurrency),
                timeout,
            };
            let outcome = memory::run(
                client,
                &operator(&names.memory),
                &memory_spec,
                args.runtimes as usize,
                fan_out,
            )
            .await?;
            let children = Children::build(&objects::name(0), "ns", &memory_spec)?.names();
            memory = Some(MemoryReport {
                engines: objects::describe(&memory_spec),
                children: children.describe(),
                concurrency: args.concurrency,
                outcome,
            });
        }
        Ok::<_, BenchError>(memory)
    };
    let measured = tokio::select! {
        measured = measure => measured,
        () = wharf_operator::signal::interrupted() => Err(BenchError::Interrupted),
    };
    // After an interrupt, clean up without waiting: a second Ctrl-C no longer
    // stops the process. wharfd has stopped (or was killed with its handle).
    let wait = measured.is_ok().then_some(DELETE_TIMEOUT);
    remove(client, &names.baseline, wait).await;
    remove(client, &names.creation, wait).await;
    remove(client, &names.memory, wait).await;
    accounts::revoke(client, &names.binding).await;
    user_requests::remove(client, &names.flow_schemas).await;
    if let Err(error) = room.remove(client).await {
        eprintln!("[bench] warning: {}", error.report());
    }
    let memory = measured?;

    if let Some(report) = memory {
        if args.count > 0 {
            println!();
        }
        println!("{report}");
    }
    Ok(())
}

/// Room for both parts (one after the other): the bootstrap Jobs' pods are
/// scheduled, the members' pods are not (their claims never bind); every Service
/// but the headless ones takes an IP. Part one deletes each run's children before
/// the next, so it needs room for one Runtime per side at a time (two, while the
/// last run's are still going).
fn needs(
    args: &RuntimesArgs,
    memory_spec: &wharf_model::runtime::RuntimeSpec,
) -> Result<Needs, BenchError> {
    let five = Children::build(&objects::name(0), "ns", &objects::five_engines())?;
    let small = Children::build(&objects::name(0), "ns", memory_spec)?;
    let creation = if args.count > 0 { 2 * 2 } else { 0 };
    let memory = args.runtimes as usize;
    Ok(Needs {
        pods: (creation * five.names().jobs.len()).max(memory * small.names().jobs.len()),
        services: (creation * five.cluster_ips()).max(memory * small.cluster_ips()),
    })
}

/// Deletes a namespace of Runtimes. wharfd is stopped by now, so the Runtimes'
/// finalizers are taken off first, or the namespace would wait for an operator
/// forever.
async fn remove(client: &Client, ns: &str, wait: Option<Duration>) {
    if let Err(error) = release(client, ns).await {
        eprintln!("[bench] warning: {}", error.report());
    }
    namespace::remove(client, ns, wait).await;
}

/// Takes the finalizers off every Runtime in `ns`.
async fn release(client: &Client, ns: &str) -> Result<(), BenchError> {
    let runtimes = Api::<Runtime>::namespaced(client.clone(), ns);
    let listed = match runtimes.list_metadata(&ListParams::default()).await {
        Ok(listed) => listed,
        Err(kube::Error::Api(status)) if status.code == 404 => return Ok(()),
        Err(source) => {
            return Err(BenchError::Kube {
                what: format!("listing the Runtimes in {ns}"),
                source,
            });
        }
    };
    let patch = json!({ "metadata": { "finalizers": null } });
    stream::iter(listed.items)
        .filter(|runtime| {
            std::future::ready(
                runtime
                    .metadata
                    .finalizers
                    .as_ref()
                    .is_some_and(|f| !f.is_empty()),
            )
        })
        .map(|runtime| {
            let (runtimes, patch) = (&runtimes, &patch);
            async move {
                let name = runtime.metadata.name.unwrap_or_default();
                match runtimes
                    .patch_metadata(&name, &PatchParams::default(), &Patch::Merge(patch))
                    .await
                {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
                    Err(source) => Err(BenchError::Kube {
                        what: format!("taking the finalizer off the Runtime {name}"),
                        source,
                    }),
                }
            }
        })
        .buffer_unordered(16)
        .try_collect::<()>()
        .await
}
