//! PersistentVolumeClaims for an App's volumes, and how the pod mounts them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Volume,
    VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::meta::ChildMeta;
use crate::app::{AccessMode, SharedMount, VolumeSpec};
use crate::volume::access_mode_name;

/// Name of the claim of volume `volume` of App `app`.
pub fn claim_name(app: &str, volume: &str) -> String {
    format!("{app}-{volume}")
}

pub(super) fn claims(meta: &ChildMeta, volumes: &[VolumeSpec]) -> Vec<PersistentVolumeClaim> {
    volumes
        .iter()
        .map(|volume| PersistentVolumeClaim {
            metadata: meta.object(&claim_name(&meta.name, &volume.name)),
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: Some(vec![access_mode_name(volume.access_mode).into()]),
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

/// The pod volumes and mounts of the shared volumes an App mounts: each names the
/// claim itself, which the App does not own.
pub(super) fn shared_mounts(mounts: &[SharedMount]) -> (Vec<Volume>, Vec<VolumeMount>) {
    mounts
        .iter()
        .enumerate()
        .map(|(index, mount)| {
            // By position: a claim name may be longer than a pod volume name allows
            // once prefixed, and one claim may be mounted at two paths.
            let name = format!("shared-{index}");
            (
                Volume {
                    name: name.clone(),
                    persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                        claim_name: mount.volume.clone(),
                        read_only: mount.read_only.then_some(true),
                    }),
                    ..Default::default()
                },
                VolumeMount {
                    name,
                    mount_path: mount.mount_path.clone(),
                    read_only: Some(mount.read_only),
                    ..Default::default()
                },
            )
        })
        .unzip()
}
