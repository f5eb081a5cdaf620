//! When to try a callback again, and when to give up.
//!
//! Delays double from [`BASE_DELAY`] up to [`MAX_DELAY`], with no jitter: each Task
//! has one callback, so there is no herd of clients to spread out, and a
//! deterministic schedule is one a receiver's operator can reason about (and tests
//! can check). With the constants below a receiver has about 13½ minutes, over
//! [`MAX_ATTEMPTS`] attempts, to come back.

use std::time::Duration;

use super::AttemptOutcome;

/// The delay after the first failed attempt.
pub const BASE_DELAY: Duration = Duration::from_secs(2);

/// The longest delay between two attempts.
pub const MAX_DELAY: Duration = Duration::from_secs(5 * 60);

/// Attempts made before the callback is given up (the first one included).
pub const MAX_ATTEMPTS: u32 = 10;

/// The delay before attempt `attempts + 1`, once `attempts` (≥ 1) attempts failed:
/// `min(BASE_DELAY · 2^(attempts − 1), MAX_DELAY)`, so 2 s, 4 s, 8 s, … 256 s,
/// then 5 min.
pub fn delay_after(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1);
    // 2 s · 2^8 already passes the cap; stopping there keeps the shift in range.
    if doublings >= 16 {
        return MAX_DELAY;
    }
    BASE_DELAY.saturating_mul(1 << doublings).min(MAX_DELAY)
}

/// Whether an answer with this HTTP status is worth trying again: a server error,
/// `408 Request Timeout` or `429 Too Many Requests`. Every other 4xx says the request
/// itself is wrong, and sending it again will not change that; 3xx is a redirect,
/// which is not followed.
pub fn is_retryable_status(code: u16) -> bool {
    matches!(code, 408 | 429) || code >= 500
}

/// What to do after an attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Next {
    /// The callback was delivered; nothing more to do.
    Delivered,
    /// Try again after this delay.
    RetryAfter(Duration),
    /// Stop: the failure is permanent or the attempts are used up.
    GiveUp,
}

/// What to do after `outcome`, the `attempts`-th attempt (counting from 1).
pub fn next(outcome: &AttemptOutcome, attempts: u32) -> Next {
    if outcome.delivered {
        Next::Delivered
    } else if outcome.permanent || attempts >= MAX_ATTEMPTS {
        Next::GiveUp
    } else {
        Next::RetryAfter(delay_after(attempts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(permanent: bool) -> AttemptOutcome {
        AttemptOutcome {
            status_code: Some(503),
            error: Some("the receiver answered 503 Service Unavailable".into()),
            delivered: false,
            permanent,
        }
    }

    #[test]
    fn delays_double_up_to_the_cap() {
        let secs: Vec<u64> = (1..=MAX_ATTEMPTS)
            .map(|n| delay_after(n).as_secs())
            .collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 64, 128, 256, 300, 300]);
        assert_eq!(delay_after(0), BASE_DELAY);
        assert_eq!(delay_after(17), MAX_DELAY);
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
    }

    #[test]
    fn the_whole_schedule_takes_about_thirteen_minutes() {
        let total: Duration = (1..MAX_ATTEMPTS).map(delay_after).sum();
        assert_eq!(total, Duration::from_secs(810));
    }

    #[test]
    fn statuses_are_classified() {
        for code in [500, 502, 503, 504, 599, 408, 429] {
            assert!(is_retryable_status(code), "{code}");
        }
        for code in [
            400, 401, 403, 404, 405, 409, 410, 413, 422, 300, 301, 302, 307, 308,
        ] {
            assert!(!is_retryable_status(code), "{code}");
        }
    }

    #[test]
    fn next_follows_the_outcome() {
        let delivered = AttemptOutcome {
            status_code: Some(204),
            error: None,
            delivered: true,
            permanent: false,
        };
        assert_eq!(next(&delivered, 3), Next::Delivered);
        assert_eq!(
            next(&failed(false), 1),
            Next::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(next(&failed(false), 9), Next::RetryAfter(MAX_DELAY));
        assert_eq!(next(&failed(false), MAX_ATTEMPTS), Next::GiveUp);
        assert_eq!(next(&failed(true), 1), Next::GiveUp);
    }
}
