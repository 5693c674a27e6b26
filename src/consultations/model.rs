//! Consultations on draft acts: an engagement of kind `consultation` plus act type, responsible agency, level,
//! comment period, draft and adopted act.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::agencies::GovernmentLevel;
use crate::auth::Caller;
use crate::db::batch::Batch;
use crate::db::schema::{consultations, engagements};
use crate::db::{Conn, JsonColumn};
use crate::engagements::model as core;
use crate::engagements::{Document, Engagement, EngagementKind, NamedParty, Party, Visibility};
use crate::http::export::{CsvRow, join, opt};
use crate::http::extract::not_blank;
use crate::http::{ApiError, ApiResult, Cursor, Keyed};

crate::text_enum! {
    /// The kind of act under discussion.
    pub enum ActType {
        /// A law.
        Law => "law",
        /// A code.
        Code => "code",
        /// A decree.
        Decree => "decree",
        /// A resolution of the government.
        GovernmentResolution => "government_resolution",
        /// A regulation.
        Regulation => "regulation",
        /// A local act.
        LocalAct => "local_act",
        /// A strategy or programme.
        Strategy => "strategy",
        /// Anything else.
        Other => "other",
    }
}

pub use crate::domain::ConsultationStatus;

/// The act as adopted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdoptedAct {
    /// Its title.
    #[validate(length(min = 1, max = 1000), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 1000)]
    pub title: String,
    /// When it was adopted.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub adopted_on: NaiveDate,
    /// Where it is published.
    #[validate(custom(function = "crate::http::extract::web_url"), length(max = 2000))]
    #[schema(format = "uri", max_length = 2000)]
    pub url: Option<String>,
}

/// A public consultation on a draft act.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Consultation {
    /// Id (also the engagement's id).
    pub id: Uuid,
    /// The draft's title.
    pub title: String,
    /// Act type.
    pub act_type: ActType,
    /// The agency responsible for the draft.
    pub responsible_agency_id: Uuid,
    /// Level of government.
    pub level: GovernmentLevel,
    /// First day of the comment period.
    pub opens_on: NaiveDate,
    /// Last day of the comment period.
    pub closes_on: NaiveDate,
    /// Status.
    pub status: ConsultationStatus,
    /// Where the draft is.
    pub draft_url: Option<String>,
    /// Summary.
    pub summary: Option<String>,
    /// The act as adopted, once adopted.
    pub adopted_act: Option<AdoptedAct>,
    /// Region.
    pub region_code: Option<String>,
    /// Spheres.
    pub sphere_codes: Vec<String>,
    /// The organisation that owns the record.
    pub owner_organization_id: Option<Uuid>,
    /// Who may read it.
    pub visibility: Visibility,
    /// Linked documents.
    pub documents: Vec<Document>,
    /// Derived parties: the responsible agency and every submitting organisation.
    pub parties: Vec<NamedParty>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

crate::engagement_record!(Consultation, Consultation, "consultation", |c| (
    c.owner_organization_id,
    None
));

impl Keyed for Consultation {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, self.opens_on.to_string(), self.id)
    }
}

impl CsvRow for Consultation {
    const HEADER: &'static [&'static str] = &[
        "id",
        "title",
        "act_type",
        "responsible_agency_id",
        "level",
        "opens_on",
        "closes_on",
        "status",
        "draft_url",
        "adopted_act_title",
        "adopted_on",
        "region_code",
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
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.act_type.to_string(),
            self.responsible_agency_id.to_string(),
            self.level.to_string(),
            self.opens_on.to_string(),
            self.closes_on.to_string(),
            self.status.to_string(),
            opt(&self.draft_url),
            self.adopted_act
                .as_ref()
                .map(|a| a.title.clone())
                .unwrap_or_default(),
            self.adopted_act
                .as_ref()
                .map(|a| a.adopted_on.to_string())
                .unwrap_or_default(),
            opt(&self.region_code),
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

/// A consultation's own row. A page loads the rows of all its consultations at once; one consultation reads its row
/// in the statement of its core, as [`OWN_JSON`].
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = consultations, check_for_backend(diesel::pg::Pg))]
struct ConsultationRow {
    id: Uuid,
    act_type: ActType,
    responsible_agency_id: Uuid,
    level: GovernmentLevel,
    opens_on: NaiveDate,
    closes_on: NaiveDate,
    draft_url: Option<String>,
    adopted_act: Option<JsonColumn<AdoptedAct>>,
}

