//! The App creation benchmark (`wharf-bench apps`).
//!
//! In one run: N Deployments and Services created directly with a kube client
//! (the baseline), then N Apps created through a `wharfd operator` child process,
//! both at the same concurrency, each in a namespace of its own on an otherwise
//! quiet cluster. It reports the time until all Deployments exist and until all
//! are ready, side by side, and wharfd's peak memory, against the goals in
//! [`report`].

mod baseline;
mod objects;
pub mod report;
pub mod requests;
mod wharf;

use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use kube::{Client, CustomResourceExt};
use rand::Rng;
use wharf_model::app::App;

use crate::capacity::Needs;
use crate::fan_out::FanOut;
use crate::wharfd::OperatorOptions;
use crate::{BenchError, capacity, cluster, namespace};

pub use crate::wharfd::Reconciles;
pub use report::Report;
pub use wharf::WharfOutcome;

/// How long a namespace with everything in it may take to be deleted.
const DELETE_TIMEOUT: Duration = Duration::from_secs(300);

/// Settings of `wharf-bench apps`.
#[derive(Debug, Clone, Args)]
pub struct AppsArgs {
    /// How many Apps (and baseline Deployments) to create.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=9999))]
    pub count: u32,

    /// How many creates run at once, on both sides; also wharfd's --concurrency.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// The wharfd binary to run as the operator.
    #[arg(long, value_name = "PATH", default_value = "target/release/wharfd")]
    pub wharfd: PathBuf,

    /// Another argument for `wharfd operator`, e.g. `--wharfd-arg=--kube-qps=400`
    /// (repeatable).
    #[arg(long = "wharfd-arg", value_name = "ARG", allow_hyphen_values = true)]
    pub wharfd_args: Vec<String>,

    /// Seconds each side may take before the run fails.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub timeout: u64,
}

/// What both sides of one run share.
#[derive(Debug, Clone)]
pub struct Settings {
    /// How many objects each side creates.
    pub count: usize,
    /// How many creates run at once.
    pub concurrency: usize,
    /// How long a side may take.
    pub timeout: Duration,
}

impl Settings {
    /// The creates of one side: `concurrency` at once, within `timeout`.
    pub fn fan_out(&self) -> FanOut {
        FanOut {
            concurrency: self.concurrency,
            timeout: self.timeout,
        }
    }
}

/// The times of one side, from its first create.
#[derive(Debug, Clone, Copy)]
pub struct PhaseTimes {
    /// Until every create call returned.
    pub created: Duration,
    /// Until all N Deployments existed.
    pub deployments_exist: Duration,
    /// Until all N were ready (Deployment ready replicas, or App `Ready`).
    pub all_ready: Duration,
}

/// Runs the benchmark and prints its report.
pub async fn run(args: AppsArgs) -> Result<(), BenchError> {
    let settings = Settings {
        count: args.count as usize,
        concurrency: usize::from(args.concurrency),
        timeout: Duration::from_secs(args.timeout),
    };
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
    cluster::install_crds(client, &[App::crd_name()]).await?;

    let run_id = format!("{:08x}", rand::rng().random::<u32>());
    // The sides run one after the other, the first deleted before the second
    // starts, so N pods and N Services need room at a time.
    let needs = Needs {
        pods: settings.count,
        services: settings.count,
    };
    let room = capacity::ensure_room(client, needs, &run_id).await?;
    let sides = Sides {
        baseline: format!("wharf-bench-base-{run_id}"),
        wharf: format!("wharf-bench-apps-{run_id}"),
    };
    let measured = tokio::select! {
        measured = both_sides(client, &cluster.kubeconfig, &args, &settings, &sides) => measured,
        () = wharf_operator::signal::interrupted() => Err(BenchError::Interrupted),
    };
    // After an interrupt, clean up without waiting: a second Ctrl-C no longer
    // stops the process.
    let wait = measured.is_ok().then_some(DELETE_TIMEOUT);
    namespace::remove(client, &sides.baseline, wait).await;
    namespace::remove(client, &sides.wharf, wait).await;
    if let Err(error) = room.remove(client).await {
        eprintln!("[bench] warning: {}", error.report());
    }
    let (baseline, wharf) = measured?;

    let report = Report {
        count: settings.count,
        concurrency: args.concurrency,
        baseline,
        wharf,
    };
    println!("{report}");
    Ok(())
}

/// The namespaces of the two sides.
struct Sides {
    baseline: String,
    wharf: String,
}

async fn both_sides(
    client: &Client,
    kubeconfig: &Path,
    args: &AppsArgs,
    settings: &Settings,
    sides: &Sides,
) -> Result<(PhaseTimes, WharfOutcome), BenchError> {
    eprintln!(
        "[bench] baseline: {} Deployments + Services, concurrency {}",
        settings.count, settings.concurrency
    );
    namespace::create(client, &sides.baseline).await?;
    let before = requests::Counts::scrape(client).await?;
    let baseline = baseline::run(client, &sides.baseline, settings).await?;
    let baseline_requests = requests::Counts::scrape(client).await?.since(&before);
    // The Wharf side starts on a quiet cluster.
    namespace::remove(client, &sides.baseline, Some(DELETE_TIMEOUT)).await;

    eprintln!(
        "[bench] wharf: {} Apps through {} operator, concurrency {}",
        settings.count,
        args.wharfd.display(),
        settings.concurrency
    );
    namespace::create(client, &sides.wharf).await?;
    let operator = OperatorOptions {
        binary: args.wharfd.clone(),
        kubeconfig: kubeconfig.to_owned(),
        namespace: sides.wharf.clone(),
        concurrency: args.concurrency,
        extra_args: args.wharfd_args.clone(),
    };
    let mut wharf = wharf::run(client, &operator, settings).await?;
    wharf.requests = Some(requests::RequestsPerApp::new(
        &baseline_requests,
        &wharf.request_counts,
        settings.count,
    ));
    Ok((baseline, wharf))
}
