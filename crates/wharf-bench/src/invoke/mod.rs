//! The invoke benchmark: round-trip latency (p50, p99) and throughput of a
//! request through a three-node workflow, once through Wharf's invoke endpoint
//! and once over NATS directly, in the same run against the same `nats-server`.
//!
//! kwok runs no containers, so both chains are `krt-node` processes on
//! 127.0.0.1 (Wharf's with the environment the operator put into their
//! Deployments, the direct ones with hand-written subjects), and NATS is a
//! `nats-server` run from the configuration Wharf generates for the Runtime.
//! The direct client does exactly what Wharf's server does per request (listen
//! on the last node's output, publish to the stream with a request id, wait for
//! the answer carrying it) on one shared connection, without HTTP or Wharf.

pub mod direct;
pub mod processes;
pub mod report;
pub mod wharf;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use crate::BenchError;
use report::{InvokeReport, Side};

/// Flags of `wharf-bench invoke`.
#[derive(Debug, Clone, clap::Args)]
pub struct InvokeArgs {
    /// Sequential requests timed for the latency percentiles.
    #[arg(long, default_value_t = 500)]
    pub requests: usize,
    /// Sequential requests sent first and not timed.
    #[arg(long, default_value_t = 50)]
    pub warmup: usize,
    /// Requests sent for the throughput measurement.
    #[arg(long, default_value_t = 2000)]
    pub throughput_requests: usize,
    /// Callers sending at once for the throughput measurement, each one request
    /// at a time.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
}

/// The nodes of the workflow, in the order a request passes them; each appends
/// `>` and its name.
pub const NODES: [&str; 3] = ["etl", "model", "stats"];

/// One way of sending a request through the workflow.
pub trait Caller: Clone + Send + Sync + 'static {
    /// Sends `body` and returns the answer of the last node, or why there was
    /// none.
    fn call(&self, body: Bytes) -> impl Future<Output = Result<Bytes, String>> + Send;
}

/// What the chain answers to `body`.
fn expected(body: &[u8]) -> Vec<u8> {
    let mut answer = body.to_vec();
    for node in NODES {
        answer.extend_from_slice(format!(">{node}").as_bytes());
    }
    answer
}

/// Sends request `n` and says whether the right answer came back; the first
/// wrong one is remembered for the report.
async fn one<C: Caller>(caller: &C, n: usize, failure: &std::sync::Mutex<Option<String>>) -> bool {
    let body = format!("request {n}");
    let outcome = match caller.call(Bytes::from(body.clone())).await {
        Ok(answer) if answer.as_ref() == expected(body.as_bytes()) => return true,
        Ok(answer) => format!("wrong answer {:?}", String::from_utf8_lossy(&answer)),
        Err(error) => error,
    };
    if let Ok(mut first) = failure.lock() {
        first.get_or_insert(outcome);
    }
    false
}

/// Measures one side: `args.warmup` untimed requests, `args.requests` timed
/// one after the other, then `args.throughput_requests` from
/// `args.concurrency` callers at once.
pub async fn measure<C: Caller>(caller: C, args: &InvokeArgs) -> Side {
    let failure = Arc::new(std::sync::Mutex::new(None));
    let mut errors = 0;
    for n in 0..args.warmup {
        errors += usize::from(!one(&caller, n, &failure).await);
    }
    let mut latencies = Vec::with_capacity(args.requests);
    for n in 0..args.requests {
        let sent = Instant::now();
        let ok = one(&caller, n, &failure).await;
        latencies.push(sent.elapsed());
        errors += usize::from(!ok);
    }
    latencies.sort();

    let next = Arc::new(AtomicUsize::new(0));
    let total = args.throughput_requests;
    let started = Instant::now();
    let callers: Vec<_> = (0..args.concurrency.max(1))
        .map(|_| {
            let (caller, next, failure) = (caller.clone(), next.clone(), failure.clone());
            tokio::spawn(async move {
                let mut errors = 0;
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= total {
                        return errors;
                    }
                    errors += usize::from(!one(&caller, n, &failure).await);
                }
            })
        })
        .collect();
    for handle in callers {
        // A caller that panicked counts its requests as failed.
        errors += handle.await.unwrap_or(total);
    }
    let took = started.elapsed();
    let first_failure = failure.lock().ok().and_then(|mut f| f.take());
    Side {
        latencies,
        throughput_took: took,
        errors,
        first_failure,
    }
}

/// Polls `caller` until a request comes back right, for at most `within` (the
/// server's caches, the nodes' subscriptions and the stream settle).
pub async fn until_answering<C: Caller>(
    caller: &C,
    what: &str,
    within: Duration,
) -> Result<(), BenchError> {
    let deadline = Instant::now() + within;
    let failure = std::sync::Mutex::new(None);
    loop {
        if one(caller, 0, &failure).await {
            return Ok(());
        }
        if Instant::now() > deadline {
            let last = failure.lock().ok().and_then(|mut f| f.take());
            return Err(BenchError::Api(format!(
                "{what} did not answer within {within:?}: {}",
                last.unwrap_or_default()
            )));
        }
        // Neither an HTTP endpoint nor a NATS chain offers a watch.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: InvokeArgs) -> Result<(), BenchError> {
    let env = wharf::Environment::start().await?;
    let result = compare(&env, &args).await;
    env.stop().await;
    let report = result?;
    println!("{report}");
    Ok(())
}

async fn compare(env: &wharf::Environment, args: &InvokeArgs) -> Result<InvokeReport, BenchError> {
    let direct = direct::Chain::start(&env.nats, &env.dir).await?;
    let wharf_caller = env.caller()?;
    until_answering(&wharf_caller, "Wharf's invoke", Duration::from_secs(60)).await?;
    until_answering(&direct.caller, "the direct chain", Duration::from_secs(60)).await?;
    eprintln!("[bench] measuring through Wharf");
    let wharf = measure(wharf_caller, args).await;
    eprintln!("[bench] measuring directly over NATS");
    let direct_side = measure(direct.caller.clone(), args).await;
    Ok(InvokeReport {
        args: args.clone(),
        wharf,
        direct: direct_side,
    })
}
