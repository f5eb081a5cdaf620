//! Wharf's operator for a test: its CRDs installed, and an operator that watches
//! only the test's namespace and the test's Spaces, so tests running at the same time
//! do not reconcile each other's objects.

use kube::Client;
use wharf_operator::{OperatorConfig, RunningOperator};

/// The label that puts a Space in a test's shard: an operator started here handles
/// only the Spaces labelled with its test namespace.
pub const TEST_SHARD_LABEL: &str = "wharf.dev/test-shard";

/// Installs Wharf's CRDs (and waits until they are established).
pub async fn install_wharf_crds(client: &Client) {
    crate::install_crds(client, wharf_model::crds::all())
        .await
        .unwrap_or_else(|e| panic!("installing Wharf's CRDs: {}", e.report()));
}

/// The settings of an operator for the test namespace `ns`: it reconciles objects in
/// `ns` and the Spaces labelled [`TEST_SHARD_LABEL`]`=ns`, serves metrics on a free
/// loopback port.
pub fn test_config(ns: &str) -> OperatorConfig {
    OperatorConfig {
        concurrency: 4,
        metrics_addr: "127.0.0.1:0".parse().unwrap(),
        namespace: Some(ns.to_owned()),
        space_selector: Some(format!("{TEST_SHARD_LABEL}={ns}")),
        ..OperatorConfig::default()
    }
}

/// Installs the CRDs and starts an operator for `namespace` (see [`test_config`]);
/// it stops when the returned handle is dropped.
pub async fn start_operator(client: &Client, namespace: &str) -> RunningOperator {
    start_operator_with(client, namespace, |_| {}).await
}

/// Like [`start_operator`], with the settings `adjust` changes.
pub async fn start_operator_with(
    client: &Client,
    namespace: &str,
    adjust: impl FnOnce(&mut OperatorConfig),
) -> RunningOperator {
    install_wharf_crds(client).await;
    let mut config = test_config(namespace);
    adjust(&mut config);
    wharf_operator::spawn(client.clone(), config)
}
