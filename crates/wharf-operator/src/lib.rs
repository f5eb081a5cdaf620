//! Wharf's operator: the controllers that reconcile Wharf's custom resources into the
//! Kubernetes objects they own, with status, events and metrics.
//!
//! [`run`] starts every controller and the operator's `/metrics`, `/healthz` and
//! `/readyz` endpoints, and returns when a shutdown signal arrives.

// An error names the step, the object and its cause; it is made once per failed
// reconcile, so its size costs nothing worth boxing it for.
#![allow(clippy::result_large_err)]

pub mod app;
mod client;
mod config;
mod context;
pub mod election;
mod error;
mod events;
mod http;
pub mod kit;
mod metrics;
pub mod runtime;
pub mod runtime_version;
pub mod signal;
pub mod space;
pub mod task;
mod workload;

pub use client::rate_limited_client;
pub use config::OperatorConfig;
pub use context::Context;
pub use error::{Error, ObjectName};
pub use metrics::Metrics;

use std::sync::Arc;

use kube::Client;

/// Runs the operator until `shutdown` resolves: the controllers and the health and
/// metrics server on `config.metrics_addr`.
pub async fn run(
    client: Client,
    config: OperatorConfig,
    shutdown: impl Future<Output = ()> + Send + Sync + 'static,
) -> Result<(), Error> {
    let metrics = Arc::new(Metrics::default());
    let ready = http::Readiness::default();
    let listener = tokio::net::TcpListener::bind(config.metrics_addr)
        .await
        .map_err(|source| Error::Bind {
            addr: config.metrics_addr,
            source,
        })?;
    tracing::info!(addr = %config.metrics_addr, "operator health and metrics listening");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopping = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|stop| *stop).await;
    };
    let server = tokio::spawn(http::serve(
        listener,
        metrics.clone(),
        ready.clone(),
        stopping(stop_rx.clone()),
    ));

    let led = async {
        let mut candidate = None;
        if let Some(election) = config.election.clone() {
            let mut elected = election::Candidate::start(client.clone(), election).await?;
            // A follower is ready: it is up and reaches the API server.
            ready.set_ready();
            tokio::select! {
                leading = elected.leading() => leading?,
                () = stopping(stop_rx.clone()) => return Ok(()),
            }
            tracing::info!("leading: starting the controllers");
            candidate = Some(elected);
        }
        metrics.set_leader(true);
        let context = Arc::new(Context::new(client, config, metrics.clone()));
        let controllers = async {
            tokio::join!(
                app::run(context.clone(), ready, stopping(stop_rx.clone())),
                space::run(context.clone(), stopping(stop_rx.clone())),
                runtime::run(context.clone(), stopping(stop_rx.clone())),
                runtime_version::run(context.clone(), stopping(stop_rx.clone())),
                task::run(context, stopping(stop_rx.clone())),
            );
        };
        // Losing the Lease drops the controllers at once (fail-stop); without an
        // election there is nothing to lose.
        let lost = async {
            match candidate.as_mut() {
                Some(candidate) => candidate.lost_lease().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = controllers => Ok(()),
            lost = lost => {
                metrics.set_leader(false);
                Err(lost)
            }
        }
    };
    // The controllers end by themselves only when the Lease is lost; on a shutdown
    // signal they are told to stop and finish what they do.
    let mut led = std::pin::pin!(led);
    let result = tokio::select! {
        result = led.as_mut() => result,
        () = shutdown => {
            let _ = stop_tx.send(true);
            led.await
        }
    };
    let _ = stop_tx.send(true);
    let _ = server.await;
    result
}

/// An operator running in the background; stopped when dropped.
pub struct RunningOperator {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Drop for RunningOperator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Starts the operator on the current Tokio runtime and returns a handle that stops
/// it when dropped. Failures are logged.
pub fn spawn(client: Client, config: OperatorConfig) -> RunningOperator {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(error) = run(client, config, shutdown).await {
            tracing::error!(%error, "the operator stopped with an error");
        }
    });
    RunningOperator { stop: Some(stop) }
}
