//! The Space controller: makes and keeps each Space's namespace, quota, limits,
//! role bindings and network policy, and drains the namespace when the Space is
//! deleted.

mod reconcile;

use std::future::Future;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ResourceQuota;
use kube::Api;
use kube::core::DeserializeGuard;
use kube::runtime::watcher;
use wharf_model::space::Space;

use crate::{Context, kit};

/// Runs the Space controller until `shutdown` resolves.
pub(crate) async fn run(
    ctx: Arc<Context>,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) {
    let client = ctx.client.clone();
    let mut spaces = watcher::Config::default();
    if let Some(selector) = &ctx.config.space_selector {
        spaces = spaces.labels(selector);
    }
    let controller = kit::controller(
        Api::<DeserializeGuard<Space>>::all(client.clone()),
        spaces,
        &ctx,
    )
    // Quota usage changes show in the Space's status.
    .owns(
        Api::<ResourceQuota>::all(client),
        watcher::Config::default().labels(crate::app::MANAGED_SELECTOR),
    );
    kit::run(controller, ctx, reconcile::reconcile, shutdown).await;
}
