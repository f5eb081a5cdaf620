//! One reconcile of one Runtime: each engine's credentials (made once), its
//! children (configuration, binding, Services, StatefulSet, bootstrap Job), and a
//! status from the StatefulSets; and, when the Runtime is deleted, what its
//! `deletionPolicy` says about the data.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Secret};
use kube::api::{DeleteParams, ListParams};
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{self, Event as Finalizer, finalizer};
use kube::{Api, ResourceExt};
use tracing::instrument;
use wharf_model::runtime::build::{self, Cluster, EngineChildren, RUNTIME_LABEL};
use wharf_model::runtime::{DeletionPolicy, Runtime, RuntimePhase, RuntimeStatus};

use super::credentials;
use super::status::{Observed, compute};
use crate::error::ObjectName;
use crate::kit::{self, ApplyError, Children, Problem};
use crate::{Context, Error};

/// Holds a deleted Runtime while its `deletionPolicy` is `DoNotDelete`, and until
/// a `Delete` policy has removed the volumes and credentials.
const FINALIZER: &str = "wharf.dev/runtime-data";

/// How often a ready Runtime is looked at without a change.
const RESYNC: Duration = Duration::from_secs(300);

/// How soon a Runtime whose members are starting is looked at again (the
/// StatefulSets' changes trigger reconciles too; this is the safety net).
const WHILE_STARTING: Duration = Duration::from_secs(30);

kit::reported!(
    Runtime,
    status: RuntimeStatus,
    phase: RuntimePhase,
    warning: RuntimePhase::Failed,
    initial: RuntimePhase::Provisioning,
    written: |runtime: &Runtime| runtime.status.clone(),
    summary: |status: &RuntimeStatus| kit::ready_message(&status.conditions),
);

/// Reconciles one Runtime.
#[instrument(skip_all, fields(runtime = %runtime.name_any()))]
pub async fn reconcile(runtime: Arc<Runtime>, ctx: Arc<Context>) -> Result<Action, Error> {
    let api =
        Api::<Runtime>::namespaced(ctx.client.clone(), &runtime.namespace().unwrap_or_default());
    let owner = ObjectName::of(runtime.as_ref());
    finalizer(&api, FINALIZER, runtime, |event| async {
        match event {
            Finalizer::Apply(runtime) => apply(&runtime, &ctx).await,
            Finalizer::Cleanup(runtime) => cleanup(&runtime, &ctx).await,
        }
    })
    .await
    .map_err(|error| match error {
        finalizer::Error::ApplyFailed(e) | finalizer::Error::CleanupFailed(e) => e,
        other => Error::Finalizer {
            owner,
            source: Box::new(other),
        },
    })
}

async fn apply(runtime: &Runtime, ctx: &Context) -> Result<Action, Error> {
    let mut credentials = BTreeMap::new();
    for (engine, _) in build::engines(runtime) {
        credentials.insert(
            engine,
            credentials::ensure(&ctx.client, runtime, engine).await?,
        );
    }
    let built = match build::build(runtime, &credentials, Cluster::default()) {
        Ok(built) => built,
        Err(error) => {
            let observed = Observed::failed(Problem::new("InvalidSpec", error.to_string()));
            kit::report(ctx, runtime, &compute(runtime, &observed)).await?;
            return Ok(Action::await_change());
        }
    };
    let children = Children::of(&ctx.client, runtime);
    let mut engines = Vec::new();
    for engine in &built {
        match apply_engine(&children, engine).await {
            Ok(observed) => engines.push(observed),
            Err(ApplyError::Refused(problem)) => {
                kit::report(ctx, runtime, &compute(runtime, &Observed::failed(problem))).await?;
                return Ok(Action::requeue(WHILE_STARTING));
            }
            Err(ApplyError::Failed(error)) => return Err(error),
        }
    }
    let observed = Observed::Engines(engines);
    let status = compute(runtime, &observed);
    kit::report(ctx, runtime, &status).await?;
    Ok(Action::requeue(
        if status.phase == Some(RuntimePhase::Ready) {
            RESYNC
        } else {
            WHILE_STARTING
        },
    ))
}

/// Applies one engine's children; returns them with the StatefulSet and the
/// bootstrap Job as the API server has them.
async fn apply_engine(
    children: &Children<'_>,
    engine: &EngineChildren,
) -> Result<super::status::EngineObserved, ApplyError> {
    // What the members mount exists before they start.
    children.apply(&engine.config, None).await?;
    children.apply(&engine.binding, None).await?;
    children.apply(&engine.headless, None).await?;
    children.apply(&engine.client, None).await?;
    for service in &engine.services {
        children.apply(service, None).await?;
    }
    let set: StatefulSet = children.apply(&engine.stateful_set, None).await?;
    let bootstrap: Option<Job> = match &engine.bootstrap {
        Some(job) => Some(children.create_once(job).await?),
        None => None,
    };
    Ok(super::status::EngineObserved {
        built: engine.clone(),
        set,
        bootstrap,
    })
}

async fn cleanup(runtime: &Runtime, ctx: &Context) -> Result<Action, Error> {
    let policy = runtime.spec.deletion_policy;
    if policy == DeletionPolicy::DoNotDelete {
        let observed = Observed::Held;
        kit::report(ctx, runtime, &compute(runtime, &observed)).await?;
        // Kept until the policy changes; that change is a new reconcile.
        return Err(Error::DeletionHeld {
            owner: ObjectName::of(runtime),
        });
    }
    if policy == DeletionPolicy::Delete {
        delete_data(ctx, runtime).await?;
    }
    // Retain: the StatefulSets go with the Runtime (owner references) and leave
    // their volumes; the credentials stay for a Runtime of the same name.
    Ok(Action::await_change())
}

/// Deletes the volumes and credentials Secrets of a Runtime whose policy is
/// `Delete` (the StatefulSets already drop their claims on deletion; this also
/// catches claims of members scaled away, which StatefulSets keep).
async fn delete_data(ctx: &Context, runtime: &Runtime) -> Result<(), Error> {
    let ns = runtime.namespace().unwrap_or_default();
    let selector = format!("{RUNTIME_LABEL}={}", runtime.name_any());
    let owner = ObjectName::of(runtime);
    delete_labelled::<PersistentVolumeClaim>(ctx, &ns, &selector, &owner).await?;
    delete_labelled::<Secret>(ctx, &ns, &selector, &owner).await
}

async fn delete_labelled<K>(
    ctx: &Context,
    ns: &str,
    selector: &str,
    owner: &ObjectName,
) -> Result<(), Error>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api = Api::<K>::namespaced(ctx.client.clone(), ns);
    let listed = api
        .list_metadata(&ListParams::default().labels(selector))
        .await
        .map_err(|source| Error::ReadReference {
            owner: owner.clone(),
            reference: ObjectName::new::<K>(Some(ns), selector),
            source,
        })?;
    for item in listed {
        let name = item.name_any();
        match api.delete(&name, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(source) => {
                return Err(Error::Delete {
                    owner: owner.clone(),
                    object: ObjectName::new::<K>(Some(ns), &name),
                    source,
                });
            }
        }
    }
    Ok(())
}
