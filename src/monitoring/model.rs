//! Monitoring visits: an engagement of kind `monitoring_visit` plus facility, mandate, monitors and findings.
//!
//! Confidential findings are redacted in one place, [`Visit::as_seen_by`]: every read path (one visit, lists,
//! exports, a facility's visits) and the audit snapshot go through it, so no path can forget it.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Role};
use crate::db::Conn;
use crate::db::batch::Batch;
use crate::db::schema::{
    engagement_parties, engagements, facilities, monitoring_visits, visit_findings, visit_monitors,
};
use crate::db::sql::Fragment;
use crate::engagements::model as core;
use crate::engagements::{Document, Engagement, EngagementKind, NamedParty, PartyRole, Visibility};
use crate::http::export::{CsvRow, join, opt};
use crate::http::{ApiError, ApiResult, Cursor, FieldError, Keyed};
use crate::organizations::Named;

pub use crate::domain::VisitStatus;

crate::text_enum! {
    /// Whether the monitors got in.
    pub enum VisitAccess {
        /// Full access.
        Granted => "granted",
        /// Some places or people were off limits.
        Partial => "partial",
        /// Refused.
        Refused => "refused",
    }
}

crate::text_enum! {
    /// What a finding is about.
    pub enum FindingCategory {
        /// Material conditions.
        Conditions => "conditions",
        /// Treatment of detainees.
        Treatment => "treatment",
        /// Legal safeguards (lawyer, family, doctor).
        LegalSafeguards => "legal_safeguards",
        /// Health care.
        HealthCare => "health_care",
        /// Food and water.
        FoodWater => "food_water",
        /// Contact with the outside world.
        ContactWithOutside => "contact_with_outside",
        /// Registers and records.
        Documentation => "documentation",
        /// Staff conduct.
        StaffConduct => "staff_conduct",
        /// Anything else.
        Other => "other",
    }
}

crate::text_enum! {
    /// How grave a finding is.
    pub enum Severity {
        /// For information.
        Info => "info",
        /// Minor.
        Minor => "minor",
        /// Serious.
        Serious => "serious",
        /// Critical.
        Critical => "critical",
    }
}

/// A finding as submitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FindingInput {
    /// Category.
    pub category: FindingCategory,
    /// Severity.
    pub severity: Severity,
    /// What was found.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    /// Shown whole only to the monitoring organisations' members and admins (default false).
    #[serde(default)]
    pub confidential: bool,
}

/// A finding as a reader sees it: a confidential one outside the monitors has `description: null, redacted: true`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Finding {
    /// Category.
    pub category: FindingCategory,
    /// Severity.
    pub severity: Severity,
    /// What was found (null when redacted).
    pub description: Option<String>,
    /// Whether it is confidential.
    pub confidential: bool,
    /// Whether the description was withheld from this reader.
    pub redacted: bool,
}

/// A monitoring visit.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Visit {
    /// Id (also the engagement's id).
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// The facility.
    pub facility_id: Uuid,
    /// The day of the visit.
    pub visited_on: NaiveDate,
    /// Whether the facility was told in advance.
    pub announced: bool,
    /// The council or commission whose mandate it was.
    pub mandate_council_id: Option<Uuid>,
    /// The monitoring organisations.
    pub monitor_organization_ids: Vec<Uuid>,
    /// Public summary.
    pub summary: Option<String>,
    /// Status.
    pub status: VisitStatus,
    /// Whether the monitors got in.
    pub access: Option<VisitAccess>,
    /// Findings, in order.
    pub findings: Vec<Finding>,
    /// Region (the facility's).
    pub region_code: Option<String>,
    /// Spheres.
    pub sphere_codes: Vec<String>,
    /// The organisation that owns the record.
    pub owner_organization_id: Option<Uuid>,
    /// Who may read it.
    pub visibility: Visibility,
    /// Linked documents.
    pub documents: Vec<Document>,
    /// Derived parties: monitors (`monitor`) and the facility's operating agency (`operator`).
    pub parties: Vec<NamedParty>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

impl Visit {
    /// The visit as `caller` may see it: confidential descriptions stay only with the monitoring organisations'
    /// members and admins. Every read path and the audit snapshot go through here.
    pub fn as_seen_by(mut self, caller: &Caller) -> Self {
        let insider = caller.actor.as_ref().is_some_and(|a| {
            a.role == Role::Admin
                || (a.role == Role::NgoMember
                    && a.organization_id
                        .is_some_and(|org| self.monitor_organization_ids.contains(&org)))
        });
        if !insider {
            for finding in self.findings.iter_mut().filter(|f| f.confidential) {
                finding.description = None;
                finding.redacted = true;
            }
        }
        self
    }
}

