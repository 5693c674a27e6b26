//! Meetings of councils: an engagement of kind `meeting` plus time, place, format, agenda, attendance, minutes.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Offset, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Caller;
use crate::db::batch::Batch;
use crate::db::schema::{engagements, meeting_attendance, meetings};
use crate::db::sql::Fragment;
use crate::db::{Conn, JsonColumn};
use crate::engagements::model::{self as core, NEWEST};
use crate::engagements::{
    Document, Engagement, EngagementKind, NamedParty, Party, PartyRole, Visibility,
};
use crate::http::export::{CsvRow, join, opt};
use crate::http::extract::not_blank;
use crate::http::{ApiError, ApiResult, Cursor, FieldError, Keyed};
use crate::organizations::Named;

pub use crate::domain::MeetingStatus;

crate::text_enum! {
    /// How a meeting is held.
    #[derive(Default)]
    pub enum MeetingFormat {
        /// In one room.
        #[default]
        InPerson => "in_person",
        /// Online.
        Online => "online",
        /// Both.
        Hybrid => "hybrid",
    }
}

/// An item of the agenda, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgendaItem {
    /// What is discussed.
    #[validate(length(min = 1, max = 500), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 500)]
    pub title: String,
    /// Who presents it.
    #[validate(length(max = 200))]
    #[schema(max_length = 200)]
    pub presenter: Option<String>,
    /// Notes.
    #[validate(length(max = 5000))]
    #[schema(max_length = 5000)]
    pub notes: Option<String>,
}

/// Who was expected, and whether they came: exactly one of `organization_id` and `agency_id`.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema, Queryable, Selectable,
)]
#[serde(deny_unknown_fields)]
#[diesel(table_name = meeting_attendance, check_for_backend(diesel::pg::Pg))]
pub struct Attendance {
    /// The organisation.
    pub organization_id: Option<Uuid>,
    /// The agency.
    pub agency_id: Option<Uuid>,
    /// The person who came (or was expected).
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub representative_name: Option<String>,
    /// Whether they were present (default true).
    #[serde(default = "yes")]
    pub present: bool,
}

fn yes() -> bool {
    true
}

/// A meeting of a council.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Meeting {
    /// Id (also the engagement's id).
    pub id: Uuid,
    /// The council.
    pub council_id: Uuid,
    /// Title.
    pub title: String,
    /// Summary of what was decided.
    pub summary: Option<String>,
    /// Status.
    pub status: MeetingStatus,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Where.
    pub location: Option<String>,
    /// Region.
    pub region_code: Option<String>,
    /// Format.
    pub format: MeetingFormat,
    /// The agenda, in order.
    pub agenda: Vec<AgendaItem>,
    /// Who was expected and who came.
    pub attendance: Vec<Attendance>,
    /// Minutes.
    pub minutes: Option<String>,
    /// Spheres.
    pub sphere_codes: Vec<String>,
    /// Who may read it.
    pub visibility: Visibility,
    /// Linked documents.
    pub documents: Vec<Document>,
    /// Derived parties: the host agency, and the attendance (present → participant, absent → invited).
    pub parties: Vec<NamedParty>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

/// The stored meeting-specific part.
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = meetings, check_for_backend(diesel::pg::Pg))]
pub struct MeetingRow {
    /// Id.
    pub id: Uuid,
    /// When it starts.
    pub starts_at: DateTime<Utc>,
    /// Where.
    pub location: Option<String>,
    /// Format.
    pub format: MeetingFormat,
    /// Agenda.
    pub agenda: JsonColumn<Vec<AgendaItem>>,
    /// Minutes.
    pub minutes: Option<String>,
}

impl Meeting {
    fn assemble(
        row: Engagement,
        meeting: MeetingRow,
        attendance: Vec<Attendance>,
    ) -> ApiResult<Self> {
        let status =
            MeetingStatus::try_from(row.status).with_context(|| format!("meeting {}", row.id))?;
        Ok(Self {
            id: row.id,
            council_id: row
                .council_id
                .ok_or_else(|| anyhow::anyhow!("meeting {} has no council", row.id))?,
            title: row.title,
            summary: row.summary,
            status,
            starts_at: meeting.starts_at,
            location: meeting.location,
            region_code: row.region_code,
            format: meeting.format,
            agenda: meeting.agenda.into_inner(),
            attendance,
            minutes: meeting.minutes,
            sphere_codes: row.sphere_codes,
            visibility: row.visibility,
            documents: row.documents,
            parties: row.parties,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        })
    }

    /// The parties a meeting implies.
    pub fn derive_parties(host_agency_id: Option<Uuid>, attendance: &[Attendance]) -> Vec<Party> {
        let mut parties: Vec<Party> = host_agency_id
            .map(|a| Party::agency(a, PartyRole::Host))
            .into_iter()
            .collect();
        for a in attendance {
            let role = if a.present {
                PartyRole::Participant
            } else {
                PartyRole::Invited
            };
            parties.push(Party {
                organization_id: a.organization_id,
                agency_id: a.agency_id,
                role,
            });
        }
        parties
    }
}

