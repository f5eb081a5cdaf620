//! The App controller: turns each App into its Deployment, Service, Ingress (or
//! HTTPRoutes, when the operator routes through a Gateway), ConfigMaps, Secret,
//! claims and autoscaler, and reports what it observes.

mod children;
mod defaults;
mod expiry;
mod reconcile;
mod status;
mod template_updates;
#[cfg(test)]
mod throttle_tests;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kube::runtime::watcher;

pub use children::ChildStores;
pub(crate) use defaults::{reflect_spaces, space_in};

use crate::http::Readiness;
use crate::{Context, kit};

/// Label selector of every object Wharf manages; the controllers watch only those.
pub const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=wharf";

/// Runs the App controller until `shutdown` resolves.
pub(crate) async fn run(
    ctx: Arc<Context>,
    ready: Readiness,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let managed = watcher::Config::default().labels(MANAGED_SELECTOR);
    let (templates, template_changes) = template_updates::reflect(&client);
    let (stores, streams) = children::reflect(&client, &ctx.config, &managed, templates);
    let controller = kit::controller(ctx.config.api(&client), watcher::Config::default(), &ctx);
    let apps = controller.store();
    let controller = streams
        .attach(controller)
        .watches_stream(template_changes, move |template| {
            template_updates::apps_made_from(&template, &apps)
        });

    // Readiness waits for the child caches, so the first reconciles see what exists.
    let caches = stores.clone();
    tokio::spawn(async move {
        caches.wait_until_ready().await;
        ready.set_ready();
        tracing::info!("App controller caches synced");
    });

    let app_ctx = Arc::new(kit::WithStores {
        shared: ctx,
        stores,
    });
    kit::run(controller, app_ctx, reconcile::reconcile, shutdown).await;
}

/// How long to wait before retrying an App whose problem may fix itself (a missing
/// Secret that someone creates, a quota that frees up).
const RETRY_PROBLEM: Duration = Duration::from_secs(10);

/// How soon an App waiting for its Runtime is looked at again.
const RETRY_WAITING: Duration = Duration::from_secs(5);

/// How often a healthy App is checked even without any change.
const RESYNC: Duration = Duration::from_secs(300);
