//! Publishing Kubernetes Events about Wharf's resources.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder};

/// The longest Event note Wharf writes; longer notes are cut with an ellipsis.
const MAX_NOTE: usize = 1000;

/// Publishes an Event about `reference`; a failure is only logged, since an Event
/// is worth no retry of the reconcile.
pub async fn publish(
    recorder: &Recorder,
    reference: &ObjectReference,
    type_: EventType,
    reason: &str,
    note: &str,
) {
    let event = Event {
        type_,
        reason: reason.to_owned(),
        note: Some(truncate(note, MAX_NOTE)),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(error) = recorder.publish(&event, reference).await {
        tracing::debug!(%error, "could not publish event");
    }
}

/// `text` cut to at most `max` bytes at a character boundary, with `…` when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let cut = (0..=max)
        .rev()
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(0);
    format!("{}…", &text[..cut])
}
