//! Progress of a running phase on stderr, so a long run shows that it is moving.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio::time::Instant;

/// How often progress is printed.
const EVERY: Duration = Duration::from_secs(5);

/// A count of things done out of a target, shared between the work and the
/// progress printer.
#[derive(Clone, Debug)]
pub struct Counter {
    what: Arc<str>,
    target: usize,
    done: Arc<AtomicUsize>,
}

impl Counter {
    /// A counter at zero of `target` things called `what`.
    pub fn new(what: &str, target: usize) -> Self {
        Self {
            what: what.into(),
            target,
            done: Arc::default(),
        }
    }

    /// Counts one more.
    pub fn add(&self) {
        self.done.fetch_add(1, Ordering::Relaxed);
    }

    /// Sets the count.
    pub fn set(&self, done: usize) {
        self.done.store(done, Ordering::Relaxed);
    }

    /// The count.
    pub fn done(&self) -> usize {
        self.done.load(Ordering::Relaxed)
    }

    /// How many are wanted.
    pub fn target(&self) -> usize {
        self.target
    }

    /// What is counted.
    pub fn what(&self) -> &str {
        &self.what
    }
}

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.what, self.done(), self.target)
    }
}

/// Prints `counters` under `label` every few seconds until the returned task is
/// aborted (or dropped with [`Ticker`]).
pub fn every_few_seconds(label: &str, started: Instant, counters: Vec<Counter>) -> Ticker {
    let label = label.to_owned();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(started + EVERY, EVERY);
        loop {
            tick.tick().await;
            let parts: Vec<String> = counters.iter().map(ToString::to_string).collect();
            eprintln!(
                "[bench] {label} {:>4}s: {}",
                started.elapsed().as_secs(),
                parts.join(", ")
            );
        }
    });
    Ticker(task)
}

/// A running progress printer; stops when dropped.
pub struct Ticker(JoinHandle<()>);

impl Drop for Ticker {
    fn drop(&mut self) {
        self.0.abort();
    }
}
