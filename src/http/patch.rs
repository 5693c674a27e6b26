//! Serde helpers for PATCH bodies: absent means unchanged, `null` means cleared (only where nullable).

use serde::{Deserialize, Deserializer};

/// For a nullable field: absent → `None`, `null` → `Some(None)`, a value → `Some(Some(v))`.
/// Use with `#[serde(default, deserialize_with = "nullable")]`.
pub fn nullable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// For a field that may be changed but not cleared: absent → `None`, `null` → an error naming the field.
/// Use with `#[serde(default, deserialize_with = "required")]`.
pub fn required<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}
