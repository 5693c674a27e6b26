//! The search query: one ranked list over `search_entries` (a row per engagement, recommendation, submission,
//! organisation and agency, kept by triggers; see `migrations/2026-12-10-000001_search_entries`), under the lists'
//! read rules.
//!
//! Order: two relevance tiers, each newest first. Tier 1 (`rank: 1`) holds the records whose title alone
//! matches the whole query; tier 2 (`rank: 2`) those that match only with their text. Within a tier, records go
//! by their day (`sorts_on`: an engagement's first day, a recommendation's issue day, a submission's day, a
//! directory record's creation day), newest first, then by id. Each tier is a keyset walk of its own: for a common
//! word Postgres walks `(sorts_on DESC, entity_id DESC)` and stops after `limit + 1` readable matches, for a rare
//! one it reads the few matches from the GIN index and sorts them; so a page costs about the same whatever the
//! number of matches, which ranking every match by `ts_rank` could not (at 1M rows a common word has hundreds of
//! thousands).

use chrono::NaiveDate;
use diesel::QueryableByName;
use diesel::sql_types::{Date, Int4, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::{Validate, ValidationError};

use crate::auth::Caller;
use crate::db::Conn;
use crate::db::sql::{Fragment, Statement, region_subtree};
use crate::domain::EngagementKind;
use crate::engagements::model::readable_sql;
use crate::http::{ApiError, ApiResult, Cursor, Keyed};

crate::text_enum! {
    /// What a search hit is.
    pub enum SearchType {
        /// An engagement of any kind (meeting, hearing, consultation, monitoring visit, grant).
        Engagement => "engagement",
        /// A recommendation.
        Recommendation => "recommendation",
        /// A submission to a consultation.
        Submission => "submission",
        /// An organisation.
        Organization => "organization",
        /// A government agency.
        Agency => "agency",
    }
}

/// The sort order of search pages (what their cursors belong to).
pub const RANKED: &str = "rank";

/// The marker before a highlighted word in a snippet (U+27E6, not HTML: a snippet is plain text).
pub const MARK_START: &str = "⟦";
/// The marker after a highlighted word in a snippet (U+27E7).
pub const MARK_END: &str = "⟧";

/// Parameters of `GET /search`.
#[derive(Debug, Clone, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// The words to find, 1–200 characters, in web-search syntax: words are all required, `"a phrase"` matches
    /// words in sequence, `or` between words takes either, `-word` excludes. Russian words match in any form
    /// (насилие, насилия, насилии); other words (Tajik, English, names, registration numbers) match as written,
    /// case-insensitively. Operators of Postgres' own query syntax (`& | ! ( ) :* <->`) are read as plain
    /// punctuation. A query made only of stop words (such as `и`, `не`, `the`) or punctuation finds nothing.
    #[validate(
        length(min = 1, max = 200),
        custom(function = "has_text", message = "must contain a word")
    )]
    #[param(min_length = 1, max_length = 200)]
    pub q: String,
    /// What to find (repeatable: `type=engagement&type=organization`); all types when absent.
    #[serde(default, rename = "type")]
    #[validate(length(max = 5))]
    #[param(rename = "type", inline, max_items = 5)]
    pub types: Vec<SearchType>,
    /// Engagement kinds (repeatable): engagements of these kinds and the recommendations and submissions that
    /// belong to them. Organisations and agencies have no kind, so a kind leaves them out.
    #[serde(default)]
    #[validate(length(max = 5))]
    #[param(inline, max_items = 5)]
    pub kind: Vec<EngagementKind>,
    /// Region, including its sub-regions (a recommendation or submission takes its engagement's region).
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// On or after this day (an engagement's first day, a recommendation's issue day, a submission's day).
    /// Organisations and agencies have no such day, so a date leaves them out.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub from: Option<NaiveDate>,
    /// On or before this day (as `from`).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub to: Option<NaiveDate>,
}

/// `q` must hold something besides white space.
fn has_text(q: &str) -> Result<(), ValidationError> {
    if q.trim().is_empty() {
        Err(ValidationError::new("blank"))
    } else {
        Ok(())
    }
}

