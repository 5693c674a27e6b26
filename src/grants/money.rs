//! Exact amounts with ISO 4217 currencies: decimal strings checked against the currency's minor unit.

use crate::http::{ApiError, FieldError};

/// Checks an ISO 4217 currency code and returns its number of decimal places.
pub fn minor_unit(code: &str) -> Result<u16, FieldError> {
    iso_currency::Currency::from_code(code)
        .map(|c| c.exponent().unwrap_or(0))
        .ok_or_else(|| {
            FieldError::new(
                "currency",
                format!("`{code}` is not an ISO 4217 currency code"),
            )
        })
}

/// Checks a non-negative decimal amount against a currency and writes it with exactly the currency's number of
/// decimals (`"125000"` in TJS becomes `"125000.00"`).
pub fn normalize(amount: &str, decimals: u16, field: &str) -> Result<String, FieldError> {
    let invalid = |why: String| FieldError::new(field, why);
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (amount.contains('.') && !digits(fraction)) {
        return Err(invalid(
            "must be a non-negative decimal number written as a string, e.g. \"125000.00\"".into(),
        ));
    }
    if whole.len() > 15 {
        return Err(invalid("is too large".into()));
    }
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > usize::from(decimals) {
        return Err(invalid(format!(
            "has more than {decimals} decimal places for its currency"
        )));
    }
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    if decimals == 0 {
        return Ok(whole.to_owned());
    }
    Ok(format!(
        "{whole}.{fraction:0<width$}",
        width = usize::from(decimals)
    ))
}

/// Validates an amount filter (any non-negative decimal).
pub fn filter_amount(value: &str, field: &str) -> Result<(), ApiError> {
    normalize(value, 4, field)
        .map(|_| ())
        .map_err(|e| ApiError::Validation(vec![e]))
}

#[cfg(test)]
mod tests {
    use super::{minor_unit, normalize};

    #[test]
    fn amounts_follow_the_currency() {
        assert_eq!(minor_unit("TJS").ok(), Some(2));
        assert_eq!(minor_unit("JPY").ok(), Some(0));
        assert_eq!(minor_unit("KWD").ok(), Some(3));
        assert!(minor_unit("XYZ").is_err());
        assert_eq!(
            normalize("125000", 2, "amount").ok().as_deref(),
            Some("125000.00")
        );
        assert_eq!(
            normalize("0125000.5", 2, "amount").ok().as_deref(),
            Some("125000.50")
        );
        assert_eq!(
            normalize("10.120", 2, "amount").ok().as_deref(),
            Some("10.12")
        );
        assert!(normalize("10.123", 2, "amount").is_err());
        assert!(normalize("-5", 2, "amount").is_err());
        assert!(normalize("1e5", 2, "amount").is_err());
        assert!(normalize("12.", 2, "amount").is_err());
        assert_eq!(normalize("500", 0, "amount").ok().as_deref(), Some("500"));
    }
}
