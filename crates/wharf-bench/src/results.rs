//! The result download benchmark (`wharf-bench results`).
//!
//! Uploads one large random file as a Task's result through the API (with the
//! collector's audience-bound token, as `wharfd collect` does), then reads the
//! stored file from disk and downloads it through the API, timing both, while
//! sampling this process's resident memory (the API server runs in it) to show
//! that the server streams rather than buffers. Goal: the download is at least
//! half as fast as the disk read, and memory stays flat.
//!
//! Both are measured twice: from disk (the file's pages dropped from the page
//! cache first, with `posix_fadvise(DONTNEED)`, so the bytes really come from the
//! disk), and warm (from the page cache, which is memory speed, the harder bar).

use std::path::Path;
use std::time::Duration;

use clap::Args;
use futures::StreamExt;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;
use kube::api::PostParams;
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::Instant;
use wharf_model::task::{COLLECTOR_AUDIENCE, Task, collector_service_account};

use crate::BenchError;
use crate::api::setup::Environment;

/// The goal: the download runs at least at this fraction of the disk read's speed.
const GOAL: f64 = 0.5;

const TASK: &str = "bench-results";
const FILE: &str = "big.bin";
const CHUNK: usize = 1024 * 1024;

/// Settings of `wharf-bench results`.
#[derive(Debug, Clone, Args)]
pub struct ResultsArgs {
    /// Size of the result file in MiB.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u64).range(1..=16384))]
    pub size_mib: u64,
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> BenchError {
    let what = what.to_owned();
    move |source| BenchError::Process { what, source }
}

fn api(what: &str) -> impl FnOnce(reqwest::Error) -> BenchError {
    let what = what.to_owned();
    move |e| BenchError::Api(format!("{what}: {e}"))
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: ResultsArgs) -> Result<(), BenchError> {
    let env = Environment::start().await?;
    let dir = std::env::temp_dir().join(format!("wharf-bench-file-{:08x}", rand::random::<u32>()));
    let result = measure(&env, &dir, &args).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    env.stop().await;
    result
}

async fn measure(env: &Environment, dir: &Path, args: &ResultsArgs) -> Result<(), BenchError> {
    let size = args.size_mib * 1024 * 1024;
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(io("creating a temporary folder"))?;
    let path = dir.join(FILE);
    eprintln!(
        "[bench] writing {} MiB of random bytes to {}",
        args.size_mib,
        path.display()
    );
    let sha256 = write_random(&path, size).await?;

    let token = collector_token(env).await?;
    let http = reqwest::Client::new();
    let base = format!("{}/v1/namespaces/{}/tasks/{TASK}", env.base, env.namespace);
    eprintln!("[bench] uploading it as the Task's result");
    let started = Instant::now();
    let file = tokio::fs::File::open(&path)
        .await
        .map_err(io("opening the file"))?;
    let body = reqwest::Body::wrap_stream(tokio_util::io::ReaderStream::with_capacity(file, CHUNK));
    let response = http
        .put(format!("{base}/results/{FILE}"))
        .bearer_auth(&token)
        .header("x-wharf-sha256", &sha256)
        .header(reqwest::header::CONTENT_LENGTH, size)
        .body(body)
        .send()
        .await
        .map_err(api("uploading"))?;
    check(response, "uploading").await?;
    let upload = started.elapsed();
    let manifest =
        json!({"files": [{"name": FILE, "size": size, "sha256": sha256}], "refused": []});
    let response = http
        .put(format!("{base}/manifest"))
        .bearer_auth(&token)
        .json(&manifest)
        .send()
        .await
        .map_err(api("sending the manifest"))?;
    check(response, "sending the manifest").await?;

    // The server reads the copy in its store: that is the file both sides read.
    let stored = env.results_dir.join(format!(
        "tasks/{}/{TASK}/{}/files/{FILE}",
        env.namespace,
        task_uid(env).await?
    ));
    let mut cold = (Duration::MAX, Duration::MAX);
    let mut warm = (Duration::MAX, Duration::MAX);
    let mut peak_growth = 0u64;
    let rss_before = rss_bytes();
    for _ in 0..2 {
        drop_from_page_cache(&stored)?;
        cold.0 = cold.0.min(read_from_disk(&stored, size).await?);
        drop_from_page_cache(&stored)?;
        let sampler = RssSampler::start();
        cold.1 = cold
            .1
            .min(download_once(&http, &base, &env.token, size).await?);
        peak_growth = peak_growth.max(sampler.stop().await.saturating_sub(rss_before));
        warm.0 = warm.0.min(read_from_disk(&stored, size).await?);
        let sampler = RssSampler::start();
        warm.1 = warm
            .1
            .min(download_once(&http, &base, &env.token, size).await?);
        peak_growth = peak_growth.max(sampler.stop().await.saturating_sub(rss_before));
    }
    let mib = size as f64 / (1024.0 * 1024.0);
    let speed = |d: Duration| mib / d.as_secs_f64();
    let line = |what: &str, d: Duration| {
        println!(
            "  {what:<40} {:>7.2} s  {:>7.0} MiB/s",
            d.as_secs_f64(),
            speed(d)
        );
    };
    println!();
    println!(
        "Result file of {} MiB (best of two runs each):",
        args.size_mib
    );
    line("upload through the API", upload);
    line("read from disk (page cache dropped)", cold.0);
    line("download through the API (same)", cold.1);
    line("read from the page cache", warm.0);
    line("download through the API (page cache)", warm.1);
    let ratio = cold.0.as_secs_f64() / cold.1.as_secs_f64();
    println!(
        "  download / disk read speed {ratio:.2} (goal ≥ {GOAL}): {}",
        if ratio >= GOAL { "met" } else { "NOT met" }
    );
    println!(
        "  download / page-cache read speed {:.2}",
        warm.0.as_secs_f64() / warm.1.as_secs_f64()
    );
    println!(
        "  process memory: {:.0} MiB before, peak growth while downloading {:.1} MiB",
        rss_before as f64 / (1024.0 * 1024.0),
        peak_growth as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

/// The uid of the bench's Task, which names its folder in the store.
async fn task_uid(env: &Environment) -> Result<String, BenchError> {
    let task = Api::<Task>::namespaced(env.client.clone(), &env.namespace)
        .get(TASK)
        .await
        .map_err(BenchError::kube("reading the Task"))?;
    task.metadata
        .uid
        .ok_or_else(|| BenchError::Api("the Task has no uid".into()))
}

/// Asks the kernel to forget the file's cached pages, so the next read comes from
/// the disk (no privileges needed for a file one can open).
fn drop_from_page_cache(path: &Path) -> Result<(), BenchError> {
    let file = std::fs::File::open(path).map_err(io("opening the stored file"))?;
    rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).map_err(|e| {
        BenchError::Process {
            what: "dropping the file from the page cache".into(),
            source: e.into(),
        }
    })
}

async fn check(response: reqwest::Response, what: &str) -> Result<(), BenchError> {
    if response.status().is_success() {
        return Ok(());
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    Err(BenchError::Api(format!("{what}: {status}: {body}")))
}

async fn write_random(path: &Path, size: u64) -> Result<String, BenchError> {
    let mut file = tokio::fs::File::create(path)
        .await
        .map_err(io("creating the file"))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK];
    let mut written = 0u64;
    while written < size {
        let n = CHUNK.min((size - written) as usize);
        rand::rng().fill_bytes(&mut buffer[..n]);
        hasher.update(&buffer[..n]);
        file.write_all(&buffer[..n])
            .await
            .map_err(io("writing the file"))?;
        written += n as u64;
    }
    file.flush().await.map_err(io("writing the file"))?;
    Ok(hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// The Task the file belongs to, kept running so its collector identity lives,
/// and an upload token for that identity.
async fn collector_token(env: &Environment) -> Result<String, BenchError> {
    let task: Task = serde_json::from_value(json!({
        "metadata": {"name": TASK, "annotations": {"wharf.dev/sim-run-for": "1h"}},
        "spec": {"image": "busybox:1.37", "results": {"maxSize": "20Gi"}}
    }))
    .map_err(|e| BenchError::Api(format!("building the Task: {e}")))?;
    Api::<Task>::namespaced(env.client.clone(), &env.namespace)
        .create(&PostParams::default(), &task)
        .await
        .map_err(BenchError::kube("creating the Task"))?;
    let accounts = Api::<ServiceAccount>::namespaced(env.client.clone(), &env.namespace);
    let account = collector_service_account(TASK);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                audiences: Some(vec![COLLECTOR_AUDIENCE.into()]),
                expiration_seconds: Some(3600),
                ..Default::default()
            }),
            ..Default::default()
        };
        // The operator makes the account moments after the Task.
        match accounts
            .create_token_request(&account, &PostParams::default(), &request)
            .await
        {
            Ok(answer) => {
                return answer
                    .status
                    .and_then(|s| s.token)
                    .ok_or_else(|| BenchError::Api("the TokenRequest returned no token".into()));
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(source) => {
                return Err(BenchError::Kube {
                    what: format!("requesting a token for {account}"),
                    source,
                });
            }
        }
    }
}

async fn read_from_disk(path: &Path, size: u64) -> Result<Duration, BenchError> {
    let started = Instant::now();
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(io("opening the file"))?;
    let mut buffer = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = file
            .read(&mut buffer)
            .await
            .map_err(io("reading the file"))?;
        if n == 0 {
            break;
        }
        total += n as u64;
    }
    if total != size {
        return Err(BenchError::Api(format!("read {total} bytes of {size}")));
    }
    Ok(started.elapsed())
}

