//! One reconcile of one RuntimeVersion: wait for its Runtime, apply each node's
//! Deployment (and files), make the stream on the Runtime's NATS, settle the
//! publication, and report; on deletion, remove the stream and withdraw the
//! publication.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Service};
use kube::api::ListParams;
use kube::runtime::controller::Action;
use kube::{Api, ResourceExt};
use tracing::instrument;
use wharf_model::runtime::Runtime;
use wharf_model::runtime::binding_env::{RuntimeEngine, RuntimeRef};
use wharf_model::runtime_version::build::{self, NODE_LABEL, RuntimeFacts, VERSION_LABEL};
use wharf_model::runtime_version::{
    RuntimeVersion, RuntimeVersionStatus, StreamStatus, VersionPhase, VersionState,
};

use super::publish;
use super::status::{Observed, compute, entrypoint_status, node_status};
use super::stream;
use crate::error::ObjectName;
use crate::kit::{self, ApplyError, Children, Problem};
use crate::workload::runtime::{RuntimeState, state};
use crate::{Context, Error};

/// Holds a deleted version until its stream is removed from the Runtime's NATS.
const FINALIZER: &str = "wharf.dev/runtime-version-stream";

/// How often a version in its asked-for state is looked at without a change.
const RESYNC: Duration = Duration::from_secs(300);

/// How soon a version whose Runtime or pods are not ready is looked at again.
const WHILE_STARTING: Duration = Duration::from_secs(5);

kit::reported!(
    RuntimeVersion,
    status: RuntimeVersionStatus,
    phase: VersionPhase,
    warning: VersionPhase::Failed,
    initial: VersionPhase::Pending,
    written: |version: &RuntimeVersion| version.status.clone(),
    summary: |status: &RuntimeVersionStatus| kit::ready_message(&status.conditions),
);

/// Reconciles one RuntimeVersion.
#[instrument(skip_all, fields(version = %version.name_any()))]
pub async fn reconcile(version: Arc<RuntimeVersion>, ctx: Arc<Context>) -> Result<Action, Error> {
    let api = Api::<RuntimeVersion>::namespaced(
        ctx.client.clone(),
        &version.namespace().unwrap_or_default(),
    );
    let ctx = ctx.as_ref();
    kit::finalized(
        &api,
        FINALIZER,
        version,
        |version| async move { apply(&version, ctx).await },
        |version| async move { cleanup(&version, ctx).await },
    )
    .await
}

async fn apply(version: &RuntimeVersion, ctx: &Context) -> Result<Action, Error> {
    let namespace = version.namespace().unwrap_or_default();
    let owner = ObjectName::of(version);
    let runtime_name = &version.spec.runtime;
    let reference = RuntimeRef {
        name: runtime_name.clone(),
        engines: vec![RuntimeEngine::Nats],
    };
    let engines = match state(&ctx.client, &owner, &namespace, &reference, "the version").await? {
        RuntimeState::Ready(engines) => engines,
        RuntimeState::Waiting(problem) => {
            let status = compute(version, Observed::Waiting(problem));
            kit::report(ctx, version, &status).await?;
            return Ok(Action::requeue(WHILE_STARTING));
        }
    };
    let built = match build::build(version, &RuntimeFacts { engines }) {
        Ok(built) => built,
        Err(error) => {
            let problem = Problem::new("InvalidSpec", error.to_string());
            kit::report(ctx, version, &compute(version, Observed::Failed(problem))).await?;
            return Ok(Action::await_change());
        }
    };

    let children = Children::of(&ctx.client, version);
    let (deployments, entrypoint) = match apply_all(&children, &built).await {
        Ok(applied) => applied,
        Err(ApplyError::Refused(problem)) => {
            kit::report(ctx, version, &compute(version, Observed::Failed(problem))).await?;
            return Ok(Action::requeue(WHILE_STARTING));
        }
        Err(ApplyError::Failed(error)) => return Err(error),
    };
    remove_unwanted(ctx, version, &children, &built).await?;

    let runtime = Api::<Runtime>::namespaced(ctx.client.clone(), &namespace)
        .get(runtime_name)
        .await
        .map_err(|source| Error::ReadReference {
            owner: owner.clone(),
            reference: ObjectName::new::<Runtime>(Some(&namespace), runtime_name),
            source,
        })?;
    let stream = make_stream(ctx, &owner, &namespace, &runtime, &built.stream).await?;
    let publication = publish::settle(ctx, version, &runtime).await?;

    let all: Vec<&Deployment> = deployments.iter().chain(&entrypoint).collect();
    let problems = pod_problems(ctx, version, &all).await?;
    let nodes = built
        .nodes
        .iter()
        .zip(&deployments)
        .map(|(node, deployment)| {
            let name = deployment.metadata.name.clone().unwrap_or_default();
            node_status(node, deployment, problems.get(&name).cloned())
        })
        .collect();
    let entrypoint = entrypoint.as_ref().map(|deployment| {
        let name = deployment.metadata.name.clone().unwrap_or_default();
        entrypoint_status(deployment, problems.get(&name).cloned())
    });
    let status = compute(
        version,
        Observed::Made {
            nodes,
            entrypoint,
            stream,
            publication,
        },
    );
    let settled = status
        .conditions
        .iter()
        .any(|c| c.type_ == "Ready" && c.status == "True");
    kit::report(ctx, version, &status).await?;
    Ok(Action::requeue(if settled {
        RESYNC
    } else {
        WHILE_STARTING
    }))
}

