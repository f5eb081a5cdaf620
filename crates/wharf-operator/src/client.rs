//! A Kubernetes client with a request rate limit, so a burst of reconciles cannot
//! flood the API server.

use std::time::Duration;

use kube::client::ClientBuilder;
use kube::{Client, Config};
use tower::limit::RateLimitLayer;

/// A client that sends at most `qps` requests per second (long-running watches
/// count once, when they start).
pub fn rate_limited_client(config: Config, qps: u32) -> Result<Client, kube::Error> {
    let builder = ClientBuilder::try_from(config)?;
    Ok(builder
        .with_layer(&RateLimitLayer::new(
            u64::from(qps.max(1)),
            Duration::from_secs(1),
        ))
        .build())
}
