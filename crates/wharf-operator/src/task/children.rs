//! Making a Task's children: its ConfigMaps, Secret and collector ServiceAccount,
//! then its Job once. A Job's pod template cannot change, so the Job is created and
//! then only read; what its pods mount is made before it and left alone after.

use k8s_openapi::api::batch::v1::Job;
use wharf_model::task::build::TaskChildren;

use super::TaskStores;
use crate::kit::{ApplyError, Children};

/// Applies the Task's supporting objects and creates its Job (called only while
/// the Job cache has none). Returns the Job as the API server has it.
pub async fn make(
    children: &Children<'_>,
    stores: &TaskStores,
    built: TaskChildren,
) -> Result<Job, ApplyError> {
    // Everything the pod mounts or runs as exists before the pod does.
    if let Some(account) = &built.collector_account {
        children.apply(account, None).await?;
    }
    for config_map in [&built.env_config_map, &built.files_config_map]
        .into_iter()
        .flatten()
    {
        children.apply(config_map, None).await?;
    }
    if let Some(secret) = &built.env_secret {
        children.apply(secret, Some(&stores.secrets)).await?;
    }
    children.create_once(&built.job).await
}
