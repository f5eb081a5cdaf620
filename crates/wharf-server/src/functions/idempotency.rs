//! `Idempotency-Key`: a retried call answers the first call's answer instead of
//! doing the work twice. The record is a ConfigMap in the server's own namespace,
//! so every API replica sees it and a restart loses nothing; creating it is the
//! lock, because Kubernetes lets only one create of a name succeed.
//!
//! A record is keyed by the caller and the key (one user cannot read another's
//! answers), remembers a fingerprint of the function and its parameters (the same
//! key for another call is refused, 422, as Stripe and the IETF draft do), is
//! `pending` while the first call runs (a concurrent retry gets 409 with
//! `Retry-After`) and expires after a day.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::StatusCode;
use jiff::Timestamp;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{DeleteParams, ListParams, ObjectMeta, PostParams, Preconditions};
use kube::{Api, Client};
use serde_json::Value;
use sha2::{Digest, Sha256};
use wharf_model::wire::ErrorCode;

use super::call::Answer;
use crate::error::ApiError;

/// How long an answer is kept for retries.
pub const KEEP_FOR: Duration = Duration::from_secs(24 * 60 * 60);
/// After this long a `pending` record is taken to belong to a call whose server
/// died: longer than any request may run (`REQUEST_TIMEOUT`).
const ABANDONED_AFTER: Duration = Duration::from_secs(15 * 60);
/// The longest key accepted.
const MAX_KEY: usize = 255;
/// The largest answer kept; a ConfigMap holds at most 1 MiB.
const MAX_KEPT: usize = 768 * 1024;

/// Labels every record, for the sweep.
pub const RECORD_LABEL: &str = "wharf.dev/idempotency-record";
const EXPIRES: &str = "wharf.dev/expires";
const STARTED: &str = "wharf.dev/started";

/// What claiming a key found.
pub enum Claim {
    /// The key is new: this call does the work, then [`finish`]es the record.
    Fresh(Record),
    /// An earlier call with this key answered this.
    Replay(Answer),
}

/// A record this call claimed: the ConfigMap as created, so finishing it is one
/// replace (its resourceVersion proves nobody else changed it).
pub struct Record {
    namespace: String,
    created: Box<ConfigMap>,
}

/// Checks a key from a request header: 1 to 255 visible ASCII characters.
pub fn check_key(key: &str) -> Result<(), ApiError> {
    if key.is_empty() || key.len() > MAX_KEY || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::bad_request(
            ErrorCode::InvalidField,
            "Idempotency-Key must be 1 to 255 visible ASCII characters, e.g. a UUID",
        )
        .at("Idempotency-Key"));
    }
    Ok(())
}

/// Claims `key` of `caller` for a call of `function` with `params`.
pub async fn claim(
    client: &Client,
    namespace: &str,
    caller: &str,
    key: &str,
    function: &str,
    params: &Value,
) -> Result<Claim, ApiError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let name = record_name(caller, key);
    let fingerprint = fingerprint(function, params);
    // Twice at most: a second time after removing an expired or abandoned record.
    for _ in 0..2 {
        let record = new_record(&name, &fingerprint);
        match api.create(&PostParams::default(), &record).await {
            Ok(created) => {
                return Ok(Claim::Fresh(Record {
                    namespace: namespace.to_owned(),
                    created: Box::new(created),
                }));
            }
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
        let Some(existing) = api.get_opt(&name).await? else {
            continue;
        };
        let data = existing.data.clone().unwrap_or_default();
        if is_stale(&existing, &data) {
            remove(&api, &existing).await?;
            continue;
        }
        if data.get("fingerprint") != Some(&fingerprint) {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::IdempotencyKeyReused,
                "this Idempotency-Key was used for another call (another function or other parameters); use a new key for a new call",
            ));
        }
        return match (data.get("status"), data.get("body")) {
            (Some(status), Some(body)) => Ok(Claim::Replay(stored_answer(status, body)?)),
            _ => Err(ApiError::new(
                StatusCode::CONFLICT,
                ErrorCode::CallInProgress,
                "a call with this Idempotency-Key is still running; retry in a moment to get its answer",
            )),
        };
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        ErrorCode::CallInProgress,
        "another call is claiming this Idempotency-Key; retry in a moment",
    ))
}

/// Keeps `answer` for retries, or gives the key back when retrying should run
/// the call again: the server failed (5xx), was busy (429), or the caller was not
/// allowed (401, 403: a retry with a better token must not get the refusal).
pub async fn finish(client: &Client, record: Record, answer: &Answer) -> Result<(), ApiError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), &record.namespace);
    let name = record.created.metadata.name.clone().unwrap_or_default();
    let body = answer.body.to_string();
    let retry_runs_again = answer.status.is_server_error()
        || matches!(
            answer.status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
        );
    if retry_runs_again || body.len() > MAX_KEPT {
        if body.len() > MAX_KEPT {
            tracing::warn!(record = %name, bytes = body.len(), "answer too large to keep for Idempotency-Key retries");
        }
        return match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) | Err(kube::Error::Api(_)) => Ok(()),
            Err(e) => Err(e.into()),
        };
    }
    let mut stored = *record.created;
    let data = stored.data.get_or_insert_with(BTreeMap::new);
    data.insert("status".into(), answer.status.as_u16().to_string());
    data.insert("body".into(), body);
    api.replace(&name, &PostParams::default(), &stored).await?;
    Ok(())
}

