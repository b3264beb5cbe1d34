//! Kubernetes resource quantity parsing.
//!
//! Guarantees: `"100m"`, `"0.5"`, `"2"`, `"1Gi"`, `"1.5G"`, `"1e3"`, `"128974848"` are parsed exactly with
//! integer arithmetic (no floating point), the result is rounded up away from zero like upstream
//! `MilliValue()` / `Value()`, and every malformed or out-of-range input is an error, never a panic.

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use thiserror::Error;

/// Why a quantity string could not be turned into an integer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QuantityError {
    /// The text was empty.
    #[error("empty quantity")]
    Empty,
    /// The numeric part is missing or malformed.
    #[error("invalid number in quantity {0:?}")]
    InvalidNumber(String),
    /// The suffix is not a binary SI, decimal SI or exponent suffix.
    #[error("invalid suffix in quantity {0:?}")]
    InvalidSuffix(String),
    /// The value does not fit in an i64 at the requested scale.
    #[error("quantity {0:?} is out of range")]
    OutOfRange(String),
}

/// Most significant digits accepted in the mantissa (keeps the i128 arithmetic exact).
const MAX_DIGITS: usize = 30;

/// A parsed quantity: `mantissa * 2^binary_shift * 10^exponent`, negated when `negative`.
struct Parsed {
    negative: bool,
    mantissa: i128,
    exponent: i32,
    binary_shift: u32,
}

/// Parses `text` and returns its value multiplied by `10^scale`, rounded up away from zero.
pub fn parse_scaled(text: &str, scale: i32) -> Result<i64, QuantityError> {
    let parsed = parse(text)?;
    let magnitude = scaled_magnitude(&parsed, scale).ok_or_else(|| QuantityError::OutOfRange(text.to_string()))?;
    let signed = if parsed.negative { -magnitude } else { magnitude };
    i64::try_from(signed).map_err(|_| QuantityError::OutOfRange(text.to_string()))
}

/// Parses a cpu quantity into millicores (`"100m"` → 100, `"0.5"` → 500, `"2"` → 2000).
pub fn parse_cpu_millis(text: &str) -> Result<i64, QuantityError> {
    parse_scaled(text, 3)
}

/// Parses a memory (or any count) quantity into whole units (`"1Ki"` → 1024, `"1k"` → 1000).
pub fn parse_bytes(text: &str) -> Result<i64, QuantityError> {
    parse_scaled(text, 0)
}

/// Millicores of a typed quantity.
pub fn cpu_millis(quantity: &Quantity) -> Result<i64, QuantityError> {
    parse_cpu_millis(&quantity.0)
}

/// Whole units (bytes for memory, a count for pods) of a typed quantity.
pub fn value(quantity: &Quantity) -> Result<i64, QuantityError> {
    parse_bytes(&quantity.0)
}

fn parse(text: &str) -> Result<Parsed, QuantityError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(QuantityError::Empty);
    }
    let (negative, unsigned) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let number_len = unsigned.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(unsigned.len());
    let (number, suffix) = unsigned.split_at(number_len);
    let (mantissa, fraction_digits) = parse_number(number).ok_or_else(|| QuantityError::InvalidNumber(text.into()))?;
    let (suffix_exponent, binary_shift) =
        parse_suffix(suffix).ok_or_else(|| QuantityError::InvalidSuffix(text.into()))?;
    let exponent =
        suffix_exponent.checked_sub(fraction_digits).ok_or_else(|| QuantityError::OutOfRange(text.into()))?;
    Ok(Parsed { negative, mantissa, exponent, binary_shift })
}

/// `"12.50"` → (1250, 2). Returns None when there is no digit, more than one dot, or too many digits.
fn parse_number(number: &str) -> Option<(i128, i32)> {
    let (whole, fraction) = match number.split_once('.') {
        Some((w, f)) if !f.contains('.') => (w, f),
        Some(_) => return None,
        None => (number, ""),
    };
    if whole.is_empty() && fraction.is_empty() {
        return None;
    }
    let digits = format!("{whole}{fraction}");
    let significant = digits.trim_start_matches('0');
    if significant.len() > MAX_DIGITS {
        return None;
    }
    let mantissa = if significant.is_empty() { 0 } else { significant.parse::<i128>().ok()? };
    Some((mantissa, i32::try_from(fraction.len()).ok()?))
}

