//! The statistics engine: a collection's filtered rows (the very query its list runs, as a derived table
//! `base`), grouped by one or two of its dimensions, with its measures per group and in total.
//!
//! Every statistic is two statements: the groups and the totals. The totals are counted over the rows
//! themselves, not summed from the groups, because some dimensions (spheres, parties, findings) put a row in
//! several groups.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use diesel::QueryableByName;
use diesel::deserialize;
use diesel::pg::Pg;
use diesel::row::NamedRow;
use diesel::sql_types::{Nullable, Text};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use crate::auth::Caller;
use crate::db::Conn;
use crate::db::sql::{Fragment, Statement};
use crate::http::export::write_record;
use crate::http::{ApiError, ApiResult, Delimiter};

/// What names a group's key, shown beside it as its label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Label {
    /// The key speaks for itself (a kind, a year, a status).
    None,
    /// An agency's name.
    Agency,
    /// An organisation's name.
    Organization,
    /// An organisation's or an agency's name (a funder).
    Actor,
    /// A council's name, where the caller may read the council.
    Council,
    /// A region's Russian name.
    Region,
    /// A sphere's Russian name.
    Sphere,
    /// A facility's name.
    Facility,
    /// An engagement's title (the engagement is readable: its rows were counted).
    Engagement,
}

impl Label {
    /// The SQL of the label of the key column `key` of the grouped rows `g`.
    fn sql(self, caller: &Caller, key: &str) -> Fragment {
        let by = |table: &str, column: &str| {
            Fragment::new(format!(
                "(SELECT {column} FROM {table} WHERE {table}.id = g.{key}::uuid)"
            ))
        };
        match self {
            Self::None => Fragment::new("NULL::text"),
            Self::Agency => by("agencies", "name"),
            Self::Organization => by("organizations", "name"),
            Self::Facility => by("facilities", "name"),
            Self::Engagement => by("engagements", "title"),
            Self::Actor => Fragment::new(format!(
                "coalesce((SELECT name FROM agencies WHERE agencies.id = g.{key}::uuid), \
                 (SELECT name FROM organizations WHERE organizations.id = g.{key}::uuid))"
            )),
            Self::Council => Fragment::new(format!(
                "(SELECT name FROM councils WHERE councils.id = g.{key}::uuid AND "
            ))
            .push(crate::councils::model::readable_sql(caller))
            .sql(")"),
            Self::Region => Fragment::new(format!(
                "(SELECT name_ru FROM regions WHERE regions.code = g.{key})"
            )),
            Self::Sphere => Fragment::new(format!(
                "(SELECT name_ru FROM spheres WHERE spheres.code = g.{key})"
            )),
        }
    }
}

/// One way to group a collection.
#[derive(Debug, Clone, Copy)]
pub struct Dimension {
    /// Its name in `group_by`.
    pub name: &'static str,
    /// The key: SQL over `base` and the collection's joins, grouped by as it is and written as text.
    pub key: &'static str,
    /// Any further `FROM` item the key needs (a dimension with several values per row), or "".
    pub join: &'static str,
    /// What labels the key.
    pub label: Label,
}

impl Dimension {
    /// A dimension whose key is a column or expression of the rows.
    pub const fn plain(name: &'static str, key: &'static str, label: Label) -> Self {
        Self {
            name,
            key,
            join: "",
            label,
        }
    }

    /// A dimension that needs a join (and may put a row in several groups).
    pub const fn joined(
        name: &'static str,
        key: &'static str,
        join: &'static str,
        label: Label,
    ) -> Self {
        Self {
            name,
            key,
            join,
            label,
        }
    }
}

/// The measures of a group, read from the grouped rows.
pub trait Measures: Serialize + Clone + Default + Send + 'static {
    /// The names of the measures, as CSV columns and `sort` values.
    const COLUMNS: &'static [&'static str];
    /// The values in [`Measures::COLUMNS`] order, as CSV cells.
    fn cells(&self) -> Vec<String>;
    /// A measure's value, for sorting (None sorts last).
    fn value(&self, name: &str) -> Option<f64>;
    /// Whether groups can be sorted by this measure (a number).
    fn sortable(name: &str) -> bool {
        Self::COLUMNS.contains(&name)
    }
}

