//! The Wharf side: `wharfd operator` watching one namespace, and Apps created in it
//! at the benchmark's concurrency.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::PostParams;
use kube::{Api, Client};
use tokio::time::Instant;
use wharf_model::app::App;
use wharf_model::conditions::is_true;

use super::{PhaseTimes, Settings, objects};
use crate::BenchError;
use crate::milestone::Milestone;
use crate::progress::{self, Counter};
use crate::wharfd::{OperatorOptions, Reconciles, Wharfd};

/// How long wharfd may take to sync its caches and report ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// What the Wharf side measured.
#[derive(Debug, Clone)]
pub struct WharfOutcome {
    /// The times, from the first App create.
    pub times: PhaseTimes,
    /// wharfd's peak resident memory in bytes.
    pub peak_rss: u64,
    /// wharfd's reconcile counters, when `/metrics` could be read.
    pub reconciles: Option<Reconciles>,
    /// wharfd's log file.
    pub log: PathBuf,
    /// The counted requests from the first App create until all were Ready.
    pub request_counts: super::requests::Counts,
    /// Requests per App beside the baseline's, once both sides ran.
    pub requests: Option<super::requests::RequestsPerApp>,
}

/// Starts wharfd on `operator.namespace`, creates `settings.count` Apps there and
/// measures until all their Deployments exist and until every App is Ready; then
/// reads wharfd's peak memory and stops it.
pub async fn run(
    client: &Client,
    operator: &OperatorOptions,
    settings: &Settings,
) -> Result<WharfOutcome, BenchError> {
    let count = settings.count;
    let namespace = operator.namespace.as_str();
    let mut wharfd = Wharfd::start(operator)?;
    wharfd.wait_ready(READY_TIMEOUT).await?;

    let exist = Milestone::watch(
        Api::<Deployment>::namespaced(client.clone(), namespace),
        Counter::new("Deployments", count),
        |_: &Deployment| true,
    )
    .await?;
    let ready = Milestone::watch(
        Api::<App>::namespaced(client.clone(), namespace),
        Counter::new("Apps ready", count),
        |app: &App| {
            app.status
                .as_ref()
                .is_some_and(|s| is_true(&s.conditions, "Ready"))
        },
    )
    .await?;
    let apps = Api::<App>::namespaced(client.clone(), namespace);
    let created = Counter::new("Apps created", count);

    let before = super::requests::Counts::scrape(client).await?;
    let start = Instant::now();
    let deadline = start + settings.timeout;
    let _ticker = progress::every_few_seconds(
        "wharf   ",
        start,
        vec![created.clone(), exist.counter(), ready.counter()],
    );
    let measure = async {
        let created_at = settings
            .fan_out()
            .run(&created, start, |index| {
                let apps = apps.clone();
                async move {
                    let name = objects::name(index);
                    apps.create(&PostParams::default(), &objects::app(&name))
                        .await
                        .map_err(BenchError::kube(format!("creating the App {name}")))?;
                    Ok(())
                }
            })
            .await?;
        let exist_at = exist.reached(deadline).await?;
        let ready_at = ready.reached(deadline).await?;
        Ok::<_, BenchError>(PhaseTimes {
            created: created_at - start,
            deployments_exist: exist_at - start,
            all_ready: ready_at - start,
        })
    };
    let times = tokio::select! {
        times = measure => times?,
        exited = wharfd.exited() => return Err(exited),
    };

    let request_counts = super::requests::Counts::scrape(client)
        .await?
        .since(&before);
    let peak_rss = wharfd.peak_rss()?;
    let reconciles = wharfd
        .metrics()
        .await
        .ok()
        .and_then(|m| Reconciles::parse(&m, "App"));
    let log = wharfd.log().to_owned();
    wharfd.stop().await?;
    Ok(WharfOutcome {
        times,
        peak_rss,
        reconciles,
        log,
        request_counts,
        requests: None,
    })
}
