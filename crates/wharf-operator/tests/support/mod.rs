//! Shared set-up of the operator's integration tests: Wharf's CRDs installed in the
//! test cluster, and an operator watching only the test's namespace.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use tokio::sync::oneshot;
use wharf_operator::OperatorConfig;
use wharf_testenv::wait::wait_for;

/// Installs (or updates) Wharf's CRDs and waits until they are served.
pub async fn install_crds(client: &Client) {
    let crds = Api::<CustomResourceDefinition>::all(client.clone());
    for crd in wharf_model::crds::all() {
        let name = crd.metadata.name.clone().unwrap();
        crds.patch(
            &name,
            &PatchParams::apply("wharf-tests").force(),
            &Patch::Apply(&crd),
        )
        .await
        .unwrap_or_else(|e| panic!("installing CRD {name}: {e}"));
        wait_for(
            &crds,
            &name,
            "the CRD to be Established",
            Duration::from_secs(30),
            |crd| {
                crd.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.type_ == "Established" && c.status == "True")
                    })
            },
        )
        .await
        .unwrap();
    }
}

/// An operator running in the test's runtime; stopped when dropped.
pub struct RunningOperator {
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for RunningOperator {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Installs the CRDs and starts an operator that watches only `namespace`, so tests
/// running at the same time do not reconcile each other's objects.
pub async fn start_operator(client: &Client, namespace: &str) -> RunningOperator {
    install_crds(client).await;
    let (stop, stopped) = oneshot::channel::<()>();
    let config = OperatorConfig {
        concurrency: 4,
        metrics_addr: "127.0.0.1:0".parse().unwrap(),
        namespace: Some(namespace.to_owned()),
        ..OperatorConfig::default()
    };
    let client = client.clone();
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        if let Err(error) = wharf_operator::run(client, config, shutdown).await {
            panic!("the operator failed: {error}");
        }
    });
    RunningOperator { stop: Some(stop) }
}