impl crate::audit::write::Audited for Visit {
    const ENTITY: &'static str = "monitoring_visit";

    fn audit_key(&self) -> String {
        self.id.to_string()
    }

    fn version(&self) -> i32 {
        self.version
    }

    /// The audit log keeps visits as an outsider sees them: confidential text never reaches it.
    fn audit_view(&self) -> impl Serialize + '_ {
        self.clone().as_seen_by(&Caller { actor: None })
    }
}

crate::engagement_record!(@facts Visit, MonitoringVisit, |v| (
    v.owner_organization_id,
    v.mandate_council_id
));

impl Keyed for Visit {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, self.visited_on.to_string(), self.id)
    }
}

impl CsvRow for Visit {
    const HEADER: &'static [&'static str] = &[
        "id",
        "title",
        "facility_id",
        "visited_on",
        "announced",
        "mandate_council_id",
        "monitor_organization_ids",
        "status",
        "access",
        "summary",
        "findings",
        "serious_or_critical_findings",
        "organizations",
        "agencies",
        "visibility",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        let [.., organizations, agencies] = crate::engagements::model::party_cells(&self.parties);
        let grave = self
            .findings
            .iter()
            .filter(|f| matches!(f.severity, Severity::Serious | Severity::Critical))
            .count();
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.facility_id.to_string(),
            self.visited_on.to_string(),
            self.announced.to_string(),
            opt(&self.mandate_council_id),
            join(&self.monitor_organization_ids),
            self.status.to_string(),
            opt(&self.access),
            opt(&self.summary),
            self.findings.len().to_string(),
            grave.to_string(),
            organizations,
            agencies,
            self.visibility.to_string(),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = monitoring_visits, check_for_backend(diesel::pg::Pg))]
struct VisitRow {
    id: Uuid,
    facility_id: Uuid,
    announced: bool,
    mandate_council_id: Option<Uuid>,
    access: Option<VisitAccess>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = visit_findings, check_for_backend(diesel::pg::Pg))]
struct FindingRow {
    category: FindingCategory,
    severity: Severity,
    description: Option<String>,
    confidential: bool,
}

impl FindingRow {
    /// The finding whole, as its monitors see it (a reader's view is made from it).
    fn whole(self) -> Finding {
        Finding {
            category: self.category,
            severity: self.severity,
            description: self.description,
            confidential: self.confidential,
            redacted: false,
        }
    }
}

/// Filters of visit lists.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitFilter {
    /// The facility (given by the path on a facility's list).
    pub facility_id: Option<Uuid>,
    /// Monitored by this organisation.
    pub organization_id: Option<Uuid>,
    /// Under this council's mandate.
    pub mandate_council_id: Option<Uuid>,
    /// At a facility operated by this agency, or by one of its sub-agencies unless `include_subagencies=false`.
    pub operating_agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// Status.
    #[param(inline)]
    pub status: Option<VisitStatus>,
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

/// Newest visits first.
pub const NEWEST: &str = "-visited_on";
/// Oldest visits first (a facility's history).
pub const OLDEST: &str = "visited_on";

/// A visit's own part: its row and its lists. A page loads them table by table for all its visits; one visit reads
/// them in the statement of its core, as [`OWN_JSON`].
#[derive(Debug, Deserialize)]
struct Own {
    #[serde(flatten)]
    row: VisitRow,
    monitor_organization_ids: Vec<Uuid>,
    findings: Vec<Finding>,
}

/// [`Own`] of the visit `engagements.id`, lists in their stored order and every finding whole (the reader's view is
/// made from it).
const OWN_JSON: &str = "(SELECT to_jsonb(v) || jsonb_build_object(\
     'monitor_organization_ids', ARRAY(SELECT m.organization_id FROM visit_monitors m WHERE m.visit_id = v.id \
     ORDER BY m.position), \
     'findings', (SELECT COALESCE(jsonb_agg(jsonb_build_object('category', f.category, 'severity', f.severity, \
     'description', f.description, 'confidential', f.confidential, 'redacted', false) ORDER BY f.position), '[]') \
     FROM visit_findings f WHERE f.visit_id = v.id)) \
     FROM monitoring_visits v WHERE v.id = engagements.id)";

/// A visit from its core and its own part, as `caller` may see it.
fn build(e: Engagement, own: Own, caller: &Caller) -> ApiResult<Visit> {
    let status = VisitStatus::try_from(e.status).with_context(|| format!("visit {}", e.id))?;
    let visit = crate::with_core!(
        Visit,
        e {
            facility_id: own.row.facility_id,
            announced: own.row.announced,
            mandate_council_id: own.row.mandate_council_id,
            access: own.row.access,
            monitor_organization_ids: own.monitor_organization_ids,
            findings: own.findings,
            visited_on: e.starts_on,
            summary: e.summary,
            status,
        }
    );
    Ok(visit.as_seen_by(caller))
}

