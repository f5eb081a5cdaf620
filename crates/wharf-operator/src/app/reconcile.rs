//! One reconcile of one App: expire, check references, build, apply, report.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::jiff::Timestamp;
use kube::api::DeleteParams;
use kube::core::DeserializeGuard;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, Resource, ResourceExt};
use tracing::instrument;
use wharf_model::app::build::{Defaults, build, env_object_name};
use wharf_model::app::{App, AppPhase};
use wharf_model::space::PodSecurityLevel;

use super::children::{ApplyError, ChildStores, apply_all};
use super::status::{Outcome, compute, write};
use super::{RESYNC, RETRY_PROBLEM, expiry};
use crate::workload::{generated, references};
use crate::{Context, Error};

const KIND: &str = "App";

/// The App controller's context: the shared one and the child caches.
pub struct AppContext {
    /// What every controller shares.
    pub shared: Arc<Context>,
    /// Caches of the App's children.
    pub stores: ChildStores,
}

/// Reconciles one App.
#[instrument(skip_all, fields(app = %guard.name_any(), namespace = guard.namespace().unwrap_or_default()))]
pub async fn reconcile(
    guard: Arc<DeserializeGuard<App>>,
    ctx: Arc<AppContext>,
) -> Result<Action, Error> {
    let started = Instant::now();
    let result = match &guard.0 {
        Ok(app) => reconcile_app(app, &ctx).await,
        Err(invalid) => {
            // Retrying cannot help an object that does not deserialize: say so once
            // and wait for the next change.
            tracing::warn!(error = %invalid.error, "App cannot be read; skipped until it changes");
            crate::events::publish(
                &ctx.shared.recorder,
                &guard.object_ref(&()),
                EventType::Warning,
                "InvalidObject",
                &format!("the App cannot be read: {}", invalid.error),
            )
            .await;
            Ok(Action::await_change())
        }
    };
    ctx.shared.metrics.reconciled(KIND, started.elapsed());
    result
}

/// Records a failed reconcile and retries it later.
pub fn error_policy(
    _guard: Arc<DeserializeGuard<App>>,
    error: &Error,
    ctx: Arc<AppContext>,
) -> Action {
    tracing::warn!(%error, "App reconcile failed; retrying");
    ctx.shared.metrics.failed(KIND, error.metric_label());
    Action::requeue(Duration::from_secs(5))
}

async fn reconcile_app(app: &App, ctx: &AppContext) -> Result<Action, Error> {
    if app.metadata.deletion_timestamp.is_some() {
        // Owner references let the garbage collector remove the children.
        return Ok(Action::await_change());
    }
    let client = &ctx.shared.client;
    let now = Timestamp::now();

    let expires_at = match expiry::expires_at(app) {
        Ok(at) => at,
        Err(invalid) => {
            let outcome = Outcome::Problem {
                reason: "InvalidSpec",
                message: invalid.to_string(),
            };
            return report(ctx, app, outcome, None, now).await;
        }
    };
    if let Some(at) = expires_at.filter(|at| *at <= now) {
        publish(
            ctx,
            app,
            EventType::Normal,
            "Expired",
            format!("expiresAfter passed at {at}; deleting the App"),
        )
        .await;
        let api = Api::<App>::namespaced(client.clone(), &app.namespace().unwrap_or_default());
        match api
            .delete(&app.name_any(), &DeleteParams::background())
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(error) => return Err(error.into()),
        }
        return Ok(Action::await_change());
    }

    let ns = app.namespace().unwrap_or_default();
    let missing = references::missing(client, &ns, &app.spec.env, &app.spec.env_from).await?;
    let outcome = if !missing.is_empty() {
        Outcome::Problem {
            reason: "MissingReference",
            message: format!(
                "{} not found in namespace {}; create it and the App recovers",
                missing.join(", "),
                app.namespace().unwrap_or_default()
            ),
        }
    } else {
        let generated = generated::values(
            &ctx.stores.secrets,
            client,
            &ns,
            &env_object_name(&app.name_any()),
            &app.spec.env,
        )
        .await?;
        let space = super::defaults::space_of(app, &ctx.shared.spaces);
        let app = super::defaults::with_space_defaults(app, space.as_deref());
        let defaults = Defaults {
            restricted_pods: space
                .is_some_and(|s| s.spec.pod_security == PodSecurityLevel::Restricted),
            ..ctx.shared.config.app_defaults.clone()
        };
        match build(&app, &generated, &defaults) {
            Err(error) => Outcome::Problem {
                reason: "InvalidSpec",
                message: error.to_string(),
            },
            Ok(children) => match apply_all(client, &ctx.stores, &app, &children).await {
                Ok(deployment) => Outcome::Applied {
                    deployment: Box::new(deployment),
                    urls: children.urls,
                },
                Err(ApplyError::Refused(message)) => Outcome::Problem {
                    reason: "ApplyRefused",
                    message,
                },
                Err(ApplyError::Failed(error)) => return Err(error),
            },
        }
    };
    report(ctx, app, outcome, expires_at, now).await
}

/// Writes the status, publishes an event on a phase change and decides when to look
/// again.
async fn report(
    ctx: &AppContext,
    app: &App,
    outcome: Outcome,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<Action, Error> {
    let status = compute(app, &outcome, expires_at, now);
    write(&ctx.shared.client, app, &status).await?;

    let previous = app.status.as_ref().and_then(|s| s.phase);
    if status.phase != previous
        && let Some(phase) = status.phase
    {
        let ready = status.conditions.iter().find(|c| c.type_ == "Ready");
        let message = ready.map(|c| c.message.clone()).unwrap_or_default();
        let type_ = match phase {
            AppPhase::Failed | AppPhase::Degraded => EventType::Warning,
            _ => EventType::Normal,
        };
        publish(ctx, app, type_, phase.as_str(), message).await;
    }

    let mut next = match outcome {
        Outcome::Problem { .. } => RETRY_PROBLEM,
        Outcome::Applied { .. } => RESYNC,
    };
    if let Some(at) = expires_at {
        let until = Duration::try_from(at.duration_since(now)).unwrap_or_default();
        next = next.min(until + Duration::from_millis(100));
    }
    Ok(Action::requeue(next))
}

async fn publish(ctx: &AppContext, app: &App, type_: EventType, reason: &str, note: String) {
    crate::events::publish(
        &ctx.shared.recorder,
        &app.object_ref(&()),
        type_,
        reason,
        &note,
    )
    .await;
}
