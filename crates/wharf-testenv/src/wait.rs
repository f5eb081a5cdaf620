//! Waiting for objects to reach a state, with a watch rather than a polling loop.
//!
//! Every wait has a timeout; when it runs out the error says what was awaited and
//! the last state seen, so a failing test explains itself.

use std::fmt::Debug;
use std::time::Duration;

use std::collections::BTreeMap;

use futures::{StreamExt, TryStreamExt};
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::TestEnvError;

/// How many characters of the last seen state a timeout error shows.
const LAST_SEEN_LIMIT: usize = 3000;

/// The events of a watch of `api` under `config`; a failure of the watch names
/// `what` was awaited.
fn events<K>(
    api: &Api<K>,
    config: watcher::Config,
    what: &str,
) -> impl futures::Stream<Item = Result<Event<K>, TestEnvError>> + Send + Unpin + use<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + 'static,
{
    let what = what.to_owned();
    watcher(api.clone(), config)
        .map_err(move |source| TestEnvError::Watch {
            what: what.clone(),
            source,
        })
        .boxed()
}

/// Waits until the object `name` exists and `condition` holds for it, and returns it.
///
/// `what` describes the awaited state in words for the timeout error.
pub async fn wait_for<K>(
    api: &Api<K>,
    name: &str,
    what: &str,
    timeout: Duration,
    condition: impl Fn(&K) -> bool,
) -> Result<K, TestEnvError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug + Send + 'static,
{
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut last: Option<K> = None;
    let watch = async {
        let mut events = events(api, config, what);
        while let Some(event) = events.try_next().await? {
            match event {
                Event::Apply(obj) | Event::InitApply(obj) => {
                    if condition(&obj) {
                        return Ok(obj);
                    }
                    last = Some(obj);
                }
                Event::Delete(_) => last = None,
                Event::Init | Event::InitDone => {}
            }
        }
        unreachable_end_of_watch(what)
    };
    match tokio::time::timeout(timeout, watch).await {
        Ok(result) => result,
        Err(_) => Err(TestEnvError::Timeout {
            what: format!("{what} ({} {name})", K::kind(&())),
            after: timeout,
            last_seen: describe(last.as_slice()),
        }),
    }
}

/// Waits until the object `name` is gone (never existed, or deleted and finalized).
pub async fn wait_deleted<K>(
    api: &Api<K>,
    name: &str,
    timeout: Duration,
) -> Result<(), TestEnvError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug + Send + 'static,
{
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut last: Option<K> = None;
    let what = format!("{} {name} to be deleted", K::kind(&()));
    let watch = async {
        let mut events = events(api, config, &what);
        let mut seen_in_init = false;
        while let Some(event) = events.try_next().await? {
            match event {
                Event::Init => seen_in_init = false,
                Event::InitApply(obj) => {
                    seen_in_init = true;
                    last = Some(obj);
                }
                Event::InitDone if !seen_in_init => return Ok(()),
                Event::InitDone => {}
                Event::Apply(obj) => last = Some(obj),
                Event::Delete(_) => return Ok(()),
            }
        }
        unreachable_end_of_watch(&what)
    };
    match tokio::time::timeout(timeout, watch).await {
        Ok(result) => result,
        Err(_) => Err(TestEnvError::Timeout {
            what,
            after: timeout,
            last_seen: describe(last.as_slice()),
        }),
    }
}

/// Waits until `condition` holds for the set of objects that `selector` picks (for
/// example the pods with a label), and returns that set, ordered by name.
pub async fn wait_for_all<K>(
    api: &Api<K>,
    selector: watcher::Config,
    what: &str,
    timeout: Duration,
    condition: impl Fn(&[K]) -> bool,
) -> Result<Vec<K>, TestEnvError>
where
    K: Resource + Clone + DeserializeOwned + Serialize + Debug + Send + 'static,
{
    let mut objects: BTreeMap<String, K> = BTreeMap::new();
    let mut initial: BTreeMap<String, K> = BTreeMap::new();
    let key = |obj: &K| obj.meta().name.clone().unwrap_or_default();
    let watch = async {
        let mut events = events(api, selector, what);
        while let Some(event) = events.try_next().await? {
            match event {
                // A (re)list starts: collect it apart, then swap it in whole.
                Event::Init => initial.clear(),
                Event::InitApply(obj) => {
                    initial.insert(key(&obj), obj);
                    continue;
                }
                Event::InitDone => objects = std::mem::take(&mut initial),
                Event::Apply(obj) => {
                    objects.insert(key(&obj), obj);
                }
                Event::Delete(obj) => {
                    objects.remove(&key(&obj));
                }
            }
            let current: Vec<K> = objects.values().cloned().collect();
            if condition(&current) {
                return Ok(current);
            }
        }
        unreachable_end_of_watch(what)
    };
    let result = tokio::time::timeout(timeout, watch).await;
    match result {
        Ok(result) => result,
        Err(_) => Err(TestEnvError::Timeout {
            what: what.to_owned(),
            after: timeout,
            last_seen: describe(&objects.values().cloned().collect::<Vec<_>>()),
        }),
    }
}

/// Retries `probe` every `interval` until it returns `Ok`, for state the API offers
/// no watch on (a SubjectAccessReview after an RBAC change, a log stream). `Err`
/// carries the state seen, shown if time runs out. Objects that can be watched use
/// [`wait_for`] instead.
pub async fn eventually<T, F, Fut>(
    what: &str,
    timeout: Duration,
    interval: Duration,
    mut probe: F,
) -> Result<T, TestEnvError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let last_seen = match probe().await {
            Ok(value) => return Ok(value),
            Err(state) => state,
        };
        if tokio::time::Instant::now() + interval > deadline {
            return Err(TestEnvError::Timeout {
                what: what.to_owned(),
                after: timeout,
                last_seen,
            });
        }
        tokio::time::sleep(interval).await;
    }
}

/// A watcher stream only ends when its client is gone; say so instead of hanging.
fn unreachable_end_of_watch<T>(what: &str) -> Result<T, TestEnvError> {
    Err(TestEnvError::Timeout {
        what: what.to_owned(),
        after: Duration::ZERO,
        last_seen: "the watch stream ended unexpectedly".to_owned(),
    })
}

/// A compact description of objects for an error message: names and their status
/// (or the whole object without managed fields when it has no status), cut short.
fn describe<K: Resource + Serialize>(objects: &[K]) -> String {
    if objects.is_empty() {
        return "nothing (no matching object was seen)".to_owned();
    }
    let summaries: Vec<serde_json::Value> = objects
        .iter()
        .map(|obj| {
            let mut value = serde_json::to_value(obj).unwrap_or_default();
            if let Some(meta) = value.get_mut("metadata").and_then(|m| m.as_object_mut()) {
                meta.remove("managedFields");
            }
            match value.get("status") {
                Some(status) => serde_json::json!({
                    "name": obj.meta().name,
                    "generation": obj.meta().generation,
                    "status": status,
                }),
                None => value,
            }
        })
        .collect();
    let mut text = serde_json::to_string(&summaries).unwrap_or_default();
    if text.len() > LAST_SEEN_LIMIT {
        let cut = (0..=LAST_SEEN_LIMIT)
            .rev()
            .find(|i| text.is_char_boundary(*i))
            .unwrap_or(0);
        text.truncate(cut);
        text.push('…');
    }
    text
}
