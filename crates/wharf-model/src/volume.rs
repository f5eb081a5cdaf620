//! Shared volumes: PersistentVolumeClaims made on their own (seed 004's
//! `volumes.create`) that several Apps mount through `spec.mounts`. A shared volume
//! is a labelled claim and nothing more, so `kubectl get pvc -l wharf.dev/volume`
//! shows what Wharf shows; no App owns it, so deleting an App leaves it.

use std::borrow::Borrow;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::ObjectMeta;
use serde::{Deserialize, Serialize};

use crate::app::{AccessMode, App};

/// The label that makes a claim a shared volume; its value is the volume's name.
pub const VOLUME_LABEL: &str = "wharf.dev/volume";

/// A shared volume to create.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VolumeRequest {
    /// The volume's name (a DNS-1123 label), also the claim's.
    pub name: String,
    /// Requested size, a quantity such as `1Gi`.
    pub size: String,
    /// The StorageClass; the cluster's default when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// `ReadWriteOnce` (default), `ReadWriteOncePod`, `ReadOnlyMany` or
    /// `ReadWriteMany`. Apps on several nodes need `ReadWriteMany`.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub access_mode: AccessMode,
}

/// A shared volume as the API shows it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct VolumeInfo {
    /// The volume's (and claim's) name.
    pub name: String,
    /// The requested size.
    pub size: String,
    /// How it may be mounted.
    pub access_mode: String,
    /// Its StorageClass, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
    /// The claim's phase: `Pending`, `Bound` or `Lost`; `Terminating` once deleted
    /// while a pod still uses it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// The Apps that mount it, by name.
    pub mounted_by: Vec<String>,
}

/// A list of shared volumes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct VolumeList {
    /// The volumes, by name.
    pub items: Vec<VolumeInfo>,
}

/// The claim of a new shared volume in `namespace`.
pub fn claim(namespace: &str, request: &VolumeRequest) -> PersistentVolumeClaim {
    PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(request.name.clone()),
            namespace: Some(namespace.to_owned()),
            labels: Some(BTreeMap::from([
                (
                    "app.kubernetes.io/managed-by".to_owned(),
                    "wharf".to_owned(),
                ),
                (VOLUME_LABEL.to_owned(), request.name.clone()),
            ])),
            ..ObjectMeta::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec![access_mode_name(request.access_mode).to_owned()]),
            storage_class_name: request.storage_class.clone(),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([(
                    "storage".to_owned(),
                    Quantity(request.size.clone()),
                )])),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The shared volume a claim is, with the Apps of `apps` that mount it; `None` for
/// a claim that is not a shared volume. `apps` may be owned or shared (a watch
/// cache's `Arc`s), so a request copies no App.
pub fn info<A: Borrow<App>>(claim: &PersistentVolumeClaim, apps: &[A]) -> Option<VolumeInfo> {
    let name = claim.metadata.labels.as_ref()?.get(VOLUME_LABEL)?.clone();
    let spec = claim.spec.clone().unwrap_or_default();
    let size = spec
        .resources
        .and_then(|r| r.requests)
        .and_then(|r| r.get("storage").map(|q| q.0.clone()))
        .unwrap_or_default();
    Some(VolumeInfo {
        mounted_by: mounted_by(&name, apps),
        size,
        access_mode: spec
            .access_modes
            .and_then(|modes| modes.into_iter().next())
            .unwrap_or_default(),
        storage_class: spec.storage_class_name,
        // A deleted claim waits for the pods that use it to go (its
        // pvc-protection finalizer); say so, as kubectl does.
        phase: match claim.metadata.deletion_timestamp {
            Some(_) => Some("Terminating".to_owned()),
            None => claim.status.as_ref().and_then(|s| s.phase.clone()),
        },
        name,
    })
}

/// The names of the Apps among `apps` that mount volume `volume`, sorted.
pub fn mounted_by<A: Borrow<App>>(volume: &str, apps: &[A]) -> Vec<String> {
    let mut names: Vec<String> = apps
        .iter()
        .map(Borrow::borrow)
        .filter(|app: &&App| app.spec.mounts.iter().any(|m| m.volume == volume))
        .filter_map(|app| app.metadata.name.clone())
        .collect();
    names.sort();
    names.dedup();
    names
}

/// The name Kubernetes takes for an access mode.
pub fn access_mode_name(mode: AccessMode) -> &'static str {
    match mode {
        AccessMode::ReadWriteOnce => "ReadWriteOnce",
        AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
        AccessMode::ReadOnlyMany => "ReadOnlyMany",
        AccessMode::ReadWriteMany => "ReadWriteMany",
    }
}

#[cfg(test)]
mod tests {
    use crate::app::{AppSpec, SharedMount};

    use super::*;

    fn mounting(name: &str, volume: &str) -> App {
        App::new(
            name,
            AppSpec {
                mounts: vec![SharedMount {
                    volume: volume.into(),
                    mount_path: "/data".into(),
                    read_only: false,
                }],
                ..AppSpec::default()
            },
        )
    }

    #[test]
    fn a_shared_volume_is_a_labelled_claim_and_reads_back_with_who_mounts_it() {
        let request = VolumeRequest {
            name: "site".into(),
            size: "1Gi".into(),
            storage_class: Some("fast".into()),
            access_mode: AccessMode::ReadWriteMany,
        };
        let claim = claim("shop", &request);
        assert_eq!(claim.metadata.namespace.as_deref(), Some("shop"));
        assert_eq!(claim.metadata.owner_references, None, "no App owns it");
        let apps = [
            mounting("php", "site"),
            mounting("nginx", "site"),
            mounting("other", "logs"),
        ];
        let info = info(&claim, &apps).expect("a shared volume");
        assert_eq!(info.name, "site");
        assert_eq!(info.size, "1Gi");
        assert_eq!(info.access_mode, "ReadWriteMany");
        assert_eq!(info.storage_class.as_deref(), Some("fast"));
        assert_eq!(info.mounted_by, ["nginx", "php"]);
    }

    #[test]
    fn a_claim_without_the_label_is_not_a_shared_volume() {
        let mut claim = claim("shop", &VolumeRequest::default());
        claim.metadata.labels = None;
        assert_eq!(info::<App>(&claim, &[]), None);
    }
}
