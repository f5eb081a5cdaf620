//! PersistentVolumeClaims for an App's volumes, and how the pod mounts them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::meta::ChildMeta;
use crate::app::{AccessMode, VolumeSpec};

/// Name of the claim of volume `volume` of App `app`.
pub fn claim_name(app: &str, volume: &str) -> String {
    format!("{app}-{volume}")
}

fn access_mode(mode: AccessMode) -> &'static str {
    match mode {
        AccessMode::ReadWriteOnce => "ReadWriteOnce",
        AccessMode::ReadWriteOncePod => "ReadWriteOncePod",
        AccessMode::ReadOnlyMany => "ReadOnlyMany",
        AccessMode::ReadWriteMany => "ReadWriteMany",
    }
}

pub(super) fn claims(meta: &ChildMeta, volumes: &[VolumeSpec]) -> Vec<PersistentVolumeClaim> {
    volumes
        .iter()
        .map(|volume| PersistentVolumeClaim {
            metadata: meta.object(&claim_name(&meta.name, &volume.name)),
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec![access_mode(volume.access_mode).into()]),
                storage_class_name: volume.storage_class.clone(),
                resources: Some(VolumeResourceRequirements {
                    requests: Some(BTreeMap::from([(
                        "storage".into(),
                        Quantity(volume.size.clone()),
                    )])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect()
}

pub(super) fn mounts(app: &str, volumes: &[VolumeSpec]) -> (Vec<Volume>, Vec<VolumeMount>) {
    volumes
        .iter()
        .map(|volume| {
            let name = format!("volume-{}", volume.name);
            (
                Volume {
                    name: name.clone(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim_name(app, &volume.name),
                        read_only: None,
                    }),
                    ..Default::default()
                },
                VolumeMount {
                    name,
                    mount_path: volume.mount_path.clone(),
                    read_only: Some(volume.access_mode == AccessMode::ReadOnlyMany),
                    ..Default::default()
                },
            )
        })
        .unzip()
}
