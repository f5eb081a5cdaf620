//! What every reconcile has at hand.

use std::sync::Arc;

use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::reflector::Store;
use wharf_model::space::Space;

use crate::kit::StatusMemory;
use crate::{Metrics, OperatorConfig};

/// Shared state of the controllers.
pub struct Context {
    /// The Kubernetes client.
    pub client: Client,
    /// Publishes Kubernetes Events about the objects reconciled.
    pub recorder: Recorder,
    /// Reconcile counters and timings.
    pub metrics: Arc<Metrics>,
    /// The operator's settings.
    pub config: OperatorConfig,
    /// Every Space, for what workloads take from the Space of their namespace
    /// (base domain, pod security level); one watch serves every controller.
    pub spaces: Store<Space>,
    /// The statuses written lately, so a reconcile that runs before the watch
    /// delivered its own write does not write it again.
    pub status_memory: StatusMemory,
}

impl Context {
    /// A context for the controllers; starts the Space watch on the current Tokio
    /// runtime.
    pub fn new(client: Client, config: OperatorConfig, metrics: Arc<Metrics>) -> Self {
        let reporter = Reporter {
            controller: "wharf-operator".into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Self {
            spaces: crate::app::reflect_spaces(&client),
            recorder: Recorder::new(client.clone(), reporter),
            client,
            metrics,
            config,
            status_memory: StatusMemory::default(),
        }
    }
}
