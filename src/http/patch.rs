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

/// Declares a record's create body and its PATCH body from one list of fields, so a field's documentation,
/// validation and schema are written once. Each field says how it may be sent:
///
/// - `required`: must be in a create body; a PATCH may change it but not clear it.
/// - `default` or `default = "function"`: may be left out of a create body (then its default); a PATCH may change it
///   but not clear it.
/// - `optional` (its type is the inner type): may be left out or `null`; a PATCH may change or clear it.
/// - `update_only`: not part of a create body; a PATCH may change it but not clear it.
/// - `derived` (its type is the inner type): may be left out of a create body (the record then derives it, e.g. from
///   its council); a PATCH may change it but not clear it.
///
/// `shared title` (likewise `summary`, `region_code`, `sphere_codes`, `visibility`, `documents`) stands for the
/// declaration every engagement kind gives that field (`documents` names the `Document` the caller imports, so that
/// this layer does not reach up into engagements).
///
/// With `from Record`, the PATCH body gets `apply(self, current: Record) -> Create`, which keeps every field the
/// PATCH leaves out (converted with `Into` where the record stores it typed and the body takes it as sent). Extra attributes given before a body's name (derives, `diesel(..)`) are added to it.
///
/// ```ignore
/// crate::body_types! {
///     /// A new hearing.
///     create CreateHearing;
///     /// Changes to a hearing; lists are replaced whole.
///     update UpdateHearing from Hearing;
///     /// Topic.
///     #[validate(length(min = 1, max = 500))]
///     title: String = required,
///     /// Summary.
///     summary: String = optional,
/// }
/// ```
#[macro_export]
macro_rules! body_types {
    (@merge keep $change:expr, $current:expr) => {
        $change.unwrap_or_else(|| $current.into())
    };
    (@merge some $change:expr, $current:expr) => {
        Some($change.unwrap_or_else(|| $current.into()))
    };
    (
        $(#[$cm:meta])* create $create:ident;
        $(#[$um:meta])* update $update:ident $(from $read:ident)?;
        $($fields:tt)*
    ) => {
        $crate::body_types!(@field [$(#[$cm])* $create] [$(#[$um])* $update $($read)?] [] [] [] $($fields)*);
    };
    // The fields every engagement kind declares alike.
    (@field $c:tt $u:tt $cf:tt $uf:tt $n:tt shared title $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u $cf $uf $n
            /// Title.
            #[validate(length(min = 1, max = 500), custom(function = "crate::http::extract::not_blank"))]
            #[schema(pattern = r"\S", min_length = 1, max_length = 500)]
            title: String = required, $($($rest)*)?);
    };
    (@field $c:tt $u:tt $cf:tt $uf:tt $n:tt shared summary $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u $cf $uf $n
            /// Summary.
            #[validate(length(max = 20000))]
            #[schema(max_length = 20000)]
            summary: String = optional, $($($rest)*)?);
    };
    (@field $c:tt $u:tt $cf:tt $uf:tt $n:tt shared region_code $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u $cf $uf $n
            /// Region.
            #[validate(length(min = 2, max = 40))]
            #[schema(min_length = 2, max_length = 40)]
            region_code: String = optional, $($($rest)*)?);
    };
    (@field $c:tt $u:tt $cf:tt $uf:tt $n:tt shared sphere_codes $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u $cf $uf $n
            /// Spheres.
            #[validate(length(max = 15))]
            #[schema(max_items = 15)]
            sphere_codes: Vec<String> = default, $($($rest)*)?);
    };
    (@field $c:tt $u:tt $cf:tt $uf:tt $n:tt shared visibility $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u $cf $uf $n
            /// Who may read it (default `internal`).
            visibility: $crate::domain::Visibility = default, $($($rest)*)?);
    };
    (@field $c:tt $u:tt $cf:tt $uf:tt $n:tt shared documents $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u $cf $uf $n
            /// Linked documents.
            #[validate(length(max = 50), nested)]
            #[schema(max_items = 50)]
            documents: Vec<Document> = default, $($($rest)*)?);
    };
    (@field $c:tt $u:tt [$($cf:tt)*] [$($uf:tt)*] [$($n:tt)*]
        $(#[$m:meta])* $name:ident : $ty:ty = required $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u
            [$($cf)* $(#[$m])* pub $name: $ty,]
            [$($uf)* $(#[$m])* #[serde(default, deserialize_with = "crate::http::patch::required")]
                #[schema(nullable = false)] pub $name: Option<$ty>,]
            [$($n)* $name keep] $($($rest)*)?);
    };
    (@field $c:tt $u:tt [$($cf:tt)*] [$($uf:tt)*] [$($n:tt)*]
        $(#[$m:meta])* $name:ident : $ty:ty = default $(= $default:literal)? $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u
            [$($cf)* $(#[$m])* #[serde(default $(= $default)?)] pub $name: $ty,]
            [$($uf)* $(#[$m])* #[serde(default, deserialize_with = "crate::http::patch::required")]
                #[schema(nullable = false)] pub $name: Option<$ty>,]
            [$($n)* $name keep] $($($rest)*)?);
    };
    (@field $c:tt $u:tt [$($cf:tt)*] [$($uf:tt)*] [$($n:tt)*]
        $(#[$m:meta])* $name:ident : $ty:ty = optional $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u
            [$($cf)* $(#[$m])* pub $name: Option<$ty>,]
            [$($uf)* $(#[$m])* #[serde(default, deserialize_with = "crate::http::patch::nullable")]
                pub $name: Option<Option<$ty>>,]
            [$($n)* $name keep] $($($rest)*)?);
    };
    (@field $c:tt $u:tt [$($cf:tt)*] [$($uf:tt)*] [$($n:tt)*]
        $(#[$m:meta])* $name:ident : $ty:ty = update_only $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u
            [$($cf)*]
            [$($uf)* $(#[$m])* #[serde(default, deserialize_with = "crate::http::patch::required")]
                #[schema(nullable = false)] pub $name: Option<$ty>,]
            [$($n)*] $($($rest)*)?);
    };
    (@field $c:tt $u:tt [$($cf:tt)*] [$($uf:tt)*] [$($n:tt)*]
        $(#[$m:meta])* $name:ident : $ty:ty = derived $(, $($rest:tt)*)?) => {
        $crate::body_types!(@field $c $u
            [$($cf)* $(#[$m])* pub $name: Option<$ty>,]
            [$($uf)* $(#[$m])* #[serde(default, deserialize_with = "crate::http::patch::required")]
                #[schema(nullable = false)] pub $name: Option<$ty>,]
            [$($n)* $name some] $($($rest)*)?);
    };
    (@field [$(#[$cm:meta])* $create:ident] [$(#[$um:meta])* $update:ident $read:ident]
        [$($cf:tt)*] [$($uf:tt)*] [$($n:ident $merge:ident)*]) => {
        $crate::body_types!(@field [$(#[$cm])* $create] [$(#[$um])* $update] [$($cf)*] [$($uf)*] []);

        impl $update {
            /// The record as a full body once these changes are applied.
            pub fn apply(self, current: $read) -> $create {
                $create { $($n: $crate::body_types!(@merge $merge self.$n, current.$n),)* }
            }
        }
    };
    (@field [$(#[$cm:meta])* $create:ident] [$(#[$um:meta])* $update:ident]
        [$($cf:tt)*] [$($uf:tt)*] [$($n:tt)*]) => {
        $(#[$cm])*
        #[derive(Debug, Clone, serde::Deserialize, validator::Validate, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $create { $($cf)* }

        $(#[$um])*
        #[derive(Debug, Clone, Default, serde::Deserialize, validator::Validate, utoipa::ToSchema)]
        #[serde(deny_unknown_fields)]
        pub struct $update { $($uf)* }
    };
}