/// A collection statistics can be taken of.
pub trait Collection {
    /// Its name as a download (`<name>.csv`).
    const NAME: &'static str;
    /// The row read per group (the measures, or what they are folded from).
    type Row: QueryableByName<Pg> + Send + 'static;
    /// The measures of a group.
    type Measures: Measures;
    /// Its dimensions.
    const DIMENSIONS: &'static [Dimension];
    /// The measures' `SELECT` list over `base` and the joins of [`Collection::from`].
    const SELECT: &'static str;
    /// A key every group is also split by and folded back in Rust (the currency of sums), if any.
    const SPLIT: Option<&'static str> = None;
    /// Planner settings its statements run with (`SET LOCAL …`, in a transaction), where the session's own, chosen
    /// for walking pages (`db::SESSION_SETUP`), plan its reading of a whole collection worse.
    const PLANNER: Option<&'static str> = None;
    /// Folds the rows of one group (several only with [`Collection::SPLIT`]) into its measures.
    fn fold(rows: Vec<Self::Row>) -> Self::Measures;
}

/// Declares a measures struct: each field with its SQL type and the aggregate that computes it. The struct
/// is read by name from the grouped rows, serialized as the group's `measures`, and written as CSV columns.
#[macro_export]
macro_rules! measures {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $field:ident: $ty:ty as $sql:ty = $expr:literal,
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, serde::Serialize, utoipa::ToSchema, diesel::QueryableByName)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[diesel(sql_type = $sql)]
                pub $field: $ty,
            )+
        }

        impl $name {
            /// The `SELECT` list computing the measures.
            pub const SELECT: &'static str = concat!($($expr, " AS ", stringify!($field), ", "),+);
        }

        impl $crate::stats::engine::Measures for $name {
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),+];

            fn cells(&self) -> Vec<String> {
                vec![$($crate::stats::engine::Cell::cell(&self.$field)),+]
            }

            fn value(&self, name: &str) -> Option<f64> {
                match name {
                    $(stringify!($field) => $crate::stats::engine::Cell::number(&self.$field),)+
                    _ => None,
                }
            }
        }
    };
}

/// A measure value as a CSV cell and as a number to sort by.
pub trait Cell {
    /// The CSV cell.
    fn cell(&self) -> String;
    /// The value to sort by.
    fn number(&self) -> Option<f64>;
}

impl Cell for i64 {
    fn cell(&self) -> String {
        self.to_string()
    }
    fn number(&self) -> Option<f64> {
        Some(*self as f64)
    }
}

impl Cell for Option<f64> {
    fn cell(&self) -> String {
        self.map(|v| v.to_string()).unwrap_or_default()
    }
    fn number(&self) -> Option<f64> {
        *self
    }
}

/// The group keys and labels of a grouped row (`k1`, `k2`, `l1`, `l2`, and the split key `k3`).
#[derive(Debug, Clone, QueryableByName)]
struct Keys {
    #[diesel(sql_type = Nullable<Text>)]
    k1: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    k2: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    l1: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    l2: Option<String>,
}

/// A grouped row: its keys and the collection's row.
struct Grouped<R> {
    keys: Keys,
    row: R,
}

impl<R: QueryableByName<Pg>> QueryableByName<Pg> for Grouped<R> {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        Ok(Self {
            keys: Keys::build(row)?,
            row: R::build(row)?,
        })
    }
}

/// A row of a `GROUPING SETS` statistic: a group, or (`totals_row`) a row of the totals.
struct SetRow<R> {
    total: bool,
    grouped: Grouped<R>,
}

impl<R: QueryableByName<Pg>> QueryableByName<Pg> for SetRow<R> {
    fn build<'a>(row: &impl NamedRow<'a, Pg>) -> deserialize::Result<Self> {
        Ok(Self {
            total: NamedRow::get::<diesel::sql_types::Bool, bool>(row, "totals_row")?,
            grouped: Grouped::build(row)?,
        })
    }
}

/// The parameters every statistic takes besides its collection's filters.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// The dimensions, from the statistic's own `group_by` parameter ([`group_by!`]).
    #[serde(skip)]
    #[param(ignore)]
    pub group_by: Option<String>,
    /// The order, from the statistic's own `sort` parameter ([`group_by!`]).
    #[serde(skip)]
    #[param(ignore)]
    pub sort: Option<String>,
    /// At most this many groups (after sorting), 1–10000.
    #[validate(range(min = 1, max = 10000))]
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<usize>,
    /// `json` (default) or `csv` (UTF-8 with BOM; the totals are the last row).
    #[param(inline)]
    pub format: Option<StatsFormat>,
    /// CSV separator: `comma` (default) or `semicolon`, which spreadsheet programs in Russian locales split on.
    #[param(inline)]
    pub delimiter: Option<Delimiter>,
}

