//! Signing of callbacks with HMAC-SHA256, and the check a receiver makes.
//!
//! The signed message is `"<timestamp>.<body>"`: signing the timestamp with the body
//! lets a receiver refuse old requests, so a captured one cannot be replayed.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The header with the signature, `sha256=<hex>` (from the one wire contract).
pub const SIGNATURE_HEADER: &str = wharf_model::wire::headers::SIGNATURE;

/// The header with the time of the attempt, in Unix seconds.
pub const TIMESTAMP_HEADER: &str = wharf_model::wire::headers::TIMESTAMP;

/// The header with the delivery's identity: the Task's UID, the same on every retry.
pub const DELIVERY_HEADER: &str = wharf_model::wire::headers::DELIVERY;

/// The header with the event's name, [`EVENT`](super::EVENT).
pub const EVENT_HEADER: &str = wharf_model::wire::headers::EVENT;

/// What precedes the hex digest in [`SIGNATURE_HEADER`]; it names the algorithm so
/// another can be added without ambiguity.
pub const SIGNATURE_PREFIX: &str = "sha256=";

/// How far a timestamp may be from the receiver's clock: long enough for clock
/// skew and a slow network, short enough that a replay is soon refused.
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(5 * 60);

type HmacSha256 = Hmac<Sha256>;

fn mac(key: &[u8], timestamp: &str, body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed), so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The [`SIGNATURE_HEADER`] value for `body` sent at `timestamp` (Unix seconds):
/// `sha256=` and the lower-case hex HMAC-SHA256 of `"<timestamp>.<body>"`.
pub fn sign(key: &[u8], timestamp: u64, body: &[u8]) -> String {
    let digest = mac(key, &timestamp.to_string(), body)
        .finalize()
        .into_bytes();
    format!("{SIGNATURE_PREFIX}{}", hex::encode(digest))
}

/// Whether a received callback is genuine and fresh: `signature_header` is the
/// signature of `body` and `timestamp_header` under `key` (compared in constant
/// time), and the timestamp is within `tolerance` of `now`, either way.
///
/// `body` must be the raw bytes received, before any JSON parsing.
pub fn verify(
    key: &[u8],
    timestamp_header: &str,
    body: &[u8],
    signature_header: &str,
    now: SystemTime,
    tolerance: Duration,
) -> bool {
    let timestamp_header = timestamp_header.trim();
    // Only plain digits: "+17…" or " 17…" parse as numbers but would sign differently.
    if timestamp_header.is_empty() || !timestamp_header.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let Ok(timestamp) = timestamp_header.parse::<u64>() else {
        return false;
    };
    // A timestamp past what the clock can hold is a forgery, not a panic.
    let Some(sent) = UNIX_EPOCH.checked_add(Duration::from_secs(timestamp)) else {
        return false;
    };
    let skew = match now.duration_since(sent) {
        Ok(age) => age,
        Err(ahead) => ahead.duration(),
    };
    if skew > tolerance {
        return false;
    }
    let Some(hex_digest) = signature_header.trim().strip_prefix(SIGNATURE_PREFIX) else {
        return false;
    };
    let Ok(digest) = hex::decode(hex_digest) else {
        return false;
    };
    mac(key, timestamp_header, body)
        .verify_slice(&digest)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"whsec_test";
    const BODY: &[u8] = br#"{"kind":"TaskFinished"}"#;
    const TS: u64 = 1_700_000_000;
    // Computed independently: Python's hmac.new(KEY, b"1700000000." + BODY, sha256).
    const EXPECTED: &str =
        "sha256=f47ff93c83f8d047f4fc38e768eec2b05902181c0bd4f22dd8141315d01bff54";

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn signature_matches_a_fixed_vector() {
        assert_eq!(sign(KEY, TS, BODY), EXPECTED);
    }

    #[test]
    fn an_empty_key_and_body_still_sign() {
        assert_eq!(
            sign(b"", 0, b""),
            "sha256=b849d5a581847b281957065739df36df2463d1977ea8d6e1e4e6cf33fadc68c3"
        );
    }

    #[test]
    fn verify_accepts_the_signature_within_tolerance() {
        for now in [TS, TS + 300, TS - 300] {
            assert!(
                verify(
                    KEY,
                    "1700000000",
                    BODY,
                    EXPECTED,
                    at(now),
                    DEFAULT_TOLERANCE
                ),
                "{now}"
            );
        }
        // Upper-case hex is the same digest.
        let upper = format!("sha256={}", EXPECTED["sha256=".len()..].to_uppercase());
        assert!(verify(
            KEY,
            "1700000000",
            BODY,
            &upper,
            at(TS),
            DEFAULT_TOLERANCE
        ));
    }

    #[test]
    fn verify_refuses_stale_or_future_timestamps() {
        assert!(!verify(
            KEY,
            "1700000000",
            BODY,
            EXPECTED,
            at(TS + 301),
            DEFAULT_TOLERANCE
        ));
        assert!(!verify(
            KEY,
            "1700000000",
            BODY,
            EXPECTED,
            at(TS - 301),
            DEFAULT_TOLERANCE
        ));
    }

    #[test]
    fn verify_refuses_anything_changed() {
        let now = at(TS);
        let t = DEFAULT_TOLERANCE;
        assert!(!verify(b"other key", "1700000000", BODY, EXPECTED, now, t));
        assert!(!verify(
            KEY,
            "1700000000",
            br#"{"kind":"TaskFinishes"}"#,
            EXPECTED,
            now,
            t
        ));
        // A different timestamp with the old signature: a replay with a fresh clock.
        let replay = sign(KEY, TS, BODY);
        assert!(!verify(KEY, "1700000001", BODY, &replay, at(TS + 1), t));
        assert!(!verify(KEY, "+1700000000", BODY, EXPECTED, now, t));
        assert!(!verify(KEY, "", BODY, EXPECTED, now, t));
        assert!(
            !verify(KEY, "1700000000", BODY, &EXPECTED[7..], now, t),
            "no prefix"
        );
        assert!(!verify(KEY, "1700000000", BODY, "sha1=f47f", now, t));
        assert!(!verify(KEY, "1700000000", BODY, "sha256=zz", now, t));
        assert!(
            !verify(KEY, "1700000000", BODY, &EXPECTED[..20], now, t),
            "truncated"
        );
        assert!(!verify(
            KEY,
            "99999999999999999999999",
            BODY,
            EXPECTED,
            now,
            t
        ));
        assert!(!verify(KEY, "18446744073709551615", BODY, EXPECTED, now, t));
    }
}