/// Returns (decimal exponent, binary shift) of a suffix, or None when it is not a valid suffix.
fn parse_suffix(suffix: &str) -> Option<(i32, u32)> {
    let known = match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        _ => return parse_exponent(suffix).map(|e| (e, 0)),
    };
    Some(known)
}

/// `"e3"`, `"E-2"`, `"e+6"` → the exponent.
fn parse_exponent(suffix: &str) -> Option<i32> {
    let rest = suffix.strip_prefix('e').or_else(|| suffix.strip_prefix('E'))?;
    let digits = rest.strip_prefix(['+', '-']).unwrap_or(rest);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse::<i32>().ok()
}

/// `ceil(mantissa * 2^shift * 10^(exponent + scale))`, or None on overflow.
fn scaled_magnitude(parsed: &Parsed, scale: i32) -> Option<i128> {
    if parsed.mantissa == 0 {
        return Some(0);
    }
    let shifted = parsed.mantissa.checked_mul(1i128.checked_shl(parsed.binary_shift)?)?;
    let exponent = parsed.exponent.checked_add(scale)?;
    if exponent >= 0 {
        return shifted.checked_mul(10i128.checked_pow(u32::try_from(exponent).ok()?)?);
    }
    let Some(divisor) = 10i128.checked_pow(exponent.unsigned_abs()) else {
        return Some(1);
    };
    Some((shifted + divisor - 1) / divisor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_forms() {
        assert_eq!(parse_cpu_millis("100m"), Ok(100));
        assert_eq!(parse_cpu_millis("0.5"), Ok(500));
        assert_eq!(parse_cpu_millis(".25"), Ok(250));
        assert_eq!(parse_cpu_millis("2"), Ok(2000));
        assert_eq!(parse_cpu_millis("1.0001"), Ok(1001), "sub-milli fractions round up");
        assert_eq!(parse_cpu_millis("250000n"), Ok(1));
        assert_eq!(parse_cpu_millis("-1"), Ok(-1000));
    }

    #[test]
    fn memory_forms() {
        assert_eq!(parse_bytes("1Ki"), Ok(1024));
        assert_eq!(parse_bytes("200Mi"), Ok(200 * 1024 * 1024));
        assert_eq!(parse_bytes("1.5Gi"), Ok(1536 * 1024 * 1024));
        assert_eq!(parse_bytes("2Ti"), Ok(2 << 40));
        assert_eq!(parse_bytes("1k"), Ok(1000));
        assert_eq!(parse_bytes("128M"), Ok(128_000_000));
        assert_eq!(parse_bytes("3G"), Ok(3_000_000_000));
        assert_eq!(parse_bytes("1T"), Ok(1_000_000_000_000));
        assert_eq!(parse_bytes("1e3"), Ok(1000));
        assert_eq!(parse_bytes("12E-1"), Ok(2), "1.2 rounds up to 2");
        assert_eq!(parse_bytes("128974848"), Ok(128_974_848));
        assert_eq!(parse_bytes("0"), Ok(0));
    }

    #[test]
    fn errors() {
        assert_eq!(parse_bytes(""), Err(QuantityError::Empty));
        assert!(matches!(parse_bytes("abc"), Err(QuantityError::InvalidNumber(_))));
        assert!(matches!(parse_bytes("1.2.3"), Err(QuantityError::InvalidNumber(_))));
        assert!(matches!(parse_bytes("1Qi"), Err(QuantityError::InvalidSuffix(_))));
        assert!(matches!(parse_bytes("1e"), Err(QuantityError::InvalidSuffix(_))));
        assert!(matches!(parse_bytes("10Ei"), Err(QuantityError::OutOfRange(_))));
        assert!(matches!(parse_bytes("1e40"), Err(QuantityError::OutOfRange(_))));
        assert!(matches!(parse_bytes("1234567890123456789012345678901234"), Err(QuantityError::InvalidNumber(_))));
    }

    #[test]
    fn typed_quantity() {
        assert_eq!(cpu_millis(&Quantity("1500m".into())), Ok(1500));
        assert_eq!(value(&Quantity("110".into())), Ok(110));
    }
}
