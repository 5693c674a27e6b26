//! Which events the calendar lists: the engagements of its three kinds the caller may read (the engagement read
//! rule, `readable_sql`), whose day falls in the window, filtered as the engagement list filters them — an
//! organisation or agency in any role (the party timeline holds exactly those), a region with its sub-regions, a
//! council — in one statement shaped for the calendar's own order (see [`events`]).

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{Date, Int4, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use validator::Validate;

use crate::auth::Caller;
use crate::db::Conn;
use crate::db::sql::{self, Fragment, Statement};
use crate::engagements::EngagementKind;
use crate::engagements::model::{EngagementStatus, readable_sql};
use crate::http::{ApiError, ApiResult};

crate::text_enum! {
    /// What the calendar lists.
    pub enum CalendarKind {
        /// Council meetings, at their time.
        Meeting => "meeting",
        /// Public hearings, as all-day events over their days.
        Hearing => "hearing",
        /// The last day of a draft act's comment period, as an all-day event.
        Consultation => "consultation",
    }
}

impl From<CalendarKind> for EngagementKind {
    fn from(kind: CalendarKind) -> Self {
        match kind {
            CalendarKind::Meeting => Self::Meeting,
            CalendarKind::Hearing => Self::Hearing,
            CalendarKind::Consultation => Self::Consultation,
        }
    }
}

/// Days before today the window starts by default: a subscriber still learns of a recent cancellation.
pub const DEFAULT_DAYS_BEFORE: u64 = 30;
/// Days after today the window ends by default.
pub const DEFAULT_DAYS_AFTER: u64 = 366;
/// The longest window a request may ask for, in days.
pub const MAX_WINDOW_DAYS: u64 = 731;
/// The most events one feed carries; a wider question is narrowed with the filters.
pub const MAX_EVENTS: i64 = 2_000;

/// Filters of `GET /calendar.ics`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarFilter {
    /// Kinds of event (repeatable: `kind=meeting&kind=hearing`); all three when absent.
    #[serde(default)]
    #[validate(length(max = 3))]
    #[param(inline, max_items = 3)]
    pub kind: Vec<CalendarKind>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// One council's meetings.
    pub council_id: Option<Uuid>,
    /// Events where this organisation takes part in any role.
    pub organization_id: Option<Uuid>,
    /// Events where this agency takes part in any role (hosting, responsible, invited), or one of its
    /// sub-agencies unless `include_subagencies=false`.
    pub agency_id: Option<Uuid>,
    /// With `agency_id`: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// The window's first day (default: 30 days ago, so that recent cancellations still reach subscribers; with
    /// only an earlier `to`, a year before it).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub from: Option<NaiveDate>,
    /// The window's last day (default: a year and a day from today); at most 731 days after `from`.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub to: Option<NaiveDate>,
}

impl CalendarFilter {
    /// The window of days, defaults filled in relative to `today`; `to` before `from` or a window over
    /// [`MAX_WINDOW_DAYS`] is refused.
    pub fn window(&self, today: NaiveDate) -> ApiResult<(NaiveDate, NaiveDate)> {
        // Without `from`: 30 days back, or a year before a `to` that lies further back than that.
        let recent = today - Days::new(DEFAULT_DAYS_BEFORE);
        let from = self.from.unwrap_or(match self.to {
            Some(to) if to < recent => to - Days::new(DEFAULT_DAYS_AFTER),
            _ => recent,
        });
        let to = self
            .to
            .unwrap_or_else(|| (today + Days::new(DEFAULT_DAYS_AFTER)).max(from));
        if to < from {
            return Err(ApiError::field("to", "must not be before `from`"));
        }
        if to > from + Days::new(MAX_WINDOW_DAYS) {
            return Err(ApiError::field(
                "to",
                format!("must be at most {MAX_WINDOW_DAYS} days after `from`"),
            ));
        }
        Ok((from, to))
    }
}

/// One event: what the feed shows of an engagement, with a meeting's time and a meeting's or hearing's place.
#[derive(Debug, Clone)]
pub struct Event {
    /// The engagement's id.
    pub id: Uuid,
    /// Its kind.
    pub kind: EngagementKind,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Status.
    pub status: EngagementStatus,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: Option<NaiveDate>,
    /// The day the calendar files it under: a consultation's last day, any other's first.
    pub day: NaiveDate,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// The engagement's version: the event's `SEQUENCE` follows it.
    pub version: i32,
    /// A meeting's start.
    pub starts_at: Option<DateTime<Utc>>,
    /// Where it takes place.
    pub location: Option<String>,
}