impl SearchParams {
    /// The checks between parameters: `to` must not be before `from`.
    pub fn check(&self) -> ApiResult<()> {
        match (self.from, self.to) {
            (Some(from), Some(to)) if to < from => {
                Err(ApiError::field("to", "must not be before `from`"))
            }
            _ => Ok(()),
        }
    }
}

/// One search hit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    /// What the record is.
    #[serde(rename = "type")]
    pub entity_type: SearchType,
    /// The record's id.
    pub id: Uuid,
    /// For an engagement: its kind (null for other types).
    pub kind: Option<EngagementKind>,
    /// The engagement the record is or belongs to (a submission: its consultation); null for the directory.
    pub engagement_id: Option<Uuid>,
    /// The record's title: an engagement's title, a directory record's name, the opening words (up to 160
    /// characters) of a recommendation's text or a submission's proposal.
    pub title: String,
    /// The passage that matched (title and text, up to two fragments joined by ` … `), with each matching word
    /// between `⟦` and `⟧`. Plain text: not HTML-escaped, so escape it before putting it into a page.
    pub snippet: String,
    /// The API path of the record, e.g. `/api/v1/hearings/{id}`.
    pub link: String,
    /// The relevance tier the list is ordered by: 1 when the title matches the query by itself, 2 when the
    /// record's text is needed. Within a tier, newest first.
    #[schema(minimum = 1, maximum = 2)]
    pub rank: i32,
    /// The record's day (see `from`); null for organisations and agencies.
    pub date: Option<NaiveDate>,
    /// The day the order uses (a directory record's creation day where `date` is null).
    #[serde(skip)]
    pub sorts_on: NaiveDate,
}

impl Keyed for SearchHit {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, format!("{}:{}", self.rank, self.sorts_on), self.id)
    }
}

/// The API path of a record.
fn link(entity_type: SearchType, kind: Option<EngagementKind>, id: Uuid) -> String {
    let collection = match entity_type {
        SearchType::Engagement => kind.map_or("engagements", EngagementKind::collection),
        SearchType::Recommendation => "recommendations",
        SearchType::Submission => "submissions",
        SearchType::Organization => "organizations",
        SearchType::Agency => "agencies",
    };
    format!("/api/v1/{collection}/{id}")
}

/// A row of the search statement.
#[derive(QueryableByName)]
struct HitRow {
    #[diesel(sql_type = Text)]
    entity_type: SearchType,
    #[diesel(sql_type = SqlUuid)]
    entity_id: Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    engagement_id: Option<Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    kind: Option<EngagementKind>,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Text)]
    snippet: String,
    #[diesel(sql_type = Int4)]
    tier: i32,
    #[diesel(sql_type = Date)]
    sorts_on: NaiveDate,
}

impl From<HitRow> for SearchHit {
    fn from(row: HitRow) -> Self {
        let directory = matches!(
            row.entity_type,
            SearchType::Organization | SearchType::Agency
        );
        Self {
            entity_type: row.entity_type,
            id: row.entity_id,
            kind: row
                .kind
                .filter(|_| row.entity_type == SearchType::Engagement),
            engagement_id: row.engagement_id,
            link: link(row.entity_type, row.kind, row.entity_id),
            title: row.title,
            snippet: row.snippet,
            rank: row.tier,
            date: (!directory).then_some(row.sorts_on),
            sorts_on: row.sorts_on,
        }
    }
}

/// The boundary row of [`boundary`], and the day of the first row after the cursor.
#[derive(QueryableByName)]
struct Edge {
    #[diesel(sql_type = Date)]
    sorts_on: NaiveDate,
    #[diesel(sql_type = SqlUuid)]
    entity_id: Uuid,
    #[diesel(sql_type = Date)]
    newest: NaiveDate,
}

/// Where a page starts: the tier, day and id of the last hit of the page before.
struct After {
    tier: i32,
    sorts_on: NaiveDate,
    id: Uuid,
}

impl After {
    fn of(cursor: &Cursor) -> ApiResult<Self> {
        let invalid = || ApiError::field("cursor", "is not a cursor returned by this list");
        let (tier, day) = cursor.key.split_once(':').ok_or_else(invalid)?;
        let tier: i32 = tier.parse().map_err(|_| invalid())?;
        if !(1..=2).contains(&tier) {
            return Err(invalid());
        }
        Ok(Self {
            tier,
            sorts_on: day.parse().map_err(|_| invalid())?,
            id: cursor.id,
        })
    }
}

