//! SQL pieces diesel's DSL cannot write: row-value keyset bounds, the region and agency subtrees, merged walks
//! ([`MergedWalks`]), and [`Fragment`], the condition type they (and the read rules) are built from.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::BoxableExpression;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Date, Text, Timestamptz, Uuid as SqlUuid};
use uuid::Uuid;

/// A boolean SQL expression usable in any boxed query.
pub type BoxedCondition<QS> = Box<dyn BoxableExpression<QS, Pg, SqlType = Bool>>;

/// One piece of a [`Fragment`]: SQL text we wrote, or a value bound as a parameter.
#[derive(Debug, Clone)]
enum Piece {
    Sql(String),
    Uuid(Uuid),
    Uuids(Vec<Uuid>),
    OptionalUuids(Vec<Option<Uuid>>),
    Text(String),
    Texts(Vec<String>),
    OptionalTexts(Vec<Option<String>>),
    Bools(Vec<bool>),
    BigInt(i64),
    Date(NaiveDate),
    Time(DateTime<Utc>),
}

/// A boolean SQL condition written as text with bound parameters, which, unlike `diesel::dsl::sql`, diesel's
/// prepared-statement cache keeps: `diesel::dsl::sql` marks every query it appears in as not cacheable, so such a
/// query is parsed and planned anew on every request. The cache is keyed by the SQL text and bind types, so a
/// fragment must only ever carry values as binds ([`Fragment::uuid`], …), never formatted into its text: the text
/// then depends only on the shape of the question (the caller's role, which filters are set), and each shape is
/// prepared once per connection.
///
/// The text pieces are trusted SQL from our code, never client input.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Fragment {
    pieces: Vec<Piece>,
}

impl Fragment {
    /// A fragment starting with trusted SQL text.
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            pieces: vec![Piece::Sql(sql.into())],
        }
    }

    /// Appends trusted SQL text.
    pub fn sql(mut self, text: &str) -> Self {
        if let Some(Piece::Sql(last)) = self.pieces.last_mut() {
            last.push_str(text);
        } else {
            self.pieces.push(Piece::Sql(text.to_owned()));
        }
        self
    }

    /// Appends another fragment, its binds included.
    pub fn push(mut self, other: Fragment) -> Self {
        for piece in other.pieces {
            self = match piece {
                Piece::Sql(text) => self.sql(&text),
                bind => {
                    self.pieces.push(bind);
                    self
                }
            };
        }
        self
    }

    /// Appends a bound `uuid`.
    pub fn uuid(mut self, id: Uuid) -> Self {
        self.pieces.push(Piece::Uuid(id));
        self
    }

    /// Appends a bound `uuid[]` (for `= ANY(…)`: one statement whatever the number of ids).
    pub fn uuids(mut self, ids: Vec<Uuid>) -> Self {
        self.pieces.push(Piece::Uuids(ids));
        self
    }

    /// Appends a bound `uuid[]` whose items may be null (a column of rows given to `unnest`).
    pub fn optional_uuids(mut self, ids: Vec<Option<Uuid>>) -> Self {
        self.pieces.push(Piece::OptionalUuids(ids));
        self
    }

    /// Appends a bound `text`.
    pub fn text(mut self, value: String) -> Self {
        self.pieces.push(Piece::Text(value));
        self
    }

    /// Appends a bound `text[]` (for `= ANY(…)`: one statement whatever the number of values).
    pub fn texts(mut self, values: Vec<String>) -> Self {
        self.pieces.push(Piece::Texts(values));
        self
    }

    /// Appends a bound `text[]` whose items may be null (a column of rows given to `unnest`).
    pub fn optional_texts(mut self, values: Vec<Option<String>>) -> Self {
        self.pieces.push(Piece::OptionalTexts(values));
        self
    }

    /// Appends a bound `boolean[]` (a column of rows given to `unnest`).
    pub fn bools(mut self, values: Vec<bool>) -> Self {
        self.pieces.push(Piece::Bools(values));
        self
    }

    /// Appends a bound `bigint` (such as a `LIMIT`).
    pub fn bigint(mut self, value: i64) -> Self {
        self.pieces.push(Piece::BigInt(value));
        self
    }

    /// Appends a bound `date`.
    pub fn date(mut self, value: NaiveDate) -> Self {
        self.pieces.push(Piece::Date(value));
        self
    }

    /// Appends a bound `timestamptz`.
    pub fn time(mut self, value: DateTime<Utc>) -> Self {
        self.pieces.push(Piece::Time(value));
        self
    }

    /// The fragment as a boxed condition on any query source.
    pub fn boxed<QS: 'static>(self) -> BoxedCondition<QS> {
        Box::new(self)
    }
}

