//! The Runtime controller: a namespace's infrastructure (MongoDB, NATS JetStream,
//! S3, PostgreSQL, Valkey) as StatefulSets with generated credentials and
//! servicebinding.io binding Secrets; the data outlives the Runtime unless its
//! `deletionPolicy` says otherwise.

mod cnpg;
mod credentials;
mod reconcile;
mod status;

use std::future::Future;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use kube::core::DeserializeGuard;
use kube::runtime::watcher;
use wharf_model::runtime::Runtime;

use crate::app::MANAGED_SELECTOR;
use crate::{Context, kit};

/// Runs the Runtime controller until `shutdown` resolves.
pub(crate) async fn run(
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let managed = watcher::Config::default().labels(MANAGED_SELECTOR);
    let controller = kit::controller(
        ctx.config.api::<DeserializeGuard<Runtime>>(&client),
        watcher::Config::default(),
        &ctx,
    )
    // Members becoming ready, and bootstrap Jobs finishing, show in the status.
    .owns(ctx.config.api::<StatefulSet>(&client), managed.clone())
    .owns(ctx.config.api::<Job>(&client), managed);
    kit::run(controller, ctx, reconcile::reconcile, shutdown).await;
}
