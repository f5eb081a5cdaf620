//! One published version per Runtime. The Runtime's `wharf.dev/published-version`
//! annotation names it, so switching is one write; the versions that also say
//! `Published` but lost are moved to `Started`.
//!
//! When two versions say `Published`, the later request wins: each version
//! records in its status when the operator first saw it asked to publish, and
//! one not yet recorded is the newest of all. Every reconcile computes the same
//! winner from the same facts, so two reconciles never take turns.

use k8s_openapi::api::networking::v1::Ingress;
use k8s_openapi::jiff::Timestamp;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, ResourceExt};
use serde_json::json;
use wharf_model::runtime::Runtime;
use wharf_model::runtime::build::RUNTIME_LABEL;
use wharf_model::runtime_version::build::entrypoint;
use wharf_model::runtime_version::{PUBLISHED_ANNOTATION, RuntimeVersion, VersionState};
use wharf_model::workload::ChildMeta;

use crate::Context;
use crate::error::{Error, ObjectName};
use crate::kit::{ApplyError, Children};

/// The field manager of the publication's writes (the Runtime's annotation,
/// a demoted version's state), apart from Wharf's applies.
const MANAGER: &str = "wharf-publish";

/// Where a version stands in its Runtime's publication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Publication {
    /// The Runtime's published version is this one; what serves it, in words.
    Holds(String),
    /// It asks to be published, but `0` asked later and wins.
    Superseded(String),
    /// It does not ask.
    NotAsked,
}

/// The winner among `(name, first seen asking)` of the versions saying
/// `Published`: the latest request, one not seen yet counting as the latest;
/// the greater name when two tie.
pub fn winner<'a>(
    asking: impl IntoIterator<Item = (&'a str, Option<Timestamp>)>,
) -> Option<&'a str> {
    asking
        .into_iter()
        .max_by_key(|(name, seen)| (seen.is_none(), *seen, *name))
        .map(|(name, _)| name)
}

/// Settles `version`'s part in `runtime`'s publication: when it wins, the
/// annotation names it and the others are moved to `Started`; when it does
/// not ask, an annotation naming it is removed.
pub async fn settle(
    ctx: &Context,
    version: &RuntimeVersion,
    runtime: &Runtime,
) -> Result<Publication, Error> {
    let client = &ctx.client;
    let name = version.name_any();
    let namespace = version.namespace().unwrap_or_default();
    let owner = ObjectName::of(version);
    let runtimes = Api::<Runtime>::namespaced(client.clone(), &namespace);
    let published = runtime.annotations().get(PUBLISHED_ANNOTATION);
    if version.spec.state != VersionState::Published {
        if published == Some(&name) {
            annotate(&runtimes, runtime, None, &owner).await?;
            withdraw_route(ctx, runtime, &name).await?;
        }
        return Ok(Publication::NotAsked);
    }
    let versions = Api::<RuntimeVersion>::namespaced(client.clone(), &namespace);
    let all = versions
        .list(&ListParams::default())
        .await
        .map_err(|source| Error::ReadReference {
            owner: owner.clone(),
            reference: ObjectName::new::<RuntimeVersion>(Some(&namespace), "*"),
            source,
        })?;
    let asking: Vec<&RuntimeVersion> = all
        .items
        .iter()
        .filter(|v| v.spec.runtime == version.spec.runtime)
        .filter(|v| v.spec.state == VersionState::Published)
        .filter(|v| v.metadata.deletion_timestamp.is_none())
        .collect();
    let seen = |v: &RuntimeVersion| {
        v.status
            .as_ref()
            .and_then(|s| s.publish_requested_at.as_deref())
            .and_then(|t| t.parse::<Timestamp>().ok())
    };
    let winner = winner(
        asking
            .iter()
            .map(|v| (v.metadata.name.as_deref().unwrap_or_default(), seen(v))),
    )
    .unwrap_or(&name)
    .to_owned();
    if winner != name {
        return Ok(Publication::Superseded(winner));
    }
    if published != Some(&name) {
        annotate(&runtimes, runtime, Some(&name), &owner).await?;
    }
    for other in asking.iter().filter(|v| v.name_any() != name) {
        let patch = json!({"spec": {"state": VersionState::Started.as_str()}});
        versions
            .patch(
                &other.name_any(),
                &PatchParams {
                    field_manager: Some(MANAGER.into()),
                    ..PatchParams::default()
                },
                &Patch::Merge(&patch),
            )
            .await
            .map_err(|source| Error::UpdateChild {
                owner: owner.clone(),
                child: ObjectName::of(*other),
                source,
            })?;
        tracing::info!(version = %name, demoted = %other.name_any(), "published; the previous version is now Started");
    }
    Ok(Publication::Holds(route(ctx, version, runtime).await?))
}

