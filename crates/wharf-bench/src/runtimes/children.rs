//! The moment every child of some Runtimes exists: one watch [`Milestone`] per
//! kind, counting the expected names, on either side.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use tokio::time::Instant;

use super::objects::ChildNames;
use crate::BenchError;
use crate::milestone::Milestone;
use crate::progress::Counter;

/// Watches of every kind of child, started before the children are created.
pub struct ChildrenExist {
    milestones: Vec<Milestone>,
}

impl ChildrenExist {
    /// Starts watching `namespace` for the children `names`; returns once every
    /// watch has listed what exists.
    pub async fn watch(
        client: &Client,
        namespace: &str,
        names: &ChildNames,
    ) -> Result<Self, BenchError> {
        let milestones = [
            kind::<StatefulSet>(client, namespace, "StatefulSets", &names.stateful_sets).await?,
            kind::<Service>(client, namespace, "Services", &names.services).await?,
            kind::<ConfigMap>(client, namespace, "ConfigMaps", &names.config_maps).await?,
            kind::<Secret>(client, namespace, "Secrets", &names.secrets).await?,
            kind::<Job>(client, namespace, "Jobs", &names.jobs).await?,
        ];
        Ok(Self {
            milestones: milestones.into_iter().flatten().collect(),
        })
    }

    /// The counts, for progress lines.
    pub fn counters(&self) -> Vec<Counter> {
        self.milestones.iter().map(Milestone::counter).collect()
    }

    /// Waits until `deadline` for every child and returns when the last one
    /// appeared.
    pub async fn reached(self, deadline: Instant) -> Result<Instant, BenchError> {
        let mut last = None;
        for milestone in self.milestones {
            let at = milestone.reached(deadline).await?;
            last = last.max(Some(at));
        }
        Ok(last.unwrap_or_else(Instant::now))
    }
}

/// A milestone for the objects of kind `K` named in `names`; none when there are
/// none to wait for.
async fn kind<K>(
    client: &Client,
    namespace: &str,
    what: &str,
    names: &BTreeSet<String>,
) -> Result<Option<Milestone>, BenchError>
where
    K: Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
{
    if names.is_empty() {
        return Ok(None);
    }
    let wanted = Arc::new(names.clone());
    let milestone = Milestone::watch(
        Api::<K>::namespaced(client.clone(), namespace),
        Counter::new(what, names.len()),
        move |object: &K| {
            object
                .meta()
                .name
                .as_ref()
                .is_some_and(|name| wanted.contains(name))
        },
    )
    .await?;
    Ok(Some(milestone))
}
