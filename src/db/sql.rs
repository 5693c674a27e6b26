//! SQL pieces diesel's DSL cannot write: row-value keyset bounds and the region subtree.

use chrono::{DateTime, Utc};
use diesel::BoxableExpression;
use diesel::dsl::sql;
use diesel::pg::Pg;
use diesel::sql_types::{Bool, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

/// A boolean SQL expression usable in any boxed query.
pub type BoxedCondition<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;

/// The value of a sort key at a cursor.
#[derive(Debug, Clone)]
pub enum KeyValue {
    /// A text key such as a name.
    Text(String),
    /// A timestamp key such as `created_at`.
    Time(DateTime<Utc>),
    /// A date key such as `starts_on`.
    Date(chrono::NaiveDate),
}

/// `(key_column, id_column) > (key, id)` (or `<` when descending): the row-value form lets Postgres walk
/// a `(key, id)` index from the cursor; the OR-expanded form would not.
///
/// `key_column` and `id_column` are trusted SQL from the caller, never client input.
pub fn after<QS: 'static>(
    key_column: &str,
    id_column: &str,
    descending: bool,
    key: KeyValue,
    id: Uuid,
) -> BoxedCondition<QS> {
    let op = if descending { "<" } else { ">" };
    let head = format!("({key_column}, {id_column}) {op} (");
    match key {
        KeyValue::Text(value) => Box::new(
            sql::<Bool>(&head)
                .bind::<Text, _>(value)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        ),
        KeyValue::Time(value) => Box::new(
            sql::<Bool>(&head)
                .bind::<Timestamptz, _>(value)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        ),
        KeyValue::Date(value) => Box::new(
            sql::<Bool>(&head)
                .bind::<diesel::sql_types::Date, _>(value)
                .sql(", ")
                .bind::<SqlUuid, _>(id)
                .sql(")"),
        ),
    }
}

/// `column` is the region `code` or one of its descendants.
pub fn in_region<QS: 'static>(column: &'static str, code: String) -> BoxedCondition<QS> {
    Box::new(
        sql::<Bool>(&format!(
            "{column} IN (WITH RECURSIVE subtree(code) AS (SELECT code FROM regions WHERE code = "
        ))
        .bind::<Text, _>(code)
        .sql(" UNION ALL SELECT r.code FROM regions r JOIN subtree s ON r.parent_code = s.code) SELECT code FROM subtree)"),
    )
}

/// The trigram-indexed `name || ' ' || coalesce(short_name, '')` of a directory table contains `q`
/// (case-insensitive).
pub fn name_matches<QS: 'static>(table: &'static str, q: &str) -> BoxedCondition<QS> {
    let pattern = format!(
        "%{}%",
        q.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    Box::new(
        sql::<Bool>(&format!(
            "({table}.name || ' ' || coalesce({table}.short_name, '')) ILIKE "
        ))
        .bind::<Text, _>(pattern),
    )
}

/// Sort orders of directory lists (organisations, agencies, …); `-` means descending.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
pub enum DirectorySort {
    /// By name, A to Z (the default).
    #[serde(rename = "name")]
    Name,
    /// By name, Z to A.
    #[serde(rename = "-name")]
    NameDesc,
    /// Oldest record first.
    #[serde(rename = "created_at")]
    CreatedAt,
    /// Newest record first.
    #[serde(rename = "-created_at")]
    CreatedAtDesc,
}

impl DirectorySort {
    /// The name used in `sort=` and in cursors.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Name => "name",
            Self::NameDesc => "-name",
            Self::CreatedAt => "created_at",
            Self::CreatedAtDesc => "-created_at",
        }
    }

    /// The sort a cursor was made for.
    pub fn parse(name: &str) -> Option<Self> {
        [
            Self::Name,
            Self::NameDesc,
            Self::CreatedAt,
            Self::CreatedAtDesc,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }

    fn by_name(self) -> bool {
        matches!(self, Self::Name | Self::NameDesc)
    }

    fn descending(self) -> bool {
        matches!(self, Self::NameDesc | Self::CreatedAtDesc)
    }

    /// `ORDER BY` for `table`: the sort column, then the id as tie-breaker, in the same direction.
    pub fn order_by(self, table: &str) -> diesel::expression::SqlLiteral<Text> {
        let column = if self.by_name() { "name" } else { "created_at" };
        let dir = if self.descending() { "DESC" } else { "ASC" };
        sql::<Text>(&format!("{table}.{column} {dir}, {table}.id {dir}"))
    }

    /// The keyset bound after the row with sort key `key` (as [`DirectorySort::key`] wrote it) and `id`.
    pub fn after<QS: 'static>(
        self,
        table: &str,
        key: &str,
        id: Uuid,
    ) -> Result<BoxedCondition<QS>, InvalidKey> {
        let (column, key) = if self.by_name() {
            ("name", KeyValue::Text(key.to_owned()))
        } else {
            let time = DateTime::parse_from_rfc3339(key).map_err(|_| InvalidKey)?;
            ("created_at", KeyValue::Time(time.to_utc()))
        };
        Ok(after(
            &format!("{table}.{column}"),
            &format!("{table}.id"),
            self.descending(),
            key,
            id,
        ))
    }

    /// The sort key of a row with this name and creation time, as text (what a cursor carries).
    pub fn key(self, name: &str, created_at: DateTime<Utc>) -> String {
        if self.by_name() {
            name.to_owned()
        } else {
            created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
        }
    }
}

/// A sort key that does not fit its sort order, such as a name where a timestamp belongs: the cursor it came
/// from was not made by this list. The HTTP layer turns it into a 422 on `cursor`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sort key does not fit the sort order")]
pub struct InvalidKey;

/// `EXPLAIN` of any diesel query: tests use it to check that the queries the app builds use their indexes.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId)]
pub struct Explain<Q>(pub Q);

impl<Q: diesel::query_builder::QueryFragment<Pg>> diesel::query_builder::QueryFragment<Pg>
    for Explain<Q>
{
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("EXPLAIN ");
        self.0.walk_ast(out.reborrow())
    }
}

impl<Q> diesel::query_builder::Query for Explain<Q> {
    type SqlType = Text;
}
