//! Header names Wharf defines. Lower-case, as HTTP/2 sends them; HTTP/1 peers
//! compare them without regard to case.

/// On a result upload: the lower-case hex sha256 of the body. The server commits the
/// file only when the bytes it received hash to this.
pub const SHA256: &str = "x-wharf-sha256";

/// On an answer to `?wait=`: whether the App became Ready before the deadline
/// (`true` or `false`).
pub const READY: &str = "wharf-ready";

/// On an answer to `?wait=`: whether the Task finished before the deadline
/// (`true` or `false`).
pub const FINISHED: &str = "wharf-finished";

/// On a Task callback: `sha256=` and the lower-case hex HMAC-SHA256 of
/// `"<timestamp>.<body>"` under the Task's key; absent when the Task names no key.
pub const SIGNATURE: &str = "x-wharf-signature";

/// On a Task callback: when the attempt was made, in Unix seconds.
pub const TIMESTAMP: &str = "x-wharf-timestamp";

/// On a Task callback: the Task's UID, the same on every retry, so a receiver can
/// drop duplicates.
pub const DELIVERY: &str = "x-wharf-delivery";

/// On a Task callback: the kind of document in the body, e.g. `TaskFinished`.
pub const EVENT: &str = "x-wharf-event";

/// On every answer: the request's id, also in the server's log lines.
pub const REQUEST_ID: &str = "x-request-id";

/// On a function call: a key the caller chooses (at most 255 characters) so that a
/// retried call returns the first call's answer instead of doing it twice.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// On the answer to a function call with an idempotency key: `true` when the answer
/// is the stored one of an earlier call with the same key.
pub const IDEMPOTENT_REPLAYED: &str = "idempotent-replayed";
