//! The Task's `status.callback` after an attempt: a pure step, so the controller only
//! writes what this returns.

use std::time::{SystemTime, UNIX_EPOCH};

use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use wharf_model::task::{CallbackAttempt, CallbackState, CallbackStatus};

use super::backoff::{Next, next};
use super::deliver::AttemptOutcome;

/// How many attempts `status.callback.history` keeps, the newest last.
pub const MAX_HISTORY: usize = 10;

/// The callback status after `outcome`, an attempt made at `at`, given the status
/// before it (`None` before the first attempt): one more attempt counted, the
/// attempt appended to the history, and the state and next attempt time that
/// [`next`] gives.
pub fn record(
    previous: Option<&CallbackStatus>,
    outcome: &AttemptOutcome,
    at: SystemTime,
) -> CallbackStatus {
    let mut status = previous.cloned().unwrap_or_default();
    status.attempts = status.attempts.saturating_add(1);
    status.history.push(CallbackAttempt {
        time: time(at),
        status_code: outcome.status_code,
        error: outcome.error.clone(),
    });
    let excess = status.history.len().saturating_sub(MAX_HISTORY);
    status.history.drain(..excess);
    let attempts = u32::try_from(status.attempts).unwrap_or(0);
    (status.state, status.next_attempt_time) = match next(outcome, attempts) {
        Next::Delivered => (CallbackState::Delivered, None),
        Next::GiveUp => (CallbackState::Failed, None),
        Next::RetryAfter(delay) => (CallbackState::Pending, Some(time(at + delay))),
    };
    status
}

/// `at` in whole seconds, the precision a Kubernetes `Time` keeps, so the status
/// written equals the status read back.
fn time(at: SystemTime) -> Time {
    let secs = at
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Time(Timestamp::from_second(secs).unwrap_or(Timestamp::UNIX_EPOCH))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::task::callback::{MAX_ATTEMPTS, MAX_DELAY};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(secs * 1000 + 250)
    }

    fn failure(code: u16, permanent: bool) -> AttemptOutcome {
        AttemptOutcome {
            status_code: Some(code),
            error: Some(format!("the receiver answered {code}")),
            delivered: false,
            permanent,
        }
    }

    #[test]
    fn a_retryable_failure_schedules_the_next_attempt() {
        let status = record(None, &failure(503, false), at(1_700_000_000));
        assert_eq!(status.state, CallbackState::Pending);
        assert_eq!(status.attempts, 1);
        assert_eq!(status.history.len(), 1);
        assert_eq!(status.history[0].status_code, Some(503));
        assert_eq!(status.history[0].time.0.as_second(), 1_700_000_000);
        assert_eq!(
            status.next_attempt_time.unwrap().0.as_second(),
            1_700_000_002
        );
    }

    #[test]
    fn delivery_ends_the_schedule() {
        let first = record(None, &failure(500, false), at(100));
        let delivered = AttemptOutcome {
            status_code: Some(200),
            error: None,
            delivered: true,
            permanent: false,
        };
        let status = record(Some(&first), &delivered, at(102));
        assert_eq!(status.state, CallbackState::Delivered);
        assert_eq!(status.attempts, 2);
        assert_eq!(status.next_attempt_time, None);
        assert_eq!(status.history[1].error, None);
    }

    #[test]
    fn a_permanent_failure_gives_up_at_once() {
        let status = record(None, &failure(404, true), at(100));
        assert_eq!(status.state, CallbackState::Failed);
        assert_eq!(status.next_attempt_time, None);
    }

    #[test]
    fn the_last_attempt_gives_up_and_history_keeps_the_newest() {
        let mut status: Option<CallbackStatus> = None;
        let mut now = 0;
        for n in 1..=MAX_ATTEMPTS + 2 {
            let next = record(status.as_ref(), &failure(500 + n as u16, false), at(now));
            if n < MAX_ATTEMPTS {
                assert_eq!(next.state, CallbackState::Pending, "attempt {n}");
                let due = next.next_attempt_time.as_ref().unwrap().0.as_second() as u64;
                assert!(due - now <= MAX_DELAY.as_secs());
                now = due;
            } else {
                assert_eq!(next.state, CallbackState::Failed, "attempt {n}");
            }
            status = Some(next);
        }
        let status = status.unwrap();
        assert_eq!(status.attempts, MAX_ATTEMPTS as i32 + 2);
        assert_eq!(status.history.len(), MAX_HISTORY);
        assert_eq!(status.history.last().unwrap().status_code, Some(512));
        assert_eq!(status.history[0].status_code, Some(503));
    }
}
