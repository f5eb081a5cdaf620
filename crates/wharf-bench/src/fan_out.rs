//! Running one request per object at a fixed concurrency, as a benchmark's writer
//! does, counting each that returns.

use std::future::Future;
use std::time::Duration;

use futures::{StreamExt, TryStreamExt, stream};
use tokio::time::Instant;

use crate::BenchError;
use crate::progress::Counter;

/// How many requests run at once, and how long all of them may take.
#[derive(Debug, Clone, Copy)]
pub struct FanOut {
    /// Requests at once.
    pub concurrency: usize,
    /// How long they may take together.
    pub timeout: Duration,
}

impl FanOut {
    /// Runs `send(0..counter.target())`, counting each that returns in `counter`,
    /// and returns when the last one returned; fails at `started + timeout`.
    pub async fn run<F, Fut>(
        self,
        counter: &Counter,
        started: Instant,
        send: F,
    ) -> Result<Instant, BenchError>
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = Result<(), BenchError>>,
    {
        let all = stream::iter(0..counter.target())
            .map(send)
            .buffer_unordered(self.concurrency)
            .try_for_each(|()| {
                counter.add();
                futures::future::ready(Ok(()))
            });
        match tokio::time::timeout_at(started + self.timeout, all).await {
            Ok(result) => result.map(|()| Instant::now()),
            Err(_) => Err(BenchError::Timeout {
                what: counter.what().to_owned(),
                after: self.timeout,
                reached: counter.done(),
                target: counter.target(),
            }),
        }
    }
}