/// Deletes records past their expiry.
pub async fn sweep(client: &Client, namespace: &str) -> Result<usize, kube::Error> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), namespace);
    let records = api
        .list(&ListParams::default().labels(&format!("{RECORD_LABEL}=true")))
        .await?;
    let mut removed = 0;
    for record in records {
        let data = record.data.clone().unwrap_or_default();
        if is_stale(&record, &data) && remove(&api, &record).await.is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Sweeps expired records every `every`, for as long as the server runs.
pub async fn sweep_forever(client: Client, namespace: String, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match sweep(&client, &namespace).await {
            Ok(0) => {}
            Ok(removed) => {
                tracing::info!(removed, %namespace, "expired Idempotency-Key records removed")
            }
            Err(error) => {
                tracing::warn!(%error, %namespace, "cannot sweep Idempotency-Key records")
            }
        }
    }
}

fn record_name(caller: &str, key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(caller.as_bytes())
        .chain_update([0])
        .chain_update(key.as_bytes())
        .finalize();
    format!("wharf-call-{}", &hex::encode(digest)[..40])
}

/// The function and its parameters, as JSON with sorted keys, hashed.
fn fingerprint(function: &str, params: &Value) -> String {
    let digest = Sha256::new()
        .chain_update(function.as_bytes())
        .chain_update([0])
        .chain_update(params.to_string().as_bytes())
        .finalize();
    hex::encode(digest)
}

fn new_record(name: &str, fingerprint: &str) -> ConfigMap {
    let now = Timestamp::now();
    let expires = now + jiff::SignedDuration::try_from(KEEP_FOR).unwrap_or_default();
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            labels: Some(BTreeMap::from([
                (RECORD_LABEL.to_owned(), "true".to_owned()),
                (
                    "app.kubernetes.io/managed-by".to_owned(),
                    "wharf".to_owned(),
                ),
            ])),
            annotations: Some(BTreeMap::from([
                (EXPIRES.to_owned(), expires.to_string()),
                (STARTED.to_owned(), now.to_string()),
            ])),
            ..Default::default()
        },
        data: Some(BTreeMap::from([(
            "fingerprint".to_owned(),
            fingerprint.to_owned(),
        )])),
        ..Default::default()
    }
}

/// Expired, or pending for longer than any call runs.
fn is_stale(record: &ConfigMap, data: &BTreeMap<String, String>) -> bool {
    let annotation = |name: &str| {
        record
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(name))
            .and_then(|v| v.parse::<Timestamp>().ok())
    };
    let now = Timestamp::now();
    let expired = annotation(EXPIRES).is_none_or(|at| at <= now);
    let abandoned = !data.contains_key("status")
        && annotation(STARTED).is_none_or(|at| {
            at + jiff::SignedDuration::try_from(ABANDONED_AFTER).unwrap_or_default() <= now
        });
    expired || abandoned
}

/// Deletes `record` unless it changed since it was read.
async fn remove(api: &Api<ConfigMap>, record: &ConfigMap) -> Result<(), ApiError> {
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            uid: record.metadata.uid.clone(),
            resource_version: record.metadata.resource_version.clone(),
        }),
        ..Default::default()
    };
    let name = record.metadata.name.clone().unwrap_or_default();
    match api.delete(&name, &params).await {
        // Gone already, or changed: either way the next create decides.
        Ok(_) | Err(kube::Error::Api(_)) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn stored_answer(status: &str, body: &str) -> Result<Answer, ApiError> {
    let status = status
        .parse::<u16>()
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| ApiError::internal(&"an idempotency record holds no status"))?;
    let body = serde_json::from_str(body).map_err(|e| ApiError::internal(&e))?;
    Ok(Answer { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_per_caller_and_key_and_a_valid_name() {
        let a = record_name("alice", "k1");
        assert_ne!(a, record_name("bob", "k1"));
        assert_ne!(a, record_name("alice", "k2"));
        assert!(a.len() <= 63 && a.starts_with("wharf-call-"));
    }

    #[test]
    fn the_fingerprint_ignores_key_order_but_not_values() {
        let one = serde_json::json!({ "a": 1, "b": 2 });
        let same: Value = serde_json::from_str(r#"{"b":2,"a":1}"#).unwrap();
        assert_eq!(fingerprint("f", &one), fingerprint("f", &same));
        assert_ne!(fingerprint("f", &one), fingerprint("g", &one));
        assert_ne!(
            fingerprint("f", &one),
            fingerprint("f", &serde_json::json!({ "a": 1 }))
        );
    }

    #[test]
    fn keys_are_bounded_visible_ascii() {
        assert!(check_key("3f2a-uuid").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("has space").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
        assert!(check_key("ключ").is_err());
    }
}
