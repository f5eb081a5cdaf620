//! The cluster a benchmark runs against, and Wharf's CRDs in it.

use std::path::PathBuf;

use kube::Client;

use crate::BenchError;

/// The cluster: a client and the kubeconfig it came from (`wharfd` is given the
/// same one).
pub struct Cluster {
    /// A client for the cluster.
    pub client: Client,
    /// `KUBECONFIG`, or the running local cluster's kubeconfig.
    pub kubeconfig: PathBuf,
}

/// Finds the cluster the way the tests do and checks that its API server answers.
pub async fn connect() -> Result<Cluster, BenchError> {
    let kubeconfig = wharf_testenv::kubeconfig_path().map_err(BenchError::Cluster)?;
    let client = wharf_testenv::client().await.map_err(BenchError::Cluster)?;
    client
        .apiserver_version()
        .await
        .map_err(|source| BenchError::Unreachable {
            kubeconfig: kubeconfig.clone(),
            source,
        })?;
    Ok(Cluster { client, kubeconfig })
}

/// Installs (or updates) Wharf's CRDs with server-side apply and waits until the
/// API server serves them. Those named in `needed` must install; any other that
/// fails (one being written in another branch, say) only gets a warning, since the
/// benchmark does not use it.
pub async fn install_crds(client: &Client, needed: &[&str]) -> Result<(), BenchError> {
    for crd in wharf_model::crds::all() {
        let name = crd.metadata.name.clone().unwrap_or_default();
        let installed = wharf_testenv::install_crds(client, vec![crd])
            .await
            .map_err(BenchError::test_env(format!("installing the CRD {name}")));
        match installed {
            Ok(()) => {}
            Err(error) if !needed.contains(&name.as_str()) => {
                eprintln!(
                    "[bench] warning (this benchmark does not use it): {}",
                    error.report()
                );
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