/// A page's visits from their core rows: parties, own rows, monitors and findings, the four statements sent together
/// (pipelined, as for hearings).
async fn assemble_all(
    conn: &Conn,
    caller: &Caller,
    rows: Vec<core::EngagementRow>,
) -> ApiResult<Vec<Visit>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let (engagements, mut specific, mut monitors, mut findings) = futures_util::try_join!(
        core::with_parties(conn, rows),
        crate::load_by_id!(conn, monitoring_visits, VisitRow, &ids),
        crate::load_children!(conn, visit_monitors, visit_id, &ids,
            visit_monitors::organization_id => Uuid),
        crate::load_children!(conn, visit_findings, visit_id, &ids,
            FindingRow::as_select() => FindingRow),
    )?;
    engagements
        .into_iter()
        .map(|e: Engagement| {
            let v = specific
                .remove(&e.id)
                .ok_or_else(|| anyhow::anyhow!("visit {} lacks its row", e.id))?;
            let own = Own {
                row: v,
                monitor_organization_ids: monitors.remove(&e.id).unwrap_or_default(),
                findings: findings
                    .remove(&e.id)
                    .unwrap_or_default()
                    .into_iter()
                    .map(FindingRow::whole)
                    .collect(),
            };
            build(e, own, caller)
        })
        .collect()
}

/// One visit the caller may read, as they may see it: one statement.
pub async fn find(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Visit> {
    let (engagement, own) =
        core::find_of_kind(conn, caller, id, EngagementKind::MonitoringVisit, OWN_JSON).await?;
    build(engagement, own, caller)
}

/// A keyset page (`limit + 1` rows) of the visits the caller may read, in `sort` order (`NEWEST` or `OLDEST`).
pub async fn list(
    conn: &mut Conn,
    caller: &Caller,
    filter: &VisitFilter,
    sort: &str,
    after: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<Visit>> {
    let query = filtered(
        core::of_kind(EngagementKind::MonitoringVisit, caller),
        filter,
    );
    let rows = core::paged(query, after, limit, sort == OLDEST)?
        .load(conn)
        .await?;
    assemble_all(conn, caller, rows).await
}

/// The visit list's filters on a query over the core rows (the list and the statistics share them).
pub fn filtered<ST: 'static>(mut query: core::Boxed<ST>, filter: &VisitFilter) -> core::Boxed<ST> {
    use engagements::dsl as e;
    if filter.facility_id.is_some()
        || filter.mandate_council_id.is_some()
        || filter.operating_agency_id.is_some()
    {
        let mut specific = monitoring_visits::table
            .select(monitoring_visits::id)
            .into_boxed();
        if let Some(facility) = filter.facility_id {
            specific = specific.filter(monitoring_visits::facility_id.eq(facility));
        }
        if let Some(council) = filter.mandate_council_id {
            specific = specific.filter(monitoring_visits::mandate_council_id.eq(council));
        }
        if let Some(agency) = filter.operating_agency_id {
            let operated = facilities::table
                .filter(crate::db::sql::in_agency(
                    "facilities.operating_agency_id",
                    agency,
                    filter.include_subagencies.unwrap_or(true),
                ))
                .select(facilities::id);
            specific = specific.filter(monitoring_visits::facility_id.eq_any(operated));
        }
        query = query.filter(e::id.eq_any(specific));
    }
    if let Some(org) = filter.organization_id {
        let ids = engagement_parties::table
            .filter(engagement_parties::organization_id.eq(org))
            .filter(engagement_parties::role.eq(PartyRole::Monitor))
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
    /// A new visit.
    create CreateVisit;
    /// Changes to a visit; lists are replaced whole.
    update UpdateVisit;
    /// Title (default: "Мониторинговый визит: " and the facility's name).
    #[validate(length(min = 1, max = 500), custom(function = "crate::http::extract::not_blank") )]
    #[schema(pattern = r"\S", min_length = 1, max_length = 500)]
    title: String = derived,
    /// The facility.
    facility_id: Uuid = required,
    /// The day of the visit.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    visited_on: NaiveDate = required,
    /// Whether the facility was told in advance (default false).
    announced: bool = default,
    /// The council or commission whose mandate it was.
    mandate_council_id: Uuid = optional,
    /// The monitoring organisations (at least one; an NGO member must list their own).
    #[validate(length(min = 1, max = 20))]
    #[schema(min_items = 1, max_items = 20)]
    monitor_organization_ids: Vec<Uuid> = required,
    shared summary,
    /// Status (default `planned`).
    status: VisitStatus = default,
    /// Whether the monitors got in.
    access: VisitAccess = optional,
    /// Findings, in order.
    #[validate(length(max = 200), nested)]
    #[schema(max_items = 200)]
    findings: Vec<FindingInput> = default,
    /// Spheres (default `human_rights`).
    #[validate(length(max = 15))]
    #[schema(max_items = 15)]
    sphere_codes: Vec<String> = derived,
    shared visibility,
    shared documents,
}

impl UpdateVisit {
    /// The visit as a full body once these changes are applied (findings come from the stored, unredacted ones).
    pub fn apply(self, v: Visit, stored_findings: Vec<FindingInput>) -> CreateVisit {
        CreateVisit {
            title: Some(self.title.unwrap_or(v.title)),
            facility_id: self.facility_id.unwrap_or(v.facility_id),
            visited_on: self.visited_on.unwrap_or(v.visited_on),
            announced: self.announced.unwrap_or(v.announced),
            mandate_council_id: self.mandate_council_id.unwrap_or(v.mandate_council_id),
            monitor_organization_ids: self
                .monitor_organization_ids
                .unwrap_or(v.monitor_organization_ids),
            summary: self.summary.unwrap_or(v.summary),
            status: self.status.unwrap_or(v.status),
            access: self.access.unwrap_or(v.access),
            findings: self.findings.unwrap_or(stored_findings),
            sphere_codes: Some(self.sphere_codes.unwrap_or(v.sphere_codes)),
            visibility: self.visibility.unwrap_or(v.visibility),
            documents: self.documents.unwrap_or(v.documents),
        }
    }
}

/// The stored findings of a visit, whole (for the write path only).
pub async fn stored_findings(conn: &mut Conn, id: Uuid) -> ApiResult<Vec<FindingInput>> {
    let rows: Vec<FindingRow> = visit_findings::table
        .filter(visit_findings::visit_id.eq(id))
        .order(visit_findings::position)
        .select(FindingRow::as_select())
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|f| FindingInput {
            category: f.category,
            severity: f.severity,
            description: f.description,
            confidential: f.confidential,
        })
        .collect())
}