/// Applies every node's files and Deployment, then the entrypoint's Service
/// and Deployment; returns the Deployments (the nodes' in order).
async fn apply_all(
    children: &Children<'_>,
    built: &build::Built,
) -> Result<(Vec<Deployment>, Option<Deployment>), ApplyError> {
    let mut deployments = Vec::with_capacity(built.nodes.len());
    for node in &built.nodes {
        if let Some(files) = &node.files {
            children.apply(files, None).await?;
        }
        deployments.push(children.apply(&node.deployment, None).await?);
    }
    let mut entrypoint = None;
    if let Some(front) = &built.entrypoint {
        children.apply(&front.service, None).await?;
        entrypoint = Some(children.apply(&front.deployment, None).await?);
    }
    Ok((deployments, entrypoint))
}

/// Deletes the Deployments and ConfigMaps of nodes the version no longer has.
async fn remove_unwanted(
    ctx: &Context,
    version: &RuntimeVersion,
    children: &Children<'_>,
    built: &build::Built,
) -> Result<(), Error> {
    let mut wanted: BTreeSet<String> = built
        .nodes
        .iter()
        .flat_map(|n| {
            [
                n.deployment.metadata.name.clone(),
                n.files.as_ref().and_then(|f| f.metadata.name.clone()),
            ]
        })
        .flatten()
        .collect();
    if let Some(front) = &built.entrypoint {
        wanted.extend(front.deployment.metadata.name.clone());
    }
    let namespace = version.namespace().unwrap_or_default();
    let selector = format!("{VERSION_LABEL}={}", version.name_any());
    let uid = version.uid().unwrap_or_default();
    let listed = |error| Error::ReadReference {
        owner: children.owner().clone(),
        reference: ObjectName::new::<Deployment>(Some(&namespace), &selector),
        source: error,
    };
    let params = ListParams::default().labels(&selector);
    let deployments = Api::<Deployment>::namespaced(ctx.client.clone(), &namespace)
        .list(&params)
        .await
        .map_err(listed)?;
    for old in deployments
        .items
        .iter()
        .filter(|d| unwanted(*d, &wanted, &uid))
    {
        children.delete(old).await?;
    }
    let config_maps = Api::<ConfigMap>::namespaced(ctx.client.clone(), &namespace)
        .list(&params)
        .await
        .map_err(listed)?;
    for old in config_maps
        .items
        .iter()
        .filter(|c| unwanted(*c, &wanted, &uid))
    {
        children.delete(old).await?;
    }
    let services = Api::<Service>::namespaced(ctx.client.clone(), &namespace)
        .list(&params)
        .await
        .map_err(listed)?;
    for old in services
        .items
        .iter()
        .filter(|s| unwanted(*s, &wanted, &uid))
    {
        children.delete(old).await?;
    }
    Ok(())
}

/// Whether `child` is this version's (by UID) and no longer wanted.
fn unwanted<K: ResourceExt>(child: &K, wanted: &BTreeSet<String>, uid: &str) -> bool {
    !wanted.contains(&child.name_any()) && child.owner_references().iter().any(|o| o.uid == uid)
}

