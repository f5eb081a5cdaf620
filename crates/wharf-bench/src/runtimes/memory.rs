//! Part two: wharfd's memory with many Runtimes. wharfd starts on an empty
//! namespace and its resident memory is read (the baseline); then the Runtimes are
//! created, and once every child exists and every Runtime has a status, it is read
//! again. What grows is the operator's caches of the Runtimes and their children.
//!
//! The cluster has no storage provisioner, so the members' claims stay unbound
//! and their pods Pending: the benchmark waits for the children to exist, not for
//! the members to run.

use std::path::PathBuf;
use std::time::Duration;

use kube::api::PostParams;
use kube::{Api, Client};
use tokio::time::Instant;
use wharf_model::runtime::{Runtime, RuntimeSpec};

use super::children::ChildrenExist;
use super::objects::{self, ChildNames, Children};
use super::{READY_TIMEOUT, SETTLE};
use crate::BenchError;
use crate::fan_out::FanOut;
use crate::milestone::Milestone;
use crate::progress::{self, Counter};
use crate::wharfd::{Memory, OperatorOptions, Wharfd};

/// What part two measured.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// How many Runtimes were created.
    pub runtimes: usize,
    /// wharfd with its caches synced and no Runtime yet.
    pub idle: Memory,
    /// wharfd once every Runtime had its children and a status.
    pub loaded: Memory,
    /// From the first create until every child existed.
    pub exist: Duration,
    /// From the first create until every Runtime had a status.
    pub reported: Duration,
    /// wharfd's log file.
    pub log: PathBuf,
}

/// Starts wharfd on `operator.namespace`, reads its memory, creates `count`
/// Runtimes with `spec` there at `fan_out`'s concurrency, and reads it again once
/// all are reconciled.
pub async fn run(
    client: &Client,
    operator: &OperatorOptions,
    spec: &RuntimeSpec,
    count: usize,
    fan_out: FanOut,
) -> Result<Outcome, BenchError> {
    let namespace = operator.namespace.as_str();
    let mut names = ChildNames::default();
    for index in 0..count {
        names.extend(Children::build(&objects::name(index), namespace, spec)?.names());
    }

    let mut wharfd = Wharfd::start(operator)?;
    wharfd.wait_ready(READY_TIMEOUT).await?;
    // What start-up allocated and let go of is not the idle size.
    tokio::time::sleep(SETTLE).await;
    let idle = wharfd.memory()?;
    eprintln!(
        "[bench] wharfd idle: {:.1} MB resident; creating {count} Runtimes",
        idle.rss as f64 / 1e6
    );

    let exist = ChildrenExist::watch(client, namespace, &names).await?;
    let runtimes = Api::<Runtime>::namespaced(client.clone(), namespace);
    let reported = Milestone::watch(
        runtimes.clone(),
        Counter::new("Runtimes with a status", count),
        super::reported,
    )
    .await?;
    let created = Counter::new("Runtimes created", count);
    let mut counters = vec![created.clone()];
    counters.extend(exist.counters());
    counters.push(reported.counter());

    let start = Instant::now();
    let _ticker = progress::every_few_seconds("wharf", start, counters);
    let measure = async {
        fan_out
            .run(&created, start, |index| {
                let runtimes = runtimes.clone();
                async move {
                    let name = objects::name(index);
                    runtimes
                        .create(&PostParams::default(), &objects::runtime(&name, spec))
                        .await
                        .map_err(BenchError::kube(format!("creating the Runtime {name}")))?;
                    Ok(())
                }
            })
            .await?;
        let deadline = start + fan_out.timeout;
        let exist_at = exist.reached(deadline).await?;
        let reported_at = reported.reached(deadline).await?;
        Ok::<_, BenchError>((exist_at - start, reported_at - start))
    };
    let (exist, reported) = tokio::select! {
        measured = measure => measured?,
        exited = wharfd.exited() => return Err(exited),
    };
    // The reconciles the new StatefulSets' first status changes trigger.
    tokio::time::sleep(SETTLE).await;
    let loaded = wharfd.memory()?;
    let log = wharfd.log().to_owned();
    wharfd.stop().await?;
    Ok(Outcome {
        runtimes: count,
        idle,
        loaded,
        exist,
        reported,
        log,
    })
}
