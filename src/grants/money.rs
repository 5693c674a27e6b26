//! Exact amounts with ISO 4217 currencies: [`Amount`], a decimal read and written as Postgres `numeric`, and
//! [`Currency`], a checked code stored as text. Neither ever passes through a float.

use std::fmt;
use std::str::FromStr;

use bigdecimal::{BigDecimal, Signed};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{Numeric, Text};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::http::{ApiError, FieldError};

/// The most digits an amount may have before its decimal point (leading zeros count, as they always have).
const MAX_WHOLE_DIGITS: usize = 15;

/// The most decimals an amount filter may have: enough for every ISO 4217 minor unit.
const FILTER_DECIMALS: u16 = 4;

/// An ISO 4217 currency, serialized and stored as its three-letter code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Currency(iso_currency::Currency);

impl Currency {
    /// The three-letter code, e.g. `TJS`.
    pub fn code(self) -> &'static str {
        self.0.code()
    }

    /// The number of decimal places of its minor unit; units without one (gold, the SDR) take whole numbers.
    pub fn minor_unit(self) -> u16 {
        self.0.exponent().unwrap_or(0)
    }
}

impl FromStr for Currency {
    type Err = String;

    /// Accepts exactly an ISO 4217 code in capitals, as the OpenAPI pattern `^[A-Z]{3}$` says.
    fn from_str(code: &str) -> Result<Self, String> {
        iso_currency::Currency::from_code(code)
            .map(Self)
            .ok_or_else(|| format!("`{code}` is not an ISO 4217 currency code"))
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

// `iso_currency::Currency` has no `Debug`; the code says all there is to say.
impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    /// An unknown code fails deserialization, which the body extractor answers with a 422 naming the field.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        code.parse().map_err(serde::de::Error::custom)
    }
}

impl ToSql<Text, Pg> for Currency {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.code(), out)
    }
}

impl FromSql<Text, Pg> for Currency {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let code = <String as FromSql<Text, Pg>>::from_sql(value)?;
        code.parse()
            .map_err(|e: String| format!("stored currency: {e}").into())
    }
}

/// An exact, non-negative amount of money, stored as Postgres `numeric` and written as a plain decimal string
/// (`"125000.00"`, never `1.25E+5`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, AsExpression, FromSqlRow)]
#[diesel(sql_type = Numeric)]
pub struct Amount(BigDecimal);

impl Amount {
    /// Reads an amount a client wrote for a currency: a non-negative decimal string with at most the currency's
    /// number of decimals, kept with exactly that many (`"125000"` in TJS is `125000.00`, `"10.120"` is `10.12`).
    pub fn parse(text: &str, currency: Currency, field: &str) -> Result<Self, FieldError> {
        let decimals = currency.minor_unit();
        let value = read(text, Some(decimals), field)?;
        Ok(Self(value.with_scale(i64::from(decimals))))
    }

    /// The amount written with its currency's number of decimals. Postgres keeps the scale it was given, but
    /// diesel writes a zero with none, and rows written by hand may have any: formatting on the way out keeps the
    /// API's one format. An amount stored with more decimals than its currency has keeps them: money is never
    /// rounded.
    pub fn in_currency(self, currency: Currency) -> Self {
        let significant = self.0.normalized().fractional_digit_count();
        let scale = significant.max(i64::from(currency.minor_unit()));
        Self(self.0.with_scale(scale))
    }

    /// The amount as a JSON number with exactly its decimal digits (a float could not hold every amount).
    pub fn to_json_number(&self) -> Result<Box<serde_json::value::RawValue>, serde_json::Error> {
        serde_json::value::RawValue::from_string(self.to_string())
    }

    /// Reads an amount stored in the database from its decimal text (a `jsonb` of a grant's row): as
    /// [`FromSql`] reads the column, with no limit but the sign, so that a record reads the same alone as in its list.
    pub fn deserialize_stored<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        let value = BigDecimal::from_str(&text).map_err(serde::de::Error::custom)?;
        Self::from_stored(value).map_err(serde::de::Error::custom)
    }

    /// Checks an amount read from the database: the `grants_amount_check` constraint makes a negative one
    /// impossible, and one that appears anyway is corrupt data, reported rather than shown.
    fn from_stored(value: BigDecimal) -> deserialize::Result<Self> {
        if value.is_negative() {
            return Err(format!("stored amount {value} is negative").into());
        }
        Ok(Self(value))
    }
}

