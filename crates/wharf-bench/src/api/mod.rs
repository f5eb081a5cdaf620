//! The API benchmark: GET of one App at a fixed rate with latency percentiles, and
//! create throughput, against an authenticating API server (real ServiceAccount
//! token, so TokenReview and SubjectAccessReview caching is part of what is
//! measured) and an operator, both run in this process on 127.0.0.1.

pub mod setup;

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;
use tokio::time::{Instant, MissedTickBehavior};

use crate::BenchError;

/// Flags of `wharf-bench api`.
#[derive(Debug, clap::Args)]
pub struct ApiArgs {
    /// GET requests per second.
    #[arg(long, default_value_t = 500)]
    pub rate: u32,
    /// Seconds of fixed-rate GETs.
    #[arg(long, default_value_t = 20)]
    pub seconds: u32,
    /// Apps created for the throughput measurement.
    #[arg(long, default_value_t = 200)]
    pub creates: usize,
    /// Creates in flight at once.
    #[arg(long, default_value_t = 16)]
    pub concurrency: usize,
}

/// The goal for cached reads on this machine.
const P99_GOAL: Duration = Duration::from_millis(10);

/// The value below which `p` percent of `sorted` lie (nearest rank); zero for
/// none.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * (sorted.len() as f64)).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// `d` in milliseconds with two decimals, e.g. `1.25 ms`.
pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: ApiArgs) -> Result<(), BenchError> {
    let env = setup::Environment::start().await?;
    let result = measure(&env, &args).await;
    env.stop().await;
    result
}

async fn measure(env: &setup::Environment, args: &ApiArgs) -> Result<(), BenchError> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()
        .map_err(|e| BenchError::Api(format!("making an HTTP client: {e}")))?;
    let apps = format!("{}/v1/namespaces/{}/apps", env.base, env.namespace);
    let body = |name: &str| json!({ "metadata": { "name": name }, "spec": { "image": "bench:1", "ports": [{ "name": "http", "port": 8080 }] } });
    let created = http
        .post(format!("{apps}?wait=60s"))
        .bearer_auth(&env.token)
        .json(&body("target"))
        .send()
        .await
        .map_err(|e| BenchError::Api(format!("creating the target App: {e}")))?;
    if created.status() != StatusCode::CREATED {
        return Err(BenchError::Api(format!(
            "creating the target App answered {}",
            created.status()
        )));
    }

    // Fixed-rate reads: one request per tick, whether or not earlier ones finished.
    let total = (args.rate as usize) * (args.seconds as usize);
    let url = format!("{apps}/target");
    let mut ticker =
        tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(args.rate.max(1))));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut requests = Vec::with_capacity(total);
    for _ in 0..total {
        ticker.tick().await;
        requests.push(tokio::spawn(timed(
            http.get(&url).bearer_auth(&env.token),
            StatusCode::OK,
        )));
    }
    let mut latencies = Vec::with_capacity(total);
    let mut errors = 0usize;
    for request in requests {
        let (latency, ok) = request
            .await
            .map_err(|e| BenchError::Api(format!("a request task failed: {e}")))?;
        latencies.push(latency);
        errors += usize::from(!ok);
    }
    let elapsed = started.elapsed();
    latencies.sort();

    // Create throughput.
    let started_creates = Instant::now();
    let names: Vec<String> = (0..args.creates).map(|i| format!("app-{i:05}")).collect();
    let mut create_latencies: Vec<Duration> = Vec::with_capacity(args.creates);
    let mut create_errors = 0usize;
    let outcomes = futures::stream::iter(names.iter().map(|name| {
        timed(
            http.post(&apps).bearer_auth(&env.token).json(&body(name)),
            StatusCode::CREATED,
        )
    }))
    .buffer_unordered(args.concurrency.max(1));
    futures::pin_mut!(outcomes);
    while let Some((latency, ok)) = futures::StreamExt::next(&mut outcomes).await {
        create_latencies.push(latency);
        create_errors += usize::from(!ok);
    }
    let creates_took = started_creates.elapsed();
    create_latencies.sort();

    let p99 = percentile(&latencies, 99.0);
    println!(
        "API: GET of one App at {} requests/s for {} s, then {} creates at concurrency {}",
        args.rate, args.seconds, args.creates, args.concurrency
    );
    println!();
    println!(
        "  GET   requests {total}, errors {errors}, achieved {:.0}/s",
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "        p50 {}  p90 {}  p99 {}  max {}",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(p99),
        ms(latencies.last().copied().unwrap_or_default())
    );
    println!(
        "        goal p99 ≤ {}: {}",
        ms(P99_GOAL),
        if p99 <= P99_GOAL { "PASS" } else { "MISS" }
    );
    println!(
        "  POST  {} creates in {:.2} s = {:.0} creates/s, errors {create_errors}; p50 {}  p99 {}",
        args.creates,
        creates_took.as_secs_f64(),
        args.creates as f64 / creates_took.as_secs_f64(),
        ms(percentile(&create_latencies, 50.0)),
        ms(percentile(&create_latencies, 99.0))
    );
    Ok(())
}

use futures::StreamExt as _;

/// Sends `request` and returns how long the answer took and whether it had the
/// `expected` status.
async fn timed(request: reqwest::RequestBuilder, expected: StatusCode) -> (Duration, bool) {
    let sent = Instant::now();
    let ok = request.send().await.is_ok_and(|r| r.status() == expected);
    (sent.elapsed(), ok)
}