/// The query, bound (never formatted into the text): Russian forms or the words as written.
fn tsquery(q: &str) -> Fragment {
    Fragment::new("(websearch_to_tsquery('russian', ")
        .text(q.to_owned())
        .sql(") || websearch_to_tsquery('simple', ")
        .text(q.to_owned())
        .sql("))")
}

/// What the caller may read, exactly as the lists decide it: the directory is public; an engagement and a
/// submission (through its consultation) under `engagements::model::readable_sql`; a recommendation under
/// `recommendations::model::readable` (its own visibility and its engagement's).
fn readable(caller: &Caller) -> Fragment {
    Fragment::new("(s.entity_type IN ('organization', 'agency') OR (s.entity_type IN ('engagement', 'submission') AND ")
        .push(readable_sql(caller, "engagements.visibility", "engagements"))
        .sql(") OR (s.entity_type = 'recommendation' AND ")
        .push(crate::recommendations::model::readable(caller))
        .sql("))")
}

/// The filters of [`SearchParams`] on `search_entries s`, with the row's day as `day_expr` reads it.
fn filters(params: &SearchParams, day_expr: &str) -> Fragment {
    let mut sql = Fragment::new("");
    match params.types.as_slice() {
        [] => {}
        // One type as `=`, so that the `(entity_type, sorts_on, entity_id)` index can serve the walk.
        [one] => {
            sql = sql
                .sql(" AND s.entity_type = ")
                .text(one.as_str().to_owned())
        }
        many => {
            sql = sql
                .sql(" AND s.entity_type = ANY(")
                .texts(many.iter().map(|t| t.as_str().to_owned()).collect())
                .sql(")")
        }
    }
    if !params.kind.is_empty() {
        sql = sql
            .sql(" AND s.kind = ANY(")
            .texts(params.kind.iter().map(|k| k.as_str().to_owned()).collect())
            .sql(")");
    }
    if let Some(code) = &params.region_code {
        sql = sql
            .sql(" AND ")
            .push(region_subtree("s.region_code", code.clone()));
    }
    if params.from.is_some() || params.to.is_some() {
        sql = sql.sql(" AND s.entity_type NOT IN ('organization', 'agency')");
    }
    if let Some(from) = params.from {
        sql = sql.sql(&format!(" AND {day_expr} >= ")).date(from);
    }
    if let Some(to) = params.to {
        sql = sql.sql(&format!(" AND {day_expr} <= ")).date(to);
    }
    sql
}

/// Which part of the order a statement reads (see [`search`]).
#[derive(Debug, Clone, Copy)]
enum Part {
    /// Everything after the cursor (no boundary was found: fewer than [`WALK`] rows remain).
    All,
    /// The first [`WALK`] rows after the cursor, down to the boundary `(day, id)` (inclusive), on days up to
    /// `newest`: read from the GIN index for the months those days span (or walked in order, as Postgres
    /// chooses; either way at most [`WALK`] rows).
    Head {
        day: NaiveDate,
        id: Uuid,
        newest: NaiveDate,
    },
    /// What lies beyond the boundary `(day, id)`, on days in `since..until` (open where `None`): read from the
    /// GIN index (for the months or years it spans, when it has a first day) and sorted, never walked. See
    /// [`TAIL_WINDOWS`].
    Tail {
        day: NaiveDate,
        id: Uuid,
        since: Option<NaiveDate>,
        until: Option<NaiveDate>,
    },
}

/// A common query's tail is read in windows reaching this many days back from the boundary (and then the rest),
/// each only if the windows before it left the page short: its newest matches are found in the first windows
/// without sorting every match (at a million rows a common word has ~100,000), even when many newer rows that
/// do not match push them out of the head.
const TAIL_WINDOWS: [u64; 3] = [30, 365, 3650];

/// Above this many matches (the planner's estimate) a query is common and its tail is read in windows; a rarer
/// query's tail is read at once, which costs it one GIN read instead of one per window (and spares it the
/// day-range bitmaps Postgres builds for windows however rare the word).
const COMMON_MATCHES: i64 = 10_000;