/// Declares a statistic's `group_by` and `sort` parameters, whose patterns name exactly its dimensions and its
/// sortable measures (unit tests check them against the collection's), so that the document and the server agree
/// on every value.
#[macro_export]
macro_rules! group_by {
    ($name:ident, $pattern:literal, sort = $sort:literal) => {
        /// The grouping and order of a statistic.
        #[derive(
            Debug, Clone, Default, serde::Deserialize, validator::Validate, utoipa::IntoParams,
        )]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// One or two of the dimensions the pattern names, comma-separated (e.g. `agency,year`), not the same
            /// one twice. Without it, only the totals.
            #[validate(length(min = 1, max = 64))]
            #[param(min_length = 1, max_length = 64, pattern = $pattern)]
            pub group_by: Option<String>,
            /// Order of the groups: `key` (default: by the keys, months and years in time order) or one of the
            /// measures the pattern names, largest first with a leading `-` (`-overdue`), smallest first without.
            #[validate(length(min = 1, max = 64))]
            #[param(min_length = 1, max_length = 64, pattern = $sort)]
            pub sort: Option<String>,
        }

        impl $name {
            /// The pattern of `group_by`.
            pub const PATTERN: &'static str = $pattern;
            /// The pattern of `sort`.
            pub const SORT_PATTERN: &'static str = $sort;

            /// The statistic's parameters with this grouping and order.
            pub fn onto(
                self,
                params: $crate::stats::engine::StatsParams,
            ) -> $crate::stats::engine::StatsParams {
                $crate::stats::engine::StatsParams {
                    group_by: self.group_by,
                    sort: self.sort,
                    ..params
                }
            }
        }
    };
}

/// How statistics are returned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StatsFormat {
    /// `{group_by, groups, totals}`.
    #[default]
    Json,
    /// One CSV row per group, then a `total` row.
    Csv,
}

/// One group: its key and label per dimension, and its measures.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Group<M> {
    /// The key per dimension (an id, a code, a year `2025`, a month `2025-03`); null where the row has none.
    pub key: BTreeMap<String, Option<String>>,
    /// The name per dimension where the key is an id or a code (null otherwise).
    pub label: BTreeMap<String, Option<String>>,
    /// The measures of the group.
    pub measures: M,
}

/// A statistic: its groups and its totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Stats<M> {
    /// The dimensions grouped by, in order.
    pub group_by: Vec<String>,
    /// The groups (for a `month` dimension, every month of the range, empty ones with zero counts).
    pub groups: Vec<Group<M>>,
    /// The measures over every counted row (a row in several groups counts once).
    pub totals: M,
}

/// A time range the statistic was filtered to: a `month` dimension fills it out.
#[derive(Debug, Clone, Copy, Default)]
pub struct Span {
    /// First day.
    pub from: Option<NaiveDate>,
    /// Last day.
    pub to: Option<NaiveDate>,
}

/// The longest month series a statistic fills out (100 years).
const MAX_MONTHS: i64 = 1200;

