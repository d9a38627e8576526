//! The number syntax of the Image API: pixel values are non-negative integers; percentages and
//! rotations are decimals of digits and at most one `.` (no sign, no exponent).

use super::error::{ImageError, Result};

/// A non-negative integer of digits only.
pub(crate) fn pixels(text: &str, what: &str) -> Result<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ImageError::bad_request(format!(
            "{what} must be a whole number, got {text:?}"
        )));
    }
    text.parse::<u32>()
        .map_err(|_| ImageError::bad_request(format!("{what} {text:?} is too large")))
}

/// A non-negative decimal of digits and at most one `.`.
pub(crate) fn decimal(text: &str, what: &str) -> Result<f64> {
    let dots = text.bytes().filter(|b| *b == b'.').count();
    let digits_only = text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let has_digit = text.bytes().any(|b| b.is_ascii_digit());
    if !digits_only || dots > 1 || !has_digit {
        return Err(ImageError::bad_request(format!(
            "{what} must be a decimal number, got {text:?}"
        )));
    }
    text.parse::<f64>()
        .ok()
        .filter(|value| value.is_finite())
        .ok_or_else(|| ImageError::bad_request(format!("{what} {text:?} is not a number")))
}

/// A decimal in its canonical text: an integer when it is one, otherwise without trailing
/// zeros, with a leading `0` below 1.
pub(crate) fn canonical_decimal(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return format!("{}", value as i64);
    }
    let text = format!("{value:.10}");
    let trimmed = text.trim_end_matches('0').trim_end_matches('.');
    trimmed.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_are_plain_digits() {
        assert_eq!(pixels("0", "x").unwrap(), 0);
        assert_eq!(pixels("1024", "x").unwrap(), 1024);
        for bad in ["", "-1", "+1", "1.0", "1e3", " 1", "99999999999"] {
            assert!(pixels(bad, "x").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decimals_have_no_sign_or_exponent() {
        assert_eq!(decimal("12.5", "n").unwrap(), 12.5);
        assert_eq!(decimal("0.5", "n").unwrap(), 0.5);
        assert_eq!(decimal(".5", "n").unwrap(), 0.5);
        assert_eq!(decimal("90", "n").unwrap(), 90.0);
        for bad in ["", ".", "1.2.3", "-5", "+5", "1e2", "nan", "inf", "1,5"] {
            assert!(decimal(bad, "n").is_err(), "{bad:?}");
        }
    }

    #[test]
    fn canonical_decimals_drop_needless_digits() {
        assert_eq!(canonical_decimal(90.0), "90");
        assert_eq!(canonical_decimal(22.50), "22.5");
        assert_eq!(canonical_decimal(0.25), "0.25");
    }
}
