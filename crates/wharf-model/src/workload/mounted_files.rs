//! The ConfigMap behind a workload's mounted files, and how its pod mounts them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, ConfigMapVolumeSource, Volume, VolumeMount};

use super::{ChildMeta, FileSpec};

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

/// The ConfigMap `name` holding the files, when there are any.
pub fn files_config_map(meta: &ChildMeta, name: &str, files: &[FileSpec]) -> Option<ConfigMap> {
    if files.is_empty() {
        return None;
    }
    let data: BTreeMap<String, String> = files
        .iter()
        .enumerate()
        .map(|(i, file)| (key(i, file), file.content.clone()))
        .collect();
    Some(meta.config_map(name, data))
}

/// The pod volume and the container's mounts: each file is mounted at its own path
/// with `subPath`, so files in different folders share one ConfigMap.
pub fn files_mounts(config_map: &str, files: &[FileSpec]) -> Option<(Volume, Vec<VolumeMount>)> {
    if files.is_empty() {
        return None;
    }
    let volume = Volume {
        name: FILES_VOLUME.into(),
        config_map: Some(ConfigMapVolumeSource {
            name: config_map.to_owned(),
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
