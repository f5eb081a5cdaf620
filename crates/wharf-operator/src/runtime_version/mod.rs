//! The RuntimeVersion controller: each node of each workflow as a Deployment
//! wired to the next through NATS subjects, one JetStream stream per version
//! made on the Runtime's NATS, Stopped / Started / Published, and one published
//! version per Runtime.

mod publish;
mod reconcile;
mod status;
mod stream;

use std::future::Future;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::Deployment;
use kube::core::DeserializeGuard;
use kube::runtime::watcher;
use wharf_model::runtime_version::RuntimeVersion;

use crate::app::MANAGED_SELECTOR;
use crate::{Context, kit};

/// Runs the RuntimeVersion controller until `shutdown` resolves.
pub(crate) async fn run(
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let managed = watcher::Config::default().labels(MANAGED_SELECTOR);
    let controller = kit::controller(
        ctx.config.api::<DeserializeGuard<RuntimeVersion>>(&client),
        watcher::Config::default(),
        &ctx,
    )
    // Nodes becoming ready show in the status.
    .owns(ctx.config.api::<Deployment>(&client), managed);
    kit::run(controller, ctx, reconcile::reconcile, shutdown).await;
}