impl Expression for Fragment {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for Fragment {}

impl<QS> SelectableExpression<QS> for Fragment {}

impl<GB> ValidGrouping<GB> for Fragment {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for Fragment {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for Fragment {
    // Unlike `SqlLiteral`, this does not call `unsafe_to_cache_prepared`: the text holds no values.
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        for piece in &self.pieces {
            match piece {
                Piece::Sql(text) => out.push_sql(text),
                Piece::Uuid(id) => out.push_bind_param::<SqlUuid, _>(id)?,
                Piece::Uuids(ids) => out.push_bind_param::<Array<SqlUuid>, _>(ids)?,
                Piece::OptionalUuids(ids) => {
                    out.push_bind_param::<Array<diesel::sql_types::Nullable<SqlUuid>>, _>(ids)?
                }
                Piece::Text(value) => out.push_bind_param::<Text, _>(value)?,
                Piece::Texts(values) => out.push_bind_param::<Array<Text>, _>(values)?,
                Piece::OptionalTexts(values) => {
                    out.push_bind_param::<Array<diesel::sql_types::Nullable<Text>>, _>(values)?
                }
                Piece::Bools(values) => out.push_bind_param::<Array<Bool>, _>(values)?,
                Piece::BigInt(value) => {
                    out.push_bind_param::<diesel::sql_types::BigInt, _>(value)?
                }
                Piece::Date(value) => out.push_bind_param::<Date, _>(value)?,
                Piece::Time(value) => out.push_bind_param::<Timestamptz, _>(value)?,
            }
        }
        Ok(())
    }
}

/// A fixed piece of SQL of type `T`, such as a correlated subquery in a select list. Unlike `diesel::dsl::sql`, it
/// leaves the query cacheable: its text is a constant of our code, so it can never carry a value.
#[derive(Debug, Clone, Copy)]
pub struct StaticSql<T> {
    text: &'static str,
    sql_type: std::marker::PhantomData<T>,
}

/// `text` as an expression of type `T`; see [`StaticSql`].
pub const fn static_sql<T>(text: &'static str) -> StaticSql<T> {
    StaticSql {
        text,
        sql_type: std::marker::PhantomData,
    }
}

impl<T: diesel::sql_types::SqlType + diesel::expression::TypedExpressionType> Expression
    for StaticSql<T>
{
    type SqlType = T;
}

impl<T, QS> AppearsOnTable<QS> for StaticSql<T> where Self: Expression {}

impl<T, QS> SelectableExpression<QS> for StaticSql<T> where Self: Expression {}

impl<T, GB> ValidGrouping<GB> for StaticSql<T> {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl<T> QueryId for StaticSql<T> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<T> QueryFragment<Pg> for StaticSql<T> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        out.push_sql(self.text);
        Ok(())
    }
}

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
    let head = Fragment::new(format!("({key_column}, {id_column}) {op} ("));
    let head = match key {
        KeyValue::Text(value) => head.text(value),
        KeyValue::Time(value) => head.time(value),
        KeyValue::Date(value) => head.date(value),
    };
    head.sql(", ").uuid(id).sql(")").boxed()
}

/// `column` is the region `code` or one of its descendants.
pub fn in_region<QS: 'static>(column: &'static str, code: String) -> BoxedCondition<QS> {
    region_subtree(column, code).boxed()
}

/// [`in_region`] as a fragment, for statements written as text.
pub fn region_subtree(column: &str, code: String) -> Fragment {
    Fragment::new(format!("{column} IN ")).push(region_subtree_table(code))
}

/// `(…)`: the query of region `code` and its sub-regions at any depth, as a table of `code`.
pub fn region_subtree_table(code: String) -> Fragment {
    Fragment::new("(WITH RECURSIVE subtree(code) AS (SELECT code FROM regions WHERE code = ")
        .text(code)
        .sql(" UNION ALL SELECT r.code FROM regions r JOIN subtree s ON r.parent_code = s.code) SELECT code FROM subtree)")
}

/// `column` is the agency `id` or, when `include_subagencies`, one of its sub-agencies at any depth (along
/// `agencies.parent_id`); plain `column = id` otherwise. The id is a bound parameter, so each of the two shapes is
/// one cached statement per connection. `UNION` (not `UNION ALL`) ends the walk even if a cycle were ever stored.
pub fn in_agency<QS: 'static>(
    column: &'static str,
    id: Uuid,
    include_subagencies: bool,
) -> BoxedCondition<QS> {
    agency_subtree(column, id, include_subagencies).boxed()
}

/// [`in_agency`] for a statistic, which reads every matching row at once: the sub-agencies gathered into an array
/// first (`column = ANY(ARRAY(…))`). Postgres estimates the recursive query of [`in_agency`] at 200 agencies where a
/// subtree has a handful, and planned a statistic of one agency's 15,387 recommendations as a scan of every readable
/// one (730 ms at a million engagements, 259 ms with the array; docs/benchmarks.md). Lists keep [`in_agency`], whose
/// page plans were measured with it.
pub fn in_agency_array<QS: 'static>(
    column: &'static str,
    id: Uuid,
    include_subagencies: bool,
) -> BoxedCondition<QS> {
    agency_subtree_array(column, id, include_subagencies).boxed()
}

/// [`in_agency_array`] as a fragment, for statements written as text.
pub fn agency_subtree_array(column: &str, id: Uuid, include_subagencies: bool) -> Fragment {
    if !include_subagencies {
        return agency_subtree(column, id, false);
    }
    Fragment::new(format!("{column} = ANY(ARRAY"))
        .push(subtree_ids(id))
        .sql(")")
}

