//! Static PersistentVolumes for tests of members with claims (a Runtime's
//! StatefulSets): the test cluster has no storage provisioner, so a claim binds
//! only to a volume made beforehand, and kwok runs a member's pod only once its
//! claim is bound.

use k8s_openapi::api::core::v1::PersistentVolume;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use serde_json::json;

/// 1Gi volumes, each reserved for one claim, removed when dropped.
pub struct StaticVolumes {
    client: Client,
    names: Vec<String>,
}

impl StaticVolumes {
    /// Makes a 1Gi volume (what a Runtime's member claims by default) for each
    /// of `claims` in namespace `ns`, e.g. `data-rt-nats-0`. Each is reserved for
    /// its claim (`claimRef`), so claims of tests running beside this one cannot
    /// take it.
    pub async fn for_claims(client: &Client, ns: &str, claims: &[&str]) -> Self {
        let api = Api::<PersistentVolume>::all(client.clone());
        let mut names = Vec::new();
        for claim in claims {
            let name = format!("{ns}-{claim}");
            let volume: PersistentVolume = serde_json::from_value(json!({
                "metadata": { "name": name },
                "spec": {
                    "capacity": { "storage": "1Gi" },
                    "accessModes": ["ReadWriteOnce"],
                    "persistentVolumeReclaimPolicy": "Delete",
                    "claimRef": { "namespace": ns, "name": claim },
                    "hostPath": { "path": format!("/tmp/{name}") }
                }
            }))
            .expect("a PersistentVolume");
            api.create(&PostParams::default(), &volume)
                .await
                .unwrap_or_else(|e| panic!("creating PersistentVolume {name}: {e}"));
            names.push(name);
        }
        Self {
            client: client.clone(),
            names,
        }
    }
}

impl Drop for StaticVolumes {
    fn drop(&mut self) {
        let client = self.client.clone();
        let names = std::mem::take(&mut self.names);
        // Best effort: the next run's names differ (they carry the namespace).
        tokio::spawn(async move {
            let api = Api::<PersistentVolume>::all(client);
            for name in names {
                let _ = api.delete(&name, &DeleteParams::default()).await;
            }
        });
    }
}
