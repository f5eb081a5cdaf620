//! Byte sizes written as Kubernetes quantities (`512Mi`, `1G`, `1.5Gi`), for a
//! Task's `results.maxSize`.
//!
//! Why not the `kube_quantity` crate (0.9.0, checked against its source): it
//! reads the number through an `f64` (`nom`'s `double`), so large sizes lose
//! their last digits; it accepts a suffix without a number (`Gi` reads as 0);
//! its `to_bytes_u64` drops the fraction before scaling (`1.5Gi` becomes 1 GiB,
//! where the limit must be 1536 MiB) and multiplies without checking for
//! overflow (`99999999Ei` panics in a debug build). A size limit taken from user
//! input must be exact, rounded up and never panic, so this is our own: integer
//! arithmetic in `u128`, and only the suffixes a size can have (no `m`, no
//! exponent).

/// Why a quantity is not a byte size.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// The text is not a number with an optional suffix.
    #[error(
        "{0:?} is not a size; write a number with an optional suffix such as 512Mi, 10Gi or 1G"
    )]
    Malformed(String),
    /// The size does not fit in 64 bits.
    #[error("{0:?} is too large")]
    TooLarge(String),
}

/// The multiplier of a suffix: binary (`Ki` … `Ei`) and decimal (`k`/`K` … `E`).
fn multiplier(suffix: &str) -> Option<u128> {
    let binary = |power: u32| Some(1u128 << (10 * power));
    let decimal = |power: u32| Some(10u128.pow(3 * power));
    match suffix {
        "" => Some(1),
        "Ki" => binary(1),
        "Mi" => binary(2),
        "Gi" => binary(3),
        "Ti" => binary(4),
        "Pi" => binary(5),
        "Ei" => binary(6),
        // Kubernetes writes kilo as `k`; `K` is accepted because people write it.
        "k" | "K" => decimal(1),
        "M" => decimal(2),
        "G" => decimal(3),
        "T" => decimal(4),
        "P" => decimal(5),
        "E" => decimal(6),
        _ => None,
    }
}

/// The number of bytes `quantity` stands for, rounded up to a whole byte.
pub fn parse_bytes(quantity: &str) -> Result<u64, QuantityError> {
    let malformed = || QuantityError::Malformed(quantity.to_owned());
    let text = quantity.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(split);
    let multiplier = multiplier(suffix).ok_or_else(malformed)?;
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() || fraction.contains('.') || fraction.len() > 18 {
        return Err(malformed());
    }
    let too_large = || QuantityError::TooLarge(quantity.to_owned());
    let whole: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_large())?
    };
    let mut bytes = whole.checked_mul(multiplier).ok_or_else(too_large)?;
    if !fraction.is_empty() {
        let scale = 10u128.pow(u32::try_from(fraction.len()).map_err(|_| malformed())?);
        let digits: u128 = fraction.parse().map_err(|_| malformed())?;
        // Rounded up: a limit of 1.5Ki allows 1536 bytes, never fewer.
        bytes += (digits * multiplier).div_ceil(scale);
    }
    u64::try_from(bytes).map_err(|_| too_large())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_decimal_suffixes() {
        for (text, bytes) in [
            ("0", 0),
            ("123", 123),
            ("1Ki", 1024),
            ("512Mi", 512 << 20),
            ("1Gi", 1 << 30),
            ("2Ti", 2 << 40),
            ("1k", 1000),
            ("1K", 1000),
            ("5M", 5_000_000),
            ("1G", 1_000_000_000),
            ("3T", 3_000_000_000_000),
            ("1.5Gi", 3 << 29),
            (".5Ki", 512),
            ("1.0001k", 1001),
        ] {
            assert_eq!(parse_bytes(text), Ok(bytes), "{text}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for text in ["", "Gi", "1Gb", "1m", "-1", "1..2", "1e3", "1 Gi x"] {
            assert!(parse_bytes(text).is_err(), "{text:?}");
        }
        assert_eq!(
            parse_bytes("99999999Ei"),
            Err(QuantityError::TooLarge("99999999Ei".into()))
        );
    }
}