/// A row of the calendar's statement.
#[derive(QueryableByName)]
struct EventRow {
    #[diesel(sql_type = SqlUuid)]
    id: Uuid,
    #[diesel(sql_type = Text)]
    kind: EngagementKind,
    #[diesel(sql_type = Text)]
    title: String,
    #[diesel(sql_type = Nullable<Text>)]
    summary: Option<String>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Date)]
    starts_on: NaiveDate,
    #[diesel(sql_type = Nullable<Date>)]
    ends_on: Option<NaiveDate>,
    #[diesel(sql_type = Date)]
    day: NaiveDate,
    #[diesel(sql_type = Timestamptz)]
    updated_at: DateTime<Utc>,
    #[diesel(sql_type = Int4)]
    version: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    starts_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Text>)]
    location: Option<String>,
}

impl TryFrom<EventRow> for Event {
    type Error = ApiError;

    fn try_from(row: EventRow) -> ApiResult<Self> {
        let status = EngagementStatus::of_kind(row.kind, &row.status)
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("stored status: {e}")))?;
        Ok(Self {
            id: row.id,
            kind: row.kind,
            title: row.title,
            summary: row.summary,
            status,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            day: row.day,
            updated_at: row.updated_at,
            version: row.version,
            starts_at: row.starts_at,
            location: row.location,
        })
    }
}

/// The columns every branch of the statement selects, after its `day`, `starts_at` and `location`.
const COLUMNS: &str =
    "e.id, e.kind, e.title, e.summary, e.status, e.starts_on, e.ends_on, e.updated_at, e.version";

