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
use kube::{Api, ResourceExt};
use tracing::instrument;
use wharf_model::runtime::build::access::{self, ServiceAccountRef};
use wharf_model::runtime::build::{self, Cluster, Engine, EngineChildren, RUNTIME_LABEL};
use wharf_model::runtime::{DeletionPolicy, EngineStatus, Runtime, RuntimePhase, RuntimeStatus};

use super::status::{EngineObserved, Observed, compute, job_succeeded};
use super::{cnpg, credentials};
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
    let ctx = ctx.as_ref();
    kit::finalized(
        &api,
        FINALIZER,
        runtime,
        |runtime| async move { apply(&runtime, ctx).await },
        |runtime| async move { cleanup(&runtime, ctx).await },
    )
    .await
}

async fn apply(runtime: &Runtime, ctx: &Context) -> Result<Action, Error> {
    let cluster = Cluster {
        cloudnative_pg: cnpg::runs_postgres(ctx, runtime).await?,
    };
    let mut credentials = BTreeMap::new();
    for (engine, _) in build::engines(runtime) {
        // CloudNativePG makes PostgreSQL's own.
        if cluster.cloudnative_pg && engine == Engine::Postgres {
            continue;
        }
        credentials.insert(
            engine,
            credentials::ensure(&ctx.client, runtime, engine).await?,
        );
    }
    let built = match build::build(runtime, &credentials, cluster) {
        Ok(built) => built,
        Err(error) => {
            let observed = Observed::failed(Problem::new("InvalidSpec", error.to_string()));
            kit::report(ctx, runtime, &compute(runtime, &observed)).await?;
            return Ok(Action::await_change());
        }
    };
    let children = Children::of(&ctx.client, runtime);
    if let Some(reader) = &ctx.config.credentials_reader {
        grant_credentials_read(&children, runtime, reader).await?;
    }
    let mut engines = Vec::new();
    let previous = runtime.status.as_ref().map(|s| &s.engines);
    for engine in &built {
        let last = previous.and_then(|p| p.get(engine.engine.name()));
        match apply_engine(ctx, &children, engine, last).await {
            Ok(observed) => engines.push(observed),
            Err(ApplyError::Refused(problem)) => {
                kit::report(ctx, runtime, &compute(runtime, &Observed::failed(problem))).await?;
                return Ok(Action::requeue(WHILE_STARTING));
            }
            Err(ApplyError::Failed(error)) => return Err(error),
        }
    }
    if cluster.cloudnative_pg {
        match cnpg::apply(ctx, &children, runtime).await {
            Ok(observed) => engines.extend(observed),
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

/// Lets the API server `get` this Runtime's binding Secrets (and no others):
/// a Role and RoleBinding the Runtime owns.
async fn grant_credentials_read(
    children: &Children<'_>,
    runtime: &Runtime,
    reader: &ServiceAccountRef,
) -> Result<(), Error> {
    // The Runtime was read from the API server, so its metadata is there.
    let Ok((role, binding)) = access::credentials_reader(runtime, reader) else {
        return Ok(());
    };
    let granted = match children.apply(&role, None).await {
        Ok(_) => children.apply(&binding, None).await.map(|_| ()),
        Err(error) => Err(error),
    };
    match granted {
        Ok(()) => Ok(()),
        Err(ApplyError::Failed(error)) => Err(error),
        // The operator's own role lacks what it would grant: the Runtime still
        // works, the API's credentials read answers 403, and the log says why.
        Err(ApplyError::Refused(problem)) => {
            tracing::warn!(
                reason = problem.reason,
                message = %problem.message,
                "could not grant the API server the Runtime's credentials read"
            );
            Ok(())
        }
    }
}

/// Applies one engine's children; returns them with the StatefulSet and the
/// bootstrap Job as the API server has them.
async fn apply_engine(
    ctx: &Context,
    children: &Children<'_>,
    engine: &EngineChildren,
    previous: Option<&EngineStatus>,
) -> Result<EngineObserved, ApplyError> {
    // What the members mount exists before they start.
    children.apply(&engine.config, None).await?;
    children.apply(&engine.binding, None).await?;
    children.apply(&engine.headless, None).await?;
    children.apply(&engine.client, None).await?;
    for service in &engine.services {
        children.apply(service, None).await?;
    }
    let bootstrap: Option<Job> = match &engine.bootstrap {
        Some(job) => Some(children.create_once(job).await?),
        None => None,
    };
    let mut desired = engine.stateful_set.clone();
    let shrinking_to = match &bootstrap {
        Some(job) => hold_members(ctx, children, &mut desired, job).await?,
        None => None,
    };
    if let Some(job) = &bootstrap
        && job_succeeded(job)
        && !settled(previous, &desired)
    {
        remove_superseded(ctx, children, engine).await?;
    }
    let set: StatefulSet = children.apply(&desired, None).await?;
    Ok(EngineObserved::members(
        engine,
        &set,
        bootstrap.as_ref(),
        shrinking_to,
    ))
}

/// Whether the last status already reported the engine ready with these
/// members: then nothing was superseded since.
fn settled(previous: Option<&EngineStatus>, desired: &StatefulSet) -> bool {
    let members = desired.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    previous.is_some_and(|p| p.ready && p.replicas == members)
}

/// Deletes the bootstrap Jobs of the engine's other memberships once the current
/// one has run: a later return to one of them must run its Job again.
async fn remove_superseded(
    ctx: &Context,
    children: &Children<'_>,
    engine: &EngineChildren,
) -> Result<(), ApplyError> {
    let ns = engine.stateful_set.namespace().unwrap_or_default();
    let jobs = Api::<Job>::namespaced(ctx.client.clone(), &ns);
    for name in &engine.superseded_bootstraps {
        kit::delete_if_exists(&jobs, name).await.map_err(|source| {
            ApplyError::Failed(Error::Delete {
                owner: children.owner().clone(),
                object: ObjectName::new::<Job>(Some(&ns), name),
                source,
            })
        })?;
    }
    Ok(())
}

/// Members leave a replica set before their pods stop: while the bootstrap Job
/// that reconfigures it without them has not succeeded, `desired` keeps the
/// members the StatefulSet has (stopping two of three members first would take
/// the majority a reconfiguration needs). Returns the member count being
/// shrunk to while it holds.
async fn hold_members(
    ctx: &Context,
    children: &Children<'_>,
    desired: &mut StatefulSet,
    bootstrap: &Job,
) -> Result<Option<i32>, ApplyError> {
    let wanted = desired.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    if job_succeeded(bootstrap) {
        return Ok(None);
    }
    let name = desired.name_any();
    let ns = desired.namespace().unwrap_or_default();
    let current = Api::<StatefulSet>::namespaced(ctx.client.clone(), &ns)
        .get_opt(&name)
        .await
        .map_err(|source| {
            ApplyError::Failed(Error::ReadReference {
                owner: children.owner().clone(),
                reference: ObjectName::new::<StatefulSet>(Some(&ns), &name),
                source,
            })
        })?
        .and_then(|set| set.spec.and_then(|s| s.replicas))
        .unwrap_or(0);
    if current <= wanted {
        return Ok(None);
    }
    if let Some(spec) = desired.spec.as_mut() {
        spec.replicas = Some(current);
    }
    Ok(Some(wanted))
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
    if cnpg::runs_postgres(ctx, runtime).await? {
        cnpg::on_deletion(ctx, runtime).await?;
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
