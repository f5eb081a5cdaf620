//! Whether a cached child already holds what an apply would send, so the apply can
//! be skipped.
//!
//! Two checks, both needed:
//! - the cached copy carries the fingerprint of the exact body Wharf would apply
//!   ([`APPLIED_ANNOTATION`]): catches a field Wharf stopped sending, which server-
//!   side apply would remove but a comparison of what is sent cannot see;
//! - every value Wharf sends is in the cached copy ([`holds`]): catches someone else
//!   changing a field Wharf owns, which the forced apply would take back.
//!
//! Values the API server adds (defaults, status, metadata) do not matter. Values it
//! rewrites (a quantity `0.5` stored as `500m`) make the check fail, which costs an
//! apply that changes nothing — never a missed change.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// The annotation holding the fingerprint of the body last applied.
pub const APPLIED_ANNOTATION: &str = "wharf.dev/applied";

/// The fingerprint of an apply body: 16 bytes of its sha256, in hex.
pub fn fingerprint(body: &Value) -> String {
    // serde_json writes object keys in a fixed order, so equal bodies hash equal.
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    hex::encode(&Sha256::digest(&bytes)[..16])
}

/// Adds the fingerprint of `body` (computed without it) to its annotations.
pub fn stamp(body: &mut Value) {
    let print = fingerprint(body);
    if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
        let annotations = meta
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(map) = annotations.as_object_mut() {
            map.insert(APPLIED_ANNOTATION.to_owned(), Value::String(print));
        }
    }
}

/// Whether every value in `desired` is in `cached`. Lists must have the same
/// length, element by element; an empty list, an empty map or null in `desired`
/// matches a field the API server left out.
pub fn holds(cached: &Value, desired: &Value) -> bool {
    match (desired, cached) {
        (Value::Object(want), Value::Object(have)) => {
            want.iter().all(|(key, value)| match have.get(key) {
                Some(found) => holds(found, value),
                None => is_empty(value),
            })
        }
        (Value::Array(want), Value::Array(have)) => {
            want.len() == have.len() && want.iter().zip(have).all(|(w, h)| holds(h, w))
        }
        (want, Value::Null) => is_empty(want),
        (want, have) => want == have,
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn defaults_added_by_the_server_do_not_matter() {
        let desired = json!({"spec": {"ports": [{"port": 80}], "selector": {"a": "b"}}});
        let cached = json!({
            "spec": {"ports": [{"port": 80, "protocol": "TCP"}], "selector": {"a": "b"}, "clusterIP": "10.0.0.1"},
            "status": {"x": 1}
        });
        assert!(holds(&cached, &desired));
    }

    #[test]
    fn a_changed_value_a_longer_list_or_a_missing_field_does() {
        let desired = json!({"spec": {"replicas": 2, "ports": [{"port": 80}]}});
        assert!(!holds(
            &json!({"spec": {"replicas": 3, "ports": [{"port": 80}]}}),
            &desired
        ));
        assert!(!holds(
            &json!({"spec": {"replicas": 2, "ports": [{"port": 80}, {"port": 81}]}}),
            &desired
        ));
        assert!(!holds(
            &json!({"spec": {"ports": [{"port": 80}]}}),
            &desired
        ));
    }

    #[test]
    fn empty_values_match_what_the_server_leaves_out() {
        assert!(holds(
            &json!({"metadata": {"name": "a"}}),
            &json!({"metadata": {"name": "a", "labels": {}, "finalizers": []}})
        ));
    }

    #[test]
    fn the_stamp_is_the_fingerprint_of_the_body_without_it() {
        let mut body = json!({"metadata": {"name": "a"}, "spec": {"x": 1}});
        let before = fingerprint(&body);
        stamp(&mut body);
        assert_eq!(body["metadata"]["annotations"][APPLIED_ANNOTATION], before);
        let mut other = json!({"metadata": {"name": "a"}, "spec": {"x": 2}});
        stamp(&mut other);
        assert_ne!(
            other["metadata"]["annotations"][APPLIED_ANNOTATION],
            body["metadata"]["annotations"][APPLIED_ANNOTATION]
        );
    }
}
