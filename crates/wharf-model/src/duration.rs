//! Durations as written in Wharf resources: `90s`, `15m`, `72h`, `7d`, `1h30m`.
//!
//! The syntax is the CRDs' (`^([0-9]{1,6}(s|m|h|d))+$` on `timeout`,
//! `ttlAfterFinished`, `expiresAfter`), and the CLI, the API and the operator
//! must accept exactly what the API server accepts. Neither neighbour fits:
//! - `humantime` (2.4) reads a larger language: `500ms`, `2w`, `1M` (a month),
//!   `1y`, `3 hours`, spaces between parts. The CLI and the API would take values
//!   the API server then refuses, and `1M` would be a month where a reader may
//!   expect minutes.
//! - Go's `time.ParseDuration` (Kubernetes' `metav1.Duration`) has no days and
//!   takes fractions and sub-second units (`1.5h`, `300ms`).
//!
//! So this is a dozen lines of our own, with the CRD's units and no fractions.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a duration such as 30s, 15m, 72h, 7d or 1h30m")]
pub struct InvalidDuration(pub String);

/// The most digits a part may have, as the CRDs' pattern says (`[0-9]{1,6}`).
const MAX_DIGITS: usize = 6;

/// Parses a sequence of `<number><unit>` with units `s`, `m`, `h` and `d`, each
/// number of at most six digits: exactly what the CRDs' pattern accepts.
pub fn parse_duration(text: &str) -> Result<Duration, InvalidDuration> {
    let invalid = || InvalidDuration(text.to_owned());
    if text.is_empty() {
        return Err(invalid());
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    let mut digits = 0;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            digits += 1;
            if digits > MAX_DIGITS {
                return Err(invalid());
            }
            number = Some(number.unwrap_or(0) * 10 + u64::from(digit));
            continue;
        }
        digits = 0;
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86400,
            _ => return Err(invalid()),
        };
        let n = number.take().ok_or_else(invalid)?;
        total = n
            .checked_mul(unit)
            .and_then(|s| total.checked_add(s))
            .ok_or_else(invalid)?;
    }
    if number.is_some() {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_units_and_sums() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("7d"), Ok(Duration::from_secs(7 * 86400)));
    }

    #[test]
    fn refuses_what_it_cannot_read() {
        for bad in [
            "",
            "10",
            "h",
            "5x",
            "1h30",
            "-5m",
            "1234567s",
            "99999999999999999999s",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} should be refused");
        }
    }
}
