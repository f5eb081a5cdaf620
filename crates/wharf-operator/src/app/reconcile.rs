//! One reconcile of one App: expire, check references, build, apply, report.

use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::jiff::Timestamp;
use kube::Resource;
use kube::ResourceExt;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use tracing::instrument;
use wharf_model::app::build::{Defaults, build, env_object_name};
use wharf_model::app::{App, AppPhase};
use wharf_model::conditions::merge_conditions;
use wharf_model::space::PodSecurityLevel;

use super::children::{ChildStores, apply_all};
use super::status::{Outcome, compute};
use super::{RESYNC, RETRY_PROBLEM, RETRY_WAITING, expiry};
use crate::Error;
use crate::kit::{self, ApplyError, Children, Problem};
use crate::workload::runtime::{self, RuntimeState};
use crate::workload::{generated, references};

/// The App controller's context: the shared one and the child caches.
pub type AppContext = kit::WithStores<ChildStores>;

/// Reconciles one App.
#[instrument(skip_all, fields(app = %app.name_any(), namespace = app.namespace().unwrap_or_default()))]
pub async fn reconcile(app: Arc<App>, ctx: Arc<AppContext>) -> Result<Action, Error> {
    if app.metadata.deletion_timestamp.is_some() {
        // Owner references let the garbage collector remove the children.
        return Ok(Action::await_change());
    }
    let children = Children::of(&ctx.shared.client, app.as_ref());
    let now = Timestamp::now();

    let expires_at = match expiry::expires_at(&app) {
        Ok(at) => at,
        Err(invalid) => {
            let outcome = Outcome::Problem(Problem::new("InvalidSpec", invalid.to_string()));
            return report(&ctx, &app, outcome, None, now).await;
        }
    };
    if let Some(at) = expires_at.filter(|at| *at <= now) {
        crate::events::publish(
            &ctx.shared.recorder,
            &app.object_ref(&()),
            EventType::Normal,
            "Expired",
            &format!("expiresAfter passed at {at}; deleting the App"),
        )
        .await;
        children.delete(app.as_ref()).await?;
        return Ok(Action::await_change());
    }

    let outcome = match realise(&app, &ctx, &children).await? {
        Ok(outcome) => outcome,
        Err(problem) => Outcome::Problem(problem),
    };
    report(&ctx, &app, outcome, expires_at, now).await
}

/// Checks references, builds the children and applies them. The inner `Err` is a
/// problem the user must fix.
async fn realise(
    app: &App,
    ctx: &AppContext,
    children: &Children<'_>,
) -> Result<Result<Outcome, Problem>, Error> {
    let client = &ctx.shared.client;
    let ns = app.namespace().unwrap_or_default();
    if references_may_have_changed(app) {
        let missing =
            references::missing(client, children.owner(), &app.spec.env, &app.spec.env_from)
                .await?;
        if !missing.is_empty() {
            return Ok(Err(Problem::new(
                "MissingReference",
                format!(
                    "{} not found in namespace {ns}; create it and the App recovers",
                    missing.join(", ")
                ),
            )));
        }
    }
    let missing = ctx
        .stores
        .missing_claims(&ns, app.spec.mounts.iter().map(|m| m.volume.as_str()));
    if !missing.is_empty() {
        return Ok(Err(Problem::new(
            "MissingVolume",
            format!(
                "shared volume {} not found in namespace {ns}; create it (e.g. `wharf volumes create {} --size 1Gi`) and the App recovers",
                missing.join(", "),
                missing[0]
            ),
        )));
    }
    let generated = generated::values(
        &ctx.stores.secrets,
        client,
        children.owner(),
        &env_object_name(&app.name_any()),
        &app.spec.env,
    )
    .await?;
    let runtime_engines = match &app.spec.runtime {
        None => Vec::new(),
        Some(reference) => {
            match runtime::state(client, children.owner(), &ns, reference, "the App").await? {
                RuntimeState::Ready(engines) => engines,
                RuntimeState::Waiting(problem) => return Ok(Ok(Outcome::Waiting(problem))),
            }
        }
    };
    let space = super::defaults::space_of(app, &ctx.shared.spaces);
    let app = super::defaults::with_space_defaults(app, space.as_deref());
    let defaults = Defaults {
        restricted_pods: space.is_some_and(|s| s.spec.pod_security == PodSecurityLevel::Restricted),
        runtime_engines,
        ..ctx.shared.config.app_defaults.clone()
    };
    let built = match build(&app, &generated, &defaults) {
        Ok(built) => built,
        Err(error) => return Ok(Err(Problem::new("InvalidSpec", error.to_string()))),
    };
    match apply_all(children, &ctx.stores, &built).await {
        Ok(deployment) => Ok(Ok(Outcome::Applied {
            deployment: Box::new(deployment),
            urls: built.urls,
        })),
        Err(ApplyError::Refused(problem)) => Ok(Err(problem)),
        Err(ApplyError::Failed(error)) => Err(error),
    }
}

/// Whether the Secrets and ConfigMaps the App refers to must be looked up again:
/// after a change of its spec, and while a problem is reported (someone may have
/// made what was missing). A healthy, unchanged App costs no lookups; a reference
/// deleted later shows as pods that cannot start.
fn references_may_have_changed(app: &App) -> bool {
    let Some(status) = &app.status else {
        return true;
    };
    status.observed_generation != app.metadata.generation
        || status.phase.is_none_or(|p| p == AppPhase::Failed)
}

/// Writes the status (with an Event on a phase change) and decides when to look
/// again.
async fn report(
    ctx: &AppContext,
    app: &App,
    outcome: Outcome,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<Action, Error> {
    let mut status = compute(app, &outcome, expires_at, now);
    if let Some(update) = super::template_updates::condition(app, &ctx.stores.templates) {
        let previous = app.status.as_ref().map(|s| s.conditions.as_slice());
        status.conditions.extend(merge_conditions(
            previous.unwrap_or_default(),
            vec![update],
            app.metadata.generation,
            now,
        ));
    }
    let written = kit::report(&ctx.shared, app, &status).await?;

    let mut next = match outcome {
        Outcome::Problem(_) => RETRY_PROBLEM,
        Outcome::Waiting(_) => RETRY_WAITING,
        Outcome::Applied { .. } => RESYNC,
    };
    if let Some(within) = written.look_again_within() {
        next = next.min(within);
    }
    if let Some(at) = expires_at {
        let until = Duration::try_from(at.duration_since(now)).unwrap_or_default();
        next = next.min(until + Duration::from_millis(100));
    }
    Ok(Action::requeue(next))
}
