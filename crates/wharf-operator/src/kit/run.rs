//! Running one controller: reconcile timing, unreadable objects, and one error
//! policy with exponential backoff per object.

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::core::DeserializeGuard;
use kube::runtime::controller::{self, Action, Controller};
use kube::runtime::events::EventType;
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;

use crate::Context;
use crate::error::{Error, report};

/// The first retry after a failed reconcile; each further failure doubles it.
const FIRST_RETRY: Duration = Duration::from_secs(1);

/// The longest wait between retries of a failing reconcile.
const MAX_RETRY: Duration = Duration::from_secs(300);

/// How soon an expected wait (a namespace still draining) is looked at again.
const WAIT_RETRY: Duration = Duration::from_secs(2);

/// How long triggers for one object are gathered before it is reconciled: the
/// Deployment's status updates of one rollout come in bursts, and one reconcile
/// after the burst sees them all (and caches that caught up with its own writes).
const DEBOUNCE: Duration = Duration::from_millis(250);

/// A controller's own context, which includes the shared one.
pub trait KindContext: Send + Sync + 'static {
    /// What every controller shares.
    fn shared(&self) -> &Context;
}

impl KindContext for Context {
    fn shared(&self) -> &Context {
        self
    }
}

/// The context of a controller with caches of its own: the shared context and its
/// stores.
pub struct WithStores<S> {
    /// What every controller shares.
    pub shared: Arc<Context>,
    /// The controller's own caches.
    pub stores: S,
}

impl<S: Send + Sync + 'static> KindContext for WithStores<S> {
    fn shared(&self) -> &Context {
        &self.shared
    }
}

/// A controller for `K` over `api`, with the operator's concurrency.
pub fn controller<K>(
    api: Api<DeserializeGuard<K>>,
    watch: watcher::Config,
    ctx: &Context,
) -> Controller<DeserializeGuard<K>>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
{
    Controller::new(api, watch).with_config(
        controller::Config::default()
            .concurrency(ctx.config.concurrency)
            .debounce(DEBOUNCE),
    )
}

/// Per-object failure counts, for the backoff.
struct Failures<K: Resource<DynamicType = ()>>(Mutex<HashMap<ObjectRef<K>, u32>>);

impl<K> Failures<K>
where
    K: Resource<DynamicType = ()>,
    ObjectRef<K>: Hash + Eq,
{
    fn clear(&self, object: &ObjectRef<K>) {
        if let Ok(mut map) = self.0.lock() {
            map.remove(object);
        }
    }

    /// Counts one more failure and returns how long to wait.
    fn next_delay(&self, object: ObjectRef<K>) -> Duration {
        let failures = self
            .0
            .lock()
            .map(|mut map| {
                let n = map.entry(object).or_insert(0);
                *n = n.saturating_add(1);
                *n
            })
            .unwrap_or(1);
        backoff(failures)
    }
}

/// The wait after the `failures`th failure in a row: 1 s, 2 s, 4 s … up to 5 min.
fn backoff(failures: u32) -> Duration {
    let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
    FIRST_RETRY.saturating_mul(factor).min(MAX_RETRY)
}

struct Runner<K: Resource<DynamicType = ()>, C, R> {
    ctx: Arc<C>,
    reconcile: R,
    failures: Failures<DeserializeGuard<K>>,
}

impl<K, C, R, F> Runner<K, C, R>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    C: KindContext,
    R: Fn(Arc<K>, Arc<C>) -> F,
    F: Future<Output = Result<Action, Error>>,
{
    /// One reconcile, timed; an unreadable object is reported and left until it
    /// changes.
    async fn reconcile(&self, guard: &DeserializeGuard<K>) -> Result<Action, Error> {
        let kind = crate::error::kind_of::<K>();
        let started = Instant::now();
        let result = match &guard.0 {
            Ok(object) => (self.reconcile)(Arc::new(object.clone()), self.ctx.clone()).await,
            Err(invalid) => {
                tracing::warn!(
                    error = %invalid.error,
                    "{kind} {} cannot be read; skipped until it changes",
                    guard.name_any()
                );
                crate::events::publish(
                    &self.ctx.shared().recorder,
                    &guard.object_ref(&()),
                    EventType::Warning,
                    "InvalidObject",
                    &format!("the {kind} cannot be read: {}", invalid.error),
                )
                .await;
                Ok(Action::await_change())
            }
        };
        let took = started.elapsed();
        tracing::debug!(object = %guard.name_any(), ?took, ok = result.is_ok(), "{kind} reconciled");
        let metrics = &self.ctx.shared().metrics;
        metrics.reconciled(kind, took);
        if result.is_ok() {
            self.failures.clear(&ObjectRef::from_obj(guard));
        }
        result
    }

    /// The one error policy: a wait is looked at again shortly, a failure after a
    /// backoff that doubles with each failure in a row.
    fn error_policy(&self, guard: &DeserializeGuard<K>, error: &Error) -> Action {
        let kind = crate::error::kind_of::<K>();
        let metrics = &self.ctx.shared().metrics;
        metrics.failed(kind, error.metric_label());
        if error.is_wait() {
            tracing::debug!(error = %report(error), "{kind} reconcile waiting");
            return Action::requeue(WAIT_RETRY);
        }
        let delay = self.failures.next_delay(ObjectRef::from_obj(guard));
        tracing::warn!(error = %report(error), retry_in = ?delay, "{kind} reconcile failed");
        Action::requeue(delay)
    }
}

/// Runs `controller` until `shutdown` resolves, calling `reconcile` for every
/// readable object. An object that cannot be read gets an `InvalidObject` Warning
/// Event and is left until it changes.
pub async fn run<K, C, R, F>(
    controller: Controller<DeserializeGuard<K>>,
    ctx: Arc<C>,
    reconcile: R,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    C: KindContext,
    R: Fn(Arc<K>, Arc<C>) -> F + Send + Sync + 'static,
    F: Future<Output = Result<Action, Error>> + Send + 'static,
{
    let kind = crate::error::kind_of::<K>();
    let runner = Arc::new(Runner {
        ctx,
        reconcile,
        failures: Failures(Mutex::new(HashMap::new())),
    });
    controller
        .graceful_shutdown_on(shutdown)
        .run(
            |guard, runner: Arc<Runner<K, C, R>>| async move { runner.reconcile(&guard).await },
            |guard, error, runner| runner.error_policy(&guard, error),
            runner.clone(),
        )
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(error = %report(&error), "{kind} reconcile did not complete");
            }
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_one_second_up_to_five_minutes() {
        let delays: Vec<u64> = (1..=11).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(delays, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(backoff(u32::MAX), MAX_RETRY);
    }
}