/// The dimensions named by `group_by`, checked against the collection's: a 422 on `group_by` names the
/// allowed values.
pub fn dimensions<C: Collection>(group_by: Option<&str>) -> ApiResult<Vec<Dimension>> {
    let Some(group_by) = group_by else {
        return Ok(Vec::new());
    };
    let allowed = || {
        C::DIMENSIONS
            .iter()
            .map(|d| d.name)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let names: Vec<&str> = group_by.split(',').collect();
    if names.len() > 2 {
        return Err(ApiError::field(
            "group_by",
            format!("takes one or two dimensions of: {}", allowed()),
        ));
    }
    if names.len() == 2 && names[0] == names[1] {
        return Err(ApiError::field(
            "group_by",
            "names the same dimension twice",
        ));
    }
    names
        .iter()
        .map(|name| {
            C::DIMENSIONS
                .iter()
                .find(|d| d.name == *name)
                .copied()
                .ok_or_else(|| {
                    ApiError::field("group_by", format!("`{name}` is not one of: {}", allowed()))
                })
        })
        .collect()
}

/// The order of the groups: by key, or by a measure.
#[derive(Debug, Clone, Copy)]
enum Order {
    Key,
    Measure(&'static str, bool),
}

fn order<M: Measures>(sort: Option<&str>) -> ApiResult<Order> {
    let Some(sort) = sort.filter(|s| *s != "key") else {
        return Ok(Order::Key);
    };
    let (name, descending) = match sort.strip_prefix('-') {
        Some(name) => (name, true),
        None => (sort, false),
    };
    M::COLUMNS
        .iter()
        .find(|c| **c == name && M::sortable(c))
        .map(|c| Order::Measure(c, descending))
        .ok_or_else(|| {
            ApiError::field(
                "sort",
                format!(
                    "is `key` or one of these measures, with `-` for largest first: {}",
                    M::COLUMNS
                        .iter()
                        .filter(|c| M::sortable(c))
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })
}

/// Checks the parameters before any query: `group_by` and `sort` name what the collection offers.
pub fn check<C: Collection>(params: &StatsParams) -> ApiResult<Vec<Dimension>> {
    let dims = dimensions::<C>(params.group_by.as_deref())?;
    order::<C::Measures>(params.sort.as_deref())?;
    Ok(dims)
}

/// How many statistics one process computes at once. A statistic scans every row its caller may read (seconds
/// at a million engagements, docs/benchmarks.md), so unbounded, a few dozen anonymous requests would hold every
/// pool connection and most of the database's CPU; beyond this many, requests wait their turn.
fn turns() -> &'static tokio::sync::Semaphore {
    static TURNS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    TURNS.get_or_init(|| {
        tokio::sync::Semaphore::new(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(2),
        )
    })
}

/// How long a statistic waits for its turn before the request is turned away with 503 and `Retry-After`.
const TURN_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A turn at computing statistics: taken before the request holds a pool connection, so that requests waiting
/// their turn hold nothing; the turn ends when it is dropped.
pub async fn turn() -> ApiResult<tokio::sync::SemaphorePermit<'static>> {
    take_turn(turns(), TURN_WAIT).await
}

/// Waits up to `wait` for a turn among `turns`; 503 (with `Retry-After`) when none comes.
async fn take_turn(
    turns: &tokio::sync::Semaphore,
    wait: std::time::Duration,
) -> ApiResult<tokio::sync::SemaphorePermit<'_>> {
    match tokio::time::timeout(wait, turns.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(anyhow::anyhow!("the statistics semaphore closed").into()),
        Err(_) => {
            tracing::warn!("statistic turned away: every turn stayed busy");
            Err(ApiError::Unavailable("statistics busy".into()))
        }
    }
}

/// Computes a statistic: `from` gives, on each call, the collection's `FROM` items (its filtered rows as
/// `base`, and its joins).
///
/// When no dimension needs a join of its own (one that can put a row in several groups), the groups and the
/// totals are one statement, `GROUPING SETS`: the rows are read once, and the totals count the very rows the old
/// totals statement counted (`from` and its joins). Otherwise the totals are a second statement over the rows
/// without the dimension's join, which counts a row in several groups once.
pub async fn compute<C: Collection>(
    conn: &mut Conn,
    caller: &Caller,
    params: &StatsParams,
    span: Span,
    from: impl Fn() -> ApiResult<Statement> + Sync,
) -> ApiResult<Stats<C::Measures>> {
    match C::PLANNER {
        Some(settings) => {
            conn.transaction(async |conn| {
                conn.batch_execute(settings).await?;
                compute_planned::<C>(conn, caller, params, span, &from).await
            })
            .await
        }
        None => compute_planned::<C>(conn, caller, params, span, &from).await,
    }
}

/// [`compute`] under the planner settings it runs with.
async fn compute_planned<C: Collection>(
    conn: &mut Conn,
    caller: &Caller,
    params: &StatsParams,
    span: Span,
    from: &(dyn Fn() -> ApiResult<Statement> + Sync),
) -> ApiResult<Stats<C::Measures>> {
    let dims = check::<C>(params)?;
    // A dimension that is the split itself would make the totals' grouping set the same as the groups'.
    if dims.is_empty()
        || dims
            .iter()
            .any(|d| !d.join.is_empty() || C::SPLIT == Some(d.key))
    {
        return compute_from::<C>(conn, caller, params, span, from, from).await;
    }
    let (k1, k2) = (key(&dims, 0), key(&dims, 1));
    // The grouping set names only the keys there are (a constant cannot be grouped by), then the split.
    let mut grouped = grouped_keys(&dims);
    let split = C::SPLIT.map(|s| format!("({s})::text"));
    grouped.extend(split.clone());
    let (split_column, sets) = match &split {
        Some(s) => (
            format!("{s} AS k3, "),
            format!("(({}), ({s}))", grouped.join(", ")),
        ),
        None => (String::new(), format!("(({}), ())", grouped.join(", "))),
    };
    let rows: Vec<SetRow<C::Row>> = labelled(
        caller,
        &dims,
        format!(
            "SELECT {k1} AS k1, {k2} AS k2, grouping({}) = 1 AS totals_row, {split_column}{} FROM ",
            grouped[0],
            C::SELECT.trim_end_matches(", ")
        ),
    )
    .query(from()?)
    .sql(&format!(" GROUP BY GROUPING SETS {sets}) g"))
    .load(conn)
    .await?;
    let (totals, groups): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.total);
    let totals = C::fold(totals.into_iter().map(|r| r.grouped.row).collect());
    let groups = fold_groups::<C>(groups.into_iter().map(|r| r.grouped).collect());
    finish::<C>(&dims, params, span, groups, totals)
}