/// [`in_agency`] as a fragment, for statements written as text.
pub fn agency_subtree(column: &str, id: Uuid, include_subagencies: bool) -> Fragment {
    if !include_subagencies {
        return Fragment::new(format!("{column} = ")).uuid(id);
    }
    Fragment::new(format!("{column} IN ")).push(subtree_ids(id))
}

/// `(…)`: the query of agency `id` and its sub-agencies at any depth.
fn subtree_ids(id: Uuid) -> Fragment {
    Fragment::new("(WITH RECURSIVE subtree(id) AS (SELECT id FROM agencies WHERE id = ")
        .uuid(id)
        .sql(" UNION SELECT a.id FROM agencies a JOIN subtree s ON a.parent_id = s.id) SELECT id FROM subtree)")
}

/// `column IN (SELECT DISTINCT ON (w.key, w.id) w.id FROM ((walk) UNION ALL (walk) …) AS w(key, id) ORDER BY w.key
/// DESC, w.id DESC LIMIT limit)`: the newest `limit` distinct ids of several walks, each a query (trusted SQL from our
/// code, with its own binds) selecting `(key, id)` newest first from an index. Postgres merges the walks in their
/// order (`Merge Append`) and reads each only as far as the page needs, instead of running every walk to its own
/// limit and sorting what they found. The text depends on the number of walks, so each number is prepared once.
#[must_use]
pub struct MergedWalks {
    column: &'static str,
    walks: Vec<Box<dyn QueryFragment<Pg> + Send>>,
    limit: i64,
}

impl MergedWalks {
    /// `column` is among the newest `limit` distinct ids of `walks`.
    pub fn new<W: QueryFragment<Pg> + Send + 'static>(
        column: &'static str,
        walks: Vec<W>,
        limit: i64,
    ) -> Self {
        Self {
            column,
            walks: walks
                .into_iter()
                .map(|w| Box::new(w) as Box<dyn QueryFragment<Pg> + Send>)
                .collect(),
            limit,
        }
    }
}

impl Expression for MergedWalks {
    type SqlType = Bool;
}

impl<QS> AppearsOnTable<QS> for MergedWalks {}

impl<QS> SelectableExpression<QS> for MergedWalks {}

impl<GB> ValidGrouping<GB> for MergedWalks {
    type IsAggregate = diesel::expression::is_aggregate::Never;
}

impl QueryId for MergedWalks {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for MergedWalks {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        out.push_sql(self.column);
        out.push_sql(" IN (SELECT DISTINCT ON (w.key, w.id) w.id FROM (");
        for (i, walk) in self.walks.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { " UNION ALL (" });
            walk.walk_ast(out.reborrow())?;
            out.push_sql(")");
        }
        out.push_sql(") AS w(key, id) ORDER BY w.key DESC, w.id DESC LIMIT ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.limit)?;
        out.push_sql(")");
        Ok(())
    }
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
    Fragment::new(format!(
        "({table}.name || ' ' || coalesce({table}.short_name, '')) ILIKE "
    ))
    .text(pattern)
    .boxed()
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
    pub fn order_by(self, table: &str) -> Fragment {
        let column = if self.by_name() { "name" } else { "created_at" };
        let dir = if self.descending() { "DESC" } else { "ASC" };
        Fragment::new(format!("{table}.{column} {dir}, {table}.id {dir}"))
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

/// A whole SQL statement assembled from trusted text, [`Fragment`]s (with their binds) and boxed diesel queries
/// (a list's filtered query used as a derived table), read into `QueryableByName` rows. Like [`Fragment`], it
/// keeps values out of its text, so diesel's statement cache prepares each shape once per connection.
#[must_use]
pub struct Statement {
    parts: Vec<Part>,
}

enum Part {
    Fragment(Fragment),
    Query(Box<dyn QueryFragment<Pg> + Send>),
}

impl Statement {
    /// A statement starting with trusted SQL text.
    pub fn new(sql: impl Into<String>) -> Self {
        Self {
            parts: vec![Part::Fragment(Fragment::new(sql))],
        }
    }

    /// Appends trusted SQL text.
    pub fn sql(self, text: &str) -> Self {
        self.fragment(Fragment::new(text))
    }

    /// Appends a fragment, its binds included.
    pub fn fragment(mut self, fragment: Fragment) -> Self {
        self.parts.push(Part::Fragment(fragment));
        self
    }

    /// Appends a diesel query (its SQL and binds), e.g. a list's filtered query as a derived table.
    pub fn query(mut self, query: impl QueryFragment<Pg> + Send + 'static) -> Self {
        self.parts.push(Part::Query(Box::new(query)));
        self
    }
}

impl QueryFragment<Pg> for Statement {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> diesel::QueryResult<()> {
        for part in &self.parts {
            match part {
                Part::Fragment(fragment) => fragment.walk_ast(out.reborrow())?,
                Part::Query(query) => query.walk_ast(out.reborrow())?,
            }
        }
        Ok(())
    }
}

impl QueryId for Statement {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl diesel::query_builder::Query for Statement {
    type SqlType = diesel::sql_types::Untyped;
}
