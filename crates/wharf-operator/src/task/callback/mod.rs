//! Delivery of a Task's callback: the signed HTTP POST that announces a Task's end
//! to the URL in `spec.callback.url`.
//!
//! This module does one attempt at a time and tells the caller what happened and
//! when to try again; the Task controller decides when to call it and records the
//! outcome in `status.callback`. Nothing here touches Kubernetes.
//!
//! # What a receiver sees
//!
//! One `POST` to the callback URL per attempt, with the body of [`payload`]:
//!
//! ```json
//! {
//!   "apiVersion": "wharf.dev/v1alpha1",
//!   "kind": "TaskFinished",
//!   "task": {"namespace": "team-a", "name": "train", "uid": "6f1c…"},
//!   "phase": "Succeeded",
//!   "reason": "Completed",
//!   "message": "the container exited with code 0",
//!   "exitCode": 0,
//!   "attempts": 1,
//!   "startTime": "2025-01-01T10:00:00Z",
//!   "completionTime": "2025-01-01T10:04:12Z",
//!   "results": [
//!     {"name": "out/model.bin", "size": 1048576, "sha256": "9f86…",
//!      "downloadPath": "/v1/namespaces/team-a/tasks/train/results/out%2Fmodel.bin",
//!      "downloadUrl": "https://wharf.example.com/v1/namespaces/team-a/tasks/train/results/out%2Fmodel.bin"}
//!   ]
//! }
//! ```
//!
//! The keys come in this order, every key is present (`null` when unknown), except
//! `downloadUrl`, which is there only when the operator knows the API's public
//! address. A result's name is percent-encoded as one path segment (`/` becomes
//! `%2F`) in `downloadPath`.
//!
//! The headers:
//!
//! | header | value |
//! |---|---|
//! | `Content-Type` | `application/json` |
//! | `X-Wharf-Event` | `TaskFinished` |
//! | `X-Wharf-Delivery` | the Task's UID: the same on every retry, so a receiver can drop duplicates |
//! | `X-Wharf-Timestamp` | when the attempt was made, in Unix seconds |
//! | `X-Wharf-Signature` | `sha256=` and the lower-case hex HMAC-SHA256 of `"<timestamp>.<body>"` under the Task's key; absent when the Task names no key |
//!
//! # How a receiver verifies
//!
//! Compute HMAC-SHA256 with the shared key over the timestamp header's value, a
//! `.`, and the raw body bytes (before any JSON parsing); compare it, in constant
//! time, with the hex after `sha256=`; and reject timestamps too far from the
//! receiver's clock (five minutes is usual), which stops replays of an old request.
//! [`verify`] does exactly that. Because the timestamp is signed too, a captured
//! request cannot be replayed later with a fresh timestamp.
//!
//! # Delivery rules
//!
//! - A receiver answering 2xx has the callback. Any other answer, or none, is a
//!   failed attempt; [`next`] says whether and when to retry (doubling delays from
//!   2 s to at most 5 min, at most [`MAX_ATTEMPTS`] attempts).
//! - Redirects are not followed: a receiver could otherwise send the operator to an
//!   address the guard below refuses.
//! - Addresses in loopback, private, link-local, multicast, documentation and
//!   other special ranges are refused, and so are the ranges the operator adds with
//!   [`CallbackPolicy::deny`] (the cluster's pod and service ranges), unless
//!   [`CallbackPolicy::allow`] covers them. A host name is resolved once, every
//!   address it resolves to is checked, and the connection goes only to those
//!   checked addresses, so a name that resolves differently the second time (DNS
//!   rebinding) gains nothing.

mod backoff;
mod deliver;
mod payload;
mod sign;
mod ssrf;
mod status;

pub use backoff::{
    BASE_DELAY, MAX_ATTEMPTS, MAX_DELAY, Next, delay_after, is_retryable_status, next,
};
pub use deliver::{AttemptOutcome, CONNECT_TIMEOUT, DEFAULT_TIMEOUT, attempt};
pub use payload::{API_VERSION, EVENT, ResultEntry, TaskFinished, TaskRef, payload};
pub use sign::{
    DEFAULT_TOLERANCE, DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, SIGNATURE_PREFIX,
    TIMESTAMP_HEADER, sign, verify,
};
pub use ssrf::{CallbackPolicy, RangeKind, Refused, RefusedBy, UrlError, check_url, resolve};
pub use status::{MAX_HISTORY, record};
