//! Shared set-up of the operator's integration tests: Wharf's CRDs installed in the
//! test cluster, and an operator watching only the test's namespace.

// Each test binary uses a different part of this module.
#![allow(dead_code)]

use kube::Client;
use wharf_operator::{OperatorConfig, RunningOperator};

/// Installs Wharf's CRDs.
pub async fn install_crds(client: &Client) {
    wharf_testenv::install_crds(client, wharf_model::crds::all())
        .await
        .unwrap_or_else(|e| panic!("installing Wharf's CRDs: {}", e.report()));
}

/// Installs the CRDs and starts an operator that watches only `namespace`, so tests
/// running at the same time do not reconcile each other's objects.
pub async fn start_operator(client: &Client, namespace: &str) -> RunningOperator {
    start_operator_with(client, namespace, |_| {}).await
}

/// Like [`start_operator`], with the settings `adjust` changes.
pub async fn start_operator_with(
    client: &Client,
    namespace: &str,
    adjust: impl FnOnce(&mut OperatorConfig),
) -> RunningOperator {
    install_crds(client).await;
    let mut config = OperatorConfig {
        concurrency: 4,
        metrics_addr: "127.0.0.1:0".parse().unwrap(),
        namespace: Some(namespace.to_owned()),
        // Only this test's Spaces (it labels them with this shard).
        space_selector: Some(format!("wharf.dev/test-shard={namespace}")),
        ..OperatorConfig::default()
    };
    adjust(&mut config);
    wharf_operator::spawn(client.clone(), config)
}
