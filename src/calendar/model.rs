//! Which events the calendar lists: the engagements of its three kinds the caller may read, filtered as the
//! engagement list filters them, whose day falls in the window.

use chrono::{DateTime, Days, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;
use validator::Validate;

use crate::auth::Caller;
use crate::db::Conn;
use crate::db::schema::{engagements, hearings, meetings};
use crate::engagements::EngagementKind;
use crate::engagements::model::{self as core, EngagementFilter, EngagementRow};
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

/// One event: the engagement's core, and for a meeting its time and place, for a hearing its place.
#[derive(Debug, Clone)]
pub struct Event {
    /// The engagement.
    pub core: EngagementRow,
    /// A meeting's start.
    pub starts_at: Option<DateTime<Utc>>,
    /// Where it takes place.
    pub location: Option<String>,
}

impl Event {
    /// The day the calendar files it under: a consultation's last day, otherwise the first day.
    pub fn day(&self) -> NaiveDate {
        event_day(&self.core)
    }
}

/// The day an engagement is filed under in the calendar: a consultation's last day, any other's first.
fn event_day(core: &EngagementRow) -> NaiveDate {
    match core.kind {
        EngagementKind::Consultation => core.ends_on.unwrap_or(core.starts_on),
        _ => core.starts_on,
    }
}

/// The events in the window the caller may read, soonest first, at most [`MAX_EVENTS`]: a statement per kind, then
/// the meetings' and hearings' own fields.
pub async fn events(
    conn: &mut Conn,
    caller: &Caller,
    filter: &CalendarFilter,
    (from, to): (NaiveDate, NaiveDate),
) -> ApiResult<Vec<Event>> {
    let mut kinds: Vec<EngagementKind> = Vec::new();
    if filter.kind.is_empty() {
        kinds = vec![
            EngagementKind::Meeting,
            EngagementKind::Hearing,
            EngagementKind::Consultation,
        ];
    }
    // Each kind once: a kind asked for twice would be read twice, and its events listed twice under one UID.
    for kind in filter.kind.iter().copied().map(EngagementKind::from) {
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    // One statement per kind, each walking its kind's index in day order and stopping at the cap, then merged:
    // one statement over all three had to gather and sort every event of the window (250,000 in two years at a
    // million engagements) to find the soonest. Meetings and hearings are filed under their first day (the
    // kind's index on `starts_on`), a consultation under its last (the partial index on `ends_on`); the days
    // are bound.
    let listed = EngagementFilter {
        organization_id: filter.organization_id,
        agency_id: filter.agency_id,
        include_subagencies: filter.include_subagencies,
        council_id: filter.council_id,
        region_code: filter.region_code.clone(),
        ..EngagementFilter::default()
    };
    let mut rows: Vec<EngagementRow> = Vec::new();
    for kind in kinds {
        let query = engagements::table
            .select(EngagementRow::as_select())
            .filter(core::readable(caller))
            .into_boxed();
        // The kind as a literal (our own constant): `kind = ANY($1)` would not let the walk keep the index's order.
        let query =
            core::filtered(query, &listed).filter(diesel::dsl::sql::<diesel::sql_types::Bool>(
                &format!("engagements.kind = '{}'", kind.as_str()),
            ));
        let query = if kind == EngagementKind::Consultation {
            query
                .filter(engagements::ends_on.between(from, to))
                .order((engagements::ends_on.asc(), engagements::id.asc()))
        } else {
            query
                .filter(engagements::starts_on.between(from, to))
                .order((engagements::starts_on.asc(), engagements::id.asc()))
        };
        rows.extend(query.limit(MAX_EVENTS).load(conn).await?);
    }
    // The cap keeps the soonest events by their own day (a consultation's is its last day, not its first).
    rows.sort_by_key(|row| (event_day(row), row.id));
    rows.truncate(usize::try_from(MAX_EVENTS).unwrap_or(usize::MAX));
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut times: std::collections::HashMap<Uuid, (DateTime<Utc>, Option<String>)> =
        meetings::table
            .filter(meetings::id.eq_any(&ids))
            .select((meetings::id, meetings::starts_at, meetings::location))
            .load::<(Uuid, DateTime<Utc>, Option<String>)>(conn)
            .await?
            .into_iter()
            .map(|(id, at, location)| (id, (at, location)))
            .collect();
    let mut places: std::collections::HashMap<Uuid, Option<String>> = hearings::table
        .filter(hearings::id.eq_any(&ids))
        .select((hearings::id, hearings::location))
        .load::<(Uuid, Option<String>)>(conn)
        .await?
        .into_iter()
        .collect();
    let mut events: Vec<Event> = rows
        .into_iter()
        .map(|core| {
            let (starts_at, location) = match times.remove(&core.id) {
                Some((at, location)) => (Some(at), location),
                None => (None, places.remove(&core.id).flatten()),
            };
            Event {
                core,
                starts_at,
                location,
            }
        })
        .collect();
    events.sort_by_key(|e| (e.day(), e.starts_at, e.core.id));
    Ok(events)
}