/// Checks the monitors exist and none is listed twice.
pub fn monitors_named(ids: &[Uuid]) -> ApiResult<Named> {
    let mut seen = std::collections::HashSet::new();
    if let Some(i) = ids.iter().position(|id| !seen.insert(*id)) {
        return Err(ApiError::Validation(vec![FieldError::new(
            format!("monitor_organization_ids[{i}]"),
            "is listed twice",
        )]));
    }
    let orgs: Vec<(String, Uuid)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("monitor_organization_ids[{i}]"), *id))
        .collect();
    Ok(Named::actors(orgs, Vec::new()))
}

/// Writes the visit-specific rows (the core is written by the caller).
pub async fn write_specific(batch: &mut Batch<'_>, id: Uuid, body: &CreateVisit) -> ApiResult<()> {
    let values = (
        monitoring_visits::facility_id.eq(body.facility_id),
        monitoring_visits::announced.eq(body.announced),
        monitoring_visits::mandate_council_id.eq(body.mandate_council_id),
        monitoring_visits::access.eq(body.access),
    );
    crate::save_row!(batch, monitoring_visits, id, values);
    let monitors =
        Fragment::new("INSERT INTO visit_monitors (visit_id, organization_id, position) SELECT ")
            .uuid(id)
            .sql(", u.organization_id, u.n - 1 FROM unnest(")
            .uuids(body.monitor_organization_ids.clone())
            .sql(") WITH ORDINALITY AS u(organization_id, n)");
    crate::replace_children!(batch, visit_monitors, visit_id, id, monitors);
    let findings = Fragment::new(
        "INSERT INTO visit_findings (visit_id, category, severity, description, confidential, position) SELECT ",
    )
    .uuid(id)
    .sql(", u.category, u.severity, u.description, u.confidential, u.n - 1 FROM unnest(")
    .texts(body.findings.iter().map(|f| f.category.to_string()).collect())
    .sql(", ")
    .texts(body.findings.iter().map(|f| f.severity.to_string()).collect())
    .sql(", ")
    .optional_texts(body.findings.iter().map(|f| f.description.clone()).collect())
    .sql(", ")
    .bools(body.findings.iter().map(|f| f.confidential).collect())
    .sql(") WITH ORDINALITY AS u(category, severity, description, confidential, n)");
    crate::replace_children!(batch, visit_findings, visit_id, id, findings);
    Ok(())
}

/// Removes a monitor from a visit's own rows; answers how many monitors remain.
pub async fn remove_monitor(conn: &mut Conn, id: Uuid, organization_id: Uuid) -> ApiResult<usize> {
    Ok(crate::remove_child!(
        conn,
        visit_monitors,
        visit_id,
        id,
        organization_id,
        organization_id
    ))
}