/// Makes the stream and says how it went.
async fn make_stream(
    ctx: &Context,
    owner: &ObjectName,
    namespace: &str,
    runtime: &Runtime,
    plan: &build::StreamPlan,
) -> Result<StreamStatus, Error> {
    let mut status = StreamStatus {
        name: plan.name.clone(),
        subjects: plan.subjects.clone(),
        ready: false,
        message: None,
    };
    let access = stream::access(
        &ctx.client,
        owner,
        namespace,
        &runtime.name_any(),
        &ctx.config.host_aliases,
    )
    .await?;
    let Some(access) = access else {
        status.message = Some(format!(
            "Runtime {}'s NATS binding Secret has no server, username or password yet",
            runtime.name_any()
        ));
        return Ok(status);
    };
    let replicas = runtime.spec.nats.as_ref().map_or(1, |n| n.replicas.max(1));
    match stream::ensure(&access, plan, usize::try_from(replicas).unwrap_or(1)).await {
        Ok(()) => status.ready = true,
        Err(message) => status.message = Some(message),
    }
    Ok(status)
}

/// Why pods of nodes that are not ready cannot start (an image that cannot be
/// pulled, a container that keeps crashing), by Deployment name. Pods are only
/// listed when some node is short of ready pods.
async fn pod_problems(
    ctx: &Context,
    version: &RuntimeVersion,
    deployments: &[&Deployment],
) -> Result<BTreeMap<String, String>, Error> {
    let short = deployments.iter().any(|d| {
        let wanted = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(0);
        let ready = d
            .status
            .as_ref()
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0);
        wanted > ready
    });
    if !short {
        return Ok(BTreeMap::new());
    }
    let namespace = version.namespace().unwrap_or_default();
    let selector = format!("{VERSION_LABEL}={}", version.name_any());
    let pods = Api::<Pod>::namespaced(ctx.client.clone(), &namespace)
        .list(&ListParams::default().labels(&selector))
        .await
        .map_err(|source| Error::ReadReference {
            owner: ObjectName::of(version),
            reference: ObjectName::new::<Pod>(Some(&namespace), &selector),
            source,
        })?;
    let mut problems = BTreeMap::new();
    for pod in &pods.items {
        let Some(node) = pod.labels().get(NODE_LABEL) else {
            continue;
        };
        let waiting = pod
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .into_iter()
            .flatten()
            .filter_map(|c| c.state.as_ref()?.waiting.as_ref())
            .find(|w| {
                matches!(
                    w.reason.as_deref(),
                    Some(
                        "ErrImagePull"
                            | "ImagePullBackOff"
                            | "InvalidImageName"
                            | "CrashLoopBackOff"
                            | "CreateContainerConfigError"
                    )
                )
            });
        // A pod no node can take (e.g. one asking for a GPU none has).
        let unschedulable = pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .into_iter()
            .flatten()
            .find(|c| {
                c.type_ == "PodScheduled"
                    && c.status == "False"
                    && c.reason.as_deref() == Some("Unschedulable")
            });
        if let Some(condition) = unschedulable {
            let message = condition.message.clone().unwrap_or_default();
            problems.insert(
                node.clone(),
                format!("Unschedulable: {message}")
                    .trim_end_matches([':', ' '])
                    .to_owned(),
            );
        } else if let Some(waiting) = waiting {
            let reason = waiting.reason.clone().unwrap_or_default();
            let message = waiting.message.clone().unwrap_or_default();
            problems.insert(
                node.clone(),
                format!("{reason}: {message}")
                    .trim_end_matches([':', ' '])
                    .to_owned(),
            );
        }
    }
    Ok(problems)
}

/// On deletion: withdraw the publication and remove the stream, unless the
/// Runtime (and with it its NATS) is gone or going.
async fn cleanup(version: &RuntimeVersion, ctx: &Context) -> Result<Action, Error> {
    let namespace = version.namespace().unwrap_or_default();
    let owner = ObjectName::of(version);
    let runtime = Api::<Runtime>::namespaced(ctx.client.clone(), &namespace)
        .get_opt(&version.spec.runtime)
        .await
        .map_err(|source| Error::ReadReference {
            owner: owner.clone(),
            reference: ObjectName::new::<Runtime>(Some(&namespace), &version.spec.runtime),
            source,
        })?;
    let Some(runtime) = runtime.filter(|r| r.metadata.deletion_timestamp.is_none()) else {
        return Ok(Action::await_change());
    };
    let mut withdrawn = version.clone();
    withdrawn.spec.state = VersionState::Stopped;
    publish::settle(ctx, &withdrawn, &runtime).await?;
    let access = stream::access(
        &ctx.client,
        &owner,
        &namespace,
        &runtime.name_any(),
        &ctx.config.host_aliases,
    )
    .await?;
    if let Some(access) = access {
        let name = wharf_model::runtime_version::subjects::stream_name(&version.name_any());
        stream::remove(&access, &name)
            .await
            .map_err(|message| Error::RemoveStream { owner, message })?;
    }
    Ok(Action::await_change())
}
