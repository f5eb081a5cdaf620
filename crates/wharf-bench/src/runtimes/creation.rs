//! Part one: one Runtime with all five engines, created N times, alternating with
//! its children created directly (the baseline), each run measured from its first
//! create until every child exists, and counted in API requests.
//!
//! Each side acts as a ServiceAccount of its own — wharfd as `wharfd`, the
//! baseline's writer as `baseline` — whose requests are counted exactly, apart
//! from the rest of the cluster ([`UserRequests`]). The user's own Runtime create
//! and the benchmark's watches go out as the benchmark's user and are not
//! counted. Each window ends a few seconds after the children exist ([`SETTLE`]),
//! on both sides: the reconciles that the new StatefulSets' and Job's first status
//! changes trigger belong to the Runtime's cost.
//!
//! After each run both sides delete what they made, and the next run starts once
//! the Runtime is gone: a Runtime left behind would be reconciled again (every 30
//! seconds while its members cannot start) inside a later run's window.

use std::path::PathBuf;
use std::time::Duration;

use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use tokio::time::Instant;
use wharf_model::runtime::{Runtime, RuntimeSpec};
use wharf_testenv::wait::wait_deleted;

use super::children::ChildrenExist;
use super::objects::{self, Children};
use super::{COUNTED, READY_TIMEOUT, SETTLE};
use crate::BenchError;
use crate::accounts::{self, Account};
use crate::milestone::Milestone;
use crate::progress::Counter;
use crate::user_requests::{Tally, UserRequests};
use crate::wharfd::{OperatorOptions, Reconciles, Wharfd};

/// One run of one side.
#[derive(Debug, Clone)]
pub struct Run {
    /// From the first create until every child existed.
    pub exist: Duration,
    /// Wharf only: until the Runtime's status described its generation.
    pub reported: Option<Duration>,
    /// The side's requests in the run's window.
    pub requests: Tally,
    /// Wharf only: the Runtime reconciles in the window, when wharfd's
    /// `/metrics` could be read.
    pub reconciles: Option<u64>,
}

/// What part one measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The baseline's runs.
    pub baseline: Vec<Run>,
    /// Wharf's runs, the i-th right after the baseline's i-th.
    pub wharf: Vec<Run>,
    /// wharfd's log file.
    pub log: PathBuf,
}

/// Where part one runs, and the names of what it adds to the cluster outside its
/// namespaces (deleted by the caller, also after an interrupt).
pub struct Setting<'a> {
    /// The baseline's namespace.
    pub baseline_ns: &'a str,
    /// How to start wharfd (its namespace is the Wharf side's).
    pub operator: OperatorOptions,
    /// The ClusterRoleBinding that lets both accounts in.
    pub binding: &'a str,
    /// The start of the FlowSchemas' names.
    pub flow_schemas: &'a str,
}

/// Runs `count` times: the children in the baseline namespace by hand, then a
/// Runtime in wharfd's namespace.
pub async fn run(
    client: &Client,
    setting: &Setting<'_>,
    count: usize,
    timeout: Duration,
) -> Result<Outcome, BenchError> {
    let wharf_ns = setting.operator.namespace.as_str();
    let operator_account = Account::create(client, wharf_ns, "wharfd").await?;
    let baseline_account = Account::create(client, setting.baseline_ns, "baseline").await?;
    accounts::grant_admin(
        client,
        setting.binding,
        &[&operator_account, &baseline_account],
    )
    .await?;
    let sides = Sides {
        baseline: baseline_account.client().await?,
        baseline_requests: UserRequests::start(
            client,
            &format!("{}baseline", setting.flow_schemas),
            &baseline_account,
            COUNTED,
        )
        .await?,
        wharf_requests: UserRequests::start(
            client,
            &format!("{}wharfd", setting.flow_schemas),
            &operator_account,
            COUNTED,
        )
        .await?,
    };
    let operator = OperatorOptions {
        kubeconfig: operator_account.kubeconfig(&setting.operator.kubeconfig)?,
        ..setting.operator.clone()
    };

    let mut wharfd = Wharfd::start(&operator)?;
    wharfd.wait_ready(READY_TIMEOUT).await?;
    if sides.wharf_requests.scrape(client).await?.total() == 0.0 {
        // wharfd has listed and watched by now: the FlowSchemas do not see it.
        return Err(BenchError::Metrics(format!(
            "the FlowSchemas {}wharfd-* counted none of {}'s requests",
            setting.flow_schemas,
            operator_account.user()
        )));
    }
    let spec = objects::five_engines();
    let mut outcome = Outcome {
        baseline: Vec::with_capacity(count),
        wharf: Vec::with_capacity(count),
        log: wharfd.log().to_owned(),
    };
    for index in 0..count {
        let name = objects::name(index);
        let base = tokio::select! {
            run = sides.baseline(client, setting.baseline_ns, &name, &spec, timeout) => run?,
            exited = wharfd.exited() => return Err(exited),
        };
        let before = runtime_reconciles(&wharfd).await;
        let mut wharf = tokio::select! {
            run = sides.wharf(client, wharf_ns, &name, &spec, timeout) => run?,
            exited = wharfd.exited() => return Err(exited),
        };
        wharf.reconciles = runtime_reconciles(&wharfd)
            .await
            .zip(before)
            .map(|(after, before)| after - before);
        tokio::select! {
            deleted = sides.delete(client, wharf_ns, &name, timeout) => deleted?,
            exited = wharfd.exited() => return Err(exited),
        };
        eprintln!(
            "[bench] run {}/{count}: children exist after {} ms by hand ({} requests), \
             {} ms through Wharf ({} requests)",
            index + 1,
            base.exist.as_millis(),
            base.requests.total(),
            wharf.exist.as_millis(),
            wharf.requests.total(),
        );
        outcome.baseline.push(base);
        outcome.wharf.push(wharf);
    }
    wharfd.stop().await?;
    let _ = std::fs::remove_file(&operator.kubeconfig);
    Ok(outcome)
}

