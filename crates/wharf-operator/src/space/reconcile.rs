//! One reconcile of one Space.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::core::v1::{LimitRange, Namespace, ResourceQuota};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::jiff::Timestamp;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::finalizer::{Event as Finalizer, finalizer};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use tracing::instrument;
use wharf_model::FIELD_MANAGER;
use wharf_model::conditions::{ConditionUpdate, merge_conditions};
use wharf_model::space::build::{QUOTA_NAME, SpaceChildren, build};
use wharf_model::space::{Space, SpaceStatus};

use crate::{Context, Error};

const KIND: &str = "Space";
/// Finalizer that holds a deleted Space until its namespace is gone, so its status
/// can say what is still draining.
const FINALIZER: &str = "wharf.dev/space-namespace";

/// Reconciles one Space.
#[instrument(skip_all, fields(space = %guard.name_any()))]
pub async fn reconcile(
    guard: Arc<DeserializeGuard<Space>>,
    ctx: Arc<Context>,
) -> Result<Action, Error> {
    let started = Instant::now();
    let Ok(space) = &guard.0 else {
        tracing::warn!("Space cannot be read; skipped until it changes");
        return Ok(Action::await_change());
    };
    let api = Api::<Space>::all(ctx.client.clone());
    let result = finalizer(&api, FINALIZER, Arc::new(space.clone()), |event| async {
        match event {
            Finalizer::Apply(space) => apply(&space, &ctx).await,
            Finalizer::Cleanup(space) => cleanup(&space, &ctx).await,
        }
    })
    .await
    .map_err(|error| match error {
        kube::runtime::finalizer::Error::ApplyFailed(e)
        | kube::runtime::finalizer::Error::CleanupFailed(e) => e,
        kube::runtime::finalizer::Error::AddFinalizer(e)
        | kube::runtime::finalizer::Error::RemoveFinalizer(e) => Error::Kube(e),
        other => Error::Kube(kube::Error::Service(other.to_string().into())),
    });
    ctx.metrics.reconciled(KIND, started.elapsed());
    result
}

/// Records a failed reconcile and retries it soon (also how a draining namespace
/// is waited for).
pub fn error_policy(
    _guard: Arc<DeserializeGuard<Space>>,
    error: &Error,
    ctx: Arc<Context>,
) -> Action {
    tracing::debug!(%error, "Space reconcile not finished; retrying");
    ctx.metrics.failed(KIND, error.metric_label());
    Action::requeue(Duration::from_secs(2))
}

async fn ssa<K>(api: Api<K>, object: &K) -> Result<K, Error>
where
    K: Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + std::fmt::Debug,
{
    let (name, value) = crate::apply::apply_body(object)?;
    Ok(api
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(value),
        )
        .await?)
}

