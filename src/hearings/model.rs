//! Public hearings organised by civil society: an engagement of kind `hearing` plus organisers, invited
//! agencies (and whether each came), media, participant count and findings.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::Caller;
use crate::db::batch::Batch;
use crate::db::schema::{
    engagement_parties, engagements, hearing_invited_agencies, hearing_organizers, hearings,
};
use crate::db::sql::Fragment;
use crate::db::{Conn, JsonColumn};
use crate::engagements::model as core;
use crate::engagements::{
    Document, Engagement, EngagementKind, NamedParty, Party, PartyRole, Visibility,
};
use crate::http::export::{CsvRow, join, opt};
use crate::http::extract::not_blank;
use crate::http::{ApiError, ApiResult, Cursor, FieldError, Keyed};
use crate::organizations::Named;

pub use crate::domain::HearingStatus;

/// An agency invited to a hearing.
#[derive(
    Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema, Queryable, Selectable,
)]
#[serde(deny_unknown_fields)]
#[diesel(table_name = hearing_invited_agencies, check_for_backend(diesel::pg::Pg))]
pub struct InvitedAgency {
    /// The agency.
    pub agency_id: Uuid,
    /// Whether it sent someone.
    #[serde(default)]
    pub attended: bool,
}

/// A media outlet that covered the hearing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaPresence {
    /// The outlet.
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 300)]
    pub outlet: String,
    /// A link to its coverage.
    #[validate(custom(function = "crate::http::extract::web_url"), length(max = 2000))]
    #[schema(format = "uri", max_length = 2000)]
    pub url: Option<String>,
}

/// A public hearing.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Hearing {
    /// Id (also the engagement's id).
    pub id: Uuid,
    /// Topic.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Status.
    pub status: HearingStatus,
    /// The day.
    pub starts_on: NaiveDate,
    /// Where.
    pub location: Option<String>,
    /// Region.
    pub region_code: Option<String>,
    /// Spheres.
    pub sphere_codes: Vec<String>,
    /// The organisations that organised it.
    pub organizer_ids: Vec<Uuid>,
    /// The agencies invited, and whether each came.
    pub invited_agencies: Vec<InvitedAgency>,
    /// Media present.
    pub media: Vec<MediaPresence>,
    /// How many took part.
    pub participants_count: Option<i32>,
    /// Facts and conclusions set out.
    pub findings: Option<String>,
    /// The organisation that owns the record.
    pub owner_organization_id: Option<Uuid>,
    /// Who may read it.
    pub visibility: Visibility,
    /// Linked documents.
    pub documents: Vec<Document>,
    /// Derived parties: organisers (`organizer`), invited agencies that came (`participant`) or not (`invited`).
    pub parties: Vec<NamedParty>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

crate::engagement_record!(Hearing, Hearing, "hearing", |h| (
    h.owner_organization_id,
    None
));

impl Keyed for Hearing {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, self.starts_on.to_string(), self.id)
    }
}

impl CsvRow for Hearing {
    const HEADER: &'static [&'static str] = &[
        "id",
        "title",
        "status",
        "starts_on",
        "location",
        "region_code",
        "sphere_codes",
        "organizer_ids",
        "invited_agency_ids",
        "attended_agency_ids",
        "media_outlets",
        "participants_count",
        "findings",
        "organizations",
        "agencies",
        "visibility",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        let [.., organizations, agencies] = crate::engagements::model::party_cells(&self.parties);
        let invited: Vec<Uuid> = self.invited_agencies.iter().map(|a| a.agency_id).collect();
        let attended: Vec<Uuid> = self
            .invited_agencies
            .iter()
            .filter(|a| a.attended)
            .map(|a| a.agency_id)
            .collect();
        let outlets: Vec<String> = self.media.iter().map(|m| m.outlet.clone()).collect();
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.status.to_string(),
            self.starts_on.to_string(),
            opt(&self.location),
            opt(&self.region_code),
            join(&self.sphere_codes),
            join(&self.organizer_ids),
            join(&invited),
            join(&attended),
            join(&outlets),
            opt(&self.participants_count),
            opt(&self.findings),
            organizations,
            agencies,
            self.visibility.to_string(),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

/// The stored hearing-specific part.
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = hearings, check_for_backend(diesel::pg::Pg))]
struct HearingRow {
    id: Uuid,
    location: Option<String>,
    participants_count: Option<i32>,
    findings: Option<String>,
    media: JsonColumn<Vec<MediaPresence>>,
}

/// Filters of the hearing list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HearingFilter {
    /// Organised by this organisation.
    pub organization_id: Option<Uuid>,
    /// This agency was invited, or one of its sub-agencies unless `include_subagencies=false`.
    pub agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// Status.
    #[param(inline)]
    pub status: Option<HearingStatus>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// On or after this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub from: Option<NaiveDate>,
    /// On or before this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub to: Option<NaiveDate>,
}

