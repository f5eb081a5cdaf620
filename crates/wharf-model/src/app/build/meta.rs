//! Names, labels, owner references and the config hash shared by all children.

use std::collections::BTreeMap;

use crate::app::App;
use crate::workload::WorkloadConfig;

use super::BuildError;

/// Label with the App's name on every child and pod; the pod selector.
pub const APP_LABEL: &str = "wharf.dev/app";

/// Pod template annotation with a hash of the App's env, secrets and files, so a
/// change to any of them rolls the pods.
pub const CONFIG_HASH_ANNOTATION: &str = "wharf.dev/config-hash";

pub use crate::workload::{env_object_name, files_object_name};

/// The labels that select an App's pods. Kept minimal: a Deployment's selector
/// cannot change.
pub fn selector_labels(app: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(APP_LABEL.to_owned(), app.to_owned())])
}

pub(super) use crate::workload::ChildMeta;

/// The shared metadata of `app`'s children.
pub(super) fn child_meta(app: &App) -> Result<ChildMeta, BuildError> {
    ChildMeta::of(app, APP_LABEL).map_err(|e| BuildError::MissingMetadata(e.0))
}

/// A hash of everything the pods read from ConfigMaps and Secrets Wharf writes.
pub(super) fn content_hash(config: &WorkloadConfig) -> String {
    let mut sections = vec![("env", &config.env.config), ("secret", &config.env.secret)];
    // Only when there are files, so Apps without any keep the hash they had.
    if let Some(data) = config
        .files_config_map
        .as_ref()
        .and_then(|cm| cm.data.as_ref())
    {
        sections.push(("files", data));
    }
    crate::workload::content_hash(&sections)
}
