//! The App controller: turns each App into its Deployment, Service, Ingress,
//! ConfigMaps, Secret, claims and autoscaler, and reports what it observes.

mod children;
mod defaults;
mod expiry;
mod reconcile;
mod status;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::core::DeserializeGuard;
use kube::runtime::controller::{self, Controller};
use kube::runtime::watcher;
use wharf_model::app::App;

pub use children::ChildStores;
pub(crate) use defaults::{reflect_spaces, space_in};

use crate::Context;
use crate::http::Readiness;

/// Label selector of every object Wharf manages; the controller watches only those.
pub const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=wharf";

/// Runs the App controller until `shutdown` resolves.
pub(crate) async fn run(
    ctx: Arc<Context>,
    ready: Readiness,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let managed = watcher::Config::default().labels(MANAGED_SELECTOR);
    let (stores, streams) = children::reflect(&client, &ctx.config, &managed);
    let reconcile_ctx = Arc::new(reconcile::AppContext {
        shared: ctx.clone(),
        stores: stores.clone(),
    });

    let apps: Api<DeserializeGuard<App>> = ctx.config.api(&client);
    let controller = Controller::new(apps, watcher::Config::default())
        .with_config(controller::Config::default().concurrency(ctx.config.concurrency))
        .owns(ctx.config.api::<Deployment>(&client), managed);
    let controller = streams.attach(controller).graceful_shutdown_on(shutdown);

    // Readiness waits for the child caches, so the first reconciles see what exists.
    tokio::spawn(async move {
        stores.wait_until_ready().await;
        ready.set_ready();
        tracing::info!("App controller caches synced");
    });

    controller
        .run(reconcile::reconcile, reconcile::error_policy, reconcile_ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "App reconcile did not complete");
            }
        })
        .await;
}

/// How long to wait before retrying an App whose problem may fix itself (a missing
/// Secret that someone creates, a quota that frees up).
const RETRY_PROBLEM: Duration = Duration::from_secs(10);

/// How often a healthy App is checked even without any change.
const RESYNC: Duration = Duration::from_secs(300);
