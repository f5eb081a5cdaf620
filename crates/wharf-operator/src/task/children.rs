//! Making a Task's children: its ConfigMaps, Secret and collector ServiceAccount with
//! server-side apply, and its Job once. A Job's pod template cannot change, so the
//! Job is created and then only read.

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::batch::v1::Job;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wharf_model::FIELD_MANAGER;
use wharf_model::task::build::TaskChildren;

use crate::Error;
use crate::apply::apply_body;

/// Why making a child failed: the API server refused it (a quota, an invalid field:
/// the user can act on it), or the call failed.
pub enum MakeError {
    /// Refused with a 4xx; the message says why.
    Refused(String),
    /// Anything else; retried with backoff.
    Failed(Error),
}

fn refused_or_failed(error: kube::Error) -> MakeError {
    match error {
        kube::Error::Api(status) if (400..500).contains(&status.code) && status.code != 409 => {
            MakeError::Refused(status.message)
        }
        other => MakeError::Failed(other.into()),
    }
}

async fn apply<K>(client: &Client, namespace: &str, object: &K) -> Result<(), MakeError>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Serialize
        + DeserializeOwned
        + Clone
        + std::fmt::Debug,
{
    let (name, body) = apply_body(object).map_err(MakeError::Failed)?;
    Api::<K>::namespaced(client.clone(), namespace)
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(body),
        )
        .await
        .map_err(refused_or_failed)?;
    Ok(())
}

/// Applies the Task's supporting objects, then creates its Job unless `existing`
/// is there. Returns the Job as the API server has it.
pub async fn make(
    client: &Client,
    namespace: &str,
    children: TaskChildren,
    existing: Option<Job>,
) -> Result<Job, MakeError> {
    // Everything the pod mounts or runs as exists before the pod does.
    if let Some(account) = &children.collector_account {
        apply(client, namespace, account).await?;
    }
    for config_map in [&children.env_config_map, &children.files_config_map]
        .into_iter()
        .flatten()
    {
        apply(client, namespace, config_map).await?;
    }
    if let Some(secret) = &children.env_secret {
        apply(client, namespace, secret).await?;
    }
    if let Some(job) = existing {
        return Ok(job);
    }
    let jobs = Api::<Job>::namespaced(client.clone(), namespace);
    match jobs.create(&PostParams::default(), &children.job).await {
        Ok(job) => Ok(job),
        // Made by an earlier reconcile the cache has not seen yet.
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let name = children.job.metadata.name.clone().unwrap_or_default();
            jobs.get(&name)
                .await
                .map_err(|e| MakeError::Failed(e.into()))
        }
        Err(error) => Err(refused_or_failed(error)),
    }
}