/// A row of [`estimated_matches`].
#[derive(QueryableByName)]
struct Estimate {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    matches: i64,
}

/// How many search rows Postgres estimates the query matches (`search_estimated_matches`: its plan's row count,
/// from the tsvector statistics; well under a millisecond).
async fn estimated_matches(conn: &mut Conn, q: &str) -> ApiResult<i64> {
    Ok(Statement::new("SELECT search_estimated_matches(")
        .fragment(tsquery(q))
        .sql(") AS matches")
        .load::<Estimate>(conn)
        .await?
        .into_iter()
        .next()
        .map_or(0, |e| e.matches))
}

impl Part {
    /// The days the part holds, first and last, when both are known: the search asks the GIN index for the
    /// query in their months or years only (`search_calendar`, migration `2026-12-15-000001`), which spares it
    /// the query's matches outside them. `from` is the search's own first day.
    fn days(&self, from: Option<NaiveDate>) -> Option<(NaiveDate, NaiveDate)> {
        match *self {
            Part::All => None,
            Part::Head { day, newest, .. } => Some((day, newest.max(day))),
            Part::Tail {
                day, since, until, ..
            } => {
                let last = until.and_then(|until| until.pred_opt()).unwrap_or(day);
                since.or(from).map(|first| (first, last))
            }
        }
    }
}

/// The tail's windows below the boundary day, newest first; the last reaches back to the first row (or `from`).
fn tail_windows(day: NaiveDate, id: Uuid, from: Option<NaiveDate>) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut until = None;
    for back in TAIL_WINDOWS {
        let since = day.checked_sub_days(chrono::Days::new(back));
        match (since, from) {
            (Some(since), from) if from.is_none_or(|from| since > from) => {
                parts.push(Part::Tail {
                    day,
                    id,
                    since: Some(since),
                    until,
                });
                until = Some(since);
            }
            _ => break,
        }
    }
    parts.push(Part::Tail {
        day,
        id,
        since: None,
        until,
    });
    parts
}

/// How many rows (matching or not) a page walks in order before it reads the rest from the GIN index.
const WALK: i64 = 2000;

/// The row's day as the head reads it: the day index may serve the walk.
const INDEXED_DAY: &str = "s.sorts_on";

/// The row's day as the tail reads it: an expression no index provides, so that Postgres neither walks the day
/// index nor gathers a bitmap of every row in the tail's days (it reads the GIN index alone, for those days'
/// months or years, and checks the days on the rows it finds).
const UNINDEXED_DAY: &str = "(s.sorts_on + 0)";

/// `(day, s.entity_id) <op> (day, id)`, with the row's day as `day_expr` reads it.
fn bound(day_expr: &str, op: &str, day: NaiveDate, id: Uuid) -> Fragment {
    Fragment::new(format!(" AND ({day_expr}, s.entity_id) {op} ("))
        .date(day)
        .sql(", ")
        .uuid(id)
        .sql(")")
}

/// The cursor's bound on a tier (none when the cursor is in an earlier tier).
fn after_bound(day_expr: &str, tier: i32, after: Option<&After>) -> Fragment {
    match after.filter(|a| a.tier == tier) {
        Some(a) => bound(day_expr, "<", a.sorts_on, a.id),
        None => Fragment::new(""),
    }
}

