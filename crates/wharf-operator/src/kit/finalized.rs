//! Reconciling a kind that holds its deletions with a finalizer: kube's
//! finalizer helper, with its errors mapped to the operator's once.

use std::fmt::Debug;
use std::future::Future;
use std::sync::Arc;

use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, Event, finalizer};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, ObjectName};

/// Adds `name` to `object` and runs `apply`, or, once the object is being
/// deleted, runs `cleanup` and removes `name` when it succeeds. An error of
/// `apply` or `cleanup` is returned as it is.
pub async fn finalized<K, A, AFut, C, CFut>(
    api: &Api<K>,
    name: &str,
    object: Arc<K>,
    apply: A,
    cleanup: C,
) -> Result<Action, Error>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug,
    A: FnOnce(Arc<K>) -> AFut,
    AFut: Future<Output = Result<Action, Error>>,
    C: FnOnce(Arc<K>) -> CFut,
    CFut: Future<Output = Result<Action, Error>>,
{
    let owner = ObjectName::of(object.as_ref());
    finalizer(api, name, object, |event| async {
        match event {
            Event::Apply(object) => apply(object).await,
            Event::Cleanup(object) => cleanup(object).await,
        }
    })
    .await
    .map_err(|error| match error {
        finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer {
            owner,
            source: Box::new(other),
        },
    })
}