crate::engagement_record!(Meeting, Meeting, "meeting", |m| (None, Some(m.council_id)));

impl Keyed for Meeting {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, local_date(self.starts_at).to_string(), self.id)
    }
}

impl CsvRow for Meeting {
    const HEADER: &'static [&'static str] = &[
        "id",
        "council_id",
        "title",
        "summary",
        "status",
        "starts_at",
        "location",
        "region_code",
        "format",
        "agenda",
        "attendance",
        "minutes",
        "sphere_codes",
        "organizations",
        "agencies",
        "visibility",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        let [.., organizations, agencies] = crate::engagements::model::party_cells(&self.parties);
        let agenda: Vec<&str> = self.agenda.iter().map(|a| a.title.as_str()).collect();
        let attendance: Vec<String> = self.attendance.iter().map(Attendance::cell).collect();
        vec![
            self.id.to_string(),
            self.council_id.to_string(),
            self.title.clone(),
            opt(&self.summary),
            self.status.to_string(),
            self.starts_at.to_rfc3339(),
            opt(&self.location),
            opt(&self.region_code),
            self.format.to_string(),
            join(&agenda),
            join(&attendance),
            opt(&self.minutes),
            join(&self.sphere_codes),
            organizations,
            agencies,
            self.visibility.to_string(),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

impl Attendance {
    /// The entry in a CSV cell: the representative's name (or, without one, the organisation's or agency's id)
    /// and whether they came, as in `Зарина Каримова (present)`.
    fn cell(&self) -> String {
        let who = match (
            &self.representative_name,
            self.organization_id,
            self.agency_id,
        ) {
            (Some(name), _, _) => name.clone(),
            (None, Some(id), _) | (None, None, Some(id)) => id.to_string(),
            (None, None, None) => String::new(),
        };
        let came = if self.present { "present" } else { "absent" };
        format!("{who} ({came})")
    }
}

/// The day a meeting happens in Tajikistan (UTC+5 all year): the date filters and calendars work on it.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&tajikistan()).date_naive()
}

/// Tajikistan's offset from UTC: five hours all year, without daylight saving.
pub fn tajikistan() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(5 * 3600).unwrap_or_else(|| Utc.fix())
}

/// Filters of meeting lists.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeetingFilter {
    /// The council (on `GET /meetings`; the path gives it on a council's list).
    pub council_id: Option<Uuid>,
    /// Status.
    #[param(inline)]
    pub status: Option<MeetingStatus>,
    /// On or after this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub from: Option<NaiveDate>,
    /// On or before this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub to: Option<NaiveDate>,
}

/// A page's meetings from their core rows: parties, own rows and attendance, the three statements sent together
/// (pipelined, as for hearings).
async fn assemble_all(conn: &Conn, rows: Vec<core::EngagementRow>) -> ApiResult<Vec<Meeting>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let (engagements, mut specific, mut attendance) = futures_util::try_join!(
        core::with_parties(conn, rows),
        crate::load_by_id!(conn, meetings, MeetingRow, &ids),
        crate::load_children!(conn, meeting_attendance, meeting_id, &ids,
            Attendance::as_select() => Attendance),
    )?;
    engagements
        .into_iter()
        .map(|e| {
            let m = specific
                .remove(&e.id)
                .ok_or_else(|| anyhow::anyhow!("meeting {} lacks its row", e.id))?;
            let a = attendance.remove(&e.id).unwrap_or_default();
            Meeting::assemble(e, m, a)
        })
        .collect()
}

/// A meeting's own part as one meeting reads it in the statement of its core ([`OWN_JSON`]).
#[derive(Debug, Deserialize)]
struct Own {
    #[serde(flatten)]
    row: MeetingRow,
    attendance: Vec<Attendance>,
}

/// [`Own`] of the meeting `engagements.id`, attendance in its stored order.
const OWN_JSON: &str = "(SELECT to_jsonb(m) || jsonb_build_object(\
     'attendance', (SELECT COALESCE(jsonb_agg(jsonb_build_object('organization_id', a.organization_id, \
     'agency_id', a.agency_id, 'representative_name', a.representative_name, 'present', a.present) \
     ORDER BY a.position), '[]') FROM meeting_attendance a WHERE a.meeting_id = m.id)) \
     FROM meetings m WHERE m.id = engagements.id)";