/// The dimensions' keys as they are, to group by: a uuid or a date sorts and hashes much faster than its text,
/// which sorts by the database's collation (a third of the time of 150,000 recommendations grouped by agency). The
/// groups name them as text ([`key`]).
fn grouped_keys(dims: &[Dimension]) -> Vec<String> {
    dims.iter().map(|d| format!("({})", d.key)).collect()
}

/// The key of the `i`-th dimension as SQL text (`NULL` where there is none).
fn key(dims: &[Dimension], i: usize) -> String {
    dims.get(i)
        .map_or_else(|| "NULL".to_owned(), |d| format!("({})::text", d.key))
}

/// `SELECT g.*` with each key's label, over the grouped rows `g` whose `SELECT` begins with `grouped`; the caller
/// appends the rest of the grouped query and closes it with `) g`.
fn labelled(caller: &Caller, dims: &[Dimension], grouped: String) -> Statement {
    let label = |i: usize, column: &str| {
        dims.get(i).map_or_else(
            || Fragment::new("NULL::text"),
            |d| d.label.sql(caller, column),
        )
    };
    Statement::new("SELECT g.*, ")
        .fragment(label(0, "k1"))
        .sql(" AS l1, ")
        .fragment(label(1, "k2"))
        .sql(&format!(" AS l2 FROM ({grouped}"))
}

/// [`compute`] with the totals counted over `totals` and the groups over `groups`, in two statements: for
/// dimensions that put a row in several groups, and for tallies, where the rows a dimension groups (an agency's)
/// are not the rows the totals count once.
pub async fn compute_from<C: Collection>(
    conn: &mut Conn,
    caller: &Caller,
    params: &StatsParams,
    span: Span,
    totals: &(dyn Fn() -> ApiResult<Statement> + Sync),
    groups: &(dyn Fn() -> ApiResult<Statement> + Sync),
) -> ApiResult<Stats<C::Measures>> {
    let dims = check::<C>(params)?;
    let totals = {
        let statement = Statement::new(
            "SELECT NULL::text AS k1, NULL::text AS k2, NULL::text AS l1, NULL::text AS l2, ",
        );
        let statement = match C::SPLIT {
            Some(split) => statement.sql(&format!("({split})::text AS k3, ")),
            None => statement,
        };
        let rows: Vec<Grouped<C::Row>> = statement
            .sql(C::SELECT.trim_end_matches(", "))
            .sql(" FROM ")
            .query(totals()?)
            .sql(if C::SPLIT.is_some() {
                " GROUP BY k3"
            } else {
                ""
            })
            .load(conn)
            .await?;
        C::fold(rows.into_iter().map(|r| r.row).collect())
    };
    let groups = if dims.is_empty() {
        Vec::new()
    } else {
        let joins: String = dims
            .iter()
            .filter(|d| !d.join.is_empty())
            .map(|d| format!(" {}", d.join))
            .collect();
        let split = C::SPLIT.map_or_else(String::new, |s| format!("({s})::text AS k3, "));
        let rows: Vec<Grouped<C::Row>> = labelled(
            caller,
            &dims,
            format!(
                "SELECT {} AS k1, {} AS k2, {split}{} FROM ",
                key(&dims, 0),
                key(&dims, 1),
                C::SELECT.trim_end_matches(", ")
            ),
        )
        .query(groups()?)
        .sql(&format!(
            "{joins} GROUP BY {}{}) g",
            grouped_keys(&dims).join(", "),
            if C::SPLIT.is_some() { ", 3" } else { "" }
        ))
        .load(conn)
        .await?;
        fold_groups::<C>(rows)
    };
    finish::<C>(&dims, params, span, groups, totals)
}

