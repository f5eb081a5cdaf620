//! One published version per Runtime. The Runtime's `wharf.dev/published-version`
//! annotation names it, so switching is one write; the versions that also say
//! `Published` but lost are moved to `Started`.
//!
//! When two versions say `Published`, the later request wins: each version
//! records in its status when the operator first saw it asked to publish, and
//! one not yet recorded is the newest of all. Every reconcile computes the same
//! winner from the same facts, so two reconciles never take turns.

use k8s_openapi::jiff::Timestamp;
use kube::api::{ListParams, Patch, PatchParams};
use kube::{Api, Client, ResourceExt};
use serde_json::json;
use wharf_model::runtime::Runtime;
use wharf_model::runtime_version::{PUBLISHED_ANNOTATION, RuntimeVersion, VersionState};

use crate::error::{Error, ObjectName};

/// The field manager of the publication's writes (the Runtime's annotation,
/// a demoted version's state), apart from Wharf's applies.
const MANAGER: &str = "wharf-publish";

/// Where a version stands in its Runtime's publication.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Publication {
    /// The Runtime's published version is this one.
    Holds,
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
    client: &Client,
    version: &RuntimeVersion,
    runtime: &Runtime,
) -> Result<Publication, Error> {
    let name = version.name_any();
    let namespace = version.namespace().unwrap_or_default();
    let owner = ObjectName::of(version);
    let runtimes = Api::<Runtime>::namespaced(client.clone(), &namespace);
    let published = runtime.annotations().get(PUBLISHED_ANNOTATION);
    if version.spec.state != VersionState::Published {
        if published == Some(&name) {
            annotate(&runtimes, runtime, None, &owner).await?;
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
    Ok(Publication::Holds)
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
