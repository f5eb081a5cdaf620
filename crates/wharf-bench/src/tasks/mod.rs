//! The Task throughput benchmark (`wharf-bench tasks`).
//!
//! In one run: N plain Jobs created directly with a kube client (the baseline),
//! then N Tasks submitted through the Wharf API (real token auth, operator and
//! server in this process), both at the same concurrency, each in a namespace of
//! its own. It reports the time until all Jobs are Complete and until all Tasks
//! are Succeeded, side by side, against the goal of at most 1.5×.

use std::time::Duration;

use clap::Args;

use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;
use tokio::time::Instant;
use wharf_model::task::{Task, TaskPhase};

use crate::api::setup::Environment;
use crate::fan_out::FanOut;
use crate::milestone::Milestone;
use crate::progress::{Counter, every_few_seconds};
use crate::{BenchError, namespace};

/// The goal: Tasks take at most this many times as long as plain Jobs.
const GOAL: f64 = 1.5;

/// Settings of `wharf-bench tasks`.
#[derive(Debug, Clone, Args)]
pub struct TasksArgs {
    /// How many Tasks (and baseline Jobs) to create.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=9999))]
    pub count: u32,

    /// How many creates run at once, on both sides.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..))]
    pub concurrency: u16,

    /// Seconds each side may take before the run fails.
    #[arg(long, value_name = "SECONDS", default_value_t = 900)]
    pub timeout: u64,
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: TasksArgs) -> Result<(), BenchError> {
    let env = Environment::start().await?;
    let baseline_ns = format!("{}-jobs", env.namespace);
    let result = measure(&env, &baseline_ns, &args).await;
    if let Err(error) = namespace::delete(&env.client, &baseline_ns, None).await {
        eprintln!("could not delete namespace {baseline_ns}: {error}");
    }
    env.stop().await;
    let (jobs, tasks) = result?;
    let ratio = tasks.as_secs_f64() / jobs.as_secs_f64().max(0.001);
    println!();
    println!(
        "Tasks through the API vs plain Jobs, N={}, concurrency {}:",
        args.count, args.concurrency
    );
    println!(
        "  plain Jobs, all Complete:        {:>8.1} s",
        jobs.as_secs_f64()
    );
    println!(
        "  Wharf Tasks, all Succeeded:      {:>8.1} s",
        tasks.as_secs_f64()
    );
    println!(
        "  ratio {ratio:.2}× (goal ≤ {GOAL}×): {}",
        if ratio <= GOAL { "met" } else { "NOT met" }
    );
    Ok(())
}

async fn measure(
    env: &Environment,
    baseline_ns: &str,
    args: &TasksArgs,
) -> Result<(Duration, Duration), BenchError> {
    let n = args.count as usize;
    let deadline = |started: Instant| started + Duration::from_secs(args.timeout);
    let fan_out = FanOut {
        concurrency: args.concurrency.into(),
        timeout: Duration::from_secs(args.timeout),
    };

    namespace::create(&env.client, baseline_ns).await?;
    let jobs_api = Api::<Job>::namespaced(env.client.clone(), baseline_ns);
    let complete = Counter::new("Jobs complete", n);
    let milestone = Milestone::watch(jobs_api.clone(), complete.clone(), |job: &Job| {
        job.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|c| {
                c.iter()
                    .any(|c| c.type_ == "Complete" && c.status == "True")
            })
    })
    .await?;
    let created = Counter::new("Jobs created", n);
    let started = Instant::now();
    let ticker = every_few_seconds("baseline", started, vec![created.clone(), complete]);
    fan_out
        .run(&created, started, |i| {
            let api = jobs_api.clone();
            async move {
                let job: Job = serde_json::from_value(plain_job(i))
                    .map_err(|e| BenchError::Api(format!("building a Job: {e}")))?;
                api.create(&PostParams::default(), &job)
                    .await
                    .map_err(BenchError::kube(format!("creating Job {i}")))?;
                Ok(())
            }
        })
        .await?;
    let jobs_done = milestone.reached(deadline(started)).await?;
    drop(ticker);
    let jobs = jobs_done - started;

    let tasks_api = Api::<Task>::namespaced(env.client.clone(), &env.namespace);
    let succeeded = Counter::new("Tasks succeeded", n);
    let milestone = Milestone::watch(tasks_api, succeeded.clone(), |task: &Task| {
        task.status.as_ref().and_then(|s| s.phase) == Some(TaskPhase::Succeeded)
    })
    .await?;
    let http = reqwest::Client::new();
    let submitted = Counter::new("Tasks submitted", n);
    let url = format!("{}/v1/namespaces/{}/tasks", env.base, env.namespace);
    let started = Instant::now();
    let ticker = every_few_seconds("wharf", started, vec![submitted.clone(), succeeded]);
    fan_out
        .run(&submitted, started, |i| {
            let http = http.clone();
            let url = url.clone();
            async move {
                let response = http
                    .post(&url)
                    .bearer_auth(&env.token)
                    .json(&task(i))
                    .send()
                    .await
                    .map_err(|e| BenchError::Api(format!("submitting Task {i}: {e}")))?;
                if !response.status().is_success() {
                    let status = response.status();
                    let body = response.text().await.unwrap_or_default();
                    return Err(BenchError::Api(format!(
                        "submitting Task {i}: {status}: {body}"
                    )));
                }
                Ok(())
            }
        })
        .await?;
    let tasks_done = milestone.reached(deadline(started)).await?;
    drop(ticker);
    Ok((jobs, tasks_done - started))
}

/// The Job a user would write by hand for the same work.
fn plain_job(i: usize) -> serde_json::Value {
    json!({
        "metadata": {"name": format!("job-{i:05}")},
        "spec": {
            "backoffLimit": 0,
            "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "task", "image": "busybox:1.37", "command": ["true"]}]
            }}
        }
    })
}

/// The same work as a Task.
fn task(i: usize) -> serde_json::Value {
    json!({
        "metadata": {"name": format!("task-{i:05}")},
        "spec": {"image": "busybox:1.37", "command": ["true"]}
    })
}
