//! Throw-away namespaces, one per measured phase, so phases do not see each
//! other's objects.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::PostParams;
use kube::{Api, Client};
use wharf_testenv::wait::{wait_deleted, wait_for};

use crate::BenchError;
use crate::temporary::{self, labelled};

/// How long a new namespace may take to get its `default` ServiceAccount.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Creates the namespace `name` with the [`BENCH_LABEL`](crate::BENCH_LABEL), and waits until pods
/// can be created in it (its `default` ServiceAccount exists), so that wait is not
/// measured.
pub async fn create(client: &Client, name: &str) -> Result<(), BenchError> {
    let namespace = Namespace {
        metadata: labelled(name),
        ..Namespace::default()
    };
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
        .map_err(BenchError::kube(format!("creating the namespace {name}")))?;
    let accounts = Api::<ServiceAccount>::namespaced(client.clone(), name);
    wait_for(
        &accounts,
        "default",
        "the default ServiceAccount",
        READY_TIMEOUT,
        |_| true,
    )
    .await
    .map_err(BenchError::test_env(format!(
        "preparing the namespace {name}"
    )))?;
    Ok(())
}

/// Deletes the namespace and, when `timeout` is given, waits until it and
/// everything in it is gone (so the next phase runs on a quiet cluster).
pub async fn delete(
    client: &Client,
    name: &str,
    timeout: Option<Duration>,
) -> Result<(), BenchError> {
    let namespaces = Api::<Namespace>::all(client.clone());
    let what = format!("the namespace {name}");
    if !temporary::delete(&namespaces, name, &what).await? {
        return Ok(());
    }
    if let Some(timeout) = timeout {
        wait_deleted(&namespaces, name, timeout)
            .await
            .map_err(BenchError::test_env(format!("deleting {what}")))?;
    }
    Ok(())
}

/// Deletes the namespace like [`delete`], but only warns when that fails: failing
/// to clean up does not fail a measurement. Says how to remove leftovers.
pub async fn remove(client: &Client, name: &str, timeout: Option<Duration>) {
    if let Err(error) = delete(client, name, timeout).await {
        eprintln!(
            "[bench] warning: {}; remove leftovers with \
             `kubectl delete namespaces,nodes,servicecidrs,flowschemas,clusterrolebindings -l {}`",
            error.report(),
            crate::BENCH_LABEL
        );
    }
}
