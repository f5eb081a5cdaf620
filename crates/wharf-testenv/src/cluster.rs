//! Finding the test cluster and making a client for it.

use std::path::PathBuf;

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use crate::TestEnvError;

/// The name of the local cluster that `make cluster-up` and `make test` start.
const LOCAL_CLUSTER: &str = "wharf";

/// The kubeconfig tests use: `KUBECONFIG` when set (a single path), otherwise the one
/// of the local cluster under `$WHARF_CACHE` (default `~/.cache/wharf`).
pub fn kubeconfig_path() -> Result<PathBuf, TestEnvError> {
    if let Some(path) = std::env::var_os("KUBECONFIG").filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let path = cache_dir()
        .join("kwok/clusters")
        .join(LOCAL_CLUSTER)
        .join("kubeconfig.yaml");
    if path.exists() {
        Ok(path)
    } else {
        Err(TestEnvError::NoCluster(path))
    }
}

fn cache_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("WHARF_CACHE").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let home = std::env::var_os("HOME").unwrap_or_else(|| "/root".into());
    PathBuf::from(home).join(".cache/wharf")
}

/// A client for the test cluster.
///
/// Every test makes its own: a client belongs to the Tokio runtime it was made on, and
/// each `#[tokio::test]` has its own runtime.
pub async fn client() -> Result<Client, TestEnvError> {
    let path = kubeconfig_path()?;
    let boxed = |e: Box<dyn std::error::Error + Send + Sync>| TestEnvError::Kubeconfig {
        path: path.clone(),
        source: e,
    };
    let kubeconfig = Kubeconfig::read_from(&path).map_err(|e| boxed(e.into()))?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| boxed(e.into()))?;
    Client::try_from(config).map_err(TestEnvError::Kube)
}

/// The `kubectl` of the test cluster's version: `$WHARF_KUBECTL` when set, else the
/// one the control-plane build cached (built first if needed).
pub fn kubectl() -> PathBuf {
    static KUBECTL: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    KUBECTL.get_or_init(find_kubectl).clone()
}

fn find_kubectl() -> PathBuf {
    if let Some(path) = std::env::var_os("WHARF_KUBECTL").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let build = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../hack/controlplane/build.sh");
    let output = std::process::Command::new("bash")
        .arg(&build)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", build.display()));
    assert!(
        output.status.success(),
        "{} failed: {}",
        build.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let bin = stdout.lines().last().unwrap_or_default().trim();
    PathBuf::from(bin).join("kubectl")
}

/// A client for the test cluster that authenticates with `token` instead of the
/// kubeconfig's credentials (for acting as a ServiceAccount).
pub async fn client_for_token(token: &str) -> Result<Client, TestEnvError> {
    let path = kubeconfig_path()?;
    let boxed = |e: Box<dyn std::error::Error + Send + Sync>| TestEnvError::Kubeconfig {
        path: path.clone(),
        source: e,
    };
    let kubeconfig = Kubeconfig::read_from(&path).map_err(|e| boxed(e.into()))?;
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| boxed(e.into()))?;
    config.auth_info = kube::config::AuthInfo {
        token: Some(token.to_owned().into()),
        ..Default::default()
    };
    Client::try_from(config).map_err(TestEnvError::Kube)
}
