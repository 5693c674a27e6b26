//! `JsonColumn<T>`: a `jsonb` column read and written as a typed value through serde.
//!
//! Reading goes through `T`'s `Deserialize`, so a stored value that does not match its type is an error — a
//! logged 500 naming the type — never a silently empty list: data that was corrupted stays visible.

use std::fmt;
use std::io::Write;

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Jsonb;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// The version byte Postgres puts before the text of a `jsonb` value in its binary format.
const JSONB_VERSION: u8 = 1;

/// A `jsonb` column holding a `T`.
#[derive(Clone, PartialEq, Eq, Default, AsExpression, FromSqlRow)]
#[diesel(sql_type = Jsonb)]
pub struct JsonColumn<T>(pub T);

impl<T> JsonColumn<T> {
    /// The value inside.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: fmt::Debug> fmt::Debug for JsonColumn<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

// Serialized as the value itself, so that rows holding a column serialize as the API shows them.
impl<T: Serialize> Serialize for JsonColumn<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

// Read as the value itself, so that a row holding a column can be read from a `jsonb` of the whole row.
impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for JsonColumn<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize(deserializer).map(JsonColumn)
    }
}

impl<T: DeserializeOwned> FromSql<Jsonb, Pg> for JsonColumn<T> {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        decode(value.as_bytes()).map(JsonColumn)
    }
}

impl<T: Serialize + fmt::Debug> ToSql<Jsonb, Pg> for JsonColumn<T> {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        out.write_all(&[JSONB_VERSION])?;
        serde_json::to_writer(out, &self.0)?;
        Ok(IsNull::No)
    }
}

/// Decodes the binary form of a `jsonb` value as a `T`; the error names `T` and says where the JSON broke it.
fn decode<T: DeserializeOwned>(bytes: &[u8]) -> deserialize::Result<T> {
    let type_name = std::any::type_name::<T>();
    let Some((&JSONB_VERSION, text)) = bytes.split_first() else {
        return Err(format!("stored jsonb for `{type_name}` has an unknown binary format").into());
    };
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        format!(
            "stored jsonb is not a valid `{type_name}` (at `{}`): {}",
            e.path(),
            e.inner()
        )
    })?;
    de.end()
        .map_err(|e| format!("stored jsonb for `{type_name}` has trailing data: {e}"))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::decode;

    #[derive(Debug, PartialEq, serde::Deserialize)]
    struct Item {
        title: String,
    }

    #[test]
    fn stored_json_that_does_not_match_its_type_is_an_error() {
        assert_eq!(
            decode::<Vec<Item>>(b"\x01[{\"title\": \"a\"}]").ok(),
            Some(vec![Item {
                title: "a".to_owned()
            }])
        );
        let message = decode::<Vec<Item>>(b"\x01[{\"name\": \"a\"}]")
            .expect_err("a missing field is an error")
            .to_string();
        assert!(message.contains("Item"), "{message}");
        assert!(message.contains("[0]"), "{message}");
        assert!(
            decode::<Vec<Item>>(b"\x01{\"title\": \"a\"}").is_err(),
            "not a list"
        );
        assert!(decode::<Vec<Item>>(b"\x01not json").is_err());
        assert!(decode::<Vec<Item>>(b"\x02[]").is_err(), "unknown version");
        assert!(decode::<Vec<Item>>(b"").is_err());
    }
}
