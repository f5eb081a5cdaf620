//! What every handler has at hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use kube::Client;

use crate::auth::Authorizer;
use crate::caches::Caches;
use crate::invoke::Invoker;
use crate::metrics::HttpMetrics;
use crate::results::ResultStore;

/// Shared state of the API server.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client,
    auth: Authorizer,
    caches: Caches,
    results: ResultStore,
    metrics: HttpMetrics,
    invoker: Invoker,
    state_namespace: String,
    ready: AtomicBool,
}

impl AppState {
    /// State for a server acting through `client`, keeping Task results in
    /// `results`, reaching Runtimes' NATS through `invoker`, keeping its own
    /// records (idempotency keys) in `state_namespace`.
    pub fn new(
        client: Client,
        auth: Authorizer,
        caches: Caches,
        results: ResultStore,
        invoker: Invoker,
        state_namespace: String,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                client,
                auth,
                caches,
                results,
                metrics: HttpMetrics::default(),
                invoker,
                state_namespace,
                ready: AtomicBool::new(false),
            }),
        }
    }

    /// The Kubernetes client (the server's own identity, used after authorization).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Authentication and authorization.
    pub fn auth(&self) -> &Authorizer {
        &self.inner.auth
    }

    /// The watch caches.
    pub fn caches(&self) -> &Caches {
        &self.inner.caches
    }

    /// Where Task result files are kept.
    pub fn results(&self) -> &ResultStore {
        &self.inner.results
    }

    /// Request metrics.
    pub fn metrics(&self) -> &HttpMetrics {
        &self.inner.metrics
    }

    /// Connections to Runtimes' NATS, for invoking workflows.
    pub fn invoker(&self) -> &Invoker {
        &self.inner.invoker
    }

    /// The namespace of the server's own records: the `Idempotency-Key`
    /// ConfigMaps of function calls.
    pub fn state_namespace(&self) -> &str {
        &self.inner.state_namespace
    }

    /// Whether the watch caches have synced.
    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Relaxed)
    }

    /// Marks the caches synced.
    pub fn set_ready(&self) {
        self.inner.ready.store(true, Ordering::Relaxed);
    }
}
