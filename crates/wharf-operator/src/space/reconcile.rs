//! One reconcile of one Space: its namespace, quota, limits, role bindings and
//! network policy; and, when it is deleted, draining its namespace.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::{Api, Client, ResourceExt};
use tracing::instrument;
use wharf_model::conditions::{ConditionUpdate, merge_conditions};
use wharf_model::space::build::{QUOTA_NAME, SpaceChildren, build};
use wharf_model::space::{Space, SpacePhase, SpaceStatus};

use crate::error::ObjectName;
use crate::kit::{self, ApplyError, Children, Problem};
use crate::{Context, Error};

/// Finalizer that holds a deleted Space until its namespace is gone, so its status
/// can say what is still draining.
const FINALIZER: &str = "wharf.dev/space-namespace";

/// How often an Active Space is looked at without a change.
const RESYNC: Duration = Duration::from_secs(300);

/// How soon a Space whose namespace someone else holds is looked at again.
const RETRY_TAKEN: Duration = Duration::from_secs(30);

kit::reported!(
    Space,
    status: SpaceStatus,
    phase: SpacePhase,
    warning: SpacePhase::Failed,
    written: |space: &Space| space.status.clone(),
    summary: |status: &SpaceStatus| kit::ready_message(&status.conditions),
);

/// Reconciles one Space.
#[instrument(skip_all, fields(space = %space.name_any()))]
pub async fn reconcile(space: Arc<Space>, ctx: Arc<Context>) -> Result<Action, Error> {
    let api = Api::<Space>::all(ctx.client.clone());
    let ctx = ctx.as_ref();
    kit::finalized(
        &api,
        FINALIZER,
        space,
        |space| async move { apply(&space, ctx).await },
        |space| async move { cleanup(&space, ctx).await },
    )
    .await
}

/// What the status says about the Space, besides its quota.
struct Observed<'a> {
    phase: SpacePhase,
    namespace: Option<&'a str>,
    ready: bool,
    reason: &'static str,
    message: String,
}

impl Observed<'_> {
    fn failed(problem: Problem) -> Self {
        Self {
            phase: SpacePhase::Failed,
            namespace: None,
            ready: false,
            reason: problem.reason,
            message: problem.message,
        }
    }
}

async fn apply(space: &Space, ctx: &Context) -> Result<Action, Error> {
    let children = Children::of(&ctx.client, space);
    let built: SpaceChildren = match build(space) {
        Ok(built) => built,
        Err(error) => {
            let observed = Observed::failed(Problem::new("InvalidSpace", error.to_string()));
            kit::report(ctx, space, &compute_status(space, observed, None)).await?;
            return Ok(Action::await_change());
        }
    };
    let ns = space.namespace_name();
    if let Some(existing) = read_namespace(&ctx.client, space, &ns).await?
        && !owned_by(&existing, space)
    {
        let observed = Observed::failed(Problem::new(
            "NamespaceTaken",
            format!(
                "namespace {ns} already exists and belongs to someone else; choose another spec.namespace"
            ),
        ));
        kit::report(ctx, space, &compute_status(space, observed, None)).await?;
        return Ok(Action::requeue(RETRY_TAKEN));
    }
    let quota = match apply_children(&children, &ctx.client, &ns, &built).await {
        Ok(quota) => quota,
        Err(ApplyError::Refused(problem)) => {
            kit::report(
                ctx,
                space,
                &compute_status(space, Observed::failed(problem), None),
            )
            .await?;
            return Ok(Action::requeue(RETRY_TAKEN));
        }
        Err(ApplyError::Failed(error)) => return Err(error),
    };
    let observed = Observed {
        phase: SpacePhase::Active,
        namespace: Some(&ns),
        ready: true,
        reason: "Ready",
        message: format!("namespace {ns} is ready"),
    };
    kit::report(ctx, space, &compute_status(space, observed, quota.as_ref())).await?;
    Ok(Action::requeue(RESYNC))
}

