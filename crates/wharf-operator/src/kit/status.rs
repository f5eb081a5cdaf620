//! Writing an object's status, generic over the kind, and the Event that says when
//! its phase changed.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kube::api::{Patch, PatchParams};
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::json;
use wharf_model::FIELD_MANAGER;

use super::scope::{Scope, api_for};
use crate::Context;
use crate::error::{Error, ObjectName};

/// A phase of a kind's status, as Events name it.
pub trait Phase: Copy + PartialEq {
    /// The phase's name, also the Event's reason, e.g. `Running`.
    fn name(self) -> &'static str;
    /// Whether entering it deserves a Warning Event.
    fn is_warning(self) -> bool;
    /// Whether an object may begin in it (an App rolling out, a Task waiting):
    /// its first status in such a phase says nothing an Event should.
    fn is_initial(self) -> bool {
        false
    }
}

/// A kind whose status the kit writes.
pub trait Reported:
    Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static
{
    /// The status type (or the operator's part of it).
    type Status: Serialize + PartialEq + Clone + Send + Sync;
    /// The status's phase.
    type Phase: Phase;

    /// The operator's part of the status as the object has it now.
    fn written_status(&self) -> Option<Self::Status>;

    /// The phase of `status`.
    fn phase(status: &Self::Status) -> Option<Self::Phase>;

    /// What an Event about `status`'s phase says, for people.
    fn summary(status: &Self::Status) -> String;

    /// `status` without the parts that may be written late (pod counts, and the
    /// messages that quote them): a change only there waits up to [`COUNTS_SETTLE`]
    /// and goes out with the next change that matters, instead of costing a write
    /// (and a watch event, and a reconcile) of its own. `None`, the default: every
    /// change is written at once.
    fn without_counts(_status: &Self::Status) -> Option<Self::Status> {
        None
    }
}

/// How long a change of counts alone may wait for a change that matters. A rollout
/// moves its counts several times within seconds and ends in a phase change, which
/// carries the final counts.
pub const COUNTS_SETTLE: Duration = Duration::from_secs(5);

/// What [`report`] did with a status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusWrite {
    /// The object has it already (or it was just written).
    Unchanged,
    /// It was written.
    Sent,
    /// Only counts changed, and they wait; reconcile again within this long so
    /// they are written even when nothing else happens.
    Waiting(Duration),
}

impl StatusWrite {
    /// The time within which the object must be looked at again, if any.
    pub fn look_again_within(self) -> Option<Duration> {
        match self {
            StatusWrite::Waiting(within) => Some(within),
            StatusWrite::Unchanged | StatusWrite::Sent => None,
        }
    }
}

/// The message of the `Ready` condition among `conditions`, the usual Event note.
pub fn ready_message(
    conditions: &[k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition],
) -> String {
    conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

/// Implements [`Phase`] for a kind's phase enum (by its `as_str`) and [`Reported`]
/// for the kind: `warning` is the pattern of the phases that deserve a Warning
/// Event, the optional `initial` that of the phases an object may begin in
/// ([`Phase::is_initial`]), `written` reads the operator's part of the status from an object,
/// `summary` is what an Event about a status says, and the optional
/// `without_counts` clears what may be written late ([`Reported::without_counts`]).
macro_rules! reported {
    ($kind:ty, status: $status:ty, phase: $phase:ty, warning: $warning:pat,
     $(initial: $initial:pat,)?
     written: $written:expr, summary: $summary:expr
     $(, without_counts: $without_counts:expr)? $(,)?) => {
        impl $crate::kit::Phase for $phase {
            fn name(self) -> &'static str {
                self.as_str()
            }

            fn is_warning(self) -> bool {
                matches!(self, $warning)
            }

            $(
                fn is_initial(self) -> bool {
                    matches!(self, $initial)
                }
            )?
        }

        impl $crate::kit::Reported for $kind {
            type Status = $status;
            type Phase = $phase;

            fn written_status(&self) -> Option<$status> {
                ($written)(self)
            }

            fn phase(status: &$status) -> Option<$phase> {
                status.phase
            }

            fn summary(status: &$status) -> String {
                ($summary)(status)
            }

            $(
                fn without_counts(status: &$status) -> Option<$status> {
                    Some(($without_counts)(status))
                }
            )?
        }
    };
}
pub(crate) use reported;

/// The statuses written recently, by object UID: a reconcile that runs before the
/// watch has delivered the object with its new status compares against what was
/// written rather than writing it again.
#[derive(Default)]
pub struct StatusMemory {
    written: Mutex<HashMap<String, LastWrite>>,
    /// Since when a change of counts alone has waited, by object UID.
    counts_waiting: Mutex<HashMap<String, Instant>>,
}

/// What was last written for one object.
#[derive(Clone, Copy)]
struct LastWrite {
    digest: u64,
    phase: Option<&'static str>,
}

/// How many objects are remembered before the memory starts over (it only saves
/// requests; forgetting costs at most one repeated write per object).
const MEMORY_LIMIT: usize = 50_000;

impl StatusMemory {
    fn digest<S: Serialize>(status: &S) -> u64 {
        let mut hasher = DefaultHasher::new();
        serde_json::to_vec(status)
            .unwrap_or_default()
            .hash(&mut hasher);
        hasher.finish()
    }

