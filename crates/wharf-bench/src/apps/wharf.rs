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
use crate::wharfd::{OperatorOptions, Wharfd};

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

/// Reconciles wharfd counted for Apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reconciles {
    /// Every App reconcile.
    pub total: u64,
    /// Those that failed.
    pub failed: u64,
    /// Their mean duration.
    pub mean: Option<Duration>,
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
    let reconciles = wharfd.metrics().await.ok().and_then(|m| app_reconciles(&m));
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

/// The App reconcile counters in wharfd's `/metrics` text.
fn app_reconciles(metrics: &str) -> Option<Reconciles> {
    // Lines of `name{...kind="App"...} value`, summed over the other labels.
    let sum = |name: &str| -> Option<f64> {
        let prefix = format!("{name}{{");
        let values: Vec<f64> = metrics
            .lines()
            .filter(|l| l.starts_with(&prefix) && l.contains(r#"kind="App""#))
            .filter_map(|l| l.rsplit_once(' ')?.1.trim().parse::<f64>().ok())
            .collect();
        (!values.is_empty()).then(|| values.iter().sum())
    };
    let total = sum("wharf_operator_reconciles_total")?;
    let failed = sum("wharf_operator_reconcile_errors_total").unwrap_or(0.0);
    let mean = sum("wharf_operator_reconcile_duration_seconds_sum")
        .zip(sum("wharf_operator_reconcile_duration_seconds_count"))
        .filter(|(_, count)| *count > 0.0)
        .and_then(|(seconds, count)| Duration::try_from_secs_f64(seconds / count).ok());
    Some(Reconciles {
        total: total as u64,
        failed: failed as u64,
        mean,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_app_reconcile_counters() {
        let metrics = "\
# HELP wharf_operator_reconciles Reconciles by kind.
# TYPE wharf_operator_reconciles counter
wharf_operator_reconciles_total{kind=\"App\"} 1234
wharf_operator_reconciles_total{kind=\"Task\"} 7
wharf_operator_reconcile_errors_total{kind=\"App\",reason=\"kube\"} 3
wharf_operator_reconcile_errors_total{kind=\"App\",reason=\"serialize\"} 1
wharf_operator_reconcile_duration_seconds_sum{kind=\"App\"} 617.0
wharf_operator_reconcile_duration_seconds_count{kind=\"App\"} 1234
wharf_operator_reconcile_duration_seconds_bucket{le=\"0.005\",kind=\"App\"} 0
# EOF
";
        assert_eq!(
            app_reconciles(metrics),
            Some(Reconciles {
                total: 1234,
                failed: 4,
                mean: Some(Duration::from_millis(500)),
            })
        );
    }

    #[test]
    fn no_counter_yet_is_none() {
        assert_eq!(app_reconciles("# EOF\n"), None);
    }
}