/// What both sides' runs share.
struct Sides {
    /// The baseline's writer, as the `baseline` account.
    baseline: Client,
    /// Counts the baseline writer's requests.
    baseline_requests: UserRequests,
    /// Counts wharfd's requests.
    wharf_requests: UserRequests,
}

impl Sides {
    /// The children of Runtime `name`, created one after the other in
    /// `namespace`, then deleted.
    async fn baseline(
        &self,
        client: &Client,
        namespace: &str,
        name: &str,
        spec: &RuntimeSpec,
        timeout: Duration,
    ) -> Result<Run, BenchError> {
        let children = Children::build(name, namespace, spec)?;
        let exist = ChildrenExist::watch(client, namespace, &children.names()).await?;
        let before = self.baseline_requests.scrape(client).await?;
        let start = Instant::now();
        children.create(&self.baseline, namespace).await?;
        let exist_at = exist.reached(start + timeout).await?;
        tokio::time::sleep(SETTLE).await;
        let requests = self.baseline_requests.scrape(client).await?.since(&before);
        children.delete(client, namespace).await?;
        Ok(Run {
            exist: exist_at - start,
            reported: None,
            requests,
            reconciles: None,
        })
    }

    /// The Runtime `name` created in `namespace`, where wharfd makes its
    /// children.
    async fn wharf(
        &self,
        client: &Client,
        namespace: &str,
        name: &str,
        spec: &RuntimeSpec,
        timeout: Duration,
    ) -> Result<Run, BenchError> {
        let names = Children::build(name, namespace, spec)?.names();
        let exist = ChildrenExist::watch(client, namespace, &names).await?;
        let runtimes = Api::<Runtime>::namespaced(client.clone(), namespace);
        let wanted = name.to_owned();
        let reported = Milestone::watch(
            runtimes.clone(),
            Counter::new("Runtimes with a status", 1),
            move |runtime: &Runtime| {
                runtime.metadata.name.as_deref() == Some(wanted.as_str())
                    && super::reported(runtime)
            },
        )
        .await?;
        let before = self.wharf_requests.scrape(client).await?;
        let start = Instant::now();
        runtimes
            .create(&PostParams::default(), &objects::runtime(name, spec))
            .await
            .map_err(BenchError::kube(format!("creating the Runtime {name}")))?;
        let exist_at = exist.reached(start + timeout).await?;
        let reported_at = reported.reached(start + timeout).await?;
        tokio::time::sleep(SETTLE).await;
        let requests = self.wharf_requests.scrape(client).await?.since(&before);
        Ok(Run {
            exist: exist_at - start,
            reported: Some(reported_at - start),
            requests,
            reconciles: None,
        })
    }

    /// Deletes the Runtime `name` and waits until wharfd has let it go.
    async fn delete(
        &self,
        client: &Client,
        namespace: &str,
        name: &str,
        timeout: Duration,
    ) -> Result<(), BenchError> {
        let runtimes = Api::<Runtime>::namespaced(client.clone(), namespace);
        let what = format!("deleting the Runtime {name}");
        runtimes
            .delete(name, &DeleteParams::background())
            .await
            .map_err(BenchError::kube(what.clone()))?;
        wait_deleted(&runtimes, name, timeout)
            .await
            .map_err(BenchError::test_env(what))
    }
}

/// How many Runtime reconciles wharfd has counted, if its `/metrics` answers.
async fn runtime_reconciles(wharfd: &Wharfd) -> Option<u64> {
    let metrics = wharfd.metrics().await.ok()?;
    // No line before the first reconcile.
    Some(Reconciles::parse(&metrics, "Runtime").map_or(0, |r| r.total))
}
