//! A Runtime's PostgreSQL through CloudNativePG (see
//! [`wharf_model::runtime::build::cnpg`]): whether CNPG runs it, its `Cluster`
//! applied, the binding mapped from CNPG's app Secret, and what deleting the
//! Runtime does to the `Cluster`.

use k8s_openapi::api::core::v1::Secret;
use kube::api::{DeleteParams, DynamicObject, Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;
use wharf_model::FIELD_MANAGER;
use wharf_model::runtime::build::cnpg::{self, ClusterState, HIBERNATION_ANNOTATION};
use wharf_model::runtime::build::{Engine, Names};
use wharf_model::runtime::{DeletionPolicy, Runtime};

use super::status::{CNPG_PROVIDER, EngineObserved};
use crate::error::ObjectName;
use crate::kit::{ApplyError, Children, Problem};
use crate::{Context, Error};

/// Whether CNPG runs `runtime`'s PostgreSQL. The first choice is kept (the
/// status records it): an engine with data never changes hands. A new engine
/// goes to CNPG when the operator may delegate and the cluster serves CNPG's
/// `Cluster` kind.
pub async fn runs_postgres(ctx: &Context, runtime: &Runtime) -> Result<bool, Error> {
    if runtime.spec.postgres.is_none() {
        return Ok(false);
    }
    let chosen = runtime
        .status
        .as_ref()
        .and_then(|s| s.engines.get(Engine::Postgres.name()))
        .and_then(|e| e.provider.clone());
    match chosen {
        Some(provider) => Ok(provider == CNPG_PROVIDER),
        None if !ctx.config.cloudnative_pg => Ok(false),
        None => served(ctx, runtime).await,
    }
}

/// Whether the API server serves CNPG's `Cluster` kind (one discovery read).
async fn served(ctx: &Context, runtime: &Runtime) -> Result<bool, Error> {
    let group_version = format!("{}/{}", cnpg::GROUP, cnpg::VERSION);
    match ctx.client.list_api_group_resources(&group_version).await {
        Ok(list) => Ok(list.resources.iter().any(|r| r.name == cnpg::PLURAL)),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(false),
        Err(source) => Err(Error::ReadReference {
            owner: ObjectName::of(runtime),
            reference: ObjectName {
                kind: "APIResourceList",
                namespace: None,
                name: group_version,
            },
            source,
        }),
    }
}

fn clusters(ctx: &Context, ns: &str) -> Api<DynamicObject> {
    Api::namespaced_with(ctx.client.clone(), ns, &cnpg::api_resource())
}

/// Applies the `Cluster`, and the binding once CNPG has made its app Secret.
pub async fn apply(
    ctx: &Context,
    children: &Children<'_>,
    runtime: &Runtime,
) -> Result<Option<EngineObserved>, ApplyError> {
    let invalid = |e: wharf_model::runtime::build::BuildError| {
        ApplyError::Refused(Problem::new("InvalidSpec", e.to_string()))
    };
    let Some(desired) = cnpg::cluster(runtime).map_err(invalid)? else {
        return Ok(None);
    };
    let ns = runtime.namespace().unwrap_or_default();
    let name = desired.name_any();
    let object = |name: &str| ObjectName {
        kind: cnpg::KIND,
        namespace: Some(ns.clone()),
        name: name.to_owned(),
    };
    let cluster = clusters(ctx, &ns)
        .patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&desired),
        )
        .await
        .map_err(|source| match source {
            // CNPG's schema refused what the Runtime asks for: the user's to fix.
            kube::Error::Api(status) if status.code == 422 => ApplyError::Refused(Problem::new(
                "Invalid",
                format!(
                    "CloudNativePG refused the Cluster {name}: {}",
                    status.message
                ),
            )),
            source => ApplyError::Failed(Error::CreateChild {
                owner: children.owner().clone(),
                child: object(&name),
                source,
            }),
        })?;
    let wanted = runtime.spec.postgres.as_ref().map_or(1, |p| p.replicas);
    let state = ClusterState::of(&cluster);

    let app_name = cnpg::app_secret_name(&runtime.name_any());
    let app = Api::<Secret>::namespaced(ctx.client.clone(), &ns)
        .get_opt(&app_name)
        .await
        .map_err(|source| {
            ApplyError::Failed(Error::ReadReference {
                owner: children.owner().clone(),
                reference: ObjectName::new::<Secret>(Some(&ns), &app_name),
                source,
            })
        })?;
    let bound = match &app {
        Some(app) => {
            let binding = cnpg::binding(runtime, app).map_err(invalid)?;
            children.apply(&binding, None).await?;
            true
        }
        None => false,
    };

    let waiting_on = if !bound {
        Some(format!(
            "waiting for CloudNativePG to make the app Secret {app_name}"
        ))
    } else if !state.healthy(wanted) {
        Some(format!(
            "CloudNativePG says: {}",
            if state.phase.is_empty() {
                "nothing yet (is its operator running?)"
            } else {
                &state.phase
            }
        ))
    } else {
        None
    };
    Ok(Some(EngineObserved {
        engine: Engine::Postgres,
        provider: CNPG_PROVIDER,
        binding: Names::of(&runtime.name_any(), Engine::Postgres).binding,
        endpoint: format!("{name}-rw.{ns}.svc:5432"),
        image: state.image.clone(),
        replicas: wanted,
        ready_replicas: state.ready_instances,
        initialized: bound,
        shrinking_to: None,
        waiting_on,
        note: Some(format!(
            "run by CloudNativePG (Cluster {name}): failover, backups and upgrades are its own; primary {}",
            if state.primary.is_empty() {
                "not elected yet"
            } else {
                &state.primary
            }
        )),
    }))
}

/// What deleting the Runtime does to its `Cluster`: `Delete` deletes it (CNPG's
/// volumes and app Secret go with it); `Retain` hibernates it (CNPG stops the
/// pods and keeps the volumes; a Runtime of the same name wakes it up).
pub async fn on_deletion(ctx: &Context, runtime: &Runtime) -> Result<(), Error> {
    let ns = runtime.namespace().unwrap_or_default();
    let name = Names::of(&runtime.name_any(), Engine::Postgres).base;
    let api = clusters(ctx, &ns);
    let owner = ObjectName::of(runtime);
    let object = ObjectName {
        kind: cnpg::KIND,
        namespace: Some(ns.clone()),
        name: name.clone(),
    };
    let result = match runtime.spec.deletion_policy {
        DeletionPolicy::Delete => api
            .delete(&name, &DeleteParams::background())
            .await
            .map(|_| ()),
        // A merge patch, not an apply: Wharf's applied fields stay as they are,
        // and the next apply's `off` takes the annotation back.
        _ => api
            .patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "metadata": { "annotations": {
                    HIBERNATION_ANNOTATION: "on"
                } } })),
            )
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(source) => Err(Error::Delete {
            owner,
            object,
            source,
        }),
    }
}