/// The statistic from its folded groups and totals: a month series filled out, the groups sorted and cut to the
/// limit, each group's keys and labels by dimension name.
fn finish<C: Collection>(
    dims: &[Dimension],
    params: &StatsParams,
    span: Span,
    mut groups: Vec<(Keys, C::Measures)>,
    totals: C::Measures,
) -> ApiResult<Stats<C::Measures>> {
    let order = order::<C::Measures>(params.sort.as_deref())?;
    if let Some(position) = dims.iter().position(|d| d.name == "month") {
        fill_months(&mut groups, position, span)?;
    }
    sort(&mut groups, order);
    if let Some(limit) = params.limit {
        groups.truncate(limit);
    }
    Ok(Stats {
        group_by: dims.iter().map(|d| d.name.to_owned()).collect(),
        groups: groups
            .into_iter()
            .map(|(keys, measures)| {
                let mut key = BTreeMap::new();
                let mut label = BTreeMap::new();
                for (i, d) in dims.iter().enumerate() {
                    let (k, l) = if i == 0 {
                        (keys.k1.clone(), keys.l1.clone())
                    } else {
                        (keys.k2.clone(), keys.l2.clone())
                    };
                    key.insert(d.name.to_owned(), k);
                    label.insert(d.name.to_owned(), l);
                }
                Group {
                    key,
                    label,
                    measures,
                }
            })
            .collect(),
        totals,
    })
}

/// Folds the rows of each group (consecutive only after a split; in any order otherwise) into measures.
fn fold_groups<C: Collection>(rows: Vec<Grouped<C::Row>>) -> Vec<(Keys, C::Measures)> {
    type Key = (Option<String>, Option<String>);
    let mut by_key: BTreeMap<Key, (Keys, Vec<C::Row>)> = BTreeMap::new();
    for Grouped { keys, row } in rows {
        by_key
            .entry((keys.k1.clone(), keys.k2.clone()))
            .or_insert_with(|| (keys, Vec::new()))
            .1
            .push(row);
    }
    by_key
        .into_values()
        .map(|(keys, rows)| (keys, C::fold(rows)))
        .collect()
}

/// Adds the months of the range that have no group, with empty measures: a month series is continuous. With
/// two dimensions, each value of the other dimension gets every month.
fn fill_months<M: Measures>(
    groups: &mut Vec<(Keys, M)>,
    position: usize,
    span: Span,
) -> ApiResult<()> {
    let month_of = |k: &Keys| {
        if position == 0 {
            k.k1.clone()
        } else {
            k.k2.clone()
        }
    };
    let parse = |m: &str| NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d").ok();
    let seen: Vec<NaiveDate> = groups
        .iter()
        .filter_map(|(k, _)| month_of(k).as_deref().and_then(parse))
        .collect();
    let first = span
        .from
        .or_else(|| seen.iter().min().copied())
        .map(|d| d.with_day(1).unwrap_or(d));
    let last = span.to.or_else(|| seen.iter().max().copied());
    let (Some(first), Some(last)) = (first, last) else {
        return Ok(());
    };
    let months = (i64::from(last.year()) - i64::from(first.year())) * 12 + i64::from(last.month())
        - i64::from(first.month());
    if months > MAX_MONTHS {
        return Err(ApiError::field(
            "group_by",
            "a `month` series spans at most 100 years: narrow `from` and `to`",
        ));
    }
    let others: BTreeSet<(Option<String>, Option<String>)> = groups
        .iter()
        .map(|(k, _)| {
            if position == 0 {
                (k.k2.clone(), k.l2.clone())
            } else {
                (k.k1.clone(), k.l1.clone())
            }
        })
        .collect();
    let others: Vec<(Option<String>, Option<String>)> = if others.is_empty() {
        vec![(None, None)]
    } else {
        others.into_iter().collect()
    };
    let present: BTreeSet<(Option<String>, Option<String>)> = groups
        .iter()
        .map(|(k, _)| (k.k1.clone(), k.k2.clone()))
        .collect();
    let mut month = first;
    while month <= last {
        let name = Some(month.format("%Y-%m").to_string());
        for (other, other_label) in &others {
            let keys = if position == 0 {
                Keys {
                    k1: name.clone(),
                    k2: other.clone(),
                    l1: None,
                    l2: other_label.clone(),
                }
            } else {
                Keys {
                    k1: other.clone(),
                    k2: name.clone(),
                    l1: other_label.clone(),
                    l2: None,
                }
            };
            if !present.contains(&(keys.k1.clone(), keys.k2.clone())) {
                groups.push((keys, M::default()));
            }
        }
        month = month
            .checked_add_months(chrono::Months::new(1))
            .unwrap_or(NaiveDate::MAX);
        if month == NaiveDate::MAX {
            break;
        }
    }
    Ok(())
}

