//! What happens after a Task ended: its collector's identity is revoked, its
//! callback delivered (with retries) and, after `ttlAfterFinished`, the Task deleted.

use std::time::{Duration, SystemTime};

use k8s_openapi::api::core::v1::{Secret, ServiceAccount};
use k8s_openapi::jiff::Timestamp;
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Api, Resource, ResourceExt};
use wharf_model::duration::parse_duration;
use wharf_model::task::{
    CallbackAttempt, CallbackSpec, CallbackState, CallbackStatus, Task, collector_service_account,
};

use super::callback::{self, AttemptOutcome};
use super::reconcile::TaskContext;
use super::status::operator_part;
use crate::Error;
use crate::error::ObjectName;
use crate::kit::{self, Children};

/// Handles a Task whose phase is final.
pub async fn handle(task: &Task, ctx: &TaskContext) -> Result<Action, Error> {
    let now = Timestamp::now();
    revoke_collector(task, ctx).await?;
    let mut next: Option<Duration> = None;
    if let Some(spec) = &task.spec.callback {
        next = deliver(task, spec, ctx).await?;
    }
    if let Some(until) = ttl_remaining(task, now) {
        if until.is_zero() {
            Children::of(&ctx.shared.client, task).delete(task).await?;
            return Ok(Action::await_change());
        }
        next = Some(next.map_or(until, |n| n.min(until)));
    }
    Ok(next.map_or_else(Action::await_change, Action::requeue))
}

/// Deletes the collector's ServiceAccount: every token issued for it stops working,
/// so nothing can upload results for this Task any more.
async fn revoke_collector(task: &Task, ctx: &TaskContext) -> Result<(), Error> {
    if task.spec.results.is_none() {
        return Ok(());
    }
    let ns = task.namespace().unwrap_or_default();
    let name = collector_service_account(&task.name_any());
    let api = Api::<ServiceAccount>::namespaced(ctx.shared.client.clone(), &ns);
    kit::delete_if_exists(&api, &name)
        .await
        .map_err(|source| Error::Delete {
            owner: ObjectName::of(task),
            object: ObjectName::new::<ServiceAccount>(Some(&ns), &name),
            source,
        })
}

/// Makes a callback attempt when one is due; returns how long until the next one.
async fn deliver(
    task: &Task,
    spec: &CallbackSpec,
    ctx: &TaskContext,
) -> Result<Option<Duration>, Error> {
    let previous = task.status.as_ref().and_then(|s| s.callback.clone());
    if let Some(state) = &previous {
        if state.state != CallbackState::Pending {
            return Ok(None);
        }
        if let Some(at) = &state.next_attempt_time {
            let wait = at.0.duration_since(Timestamp::now());
            if let Ok(wait) = Duration::try_from(wait)
                && !wait.is_zero()
            {
                return Ok(Some(wait));
            }
        }
    }
    let now = SystemTime::now();
    let outcome = match signing_key(task, spec, ctx).await? {
        Ok(key) => {
            let body = callback::payload(task, ctx.shared.config.api_public_url.as_deref());
            callback::attempt(
                &spec.url,
                &body,
                key.as_deref(),
                task.metadata.uid.as_deref().unwrap_or_default(),
                &ctx.shared.config.callback_policy,
                now,
            )
            .await
        }
        Err(problem) => AttemptOutcome {
            status_code: None,
            error: Some(problem),
            delivered: false,
            permanent: false,
        },
    };
    let status = callback::record(previous.as_ref(), &outcome, now);
    write_callback(task, ctx, &status).await?;
    let (type_, reason, note) = match status.state {
        CallbackState::Delivered => (
            EventType::Normal,
            "CallbackDelivered",
            format!("callback delivered after {} attempt(s)", status.attempts),
        ),
        CallbackState::Failed => (
            EventType::Warning,
            "CallbackFailed",
            format!("gave up on the callback: {}", last_error(&status)),
        ),
        CallbackState::Pending => (
            EventType::Warning,
            "CallbackRetrying",
            format!(
                "callback attempt {} failed: {}",
                status.attempts,
                last_error(&status)
            ),
        ),
    };
    crate::events::publish(
        &ctx.shared.recorder,
        &task.object_ref(&()),
        type_,
        reason,
        &note,
    )
    .await;
    Ok(status
        .next_attempt_time
        .as_ref()
        .and_then(|at| Duration::try_from(at.0.duration_since(Timestamp::now())).ok())
        .map(|d| d.max(Duration::from_millis(100))))
}

fn last_error(status: &CallbackStatus) -> String {
    status
        .history
        .last()
        .and_then(|a: &CallbackAttempt| a.error.clone())
        .unwrap_or_default()
}

/// The key from `callback.secretRef`: `Ok(None)` for unsigned callbacks, an inner
/// `Err` with a message when the Secret or key is missing (retried: someone may
/// create it).
async fn signing_key(
    task: &Task,
    spec: &CallbackSpec,
    ctx: &TaskContext,
) -> Result<Result<Option<Vec<u8>>, String>, Error> {
    let Some(reference) = &spec.secret_ref else {
        return Ok(Ok(None));
    };
    let ns = task.namespace().unwrap_or_default();
    let secret = Api::<Secret>::namespaced(ctx.shared.client.clone(), &ns)
        .get_opt(&reference.name)
        .await
        .map_err(|source| Error::ReadReference {
            owner: ObjectName::of(task),
            reference: ObjectName::new::<Secret>(Some(&ns), &reference.name),
            source,
        })?;
    let Some(secret) = secret else {
        return Ok(Err(format!(
            "Secret {} (callback.secretRef) not found in namespace {ns}",
            reference.name
        )));
    };
    let key = secret
        .data
        .as_ref()
        .and_then(|d| d.get(reference.key()))
        .map(|b| b.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(reference.key()))
                .map(|s| s.clone().into_bytes())
        });
    Ok(match key {
        Some(key) => Ok(Some(key)),
        None => Err(format!(
            "Secret {} has no key {} (callback.secretRef)",
            reference.name,
            reference.key()
        )),
    })
}

async fn write_callback(
    task: &Task,
    ctx: &TaskContext,
    callback: &CallbackStatus,
) -> Result<(), Error> {
    let mut status = operator_part(task.status.clone().unwrap_or_default());
    status.callback = Some(callback.clone());
    kit::write_status(&ctx.shared, task, &status).await?;
    Ok(())
}

/// How long until the Task is due for deletion, for a Task with a TTL.
fn ttl_remaining(task: &Task, now: Timestamp) -> Option<Duration> {
    let ttl = parse_duration(task.spec.ttl_after_finished.as_deref()?).ok()?;
    let ended = task.status.as_ref()?.completion_time.as_ref()?.0;
    let elapsed = Duration::try_from(now.duration_since(ended)).unwrap_or_default();
    Some(ttl.saturating_sub(elapsed))
}