/// The key of the [`WALK`]-th row after the cursor in the order, whatever it matches: the boundary between the
/// part walked in order and the part read from the GIN index.
///
/// Only the filters an index answers narrow it (one type, the dates), so that finding it stays an index-only walk
/// of at most [`WALK`] entries; the head may then hold fewer rows that pass every filter, which costs nothing in
/// correctness (head and tail together are every row).
fn boundary(params: &SearchParams, tier: i32, after: Option<&After>) -> Fragment {
    let walk = |columns: &str| {
        let mut sql = Fragment::new(format!("SELECT {columns} FROM search_entries s WHERE TRUE"));
        if let [one] = params.types.as_slice() {
            sql = sql
                .sql(" AND s.entity_type = ")
                .text(one.as_str().to_owned());
        }
        if let Some(from) = params.from {
            sql = sql.sql(" AND s.sorts_on >= ").date(from);
        }
        if let Some(to) = params.to {
            sql = sql.sql(" AND s.sorts_on <= ").date(to);
        }
        sql.push(after_bound(INDEXED_DAY, tier, after))
            .sql(" ORDER BY s.sorts_on DESC, s.entity_id DESC")
    };
    // With the first row's day: the head's days run from the boundary's to it.
    Fragment::new("SELECT b.sorts_on, b.entity_id, n.sorts_on AS newest FROM (")
        .push(walk("s.sorts_on, s.entity_id"))
        .sql(" OFFSET ")
        .bigint(WALK - 1)
        .sql(" LIMIT 1) b, (")
        .push(walk("s.sorts_on"))
        .sql(" LIMIT 1) n")
}

/// One tier's matches the caller may read, in one part of the order, newest first, at most `take`.
fn tier(
    caller: &Caller,
    params: &SearchParams,
    tier: i32,
    after: Option<&After>,
    part: Part,
    take: i64,
) -> Fragment {
    let q = params.q.as_str();
    // The record in the part's months or years (when they are known): one GIN scan that skips the query's
    // matches elsewhere, instead of gathering them all and then a bitmap of the part's days.
    let in_days = match part.days(params.from) {
        Some((first, last)) => Fragment::new("(")
            .push(tsquery(q))
            .sql(" && search_calendar(")
            .date(first)
            .sql(", ")
            .date(last)
            .sql("))"),
        None => tsquery(q),
    };
    let document = Fragment::new("s.document @@ ").push(in_days);
    let title = Fragment::new("s.title_doc @@ ").push(tsquery(q));
    // The whole record must match in both tiers: with an exclusion (`-word`) a title alone may match where the
    // record does not.
    let matches = if tier == 1 {
        document.sql(" AND ").push(title)
    } else {
        document.sql(" AND NOT (").push(title).sql(")")
    };
    let day_expr = match part {
        Part::Tail { .. } => UNINDEXED_DAY,
        Part::All | Part::Head { .. } => INDEXED_DAY,
    };
    // The part's matches, in order, before the read rule: only their keys, so that sorting a window's matches
    // stays small. The read rule and the record's text are joined above, row by row in that order, until the
    // page is full, so a window with thousands of matches looks up the engagements of the first few only.
    let sql = Fragment::new(format!(
        "SELECT s.entity_id, s.entity_type, s.engagement_id, {day_expr} AS day \
         FROM search_entries s WHERE numnode(websearch_to_tsquery('russian', "
    ))
    .text(q.to_owned())
    .sql(")) > 0 AND ")
    .push(matches)
    .push(filters(params, day_expr))
    .push(after_bound(day_expr, tier, after));
    // The tail is ordered by an expression no index provides, so Postgres cannot choose to walk it (a walk
    // through rows that do not match, however many, is what the head's bound is there to prevent).
    let sql = match part {
        Part::All => sql,
        Part::Head { day, id, .. } => sql.push(bound(day_expr, ">=", day, id)),
        Part::Tail {
            day,
            id,
            since,
            until,
        } => {
            let mut sql = sql.push(bound(day_expr, "<", day, id));
            if let Some(since) = since {
                sql = sql.sql(&format!(" AND {day_expr} >= ")).date(since);
            }
            if let Some(until) = until {
                sql = sql.sql(&format!(" AND {day_expr} < ")).date(until);
            }
            sql
        }
    };
    // `OFFSET 0` keeps Postgres from merging the two levels (and checking the read rule on every match).
    Fragment::new(format!(
        "(SELECT e.entity_id, e.entity_type, e.engagement_id, e.kind, e.title, e.body, e.sorts_on, {tier} AS tier \
         FROM ("
    ))
    .push(sql.sql(&format!(
        " ORDER BY {day_expr} DESC, s.entity_id DESC OFFSET 0) s \
         JOIN search_entries e ON e.entity_id = s.entity_id \
         LEFT JOIN engagements ON engagements.id = s.engagement_id \
         LEFT JOIN recommendations ON recommendations.id = \
         CASE WHEN s.entity_type = 'recommendation' THEN s.entity_id END \
         WHERE "
    )))
    .push(readable(caller))
    .sql(" ORDER BY s.day DESC, s.entity_id DESC LIMIT ")
    .bigint(take)
    .sql(")")
}