/// A sum of stored amounts as Postgres writes it (`sum(amount)::text`), in the API's one format for its currency, as
/// [`Amount::in_currency`] writes one amount. Postgres gives a sum the largest scale of its terms, so without this the
/// same grants could read `100.00` summed from their rows and `100.000` from a tally that once held a grant with three
/// decimals. Text that is not a decimal, or a code that is not a currency, is given back as it is.
pub fn sum_in_currency(text: &str, code: &str) -> String {
    match (BigDecimal::from_str(text), code.parse::<Currency>()) {
        (Ok(value), Ok(currency)) => Amount(value).in_currency(currency).to_string(),
        _ => text.to_owned(),
    }
}

/// A stored amount back in the form a client writes it, so that a PATCH merging it judges it against the currency
/// the merged grant will have (125000.50 TJS cannot become yen).
impl From<Amount> for String {
    fn from(amount: Amount) -> Self {
        amount.to_string()
    }
}

/// Checks the written form of a non-negative decimal (digits, optionally a point and more digits: no sign, no
/// exponent) and, when given, its number of significant decimals; returns the value as written.
fn read(text: &str, max_decimals: Option<u16>, field: &str) -> Result<BigDecimal, FieldError> {
    let invalid = |why: String| FieldError::new(field, why);
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(whole) || (text.contains('.') && !digits(fraction)) {
        return Err(invalid(
            "must be a non-negative decimal number written as a string, e.g. \"125000.00\"".into(),
        ));
    }
    if whole.len() > MAX_WHOLE_DIGITS {
        return Err(invalid("is too large".into()));
    }
    if let Some(decimals) = max_decimals
        && fraction.trim_end_matches('0').len() > usize::from(decimals)
    {
        return Err(invalid(format!(
            "has more than {decimals} decimal places for its currency"
        )));
    }
    BigDecimal::from_str(text).map_err(|e| invalid(format!("is not a decimal number: {e}")))
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.write_plain_string(f)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({self})")
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Amount {
    /// Any non-negative decimal string, kept as written; the currency's rule is [`Amount::parse`]'s.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        read(&text, None, "amount")
            .map(Self)
            .map_err(|e| serde::de::Error::custom(e.message))
    }
}

impl ToSql<Numeric, Pg> for Amount {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <BigDecimal as ToSql<Numeric, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Numeric, Pg> for Amount {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        Self::from_stored(<BigDecimal as FromSql<Numeric, Pg>>::from_sql(value)?)
    }
}

/// Reads an amount filter (`amount_min`, `amount_max`): any non-negative decimal with up to four decimals.
pub fn filter_amount(value: &str, field: &str) -> Result<Amount, ApiError> {
    read(value, Some(FILTER_DECIMALS), field)
        .map(Amount)
        .map_err(|e| ApiError::Validation(vec![e]))
}

#[cfg(test)]
mod tests {
    use diesel::pg::data_types::PgNumeric;

    use super::*;

    fn currency(code: &str) -> Currency {
        code.parse().expect("a known currency")
    }

    fn amount(text: &str, code: &str) -> Result<String, String> {
        Amount::parse(text, currency(code), "amount")
            .map(|a| a.to_string())
            .map_err(|e| e.message)
    }

    #[test]
    fn currencies_parse_from_their_codes_only() {
        assert_eq!(currency("TJS").code(), "TJS");
        assert_eq!(currency("TJS").minor_unit(), 2);
        assert_eq!(currency("JPY").minor_unit(), 0);
        assert_eq!(currency("KWD").minor_unit(), 3);
        assert_eq!(currency("XAU").minor_unit(), 0);
        for bad in ["XYZ", "tjs", "TJ", "TJSS", ""] {
            let err = bad.parse::<Currency>().expect_err(bad);
            assert!(err.contains("ISO 4217"), "{err}");
        }
        assert_eq!(
            serde_json::to_value(currency("USD")).ok(),
            Some(serde_json::json!("USD"))
        );
        assert_eq!(
            serde_json::from_value::<Currency>(serde_json::json!("EUR")).ok(),
            Some(currency("EUR"))
        );
        assert!(serde_json::from_value::<Currency>(serde_json::json!("XYZ")).is_err());
        assert!(serde_json::from_value::<Currency>(serde_json::json!(978)).is_err());
    }