/// One meeting the caller may read: one statement.
pub async fn find(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Meeting> {
    let (engagement, own): (Engagement, Own) =
        core::find_of_kind(conn, caller, id, EngagementKind::Meeting, OWN_JSON).await?;
    Meeting::assemble(engagement, own.row, own.attendance)
}

/// A keyset page (`limit + 1` rows) of the meetings the caller may read, newest first.
pub async fn list(
    conn: &mut Conn,
    caller: &Caller,
    filter: &MeetingFilter,
    after: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<Meeting>> {
    let query = filtered(core::of_kind(EngagementKind::Meeting, caller), filter);
    let rows = core::paged(query, after, limit, false)?.load(conn).await?;
    assemble_all(conn, rows).await
}

/// The sort of meeting lists.
pub const ORDER: &str = NEWEST;

/// The meeting list's filters on a query over the core rows (the list and the statistics share them).
pub fn filtered<ST: 'static>(
    mut query: core::Boxed<ST>,
    filter: &MeetingFilter,
) -> core::Boxed<ST> {
    use engagements::dsl as e;
    if let Some(council) = filter.council_id {
        query = query.filter(e::council_id.eq(council));
    }
    if let Some(status) = filter.status {
        query = query.filter(e::status.eq(status));
    }
    core::CommonFilter {
        region_code: None,
        from: filter.from,
        to: filter.to,
    }
    .apply(query)
}

crate::body_types! {
    /// A new meeting.
    create CreateMeeting;
    /// Changes to a meeting; lists (agenda, attendance, documents, spheres) are replaced whole.
    update UpdateMeeting from Meeting;
    shared title,
    shared summary,
    /// Status (default `planned`).
    status: MeetingStatus = default,
    /// When it starts (RFC 3339).
    starts_at: DateTime<Utc> = required,
    /// Where.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    location: String = optional,
    shared region_code,
    /// Format (default `in_person`).
    format: MeetingFormat = default,
    /// The agenda, in order.
    #[validate(length(max = 100), nested)]
    #[schema(max_items = 100)]
    agenda: Vec<AgendaItem> = default,
    /// Who was expected and who came.
    #[validate(length(max = 500), nested)]
    #[schema(max_items = 500)]
    attendance: Vec<Attendance> = default,
    /// Minutes.
    #[validate(length(max = 100000))]
    #[schema(max_length = 100000)]
    minutes: String = optional,
    /// Spheres (default: the council's).
    #[validate(length(max = 15))]
    #[schema(max_items = 15)]
    sphere_codes: Vec<String> = derived,
    shared visibility,
    shared documents,
}

/// Checks an attendance list: one actor per entry, no one twice, everyone exists.
pub fn attendance_named(attendance: &[Attendance]) -> ApiResult<Named> {
    let mut errors = Vec::new();
    let mut orgs = Vec::new();
    let mut agencies = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, a) in attendance.iter().enumerate() {
        match (a.organization_id, a.agency_id) {
            (Some(id), None) => orgs.push((format!("attendance[{i}].organization_id"), id)),
            (None, Some(id)) => agencies.push((format!("attendance[{i}].agency_id"), id)),
            _ => errors.push(FieldError::new(
                format!("attendance[{i}]"),
                "give exactly one of organization_id and agency_id",
            )),
        }
        if !seen.insert((a.organization_id, a.agency_id)) {
            errors.push(FieldError::new(
                format!("attendance[{i}]"),
                "lists someone already listed",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Named::actors(orgs, agencies))
}

/// Writes the meeting-specific rows (the core is written by the caller).
pub async fn write_specific(
    batch: &mut Batch<'_>,
    id: Uuid,
    body: &CreateMeeting,
) -> ApiResult<()> {
    let agenda = JsonColumn(body.agenda.clone());
    let values = (
        meetings::starts_at.eq(body.starts_at),
        meetings::location.eq(body.location.clone()),
        meetings::format.eq(body.format),
        meetings::agenda.eq(agenda),
        meetings::minutes.eq(body.minutes.clone()),
    );
    crate::save_row!(batch, meetings, id, values);
    let attendance = Fragment::new(
        "INSERT INTO meeting_attendance \
         (meeting_id, organization_id, agency_id, representative_name, present, position) SELECT ",
    )
    .uuid(id)
    .sql(", u.organization_id, u.agency_id, u.representative_name, u.present, u.n - 1 FROM unnest(")
    .optional_uuids(body.attendance.iter().map(|a| a.organization_id).collect())
    .sql(", ")
    .optional_uuids(body.attendance.iter().map(|a| a.agency_id).collect())
    .sql(", ")
    .optional_texts(
        body.attendance
            .iter()
            .map(|a| a.representative_name.clone())
            .collect(),
    )
    .sql(", ")
    .bools(body.attendance.iter().map(|a| a.present).collect())
    .sql(") WITH ORDINALITY AS u(organization_id, agency_id, representative_name, present, n)");
    crate::replace_children!(batch, meeting_attendance, meeting_id, id, attendance);
    Ok(())
}
