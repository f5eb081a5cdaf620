//! The ConfigMap behind an App's mounted files, and how the pod mounts them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, ConfigMapVolumeSource, Volume, VolumeMount};

use super::meta::{ChildMeta, files_object_name};
use crate::workload::FileSpec;

/// Name of the pod volume that carries the files.
const FILES_VOLUME: &str = "wharf-files";

/// The key of file number `index` in the ConfigMap: unique by its index, readable by
/// its file name.
fn key(index: usize, file: &FileSpec) -> String {
    let base = file.path.rsplit('/').next().unwrap_or("file");
    let clean: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    format!("{index}-{clean}")
}

pub(super) fn config_map(meta: &ChildMeta, files: &[FileSpec]) -> Option<ConfigMap> {
    if files.is_empty() {
        return None;
    }
    let data: BTreeMap<String, String> = files
        .iter()
        .enumerate()
        .map(|(i, file)| (key(i, file), file.content.clone()))
        .collect();
    Some(meta.config_map(&files_object_name(&meta.app), data))
}

/// The pod volume and the container's mounts: each file is mounted at its own path
/// with `subPath`, so files in different folders share one ConfigMap.
pub(super) fn mounts(app: &str, files: &[FileSpec]) -> Option<(Volume, Vec<VolumeMount>)> {
    if files.is_empty() {
        return None;
    }
    let volume = Volume {
        name: FILES_VOLUME.into(),
        config_map: Some(ConfigMapVolumeSource {
            name: files_object_name(app),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mounts = files
        .iter()
        .enumerate()
        .map(|(i, file)| VolumeMount {
            name: FILES_VOLUME.into(),
            mount_path: file.path.clone(),
            sub_path: Some(key(i, file)),
            read_only: Some(true),
            ..Default::default()
        })
        .collect();
    Some((volume, mounts))
}