    fn was_written<S: Serialize>(&self, uid: &str, status: &S) -> bool {
        let digest = Self::digest(status);
        self.written
            .lock()
            .map(|w| w.get(uid).is_some_and(|last| last.digest == digest))
            .unwrap_or(false)
    }

    /// The phase last written for `uid`, when it is remembered.
    fn phase(&self, uid: &str) -> Option<Option<&'static str>> {
        self.written.lock().ok()?.get(uid).map(|last| last.phase)
    }

    fn remember<S: Serialize>(&self, uid: &str, status: &S, phase: Option<&'static str>) {
        let digest = Self::digest(status);
        if let Ok(mut written) = self.written.lock() {
            if written.len() >= MEMORY_LIMIT {
                written.clear();
            }
            written.insert(uid.to_owned(), LastWrite { digest, phase });
        }
        self.stop_waiting(uid);
    }

    /// How long a change of counts alone has waited for `uid` (from now, when it
    /// starts waiting).
    fn counts_waited(&self, uid: &str) -> Duration {
        let Ok(mut waiting) = self.counts_waiting.lock() else {
            return COUNTS_SETTLE;
        };
        if waiting.len() >= MEMORY_LIMIT {
            waiting.clear();
        }
        waiting
            .entry(uid.to_owned())
            .or_insert_with(Instant::now)
            .elapsed()
    }

    fn stop_waiting(&self, uid: &str) {
        if let Ok(mut waiting) = self.counts_waiting.lock() {
            waiting.remove(uid);
        }
    }
}

/// Whether `before` and `after` differ only in what `K` lets wait.
fn only_counts_differ<K: Reported>(before: &K::Status, after: &K::Status) -> bool {
    match (K::without_counts(before), K::without_counts(after)) {
        (Some(before), Some(after)) => before == after,
        _ => false,
    }
}

/// Writes `status` with server-side apply under Wharf's field manager, unless the
/// object has it already (or it was just written). Returns whether it was sent.
pub async fn write_status<K>(ctx: &Context, object: &K, status: &K::Status) -> Result<bool, Error>
where
    K: Reported,
    K::Scope: Scope,
{
    if object.written_status().as_ref() == Some(status) {
        return Ok(false);
    }
    let uid = object.uid().unwrap_or_default();
    if ctx.status_memory.was_written(&uid, status) {
        return Ok(false);
    }
    let body = json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    api_for(&ctx.client, object)
        .patch_status(
            &object.name_any(),
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(body),
        )
        .await
        .map_err(|source| Error::WriteStatus {
            owner: ObjectName::of(object),
            source,
        })?;
    ctx.status_memory
        .remember(&uid, status, K::phase(status).map(Phase::name));
    Ok(true)
}

/// The report step of every reconcile: writes `status` when it changed and, when
/// that write changed the phase, publishes an Event named after the new phase (in
/// the background; not for the initial phase an object begins in).
pub async fn report<K>(ctx: &Context, object: &K, status: &K::Status) -> Result<StatusWrite, Error>
where
    K: Reported,
    K::Scope: Scope,
{
    let uid = object.uid().unwrap_or_default();
    let written = object.written_status();
    if written.as_ref() == Some(status) {
        ctx.status_memory.stop_waiting(&uid);
        return Ok(StatusWrite::Unchanged);
    }
    if let Some(written) = &written
        && only_counts_differ::<K>(written, status)
    {
        let waited = ctx.status_memory.counts_waited(&uid);
        if let Some(left) = COUNTS_SETTLE.checked_sub(waited).filter(|d| !d.is_zero()) {
            return Ok(StatusWrite::Waiting(left));
        }
    }
    // The object may not show the last write yet; what was written knows better.
    let previous = ctx.status_memory.phase(&uid).unwrap_or_else(|| {
        object
            .written_status()
            .as_ref()
            .and_then(K::phase)
            .map(Phase::name)
    });
    if !write_status(ctx, object, status).await? {
        return Ok(StatusWrite::Unchanged);
    }
    // An Event marks a change of phase; an object beginning in an initial phase
    // has not changed (its creation said as much).
    if let Some(phase) = K::phase(status)
        && previous != Some(phase.name())
        && (previous.is_some() || !phase.is_initial())
    {
        let type_ = if phase.is_warning() {
            EventType::Warning
        } else {
            EventType::Normal
        };
        // Sent beside the reconcile, not in its way: an Event is worth no wait.
        let recorder = ctx.recorder.clone();
        let reference = object.object_ref(&());
        let (reason, note) = (phase.name(), K::summary(status));
        tokio::spawn(async move {
            crate::events::publish(&recorder, &reference, type_, reason, &note).await;
        });
    }
    Ok(StatusWrite::Sent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_wait_from_the_first_look_until_a_write() {
        let memory = StatusMemory::default();
        assert!(memory.counts_waited("a") < COUNTS_SETTLE);
        std::thread::sleep(Duration::from_millis(20));
        assert!(memory.counts_waited("a") >= Duration::from_millis(20));
        assert!(memory.counts_waited("b") < Duration::from_millis(20));
        memory.remember("a", &"status", Some("Running"));
        assert!(memory.counts_waited("a") < Duration::from_millis(20));
    }
}