async fn download_once(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    size: u64,
) -> Result<Duration, BenchError> {
    let started = Instant::now();
    let response = http
        .get(format!("{base}/results/{FILE}"))
        .bearer_auth(token)
        .send()
        .await
        .map_err(api("downloading"))?;
    if !response.status().is_success() {
        check(response, "downloading").await?;
        return Err(BenchError::Api("downloading failed".into()));
    }
    let mut body = response.bytes_stream();
    let mut total = 0u64;
    while let Some(chunk) = body.next().await {
        total += chunk.map_err(api("downloading"))?.len() as u64;
    }
    if total != size {
        return Err(BenchError::Api(format!(
            "downloaded {total} bytes of {size}"
        )));
    }
    Ok(started.elapsed())
}

/// This process's resident memory, from `/proc/self/status`.
fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// Samples resident memory every 20 ms until stopped; returns the peak.
struct RssSampler {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<u64>,
}

impl RssSampler {
    fn start() -> Self {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut peak = rss_bytes();
            let mut tick = tokio::time::interval(Duration::from_millis(20));
            loop {
                tokio::select! {
                    _ = &mut stopped => return peak,
                    _ = tick.tick() => peak = peak.max(rss_bytes()),
                }
            }
        });
        Self { stop, task }
    }

    async fn stop(self) -> u64 {
        let _ = self.stop.send(());
        self.task.await.unwrap_or(0)
    }
}