/// Points the Runtime's entrypoint host at `version`'s entrypoint (one apply
/// of the one Ingress, so the switch is one step), and says what serves it.
async fn route(
    ctx: &Context,
    version: &RuntimeVersion,
    runtime: &Runtime,
) -> Result<String, Error> {
    let name = version.name_any();
    let rt = runtime.name_any();
    let published = format!("the published version of Runtime {rt}");
    let Some(entrypoint) = &runtime.spec.entrypoint else {
        return Ok(format!(
            "{published}; the Runtime has no entrypoint.host, so only Wharf's invoke reaches it"
        ));
    };
    if version.spec.entrypoint.is_none() {
        withdraw_route(ctx, runtime, "").await?;
        return Ok(format!(
            "{published}; it has no entrypoint container, so {} serves nothing (Wharf's invoke reaches it)",
            entrypoint.host
        ));
    }
    let Ok(meta) = ChildMeta::of(runtime, RUNTIME_LABEL) else {
        return Ok(format!(
            "{published}; the Runtime was read without its metadata, so no route was made"
        ));
    };
    let class = ctx.config.app_defaults.ingress_class.as_deref();
    let ingress = entrypoint::route(&meta, entrypoint, &name, class);
    match Children::of(&ctx.client, runtime)
        .apply(&ingress, None)
        .await
    {
        Ok(_) => Ok(format!("{published}, served at http://{}", entrypoint.host)),
        Err(ApplyError::Refused(problem)) => Ok(format!(
            "{published}; its route for {} was refused: {}",
            entrypoint.host, problem.message
        )),
        Err(ApplyError::Failed(error)) => Err(error),
    }
}

/// Deletes the Runtime's route when it points at `version` (any version when
/// empty).
async fn withdraw_route(ctx: &Context, runtime: &Runtime, version: &str) -> Result<(), Error> {
    let ingresses =
        Api::<Ingress>::namespaced(ctx.client.clone(), &runtime.namespace().unwrap_or_default());
    let name = entrypoint::route_name(&runtime.name_any());
    let Some(current) = ingresses
        .get_opt(&name)
        .await
        .map_err(|source| Error::ReadReference {
            owner: ObjectName::of(runtime),
            reference: ObjectName::new::<Ingress>(runtime.namespace().as_deref(), &name),
            source,
        })?
    else {
        return Ok(());
    };
    let points_at = current.annotations().get(PUBLISHED_ANNOTATION);
    if version.is_empty() || points_at.map(String::as_str) == Some(version) {
        Children::of(&ctx.client, runtime).delete(&current).await?;
    }
    Ok(())
}

/// Sets (or, with `None`, removes) the Runtime's published-version annotation.
async fn annotate(
    runtimes: &Api<Runtime>,
    runtime: &Runtime,
    version: Option<&str>,
    owner: &ObjectName,
) -> Result<(), Error> {
    let patch = json!({"metadata": {"annotations": {PUBLISHED_ANNOTATION: version}}});
    runtimes
        .patch(
            &runtime.name_any(),
            &PatchParams {
                field_manager: Some(MANAGER.into()),
                ..PatchParams::default()
            },
            &Patch::Merge(&patch),
        )
        .await
        .map(|_| ())
        .map_err(|source| Error::UpdateChild {
            owner: owner.clone(),
            child: ObjectName::of(runtime),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Option<Timestamp> {
        Some(Timestamp::from_second(seconds).unwrap())
    }

    #[test]
    fn the_latest_request_wins_and_one_not_seen_yet_is_the_latest() {
        assert_eq!(winner([("v1", at(10)), ("v2", at(20))]), Some("v2"));
        assert_eq!(winner([("v2", at(20)), ("v1", None)]), Some("v1"));
        assert_eq!(winner([("a", at(5)), ("b", at(5))]), Some("b"));
        assert_eq!(winner([("a", None), ("b", None)]), Some("b"));
        assert_eq!(winner([]), None);
    }
}
