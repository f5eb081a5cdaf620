//! How long a command waits: `--timeout` of the App commands (bounded by the
//! server's longest wait), `--timeout-wait` of the Task commands (unbounded: the
//! client asks again) and `--timeout` of `wharf runtimes invoke` (bounded by the
//! server's longest invoke).

use std::time::Duration;

use wharf_model::duration::parse_duration;

/// The longest wait the server allows.
const MAX_WAIT: Duration = Duration::from_secs(600);

/// The longest an invoke may wait for its answer, as the server allows.
const MAX_INVOKE_WAIT: Duration = Duration::from_secs(300);

/// A wait's length, as written and as a duration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeout {
    /// As the user wrote it, e.g. `5m`; sent to the server as `?wait=`.
    pub text: String,
    /// Its length.
    pub duration: Duration,
}

/// Reads a duration of at least 1s; `zero` is the complaint about `0s`.
fn at_least_a_second(text: &str, zero: &str) -> Result<Timeout, String> {
    let duration = parse_duration(text).map_err(|e| e.to_string())?;
    if duration.is_zero() {
        return Err(zero.to_owned());
    }
    Ok(Timeout {
        text: text.to_owned(),
        duration,
    })
}

/// Reads `--timeout`: a duration from 1s to 10m.
pub fn parse_timeout(text: &str) -> Result<Timeout, String> {
    let timeout = at_least_a_second(
        text,
        "the timeout must be at least 1s; use --no-wait not to wait",
    )?;
    if timeout.duration > MAX_WAIT {
        return Err(format!(
            "{text} is longer than the server waits: use at most 10m"
        ));
    }
    Ok(timeout)
}

/// Reads the `--timeout` of an invoke: a duration from 1s to 5m.
pub fn parse_invoke_timeout(text: &str) -> Result<Timeout, String> {
    let timeout = at_least_a_second(text, "the timeout must be at least 1s")?;
    if timeout.duration > MAX_INVOKE_WAIT {
        return Err(format!(
            "{text} is longer than an invoke may wait: use at most 5m"
        ));
    }
    Ok(timeout)
}

/// Reads `--timeout-wait`: any duration of at least 1s (it may exceed the server's
/// ten minutes: the client asks again).
pub fn parse_wait_limit(text: &str) -> Result<Timeout, String> {
    at_least_a_second(text, "the wait must be at least 1s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_are_bounded() {
        assert_eq!(
            parse_timeout("5m").unwrap().duration,
            Duration::from_secs(300)
        );
        assert!(parse_timeout("11m").is_err());
        assert!(parse_timeout("0s").is_err());
        assert!(parse_timeout("soon").is_err());
        assert_eq!(
            parse_wait_limit("2h").unwrap().duration,
            Duration::from_secs(7200)
        );
        assert!(parse_wait_limit("0s").is_err());
        assert_eq!(
            parse_invoke_timeout("30s").unwrap().duration,
            Duration::from_secs(30)
        );
        assert!(parse_invoke_timeout("6m").is_err());
        assert!(parse_invoke_timeout("0s").is_err());
    }
}
