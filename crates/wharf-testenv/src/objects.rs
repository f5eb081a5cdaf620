//! Reading and making namespaced objects in one call, failing the test with the
//! API's answer when that does not work.

use std::fmt::Debug;

use kube::api::PostParams;
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Object `name` of kind `K` in `ns`.
pub async fn get<K>(client: &Client, ns: &str, name: &str) -> K
where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug,
{
    Api::<K>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("reading {} {name}: {e}", K::kind(&())))
}

/// Creates the object that `yaml` describes in `ns`, and returns it as created.
pub async fn create_yaml<K>(client: &Client, ns: &str, yaml: &str) -> K
where
    K: Resource<Scope = kube::core::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Serialize
        + Debug,
{
    let object: K = serde_yaml::from_str(yaml)
        .unwrap_or_else(|e| panic!("the test's {} YAML is not valid: {e}", K::kind(&())));
    Api::<K>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &object)
        .await
        .unwrap_or_else(|e| panic!("creating the {}: {e}", K::kind(&())))
}

/// A Secret's entries as text (what Wharf writes into Secrets is text).
pub fn secret_text(
    secret: &k8s_openapi::api::core::v1::Secret,
) -> std::collections::BTreeMap<String, String> {
    secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| {
            let text = String::from_utf8(v.0.clone())
                .unwrap_or_else(|_| panic!("entry {k} of a Secret is not text"));
            (k.clone(), text)
        })
        .collect()
}

/// The claims the pod template of Deployment `name` in `ns` mounts, in order.
pub async fn claims_mounted_by(client: &Client, ns: &str, name: &str) -> Vec<String> {
    let deployment: k8s_openapi::api::apps::v1::Deployment = get(client, ns, name).await;
    let pod = deployment
        .spec
        .and_then(|s| s.template.spec)
        .unwrap_or_default();
    pod.volumes
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| v.persistent_volume_claim.map(|c| c.claim_name))
        .collect()
}