/// The events in the window the caller may read, soonest first, at most [`MAX_EVENTS`]: one statement.
///
/// Without an organisation or agency, each kind is a walk of its own index in day order (a meeting's or hearing's
/// first day, a consultation's last), joined with its kind's row for the time and place, and the walks are
/// merged (`UNION ALL` of ordered, capped branches: a Merge Append), so Postgres reads about as many rows as the
/// feed shows. A region narrows each walk to the region's index ranges. An organisation or agency starts from
/// the party timeline instead: its few events of the window, looked up by id (docs/benchmarks.md, "the calendar
/// at a million engagements").
///
/// `regions` is the filter's region with its sub-regions ([`crate::regions::subtree`]).
pub async fn events(
    conn: &mut Conn,
    caller: &Caller,
    filter: &CalendarFilter,
    regions: Option<Vec<String>>,
    window: (NaiveDate, NaiveDate),
) -> ApiResult<Vec<Event>> {
    let mut kinds: Vec<EngagementKind> = Vec::new();
    for kind in filter.kind.iter().copied().map(EngagementKind::from) {
        // Each kind once: a kind asked for twice would be read twice, and its events listed twice under one UID.
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    if kinds.is_empty() {
        kinds = vec![
            EngagementKind::Meeting,
            EngagementKind::Hearing,
            EngagementKind::Consultation,
        ];
    }
    let shared = shared_conditions(caller, filter, regions.as_deref());
    let rows: Vec<EventRow> = if filter.organization_id.is_some() || filter.agency_id.is_some() {
        of_actors(shared, filter, &kinds, window).load(conn).await?
    } else if regions.is_some() {
        // Planned for the region's own codes: a cached generic plan, which cannot know how much of the window a
        // region holds, walks the whole window (docs/benchmarks.md, "the calendar at a million engagements").
        let statement = merged_walks(&shared, &kinds, window);
        conn.transaction(async |conn| {
            conn.batch_execute("SET LOCAL plan_cache_mode = force_custom_plan")
                .await?;
            Ok::<_, ApiError>(statement.load(conn).await?)
        })
        .await?
    } else {
        merged_walks(&shared, &kinds, window).load(conn).await?
    };
    let mut events = rows
        .into_iter()
        .map(Event::try_from)
        .collect::<ApiResult<Vec<Event>>>()?;
    // Within a day, meetings by their time.
    events.sort_by_key(|e| (e.day, e.starts_at, e.id));
    Ok(events)
}

/// The conditions every branch shares: the read rule, and the council's and regions' filters.
fn shared_conditions(
    caller: &Caller,
    filter: &CalendarFilter,
    regions: Option<&[String]>,
) -> Fragment {
    let mut condition = readable_sql(caller, "e.visibility", "e");
    if let Some(council) = filter.council_id {
        condition = condition.sql(" AND e.council_id = ").uuid(council);
    }
    if let Some(codes) = regions {
        condition = condition
            .sql(" AND e.region_code = ANY(")
            .texts(codes.to_vec())
            .sql(")");
    }
    condition
}

/// The kind's day column, and its own table's time and place (`NULL` where it has none).
fn kind_parts(kind: EngagementKind) -> (&'static str, &'static str) {
    match kind {
        EngagementKind::Meeting => (
            "e.starts_on",
            ", m.starts_at, m.location FROM engagements e LEFT JOIN meetings m ON m.id = e.id",
        ),
        EngagementKind::Hearing => (
            "e.starts_on",
            ", NULL::timestamptz AS starts_at, h.location FROM engagements e LEFT JOIN hearings h ON h.id = e.id",
        ),
        _ => (
            "e.ends_on",
            ", NULL::timestamptz AS starts_at, NULL::text AS location FROM engagements e",
        ),
    }
}

/// `(branch) UNION ALL (branch) …`, one ordered, capped walk per kind, then the soonest of them.
fn merged_walks(
    shared: &Fragment,
    kinds: &[EngagementKind],
    (from, to): (NaiveDate, NaiveDate),
) -> Statement {
    let mut statement = Statement::new("SELECT * FROM (");
    for (n, kind) in kinds.iter().enumerate() {
        let (day, from_items) = kind_parts(*kind);
        // The kind as a literal (our own constant): `kind = ANY($1)` would not let the walk keep the index's order.
        statement = statement
            .sql(if n == 0 { "(" } else { " UNION ALL (" })
            .sql(&format!(
                "SELECT {COLUMNS}, {day} AS day{from_items} WHERE e.kind = '{}' AND ",
                kind.as_str()
            ))
            .fragment(shared.clone())
            .fragment(
                Fragment::new(format!(" AND {day} BETWEEN "))
                    .date(from)
                    .sql(" AND ")
                    .date(to)
                    .sql(&format!(" ORDER BY {day}, e.id LIMIT "))
                    .bigint(MAX_EVENTS)
                    .sql(")"),
            );
    }
    statement
        .sql(") events ORDER BY day, id LIMIT ")
        .fragment(Fragment::new("").bigint(MAX_EVENTS))
}

/// The events of an organisation's or agency's window: their ids from the party timeline, which carries each
/// engagement's kind and first day (a consultation's from the window's first day less the longest comment period,
/// so that one closing in the window is found however early it opened), each looked up, filtered and sorted.
fn of_actors(
    shared: Fragment,
    filter: &CalendarFilter,
    kinds: &[EngagementKind],
    (from, to): (NaiveDate, NaiveDate),
) -> Statement {
    let list = |kinds: &[&EngagementKind]| {
        kinds
            .iter()
            .map(|kind| format!("'{}'", kind.as_str()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut condition = Fragment::new(format!(
        "e.kind IN ({}) AND ",
        list(&kinds.iter().collect::<Vec<_>>())
    ))
    .push(shared)
    .sql(" AND d.day BETWEEN ")
    .date(from)
    .sql(" AND ")
    .date(to);
    let (by_first_day, closing): (Vec<&EngagementKind>, Vec<&EngagementKind>) = kinds
        .iter()
        .partition(|kind| **kind != EngagementKind::Consultation);
    let timeline = |actor: Fragment| {
        let mut ids = Vec::new();
        if !by_first_day.is_empty() {
            ids.push(
                Fragment::new("SELECT t.engagement_id FROM engagement_timeline t WHERE ")
                    .push(actor.clone())
                    .sql(&format!(
                        " AND t.kind IN ({}) AND t.starts_on BETWEEN ",
                        list(&by_first_day)
                    ))
                    .date(from)
                    .sql(" AND ")
                    .date(to),
            );
        }
        if !closing.is_empty() {
            ids.push(
                Fragment::new("SELECT t.engagement_id FROM engagement_timeline t WHERE ")
                    .push(actor)
                    .sql(" AND t.kind = 'consultation' AND t.starts_on BETWEEN ")
                    .date(from)
                    .sql(
                        " - (SELECT coalesce(max(c.ends_on - c.starts_on), 0) FROM engagements c \
                         WHERE c.kind = 'consultation') AND ",
                    )
                    .date(to),
            );
        }
        let mut fragment = Fragment::new(" AND e.id IN (");
        for (n, part) in ids.into_iter().enumerate() {
            fragment = fragment
                .sql(if n == 0 { "" } else { " UNION ALL " })
                .push(part);
        }
        fragment.sql(")")
    };
    if let Some(org) = filter.organization_id {
        condition = condition.push(timeline(Fragment::new("t.actor_id = ").uuid(org)));
    }
    if let Some(agency) = filter.agency_id {
        condition = condition.push(timeline(sql::agency_subtree_array(
            "t.actor_id",
            agency,
            filter.include_subagencies.unwrap_or(true),
        )));
    }
    Statement::new(format!(
        "SELECT {COLUMNS}, d.day, m.starts_at, coalesce(m.location, h.location) AS location \
         FROM engagements e \
         LEFT JOIN LATERAL (SELECT starts_at, location FROM meetings \
                            WHERE e.kind = 'meeting' AND id = e.id LIMIT 1) m ON TRUE \
         LEFT JOIN LATERAL (SELECT location FROM hearings WHERE e.kind = 'hearing' AND id = e.id LIMIT 1) h ON TRUE \
         CROSS JOIN LATERAL (SELECT CASE WHEN e.kind = 'consultation' THEN e.ends_on ELSE e.starts_on END AS day) d \
         WHERE "
    ))
    .fragment(condition)
    .fragment(
        Fragment::new(" ORDER BY d.day, e.id LIMIT ").bigint(MAX_EVENTS),
    )
}