/// Applies the Space's children, removes those its spec no longer asks for, and
/// returns the quota as the API server has it (with its usage).
async fn apply_children(
    children: &Children<'_>,
    client: &Client,
    ns: &str,
    built: &SpaceChildren,
) -> Result<Option<ResourceQuota>, ApplyError> {
    children.apply(&built.namespace, None).await?;
    let quota = match &built.quota {
        Some(quota) => Some(children.apply(quota, None).await?),
        None => {
            remove::<ResourceQuota>(children, client, ns, QUOTA_NAME).await?;
            None
        }
    };
    match &built.limits {
        Some(limits) => drop(children.apply(limits, None).await?),
        None => remove::<LimitRange>(children, client, ns, "wharf-limits").await?,
    }
    for binding in &built.role_bindings {
        children.apply(binding, None).await?;
    }
    match &built.network_policy {
        Some(policy) => drop(children.apply(policy, None).await?),
        None => remove::<NetworkPolicy>(children, client, ns, "wharf-isolation").await?,
    }
    for role in &built.access_roles {
        children.apply(role, None).await?;
    }
    for binding in &built.access_bindings {
        children.apply(binding, None).await?;
    }
    Ok(quota)
}

/// Deletes the Space's `name` of kind `K` in `ns`, if it is there.
async fn remove<K>(
    children: &Children<'_>,
    client: &Client,
    ns: &str,
    name: &str,
) -> Result<(), Error>
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope> + kit::Child,
{
    kit::delete_if_exists(&Api::<K>::namespaced(client.clone(), ns), name)
        .await
        .map_err(|source| Error::Delete {
            owner: children.owner().clone(),
            object: ObjectName::new::<K>(Some(ns), name),
            source,
        })
}

async fn read_namespace(
    client: &Client,
    space: &Space,
    ns: &str,
) -> Result<Option<Namespace>, Error> {
    Api::<Namespace>::all(client.clone())
        .get_opt(ns)
        .await
        .map_err(|source| Error::ReadReference {
            owner: ObjectName::of(space),
            reference: ObjectName::new::<Namespace>(None, ns),
            source,
        })
}

/// Whether `namespace` belongs to `space` (so Wharf may change or delete it).
fn owned_by(namespace: &Namespace, space: &Space) -> bool {
    let uid = space.metadata.uid.as_deref();
    namespace
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| Some(o.uid.as_str()) == uid)
}

async fn cleanup(space: &Space, ctx: &Context) -> Result<Action, Error> {
    let ns = space.namespace_name();
    let Some(namespace) = read_namespace(&ctx.client, space, &ns).await? else {
        return Ok(Action::await_change());
    };
    if !owned_by(&namespace, space) {
        // Never delete a namespace this Space did not make.
        return Ok(Action::await_change());
    }
    if namespace.metadata.deletion_timestamp.is_none() {
        Children::of(&ctx.client, space).delete(&namespace).await?;
    }
    let blocking = namespace
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .map(|conditions| {
            conditions
                .iter()
                .filter(|c| c.status == "True" && c.type_ != "NamespaceDeletionDiscoveryFailure")
                .filter_map(|c| c.message.clone())
                .collect::<Vec<_>>()
                .join("; ")
        })
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| format!("namespace {ns} is being deleted"));
    let observed = Observed {
        phase: SpacePhase::Terminating,
        namespace: Some(&ns),
        ready: false,
        reason: "Draining",
        message: blocking.clone(),
    };
    let mut status = compute_status(space, observed, None);
    status.blocking = Some(blocking.clone());
    kit::report(ctx, space, &status).await?;
    // An error keeps the finalizer; the kit looks again shortly.
    Err(Error::NamespaceDraining {
        owner: ObjectName::of(space),
        namespace: ns,
        blocking,
    })
}

fn quantities(
    map: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> BTreeMap<String, String> {
    map.map(|m| m.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
        .unwrap_or_default()
}

fn compute_status(
    space: &Space,
    observed: Observed<'_>,
    quota: Option<&ResourceQuota>,
) -> SpaceStatus {
    let previous = space.status.clone().unwrap_or_default();
    let generation = space.metadata.generation;
    SpaceStatus {
        phase: Some(observed.phase),
        namespace: observed.namespace.map(str::to_owned),
        conditions: merge_conditions(
            &previous.conditions,
            vec![ConditionUpdate::new(
                "Ready",
                observed.ready,
                observed.reason,
                observed.message,
            )],
            generation,
            Timestamp::now(),
        ),
        quota_hard: quantities(quota.and_then(|q| q.status.as_ref()?.hard.as_ref())),
        quota_used: quantities(quota.and_then(|q| q.status.as_ref()?.used.as_ref())),
        blocking: None,
        observed_generation: generation,
    }
}