/// The options of `ts_headline`: two fragments of up to 30 words, matches between the markers.
const HEADLINE: &str = "StartSel=⟦, StopSel=⟧, MaxWords=30, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=\" … \"";

/// How much of a record's text the snippet is taken from (a visit's findings may run to a megabyte; the whole text
/// is matched, the snippet shows a passage of its first part).
const SNIPPET_SOURCE_CHARS: i32 = 20_000;

/// One tier's statement: its first `take` hits (after the cursor) in order, with a snippet for those only.
fn statement(
    caller: &Caller,
    params: &SearchParams,
    tier_no: i32,
    after: Option<&After>,
    part: Part,
    take: i64,
) -> Statement {
    Statement::new(format!(
        "SELECT p.entity_type, p.entity_id, p.engagement_id, p.kind, p.title, p.tier, p.sorts_on, \
         ts_headline('russian', left(p.title || E'\\n' || p.body, {SNIPPET_SOURCE_CHARS}), "
    ))
    .fragment(tsquery(&params.q))
    .sql(&format!(", '{HEADLINE}') AS snippet FROM "))
    .fragment(tier(caller, params, tier_no, after, part, take))
    .sql(" p ORDER BY p.sorts_on DESC, p.entity_id DESC")
}

/// A page (`limit + 1` hits) of what the caller may read that matches the query.
///
/// Tier 1 is read first; tier 2 only when tier 1 does not fill the page. A word found mostly in titles thus
/// never makes a first page walk for the rare records that have it only in their text.
///
/// Each tier is read in two parts with a bounded cost, so that neither a misestimated word nor a long run of new
/// rows that do not match can make Postgres walk the whole table: the head — the next [`WALK`] rows of the order,
/// matching or not, found by an index-only walk — is searched first (walked in order, or read from the GIN index
/// within that range: Postgres chooses, both are bounded); only if it holds too few matches is the tail read, from
/// the GIN index and sorted (its cost grows with the number of matches beyond the head, not with the rows) — at
/// once for a rare query, window by window for a common one ([`TAIL_WINDOWS`], [`COMMON_MATCHES`]).
///
/// The statements run in a transaction with `plan_cache_mode = force_custom_plan`: a full-text query prepared
/// once and run with many words would otherwise switch to a generic plan, which cannot know whether a word is
/// common (walk by day) or rare (read the GIN index), and on a grown table picks the wrong one.
#[tracing::instrument(skip(conn, caller))]
pub async fn search(
    conn: &mut Conn,
    caller: &Caller,
    params: &SearchParams,
    cursor: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<SearchHit>> {
    let after = cursor.as_ref().map(After::of).transpose()?;
    let first_tier = after.as_ref().map_or(1, |a| a.tier);
    let wanted = limit + 1;
    let rows: Vec<HitRow> = conn
        .transaction(async |conn| {
            // JIT compiling a plan that reads many matches cost more than it saved (docs/benchmarks.md, "Search").
            conn.batch_execute(
                "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off",
            )
            .await?;
            let mut rows: Vec<HitRow> = Vec::new();
            let mut common: Option<bool> = None;
            let full = |hits: usize| i64::try_from(hits).unwrap_or(i64::MAX) >= wanted;
            // Appends a part's hits, as many as the page still misses.
            macro_rules! read {
                ($tier:expr, $part:expr) => {{
                    let missing = wanted - i64::try_from(rows.len()).unwrap_or(i64::MAX);
                    if missing > 0 {
                        let more: Vec<HitRow> =
                            statement(caller, params, $tier, after.as_ref(), $part, missing)
                                .load(conn)
                                .await?;
                        rows.extend(more);
                    }
                }};
            }
            for tier_no in first_tier..=2 {
                if full(rows.len()) {
                    break;
                }
                let edge = Statement::new("")
                    .fragment(boundary(params, tier_no, after.as_ref()))
                    .load::<Edge>(conn)
                    .await?
                    .into_iter()
                    .next();
                let Some(Edge {
                    sorts_on: day,
                    entity_id: id,
                    newest,
                }) = edge
                else {
                    read!(tier_no, Part::All);
                    continue;
                };
                read!(tier_no, Part::Head { day, id, newest });
                if full(rows.len()) {
                    break;
                }
                // The tail: at once for a rare query, window by window for a common one.
                let is_common = match common {
                    Some(known) => known,
                    None => {
                        *common.insert(estimated_matches(conn, &params.q).await? > COMMON_MATCHES)
                    }
                };
                let tail = if is_common {
                    tail_windows(day, id, params.from)
                } else {
                    vec![Part::Tail {
                        day,
                        id,
                        since: None,
                        until: None,
                    }]
                };
                for part in tail {
                    read!(tier_no, part);
                }
            }
            Ok::<_, ApiError>(rows)
        })
        .await?;
    Ok(rows.into_iter().map(SearchHit::from).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_use_each_kinds_own_path() {
        let id = Uuid::nil();
        assert_eq!(
            link(
                SearchType::Engagement,
                Some(EngagementKind::MonitoringVisit),
                id
            ),
            format!("/api/v1/monitoring-visits/{id}")
        );
        assert_eq!(
            link(
                SearchType::Submission,
                Some(EngagementKind::Consultation),
                id
            ),
            format!("/api/v1/submissions/{id}")
        );
        assert_eq!(
            link(SearchType::Agency, None, id),
            format!("/api/v1/agencies/{id}")
        );
    }

    #[test]
    fn tail_windows_cover_every_day_behind_the_boundary_once() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default();
        let back = |n| day.checked_sub_days(chrono::Days::new(n));
        let spans = |parts: Vec<Part>| -> Vec<(Option<NaiveDate>, Option<NaiveDate>)> {
            parts
                .into_iter()
                .filter_map(|p| match p {
                    Part::Tail { since, until, .. } => Some((since, until)),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            spans(tail_windows(day, Uuid::nil(), None)),
            [
                (back(30), None),
                (back(365), back(30)),
                (back(3650), back(365)),
                (None, back(3650)),
            ]
        );
        // With `from` inside the second window, that window is the last: it reaches down to `from`.
        assert_eq!(
            spans(tail_windows(day, Uuid::nil(), back(100))),
            [(back(30), None), (None, back(30))]
        );
    }

    #[test]
    fn each_part_asks_for_the_days_it_holds() {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default();
        let id = Uuid::nil();
        // A head: from its boundary to its newest row.
        let head = Part::Head {
            day: day(3, 1),
            id,
            newest: day(4, 2),
        };
        assert_eq!(head.days(None), Some((day(3, 1), day(4, 2))));
        // A window: from its first day to the day before the next window's, or to the boundary for the first.
        let first_window = Part::Tail {
            day: day(3, 1),
            id,
            since: Some(day(1, 30)),
            until: None,
        };
        assert_eq!(first_window.days(None), Some((day(1, 30), day(3, 1))));
        let later_window = Part::Tail {
            day: day(3, 1),
            id,
            since: Some(day(1, 1)),
            until: Some(day(1, 30)),
        };
        assert_eq!(later_window.days(None), Some((day(1, 1), day(1, 29))));
        // The rest reaches back to `from` when there is one, and otherwise to the first row: no calendar then.
        let rest = Part::Tail {
            day: day(3, 1),
            id,
            since: None,
            until: Some(day(2, 1)),
        };
        assert_eq!(rest.days(Some(day(1, 10))), Some((day(1, 10), day(1, 31))));
        assert_eq!(rest.days(None), None);
        assert_eq!(Part::All.days(Some(day(1, 1))), None);
    }

    #[test]
    fn cursors_name_tier_day_and_id() {
        let cursor = Cursor::new(RANKED, "2:2026-03-10", Uuid::nil());
        let after = After::of(&cursor).ok();
        assert_eq!(after.as_ref().map(|a| a.tier), Some(2));
        for bad in ["3:2026-03-10", "2026-03-10", "1:yesterday", "x:2026-03-10"] {
            assert!(After::of(&Cursor::new(RANKED, bad, Uuid::nil())).is_err());
        }
    }
}