async fn apply_or_remove<K>(
    client: &Client,
    ns: &str,
    name: &str,
    object: Option<&K>,
) -> Result<Option<K>, Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Serialize
        + DeserializeOwned
        + std::fmt::Debug,
{
    let api = Api::<K>::namespaced(client.clone(), ns);
    match object {
        Some(object) => Ok(Some(ssa(api, object).await?)),
        None => match api.delete(name, &DeleteParams::background()).await {
            Ok(_) => Ok(None),
            Err(kube::Error::Api(status)) if status.code == 404 => Ok(None),
            Err(error) => Err(error.into()),
        },
    }
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

async fn apply(space: &Space, ctx: &Context) -> Result<Action, Error> {
    let client = &ctx.client;
    let children: SpaceChildren = match build(space) {
        Ok(children) => children,
        Err(error) => {
            write_status(
                client,
                space,
                "Failed",
                None,
                false,
                "InvalidSpace",
                &error.to_string(),
                None,
            )
            .await?;
            return Ok(Action::await_change());
        }
    };
    let ns = space.namespace_name();
    let namespaces = Api::<Namespace>::all(client.clone());
    if let Some(existing) = namespaces.get_opt(&ns).await?
        && !owned_by(&existing, space)
    {
        let message = format!(
            "namespace {ns} already exists and belongs to someone else; choose another spec.namespace"
        );
        write_status(
            client,
            space,
            "Failed",
            None,
            false,
            "NamespaceTaken",
            &message,
            None,
        )
        .await?;
        return Ok(Action::requeue(Duration::from_secs(30)));
    }
    ssa(namespaces, &children.namespace).await?;
    let quota = apply_or_remove(client, &ns, QUOTA_NAME, children.quota.as_ref()).await?;
    apply_or_remove::<LimitRange>(client, &ns, "wharf-limits", children.limits.as_ref()).await?;
    for binding in &children.role_bindings {
        ssa(Api::namespaced(client.clone(), &ns), binding).await?;
    }
    apply_or_remove::<NetworkPolicy>(
        client,
        &ns,
        "wharf-isolation",
        children.network_policy.as_ref(),
    )
    .await?;
    for role in &children.access_roles {
        ssa(Api::all(client.clone()), role).await?;
    }
    for binding in &children.access_bindings {
        ssa(Api::all(client.clone()), binding).await?;
    }
    write_status(
        client,
        space,
        "Active",
        Some(&ns),
        true,
        "Ready",
        &format!("namespace {ns} is ready"),
        quota.as_ref(),
    )
    .await?;
    Ok(Action::requeue(Duration::from_secs(300)))
}

async fn cleanup(space: &Space, ctx: &Context) -> Result<Action, Error> {
    let client = &ctx.client;
    let ns = space.namespace_name();
    let namespaces = Api::<Namespace>::all(client.clone());
    let Some(namespace) = namespaces.get_opt(&ns).await? else {
        return Ok(Action::await_change());
    };
    if !owned_by(&namespace, space) {
        // Never delete a namespace this Space did not make.
        return Ok(Action::await_change());
    }
    if namespace.metadata.deletion_timestamp.is_none() {
        match namespaces.delete(&ns, &DeleteParams::background()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {
                return Ok(Action::await_change());
            }
            Err(error) => return Err(error.into()),
        }
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
    let mut status = compute_status(
        space,
        "Terminating",
        Some(&ns),
        false,
        "Draining",
        &blocking,
        None,
    );
    status.blocking = Some(blocking.clone());
    patch_status(client, space, &status).await?;
    // Returning an error keeps the finalizer and retries shortly.
    Err(Error::Kube(kube::Error::Service(
        format!("waiting for namespace {ns}: {blocking}").into(),
    )))
}

fn quantities(
    map: Option<&BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>>,
) -> BTreeMap<String, String> {
    map.map(|m| m.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect())
        .unwrap_or_default()
}

#[allow(
    clippy::too_many_arguments,
    reason = "each argument is one part of the status"
)]
fn compute_status(
    space: &Space,
    phase: &str,
    namespace: Option<&str>,
    ready: bool,
    reason: &str,
    message: &str,
    quota: Option<&ResourceQuota>,
) -> SpaceStatus {
    let previous = space.status.clone().unwrap_or_default();
    let generation = space.metadata.generation;
    SpaceStatus {
        phase: Some(phase.to_owned()),
        namespace: namespace.map(str::to_owned),
        conditions: merge_conditions(
            &previous.conditions,
            vec![ConditionUpdate::new("Ready", ready, reason, message)],
            generation,
            Timestamp::now(),
        ),
        quota_hard: quantities(quota.and_then(|q| q.status.as_ref()?.hard.as_ref())),
        quota_used: quantities(quota.and_then(|q| q.status.as_ref()?.used.as_ref())),
        blocking: None,
        observed_generation: generation,
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "each argument is one part of the status"
)]
async fn write_status(
    client: &Client,
    space: &Space,
    phase: &str,
    namespace: Option<&str>,
    ready: bool,
    reason: &str,
    message: &str,
    quota: Option<&ResourceQuota>,
) -> Result<(), Error> {
    let status = compute_status(space, phase, namespace, ready, reason, message, quota);
    patch_status(client, space, &status).await
}

async fn patch_status(client: &Client, space: &Space, status: &SpaceStatus) -> Result<(), Error> {
    if space.status.as_ref() == Some(status) {
        return Ok(());
    }
    let body = json!({ "apiVersion": "wharf.dev/v1alpha1", "kind": "Space", "status": status });
    Api::<Space>::all(client.clone())
        .patch_status(
            &space.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(body),
        )
        .await?;
    Ok(())
}