/// Filters of the consultation list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConsultationFilter {
    /// Open for comments on this day (`opens_on` ≤ day ≤ `closes_on`).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub open_on: Option<NaiveDate>,
    /// Status.
    #[param(inline)]
    pub status: Option<ConsultationStatus>,
    /// Act type.
    #[param(inline)]
    pub act_type: Option<ActType>,
    /// The responsible agency, or one of its sub-agencies unless `include_subagencies=false`.
    pub responsible_agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// Level of government.
    #[param(inline)]
    pub level: Option<GovernmentLevel>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// Opening on or after this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub from: Option<NaiveDate>,
    /// Opening on or before this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub to: Option<NaiveDate>,
    /// Open for comments at some time from this day on: the comment period ends on or after it
    /// (`closes_on` ≥ `open_from`). With `open_to`, the period overlaps the days `open_from`…`open_to`, both
    /// included; alone, the period is not over by that day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub open_from: Option<NaiveDate>,
    /// Open for comments at some time up to this day: the comment period starts on or before it
    /// (`opens_on` ≤ `open_to`). Not before `open_from`.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub open_to: Option<NaiveDate>,
}

impl ConsultationFilter {
    /// Refuses a period of `open_from`…`open_to` that ends before it starts (422 on `open_to`).
    pub fn check(&self) -> ApiResult<()> {
        match (self.open_from, self.open_to) {
            (Some(from), Some(to)) if to < from => {
                Err(ApiError::field("open_to", "must not be before `open_from`"))
            }
            _ => Ok(()),
        }
    }
}

/// [`ConsultationRow`] of the consultation `engagements.id`.
const OWN_JSON: &str = "(SELECT to_jsonb(c) FROM consultations c WHERE c.id = engagements.id)";

/// A consultation from its core and its own row.
fn build(e: Engagement, own: ConsultationRow) -> ApiResult<Consultation> {
    let status =
        ConsultationStatus::try_from(e.status).with_context(|| format!("consultation {}", e.id))?;
    Ok(crate::with_core!(
        Consultation,
        e {
            act_type: own.act_type,
            responsible_agency_id: own.responsible_agency_id,
            level: own.level,
            opens_on: own.opens_on,
            closes_on: own.closes_on,
            draft_url: own.draft_url,
            adopted_act: own.adopted_act.map(JsonColumn::into_inner),
            status,
            summary: e.summary,
        }
    ))
}

/// A page's consultations from their core rows: parties and own rows, the two statements sent together (pipelined, as
/// for hearings).
async fn assemble_all(conn: &Conn, rows: Vec<core::EngagementRow>) -> ApiResult<Vec<Consultation>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let (engagements, mut specific) = futures_util::try_join!(
        core::with_parties(conn, rows),
        crate::load_by_id!(conn, consultations, ConsultationRow, &ids),
    )?;
    engagements
        .into_iter()
        .map(|e: Engagement| {
            let own = specific
                .remove(&e.id)
                .ok_or_else(|| anyhow::anyhow!("consultation {} lacks its row", e.id))?;
            build(e, own)
        })
        .collect()
}

