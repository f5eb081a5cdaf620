//! Writing an object's status, generic over the kind, and the Event that says when
//! its phase changed.

use std::collections::HashMap;
use std::fmt::Debug;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;

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
/// Event, `written` reads the operator's part of the status from an object, and
/// `summary` is what an Event about a status says.
macro_rules! reported {
    ($kind:ty, status: $status:ty, phase: $phase:ty, warning: $warning:pat,
     written: $written:expr, summary: $summary:expr $(,)?) => {
        impl $crate::kit::Phase for $phase {
            fn name(self) -> &'static str {
                self.as_str()
            }

            fn is_warning(self) -> bool {
                matches!(self, $warning)
            }
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
        }
    };
}
pub(crate) use reported;

/// The statuses written recently, by object UID: a reconcile that runs before the
/// watch has delivered the object with its new status compares against what was
/// written rather than writing it again.
#[derive(Default)]
pub struct StatusMemory {
    written: Mutex<HashMap<String, Written>>,
}

/// What was last written for one object.
#[derive(Clone, Copy)]
struct Written {
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
            written.insert(uid.to_owned(), Written { digest, phase });
        }
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
/// the background).
pub async fn report<K>(ctx: &Context, object: &K, status: &K::Status) -> Result<(), Error>
where
    K: Reported,
    K::Scope: Scope,
{
    let uid = object.uid().unwrap_or_default();
    // The object may not show the last write yet; what was written knows better.
    let previous = ctx.status_memory.phase(&uid).unwrap_or_else(|| {
        object
            .written_status()
            .as_ref()
            .and_then(K::phase)
            .map(Phase::name)
    });
    if !write_status(ctx, object, status).await? {
        return Ok(());
    }
    if let Some(phase) = K::phase(status)
        && previous != Some(phase.name())
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
    Ok(())
}
