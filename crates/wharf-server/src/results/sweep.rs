//! Housekeeping: results of Tasks that no longer exist are deleted, so they go
//! with their Task however it was deleted (kubectl, its TTL, the API).

use std::time::Duration;

use kube::{Api, Client, ResourceExt};
use wharf_model::task::Task;

use super::{ResultStore, StoreError, TaskKey};
use crate::caches::Caches;

/// Sweeps now and then every `every`, for ever. Call it once the caches have
/// synced: with a cache still empty every Task would look deleted (the API server
/// is asked before anything goes, but in vain).
pub async fn sweep_forever(store: ResultStore, caches: Caches, client: Client, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match sweep(&store, &caches, &client).await {
            Ok(0) => {}
            Ok(swept) => tracing::info!(swept, "deleted the results of deleted Tasks"),
            Err(error) => {
                tracing::warn!(%error, store = %store, "sweeping the result store failed")
            }
        }
    }
}

/// Deletes the stored results of every Task that no longer exists; returns how
/// many Tasks' results were deleted.
pub async fn sweep(
    store: &ResultStore,
    caches: &Caches,
    client: &Client,
) -> Result<usize, StoreError> {
    let mut swept = 0;
    for key in store.stored_tasks().await? {
        if cached_uid(caches, &key).as_deref() == Some(key.uid.as_str()) {
            continue;
        }
        // The cache may lag (or miss a namespace it cannot list): only the API
        // server's own "not there" deletes anything.
        match Api::<Task>::namespaced(client.clone(), &key.namespace)
            .get_opt(&key.name)
            .await
        {
            Ok(Some(task)) if task.uid().as_deref() == Some(key.uid.as_str()) => continue,
            Ok(_) => {
                let objects = store.delete_task(&key).await?;
                tracing::info!(namespace = %key.namespace, task = %key.name, uid = %key.uid, objects, "deleted the results of a deleted Task");
                swept += 1;
            }
            Err(error) => {
                tracing::warn!(%error, namespace = %key.namespace, task = %key.name, "cannot tell whether a Task exists; keeping its results");
            }
        }
    }
    Ok(swept)
}

fn cached_uid(caches: &Caches, key: &TaskKey) -> Option<String> {
    caches
        .get::<Task>(&key.namespace, &key.name)
        .and_then(|t| t.uid())
}
