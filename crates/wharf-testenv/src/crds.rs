//! Installing CustomResourceDefinitions for a test.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Patch, PatchParams};
use kube::runtime::conditions::is_crd_established;
use kube::runtime::wait::Condition;
use kube::{Api, Client};

use crate::TestEnvError;
use crate::wait::wait_for;

/// Installs (or updates) `crds` with server-side apply and waits until each is
/// Established, so objects of their kinds can be created right away.
pub async fn install_crds(
    client: &Client,
    crds: Vec<CustomResourceDefinition>,
) -> Result<(), TestEnvError> {
    let api = Api::<CustomResourceDefinition>::all(client.clone());
    for crd in crds {
        let name = crd.metadata.name.clone().unwrap_or_default();
        api.patch(
            &name,
            &PatchParams::apply("wharf-tests").force(),
            &Patch::Apply(&crd),
        )
        .await?;
        wait_for(
            &api,
            &name,
            "the CRD to be Established",
            Duration::from_secs(30),
            |crd| is_crd_established().matches_object(Some(crd)),
        )
        .await?;
    }
    Ok(())
}

/// A third party's CRD that a `hack/` script puts in the cache: the file named by
/// the environment variable `env` (which `make test` sets), or the last line the
/// script `script` (relative to the repository root) prints when it is unset.
pub fn cached_crd(env: &str, script: &str) -> CustomResourceDefinition {
    let path = std::env::var_os(env).map(PathBuf::from).unwrap_or_else(|| {
        let script = format!("{}/../../{script}", env!("CARGO_MANIFEST_DIR"));
        let out = Command::new(&script)
            .output()
            .unwrap_or_else(|e| panic!("running {script}: {e}"));
        assert!(
            out.status.success(),
            "{script}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8(out.stdout).unwrap_or_default();
        PathBuf::from(stdout.lines().last().unwrap_or_default())
    });
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{} is not a CRD: {e}", path.display()))
}