/// One consultation the caller may read: one statement.
pub async fn find(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Consultation> {
    let (engagement, own) =
        core::find_of_kind(conn, caller, id, EngagementKind::Consultation, OWN_JSON).await?;
    build(engagement, own)
}

/// A keyset page (`limit + 1` rows) of the consultations the caller may read, latest opening first.
pub async fn list(
    conn: &mut Conn,
    caller: &Caller,
    filter: &ConsultationFilter,
    after: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<Consultation>> {
    let query = filtered(core::of_kind(EngagementKind::Consultation, caller), filter);
    let rows = core::paged(query, after, limit, false)?.load(conn).await?;
    assemble_all(conn, rows).await
}

/// The consultation list's filters on a query over the core rows (the list and the statistics share them).
pub fn filtered<ST: 'static>(
    mut query: core::Boxed<ST>,
    filter: &ConsultationFilter,
) -> core::Boxed<ST> {
    use engagements::dsl as e;
    if let Some(day) = filter.open_on {
        query = query
            .filter(e::starts_on.le(day))
            .filter(e::ends_on.ge(day));
    }
    // The core row carries the comment period: `starts_on` is `opens_on`, `ends_on` is `closes_on`.
    if let Some(day) = filter.open_from {
        query = query.filter(e::ends_on.ge(day));
    }
    if let Some(day) = filter.open_to {
        query = query.filter(e::starts_on.le(day));
    }
    if let Some(status) = filter.status {
        query = query.filter(e::status.eq(status));
    }
    if filter.act_type.is_some() || filter.responsible_agency_id.is_some() || filter.level.is_some()
    {
        let mut specific = consultations::table.select(consultations::id).into_boxed();
        if let Some(act_type) = filter.act_type {
            specific = specific.filter(consultations::act_type.eq(act_type));
        }
        if let Some(agency) = filter.responsible_agency_id {
            specific = specific.filter(crate::db::sql::in_agency(
                "consultations.responsible_agency_id",
                agency,
                filter.include_subagencies.unwrap_or(true),
            ));
        }
        if let Some(level) = filter.level {
            specific = specific.filter(consultations::level.eq(level));
        }
        query = query.filter(e::id.eq_any(specific));
    }
    core::CommonFilter {
        region_code: filter.region_code.as_deref(),
        from: filter.from,
        to: filter.to,
    }
    .apply(query)
}

crate::body_types! {
    /// A new consultation.
    create CreateConsultation;
    /// Changes to a consultation.
    update UpdateConsultation from Consultation;
    /// The draft's title.
    #[validate(length(min = 1, max = 1000), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 1000)]
    title: String = required,
    /// Act type.
    act_type: ActType = required,
    /// The agency responsible for the draft.
    responsible_agency_id: Uuid = required,
    /// Level of government.
    level: GovernmentLevel = required,
    /// First day of the comment period.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    opens_on: NaiveDate = required,
    /// Last day of the comment period (not before `opens_on`).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    closes_on: NaiveDate = required,
    /// Status (default `open`).
    status: ConsultationStatus = default,
    /// Where the draft is.
    #[validate(custom(function = "crate::http::extract::web_url"), length(max = 2000))]
    #[schema(format = "uri", max_length = 2000)]
    draft_url: String = optional,
    shared summary,
    /// The act as adopted (only with status `adopted`).
    #[validate(nested)]
    adopted_act: AdoptedAct = optional,
    shared region_code,
    shared sphere_codes,
    shared visibility,
    shared documents,
}

impl CreateConsultation {
    /// Cross-field rules: the period's order, and an adopted act only for an adopted draft.
    pub fn check_rules(&self) -> ApiResult<()> {
        if self.closes_on < self.opens_on {
            return Err(ApiError::field("closes_on", "must not be before opens_on"));
        }
        if self.adopted_act.is_some() && self.status != ConsultationStatus::Adopted {
            return Err(ApiError::field(
                "adopted_act",
                "is only for a consultation with status `adopted`",
            ));
        }
        Ok(())
    }
}

/// Rewrites a consultation's parties: the responsible agency and every organisation that submitted.
pub async fn refresh_parties(conn: &mut Conn, id: Uuid) -> ApiResult<()> {
    use crate::db::schema::{submission_organizations as so, submissions as s};
    let responsible: Uuid = consultations::table
        .find(id)
        .select(consultations::responsible_agency_id)
        .first(conn)
        .await?;
    let submitters: Vec<Uuid> = so::table
        .inner_join(s::table)
        .filter(s::consultation_id.eq(id))
        .select(so::organization_id)
        .distinct()
        .load(conn)
        .await?;
    let mut parties = vec![Party::agency(
        responsible,
        crate::engagements::PartyRole::Responsible,
    )];
    parties.extend(
        submitters
            .into_iter()
            .map(|o| Party::organization(o, crate::engagements::PartyRole::Submitter)),
    );
    let mut batch = Batch::new(conn, true);
    crate::engagements::write::set_parties(&mut batch, id, &parties).await
}

/// Writes the consultation-specific row (the core is written by the caller).
pub async fn write_specific(
    batch: &mut Batch<'_>,
    id: Uuid,
    body: &CreateConsultation,
) -> ApiResult<()> {
    let adopted = body.adopted_act.clone().map(JsonColumn);
    let values = (
        consultations::act_type.eq(body.act_type),
        consultations::responsible_agency_id.eq(body.responsible_agency_id),
        consultations::level.eq(body.level),
        consultations::opens_on.eq(body.opens_on),
        consultations::closes_on.eq(body.closes_on),
        consultations::draft_url.eq(body.draft_url.clone()),
        consultations::adopted_act.eq(adopted),
    );
    crate::save_row!(batch, consultations, id, values);
    Ok(())
}
