//! Status conditions that keep their transition times.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{Condition, Time};
use k8s_openapi::jiff::Timestamp;

/// A condition as a reconcile decides it, before transition times are known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionUpdate {
    /// The condition type, e.g. `Ready`.
    pub type_: &'static str,
    /// Whether it holds.
    pub status: bool,
    /// A CamelCase reason.
    pub reason: String,
    /// A sentence for people.
    pub message: String,
}

impl ConditionUpdate {
    /// A condition that holds or not, with a reason and message.
    pub fn new(
        type_: &'static str,
        status: bool,
        reason: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            type_,
            status,
            reason: reason.into(),
            message: message.into(),
        }
    }
}

/// Merges `updates` into `previous`: a condition whose status did not change keeps its
/// `lastTransitionTime`; a new or flipped one gets `now`.
pub fn merge_conditions(
    previous: &[Condition],
    updates: Vec<ConditionUpdate>,
    observed_generation: Option<i64>,
    now: Timestamp,
) -> Vec<Condition> {
    updates
        .into_iter()
        .map(|update| {
            let status = if update.status { "True" } else { "False" }.to_owned();
            let last_transition_time = previous
                .iter()
                .find(|c| c.type_ == update.type_ && c.status == status)
                .map(|c| c.last_transition_time.clone())
                .unwrap_or(Time(now));
            Condition {
                type_: update.type_.to_owned(),
                status,
                reason: update.reason,
                message: update.message,
                last_transition_time,
                observed_generation,
            }
        })
        .collect()
}

/// Whether the condition `type_` is present and true.
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    conditions
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn unchanged_status_keeps_its_transition_time() {
        let first = merge_conditions(
            &[],
            vec![ConditionUpdate::new("Ready", false, "Starting", "…")],
            Some(1),
            at(10),
        );
        let second = merge_conditions(
            &first,
            vec![ConditionUpdate::new("Ready", false, "Waiting", "…")],
            Some(2),
            at(20),
        );
        assert_eq!(second[0].last_transition_time, Time(at(10)));
        assert_eq!(second[0].reason, "Waiting");
        assert_eq!(second[0].observed_generation, Some(2));
    }

    #[test]
    fn flipped_status_gets_a_new_transition_time() {
        let first = merge_conditions(
            &[],
            vec![ConditionUpdate::new("Ready", false, "Starting", "…")],
            None,
            at(10),
        );
        let second = merge_conditions(
            &first,
            vec![ConditionUpdate::new("Ready", true, "Running", "…")],
            None,
            at(20),
        );
        assert_eq!(second[0].last_transition_time, Time(at(20)));
        assert!(is_true(&second, "Ready"));
    }
}