/// A hearing's own part: its row and its lists. A page loads them table by table for all its hearings; one hearing
/// reads them in the statement of its core, as [`OWN_JSON`].
#[derive(Debug, Deserialize)]
struct Own {
    #[serde(flatten)]
    row: HearingRow,
    organizer_ids: Vec<Uuid>,
    invited_agencies: Vec<InvitedAgency>,
}

/// [`Own`] of the hearing `engagements.id`, lists in their stored order.
const OWN_JSON: &str = "(SELECT to_jsonb(h) || jsonb_build_object(\
     'organizer_ids', ARRAY(SELECT o.organization_id FROM hearing_organizers o WHERE o.hearing_id = h.id \
     ORDER BY o.position), \
     'invited_agencies', (SELECT COALESCE(jsonb_agg(jsonb_build_object('agency_id', i.agency_id, \
     'attended', i.attended) ORDER BY i.position), '[]') FROM hearing_invited_agencies i WHERE i.hearing_id = h.id)) \
     FROM hearings h WHERE h.id = engagements.id)";

/// A hearing from its core and its own part.
fn build(e: Engagement, own: Own) -> ApiResult<Hearing> {
    let status = HearingStatus::try_from(e.status).with_context(|| format!("hearing {}", e.id))?;
    Ok(crate::with_core!(
        Hearing,
        e {
            organizer_ids: own.organizer_ids,
            invited_agencies: own.invited_agencies,
            media: own.row.media.into_inner(),
            location: own.row.location,
            participants_count: own.row.participants_count,
            findings: own.row.findings,
            summary: e.summary,
            status,
            starts_on: e.starts_on,
        }
    ))
}

/// A page's hearings from their core rows: their parties and their own rows and lists, the four statements sent
/// together on the one connection (pipelined: Postgres runs them in turn, the page waits for one round trip).
async fn assemble_all(conn: &Conn, rows: Vec<core::EngagementRow>) -> ApiResult<Vec<Hearing>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let (engagements, mut specific, mut organizers, mut invited) = futures_util::try_join!(
        core::with_parties(conn, rows),
        crate::load_by_id!(conn, hearings, HearingRow, &ids),
        crate::load_children!(conn, hearing_organizers, hearing_id, &ids,
            hearing_organizers::organization_id => Uuid),
        crate::load_children!(conn, hearing_invited_agencies, hearing_id, &ids,
            InvitedAgency::as_select() => InvitedAgency),
    )?;
    engagements
        .into_iter()
        .map(|e: Engagement| {
            let h = specific
                .remove(&e.id)
                .ok_or_else(|| anyhow::anyhow!("hearing {} lacks its row", e.id))?;
            let own = Own {
                row: h,
                organizer_ids: organizers.remove(&e.id).unwrap_or_default(),
                invited_agencies: invited.remove(&e.id).unwrap_or_default(),
            };
            build(e, own)
        })
        .collect()
}

