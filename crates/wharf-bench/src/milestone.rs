//! Milestones measured with a watch: the moment when N objects of a kind are in a
//! state (exist, are ready).
//!
//! A [`Milestone`] starts its watch before the measured work begins and records
//! the instant the N-th object reaches the state; comparing that instant with the
//! start of the work gives the measured time without polling delays.

use std::collections::BTreeSet;
use std::fmt::Debug;

use futures::TryStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::BenchError;
use crate::progress::Counter;

/// A watch counting the objects of one kind that are in a state.
pub struct Milestone {
    counter: Counter,
    task: JoinHandle<Result<Instant, BenchError>>,
}

impl Milestone {
    /// Starts watching `api` for the moment `counter.target()` objects satisfy
    /// `state`, and returns once the watch has listed what exists, so nothing
    /// created afterwards is missed. `counter` follows the count.
    pub async fn watch<K>(
        api: Api<K>,
        counter: Counter,
        state: impl Fn(&K) -> bool + Send + 'static,
    ) -> Result<Self, BenchError>
    where
        K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
    {
        let (synced_tx, synced_rx) = oneshot::channel();
        let task = tokio::spawn(count(api, counter.clone(), state, synced_tx));
        let milestone = Self { counter, task };
        if synced_rx.await.is_err() {
            // The watch ended before its first list; its result says why.
            let what = milestone.counter.what().to_owned();
            return Err(match milestone.task.await {
                Ok(Err(error)) => error,
                _ => BenchError::WatchEnded { what },
            });
        }
        Ok(milestone)
    }

    /// The count this milestone keeps.
    pub fn counter(&self) -> Counter {
        self.counter.clone()
    }

    /// Waits for the milestone until `deadline` and returns when it was reached.
    pub async fn reached(self, deadline: Instant) -> Result<Instant, BenchError> {
        let waited = Instant::now();
        let mut task = self.task;
        match tokio::time::timeout_at(deadline, &mut task).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(BenchError::WatchEnded {
                what: self.counter.what().to_owned(),
            }),
            Err(_) => {
                task.abort();
                Err(BenchError::Timeout {
                    what: self.counter.what().to_owned(),
                    after: waited.elapsed(),
                    reached: self.counter.done(),
                    target: self.counter.target(),
                })
            }
        }
    }
}

async fn count<K>(
    api: Api<K>,
    counter: Counter,
    state: impl Fn(&K) -> bool,
    synced: oneshot::Sender<()>,
) -> Result<Instant, BenchError>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let mut synced = Some(synced);
    let mut names = BTreeSet::new();
    let mut events = std::pin::pin!(watcher(api, watcher::Config::default()));
    while let Some(event) = events
        .try_next()
        .await
        .map_err(|source| BenchError::Watch {
            what: counter.what().to_owned(),
            source,
        })?
    {
        match event {
            Event::Apply(obj) | Event::InitApply(obj) => {
                let name = obj.meta().name.clone().unwrap_or_default();
                if state(&obj) {
                    names.insert(name);
                } else {
                    names.remove(&name);
                }
            }
            Event::Delete(obj) => {
                names.remove(obj.meta().name.as_deref().unwrap_or_default());
            }
            Event::InitDone => {
                if let Some(synced) = synced.take() {
                    let _ = synced.send(());
                }
            }
            Event::Init => {}
        }
        counter.set(names.len());
        if synced.is_none() && names.len() >= counter.target() {
            return Ok(Instant::now());
        }
    }
    Err(BenchError::WatchEnded {
        what: counter.what().to_owned(),
    })
}
