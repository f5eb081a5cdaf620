//! The one rule for a failed call to the Kubernetes API: the user's problem, or
//! transient.
//!
//! A 4xx that retrying cannot fix (an invalid field, an immutable field, a quota, an
//! admission policy, a missing namespace) is the user's to act on: it becomes a
//! condition on the object, with the API server's message. Everything else is
//! transient and retried with backoff: 408 and 429 (the API server asks us to come
//! back), 409 (a conflict that the next reconcile resolves), 5xx, and errors that
//! never reached an answer (timeouts, connections).

/// Something about an object that its owner must fix; reported in its status.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// CamelCase reason for the conditions, e.g. `MissingReference`.
    pub reason: &'static str,
    /// What is wrong and what to do, for people.
    pub message: String,
}

impl Problem {
    /// A problem with `reason` and `message`.
    pub fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
        }
    }
}

/// What a failed call means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transience {
    /// Refused for a reason the user must fix; the API server's message.
    Refused(String),
    /// Worth retrying.
    Transient,
}

/// Classifies a failed call by the one rule above.
pub fn classify(error: &kube::Error) -> Transience {
    match error {
        kube::Error::Api(status)
            if (400..500).contains(&status.code) && !matches!(status.code, 408 | 409 | 429) =>
        {
            Transience::Refused(status.message.clone())
        }
        _ => Transience::Transient,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(code: u16) -> kube::Error {
        kube::Error::Api(Box::new(
            kube::core::Status::failure("said no", "Reason").with_code(code),
        ))
    }

    #[test]
    fn throttling_conflicts_timeouts_and_server_errors_are_transient() {
        for code in [408, 409, 429, 500, 502, 503, 504] {
            assert_eq!(classify(&api(code)), Transience::Transient, "{code}");
        }
    }

    #[test]
    fn other_client_errors_are_the_users_problem() {
        for code in [400, 403, 404, 410, 413, 422] {
            assert_eq!(
                classify(&api(code)),
                Transience::Refused("said no".into()),
                "{code}"
            );
        }
    }
}