/// One hearing the caller may read: one statement.
pub async fn find(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Hearing> {
    let (engagement, own) =
        core::find_of_kind(conn, caller, id, EngagementKind::Hearing, OWN_JSON).await?;
    build(engagement, own)
}

/// A keyset page (`limit + 1` rows) of the hearings the caller may read, newest first.
pub async fn list(
    conn: &mut Conn,
    caller: &Caller,
    filter: &HearingFilter,
    after: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<Hearing>> {
    let query = filtered(core::of_kind(EngagementKind::Hearing, caller), filter);
    let rows = core::paged(query, after, limit, false)?.load(conn).await?;
    assemble_all(conn, rows).await
}

/// The hearing list's filters on a query over the core rows (the list and the statistics share them).
pub fn filtered<ST: 'static>(
    mut query: core::Boxed<ST>,
    filter: &HearingFilter,
) -> core::Boxed<ST> {
    use engagements::dsl as e;
    if let Some(org) = filter.organization_id {
        let ids = engagement_parties::table
            .filter(engagement_parties::organization_id.eq(org))
            .filter(engagement_parties::role.eq(PartyRole::Organizer))
            .select(engagement_parties::engagement_id);
        query = query.filter(e::id.eq_any(ids));
    }
    if let Some(agency) = filter.agency_id {
        let ids = engagement_parties::table
            .filter(crate::db::sql::in_agency(
                "engagement_parties.agency_id",
                agency,
                filter.include_subagencies.unwrap_or(true),
            ))
            .select(engagement_parties::engagement_id);
        query = query.filter(e::id.eq_any(ids));
    }
    if let Some(status) = filter.status {
        query = query.filter(e::status.eq(status));
    }
    core::CommonFilter {
        region_code: filter.region_code.as_deref(),
        from: filter.from,
        to: filter.to,
    }
    .apply(query)
}

crate::body_types! {
    /// A new hearing.
    create CreateHearing;
    /// Changes to a hearing; lists are replaced whole.
    update UpdateHearing from Hearing;
    shared title,
    shared summary,
    /// Status (default `planned`).
    status: HearingStatus = default,
    /// The day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    starts_on: NaiveDate = required,
    /// Where.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    location: String = optional,
    shared region_code,
    shared sphere_codes,
    /// The organising organisations (at least one; an NGO member must list their own).
    #[validate(length(min = 1, max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    organizer_ids: Vec<Uuid> = required,
    /// The agencies invited.
    #[validate(length(max = 100), nested)]
    #[schema(max_items = 100)]
    invited_agencies: Vec<InvitedAgency> = default,
    /// Media present.
    #[validate(length(max = 100), nested)]
    #[schema(max_items = 100)]
    media: Vec<MediaPresence> = default,
    /// How many took part.
    #[validate(range(min = 0, max = 1000000))]
    #[schema(minimum = 0, maximum = 1000000)]
    participants_count: i32 = optional,
    /// Facts and conclusions set out.
    #[validate(length(max = 100000))]
    #[schema(max_length = 100000)]
    findings: String = optional,
    shared visibility,
    shared documents,
}

impl CreateHearing {
    /// The organisers and agencies it names, for the write path to check that they exist; 422 when one is listed
    /// twice.
    pub fn named(&self) -> ApiResult<Named> {
        let mut errors = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for (i, id) in self.organizer_ids.iter().enumerate() {
            if !seen.insert(*id) {
                errors.push(FieldError::new(
                    format!("organizer_ids[{i}]"),
                    "is listed twice",
                ));
            }
        }
        for (i, a) in self.invited_agencies.iter().enumerate() {
            if !seen.insert(a.agency_id) {
                errors.push(FieldError::new(
                    format!("invited_agencies[{i}].agency_id"),
                    "is listed twice",
                ));
            }
        }
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors));
        }
        let orgs: Vec<(String, Uuid)> = self
            .organizer_ids
            .iter()
            .enumerate()
            .map(|(i, id)| (format!("organizer_ids[{i}]"), *id))
            .collect();
        let agencies: Vec<(String, Uuid)> = self
            .invited_agencies
            .iter()
            .enumerate()
            .map(|(i, a)| (format!("invited_agencies[{i}].agency_id"), a.agency_id))
            .collect();
        Ok(Named::actors(orgs, agencies))
    }

    /// The parties a hearing implies.
    pub fn parties(&self) -> Vec<Party> {
        let mut parties: Vec<Party> = self
            .organizer_ids
            .iter()
            .map(|id| Party::organization(*id, PartyRole::Organizer))
            .collect();
        parties.extend(self.invited_agencies.iter().map(|a| {
            Party::agency(
                a.agency_id,
                if a.attended {
                    PartyRole::Participant
                } else {
                    PartyRole::Invited
                },
            )
        }));
        parties
    }
}

/// Writes the hearing-specific rows (the core is written by the caller).
pub async fn write_specific(
    batch: &mut Batch<'_>,
    id: Uuid,
    body: &CreateHearing,
) -> ApiResult<()> {
    let media = JsonColumn(body.media.clone());
    let values = (
        hearings::location.eq(body.location.clone()),
        hearings::participants_count.eq(body.participants_count),
        hearings::findings.eq(body.findings.clone()),
        hearings::media.eq(media),
    );
    crate::save_row!(batch, hearings, id, values);
    let organizers = Fragment::new(
        "INSERT INTO hearing_organizers (hearing_id, organization_id, position) SELECT ",
    )
    .uuid(id)
    .sql(", u.organization_id, u.n - 1 FROM unnest(")
    .uuids(body.organizer_ids.clone())
    .sql(") WITH ORDINALITY AS u(organization_id, n)");
    crate::replace_children!(batch, hearing_organizers, hearing_id, id, organizers);
    let invited = Fragment::new(
        "INSERT INTO hearing_invited_agencies (hearing_id, agency_id, attended, position) SELECT ",
    )
    .uuid(id)
    .sql(", u.agency_id, u.attended, u.n - 1 FROM unnest(")
    .uuids(body.invited_agencies.iter().map(|a| a.agency_id).collect())
    .sql(", ")
    .bools(body.invited_agencies.iter().map(|a| a.attended).collect())
    .sql(") WITH ORDINALITY AS u(agency_id, attended, n)");
    crate::replace_children!(batch, hearing_invited_agencies, hearing_id, id, invited);
    Ok(())
}

/// Removes an organiser from a hearing's own rows; answers how many organisers remain.
pub async fn remove_organizer(
    conn: &mut Conn,
    id: Uuid,
    organization_id: Uuid,
) -> ApiResult<usize> {
    Ok(crate::remove_child!(
        conn,
        hearing_organizers,
        hearing_id,
        id,
        organization_id,
        organization_id
    ))
}
