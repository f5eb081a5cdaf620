//! Installing CustomResourceDefinitions for a test.

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
