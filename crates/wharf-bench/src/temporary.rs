//! What every object a benchmark adds to the cluster for a while shares: the
//! [`BENCH_LABEL`], creation followed by a wait until it can be used, and a
//! deletion that is fine with the object already being gone.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

use kube::api::{DeleteParams, ObjectMeta, PostParams};
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wharf_testenv::wait::wait_for;

use crate::{BENCH_LABEL, BenchError};

/// Metadata of an object named `name` with the [`BENCH_LABEL`].
pub fn labelled(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        labels: Some(BTreeMap::from([(
            BENCH_LABEL.to_owned(),
            "true".to_owned(),
        )])),
        ..ObjectMeta::default()
    }
}

/// Creates `object` and waits until `ready` holds for it. `what` names the step in
/// errors, `awaited` the state waited for.
pub async fn create_ready<K>(
    api: &Api<K>,
    object: &K,
    what: &str,
    awaited: &str,
    timeout: Duration,
    ready: impl Fn(&K) -> bool,
) -> Result<(), BenchError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + Debug + Send + 'static,
{
    api.create(&PostParams::default(), object)
        .await
        .map_err(BenchError::kube(what))?;
    let name = object.meta().name.as_deref().unwrap_or_default();
    wait_for(api, name, awaited, timeout, ready)
        .await
        .map_err(BenchError::test_env(what))?;
    Ok(())
}

/// Deletes the object `name` in the background; one that is already gone is fine.
/// Returns whether there was one to delete. `what` names the object in errors.
pub async fn delete<K>(api: &Api<K>, name: &str, what: &str) -> Result<bool, BenchError>
where
    K: Resource + Clone + DeserializeOwned + Debug,
{
    match api.delete(name, &DeleteParams::background()).await {
        Ok(_) => Ok(true),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(source) => Err(BenchError::Kube {
            what: format!("deleting {what}"),
            source,
        }),
    }
}