/// Sorts by the keys (nulls last), then, if asked, by a measure (stable, so ties keep key order).
fn sort<M: Measures>(groups: &mut [(Keys, M)], order: Order) {
    groups.sort_by(|(a, _), (b, _)| {
        let key = |k: &Keys| (k.k1.is_none(), k.k1.clone(), k.k2.is_none(), k.k2.clone());
        key(a).cmp(&key(b))
    });
    if let Order::Measure(name, descending) = order {
        groups.sort_by(|(_, a), (_, b)| {
            let (a, b) = (a.value(name), b.value(name));
            match (a, b) {
                (Some(a), Some(b)) if descending => b.total_cmp(&a),
                (Some(a), Some(b)) => a.total_cmp(&b),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
        });
    }
}

/// A statistic as CSV (UTF-8 with BOM): per dimension its key and label, then the measures; the totals last,
/// keyed `total`.
pub fn csv<M: Measures>(stats: &Stats<M>, delimiter: Delimiter) -> Vec<u8> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    let mut header: Vec<String> = Vec::new();
    for name in &stats.group_by {
        header.push(name.clone());
        header.push(format!("{name}_label"));
    }
    header.extend(M::COLUMNS.iter().map(|c| (*c).to_owned()));
    write_record(&mut out, header, delimiter.byte());
    for group in &stats.groups {
        let mut record: Vec<String> = Vec::new();
        for name in &stats.group_by {
            record.push(group.key.get(name).cloned().flatten().unwrap_or_default());
            record.push(group.label.get(name).cloned().flatten().unwrap_or_default());
        }
        record.extend(group.measures.cells());
        write_record(&mut out, record, delimiter.byte());
    }
    let mut total: Vec<String> = Vec::new();
    for i in 0..stats.group_by.len() {
        total.push(if i == 0 {
            "total".to_owned()
        } else {
            String::new()
        });
        total.push(String::new());
    }
    total.extend(stats.totals.cells());
    write_record(&mut out, total, delimiter.byte());
    out
}

/// A statistic as sent, JSON or CSV.
pub fn answer<M: Measures + ToSchema>(
    stats: &Stats<M>,
    params: &StatsParams,
    name: &str,
) -> ApiResult<crate::answers::Answer> {
    Ok(match params.format.unwrap_or_default() {
        StatsFormat::Json => crate::answers::Answer::json(stats)?,
        StatsFormat::Csv => crate::answers::Answer {
            body: csv(stats, params.delimiter.unwrap_or_default()).into(),
            content_type: "text/csv; charset=utf-8",
            disposition: Some(format!("attachment; filename=\"{name}.csv\"")),
            counted_at: chrono::Utc::now(),
        },
    })
}

/// The fold of collections that read their measures directly: one row per group.
pub fn single<M: Measures>(rows: Vec<M>) -> M {
    rows.into_iter().next().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_statistic_without_a_turn_is_turned_away_with_503() {
        let turns = tokio::sync::Semaphore::new(1);
        let wait = std::time::Duration::from_millis(20);
        let first = take_turn(&turns, wait).await;
        assert!(first.is_ok());
        let second = take_turn(&turns, wait).await;
        assert!(
            matches!(second, Err(ApiError::Unavailable(_))),
            "{second:?}"
        );
        drop(first);
        assert!(
            take_turn(&turns, wait).await.is_ok(),
            "a freed turn is taken"
        );
    }
}