    #[test]
    fn amounts_take_their_currencys_decimals() {
        assert_eq!(amount("125000", "TJS").as_deref(), Ok("125000.00"));
        assert_eq!(amount("0125000.5", "TJS").as_deref(), Ok("125000.50"));
        assert_eq!(amount("10.120", "TJS").as_deref(), Ok("10.12"));
        assert_eq!(amount("0", "TJS").as_deref(), Ok("0.00"));
        assert_eq!(amount("500", "JPY").as_deref(), Ok("500"));
        assert_eq!(amount("500.000", "JPY").as_deref(), Ok("500"));
        assert_eq!(amount("1.5", "KWD").as_deref(), Ok("1.500"));
        assert_eq!(
            amount("999999999999999.99", "USD").as_deref(),
            Ok("999999999999999.99")
        );
        assert!(amount("10.123", "TJS").is_err_and(|e| e.contains("decimal places")));
        assert!(amount("1.5", "JPY").is_err());
        assert!(amount("1000000000000000", "TJS").is_err_and(|e| e.contains("too large")));
        for bad in [
            "-5", "+5", "1e5", "12.", ".5", "lots", "", "1.2.3", " 1", "1,5", "٣",
        ] {
            assert!(amount(bad, "TJS").is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn amounts_survive_the_numeric_column_exactly() {
        // The conversions diesel's `numeric` support runs on every write and read.
        let through_numeric = |a: &Amount| {
            let stored = BigDecimal::try_from(PgNumeric::from(&a.0)).expect("numeric decodes");
            Amount::from_stored(stored).expect("a non-negative amount")
        };
        for (text, code) in [
            ("125000", "TJS"),
            ("9999.99", "USD"),
            ("0", "TJS"),
            ("0.5", "EUR"),
            ("1500000", "JPY"),
            ("0.001", "KWD"),
            ("123456789012345.67", "TJS"),
        ] {
            let cur = currency(code);
            let written = Amount::parse(text, cur, "amount").expect(text);
            let read = through_numeric(&written).in_currency(cur);
            assert_eq!(read, written, "{text} {code}");
            assert_eq!(read.to_string(), written.to_string(), "{text} {code}");
        }
        // Rows written by hand keep the API's format, and digits beyond the currency's are never rounded away.
        let by_hand = |text: &str| Amount(BigDecimal::from_str(text).expect("decimal"));
        assert_eq!(
            by_hand("150000").in_currency(currency("TJS")).to_string(),
            "150000.00"
        );
        assert_eq!(
            by_hand("10.125").in_currency(currency("TJS")).to_string(),
            "10.125"
        );
        assert!(Amount::from_stored(BigDecimal::from(-1)).is_err());
    }

    #[test]
    fn amounts_are_json_strings_and_exact_json_numbers() {
        let a = Amount::parse("50000.5", currency("USD"), "amount").expect("valid");
        assert_eq!(
            serde_json::to_value(&a).ok(),
            Some(serde_json::json!("50000.50"))
        );
        assert_eq!(
            a.to_json_number()
                .map(|n| n.get().to_owned())
                .ok()
                .as_deref(),
            Some("50000.50")
        );
        let big = Amount::parse("123456789012345.67", currency("TJS"), "amount").expect("valid");
        assert_eq!(
            big.to_json_number()
                .map(|n| n.get().to_owned())
                .ok()
                .as_deref(),
            Some("123456789012345.67"),
            "more digits than a float holds"
        );
        assert_eq!(
            serde_json::from_value::<Amount>(serde_json::json!("10.120")).ok(),
            Some(Amount(BigDecimal::from_str("10.120").expect("decimal")))
        );
        assert!(serde_json::from_value::<Amount>(serde_json::json!(10.5)).is_err());
    }

    #[test]
    fn amount_filters_allow_four_decimals() {
        assert!(filter_amount("10000", "amount_min").is_ok());
        assert!(filter_amount("9999.9999", "amount_max").is_ok());
        assert!(filter_amount("1.00001", "amount_max").is_err());
        assert!(filter_amount("-1", "amount_min").is_err());
    }

    #[test]
    fn a_sum_is_written_as_its_currency_writes_an_amount_whatever_scale_postgres_gave_it() {
        assert_eq!(sum_in_currency("100.000", "TJS"), "100.00");
        assert_eq!(sum_in_currency("0", "TJS"), "0.00");
        assert_eq!(sum_in_currency("100.00", "JPY"), "100");
        assert_eq!(
            sum_in_currency("10.125", "USD"),
            "10.125",
            "money is never rounded"
        );
        assert_eq!(sum_in_currency("1.5", "KWD"), "1.500");
        assert_eq!(sum_in_currency("7.5", "XYZ"), "7.5");
        assert_eq!(sum_in_currency("not a number", "TJS"), "not a number");
    }
}
