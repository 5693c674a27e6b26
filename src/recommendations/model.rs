//! Recommendations: rows, bodies, filters, the read rule and queries.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::lifecycle::RecommendationStatus;
use crate::auth::{Caller, Role};
use crate::db::Conn;
use crate::db::schema::{
    agencies, engagements, organizations, recommendation_facts,
    recommendation_status_history as history, recommendations,
};
use crate::db::sql::Fragment;
use crate::db::sql::KeyValue;
use crate::domain::AnswerSource;
use crate::engagements::model::{audience_readable, readable_sql};
use crate::engagements::{EngagementKind, Visibility};
use crate::http::export::{CsvRow, opt};
use crate::http::extract::not_blank;
use crate::http::{ApiError, ApiResult, Cursor, Keyed};

crate::text_enum! {
    /// How urgent a recommendation is.
    #[derive(Default)]
    pub enum Priority {
        /// Low.
        Low => "low",
        /// Normal.
        #[default]
        Normal => "normal",
        /// High.
        High => "high",
    }
}

/// One change of status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable, Selectable)]
#[diesel(table_name = history, check_for_backend(diesel::pg::Pg))]
pub struct StatusChange {
    /// The new status.
    pub status: RecommendationStatus,
    /// Why, or what the agency answered.
    pub note: Option<String>,
    /// When.
    pub changed_at: DateTime<Utc>,
    /// Who recorded it.
    pub changed_by: Option<Uuid>,
    /// Their role when they recorded it.
    pub recorder_role: Option<Role>,
    /// Their organisation then (an NGO member's).
    pub recorder_organization_id: Option<Uuid>,
    /// Their agency then (an agency officer's).
    pub recorder_agency_id: Option<Uuid>,
    /// The day it took effect (the agency's letter, the decree), as the recorder gave it.
    pub effective_on: NaiveDate,
    /// A link to the evidence.
    pub evidence_url: Option<String>,
    /// Whose word it is: `agency` only when the addressed agency recorded it itself.
    pub source: AnswerSource,
}

/// The stored recommendation.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = recommendations, check_for_backend(diesel::pg::Pg))]
pub struct RecommendationRow {
    /// Id.
    pub id: Uuid,
    /// The engagement it came from.
    pub engagement_id: Uuid,
    /// Text.
    pub text: String,
    /// The agency it is addressed to.
    pub addressed_to_agency_id: Uuid,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// Due on.
    pub due_on: Option<NaiveDate>,
    /// Priority.
    pub priority: Priority,
    /// Status.
    pub status: RecommendationStatus,
    /// Who may read it.
    pub visibility: Visibility,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version.
    pub version: i32,
    /// The organisation that issued it.
    pub issuer_organization_id: Option<Uuid>,
    /// Whose word the current status is.
    pub status_source: AnswerSource,
}

/// A recommendation followed to the agency it was addressed to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Recommendation {
    /// Id.
    pub id: Uuid,
    /// The engagement it came from.
    pub engagement_id: Uuid,
    /// That engagement's kind.
    pub engagement_kind: EngagementKind,
    /// Text.
    pub text: String,
    /// The agency it is addressed to.
    pub addressed_to_agency_id: Uuid,
    /// That agency's name.
    pub addressed_to_agency_name: String,
    /// Issued on.
    pub issued_on: NaiveDate,
    /// Due on.
    pub due_on: Option<NaiveDate>,
    /// Priority.
    pub priority: Priority,
    /// Status.
    pub status: RecommendationStatus,
    /// Whose word the current status is: `agency` only when the addressed agency recorded it itself.
    pub status_source: AnswerSource,
    /// The organisation that issued it.
    pub issuer_organization_id: Option<Uuid>,
    /// That organisation's name.
    pub issuer_organization_name: Option<String>,
    /// Every change of status, oldest first.
    pub status_history: Vec<StatusChange>,
    /// Past `due_on` and not closed.
    pub overdue: bool,
    /// Who may read it.
    pub visibility: Visibility,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

crate::audited!(Recommendation, "recommendation");

/// Sort order of recommendations: newest `issued_on` first.
pub const NEWEST: &str = "-issued_on";

impl Keyed for Recommendation {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, self.issued_on.to_string(), self.id)
    }
}

impl CsvRow for Recommendation {
    const HEADER: &'static [&'static str] = &[
        "id",
        "engagement_id",
        "engagement_kind",
        "text",
        "addressed_to_agency_id",
        "addressed_to_agency_name",
        "issued_on",
        "due_on",
        "priority",
        "status",
        "status_source",
        "issuer_organization_id",
        "issuer_organization_name",
        "overdue",
        "visibility",
        "status_changes",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.engagement_id.to_string(),
            self.engagement_kind.to_string(),
            self.text.clone(),
            self.addressed_to_agency_id.to_string(),
            self.addressed_to_agency_name.clone(),
            self.issued_on.to_string(),
            opt(&self.due_on),
            self.priority.to_string(),
            self.status.to_string(),
            self.status_source.to_string(),
            opt(&self.issuer_organization_id),
            opt(&self.issuer_organization_name),
            self.overdue.to_string(),
            self.visibility.to_string(),
            self.status_history.len().to_string(),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

/// Whether a recommendation is overdue on a day.
pub fn is_overdue(
    status: RecommendationStatus,
    due_on: Option<NaiveDate>,
    today: NaiveDate,
) -> bool {
    !status.is_closed() && due_on.is_some_and(|due| due < today)
}

/// SQL that is true when the caller may read a recommendation (joined with its engagement): both the
/// recommendation's and the engagement's visibility must allow it, except that an agency's officers always see
/// what is addressed to their agency — they are the ones who must answer it.
pub fn readable(caller: &Caller) -> Fragment {
    let both = Fragment::new("(")
        .push(readable_sql(
            caller,
            "recommendations.visibility",
            "engagements",
        ))
        .sql(" AND ")
        .push(readable_sql(
            caller,
            "engagements.visibility",
            "engagements",
        ))
        .sql(")");
    match caller
        .actor
        .as_ref()
        .filter(|a| a.role == Role::AgencyOfficer)
        .and_then(|a| a.agency_id)
    {
        Some(agency) => Fragment::new("(")
            .push(both)
            .sql(" OR (recommendations.addressed_to_agency_id = ")
            .uuid(agency)
            .sql(" AND ")
            .push(crate::engagements::model::not_planned_visit(
                "engagements",
                None,
            ))
            .sql("))"),
        None => both,
    }
}

/// Filters of `GET /recommendations`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationFilter {
    /// Addressed to this agency, or to one of its sub-agencies unless `include_subagencies=false`.
    pub addressed_to_agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// Status.
    #[param(inline)]
    pub status: Option<RecommendationStatus>,
    /// Only overdue ones (`true`) or only those that are not (`false`).
    pub overdue: Option<bool>,
    /// From this engagement.
    pub engagement_id: Option<Uuid>,
    /// From engagements of this kind.
    #[param(inline)]
    pub kind: Option<EngagementKind>,
    /// Issued by this organisation.
    pub issuer_organization_id: Option<Uuid>,
    /// Whose word the current status is (`agency`: only what the agencies recorded themselves).
    #[param(inline)]
    pub status_source: Option<AnswerSource>,
    /// Issued on or after this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub from: Option<NaiveDate>,
    /// Issued on or before this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub to: Option<NaiveDate>,
}

/// SQL true for an overdue recommendation of `table` (`recommendations` or `recommendation_facts`): past its due
/// date and not closed, as [`is_overdue`] decides.
fn overdue(table: &str) -> String {
    format!(
        "({table}.due_on < current_date AND {table}.status NOT IN ('implemented', 'partially_implemented', 'rejected'))"
    )
}

/// A stored recommendation as lists and gets read it: with its engagement's kind and the names of the addressed
/// agency and the issuer.
type Read = (RecommendationRow, EngagementKind, String, Option<String>);

/// Recommendations joined with their engagements and the names beside their ids, selecting [`Read`].
macro_rules! read_from {
    () => {
        recommendations::table
            .inner_join(engagements::table)
            .inner_join(agencies::table)
            .left_join(
                organizations::table
                    .on(recommendations::issuer_organization_id.eq(organizations::id.nullable())),
            )
    };
}

/// What [`read_from`] selects.
macro_rules! read_select {
    () => {
        (
            RecommendationRow::as_select(),
            engagements::kind,
            agencies::name,
            organizations::name.nullable(),
        )
    };
}

async fn assemble(conn: &mut Conn, rows: Vec<Read>) -> ApiResult<Vec<Recommendation>> {
    let ids: Vec<Uuid> = rows.iter().map(|(r, ..)| r.id).collect();
    let mut by_id = crate::db::page::group_by_parent(
        history::table
            .filter(history::recommendation_id.eq_any(&ids))
            .order((history::recommendation_id, history::id))
            .select((history::recommendation_id, StatusChange::as_select()))
            .load(conn)
            .await?,
    );
    let today = Utc::now().date_naive();
    Ok(rows
        .into_iter()
        .map(|(r, kind, agency, issuer)| Recommendation {
            addressed_to_agency_name: agency,
            issuer_organization_name: issuer,
            status_history: by_id.remove(&r.id).unwrap_or_default(),
            overdue: is_overdue(r.status, r.due_on, today),
            id: r.id,
            engagement_id: r.engagement_id,
            engagement_kind: kind,
            text: r.text,
            addressed_to_agency_id: r.addressed_to_agency_id,
            issued_on: r.issued_on,
            due_on: r.due_on,
            priority: r.priority,
            status: r.status,
            status_source: r.status_source,
            issuer_organization_id: r.issuer_organization_id,
            visibility: r.visibility,
            created_at: r.created_at,
            updated_at: r.updated_at,
            version: r.version,
        })
        .collect())
}

/// One recommendation the caller may read (404 otherwise).
pub async fn find(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Recommendation> {
    let row: Read = read_from!()
        .filter(recommendations::id.eq(id))
        .filter(readable(caller))
        .select(read_select!())
        .first(conn)
        .await?;
    assemble(conn, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// The filters of [`RecommendationFilter`] on a boxed query, whatever it selects: over `recommendations` joined
/// with `engagements` (the list, and the statistics of callers whose read rule depends on parties), or over
/// `recommendation_facts` (the other statistics). They share them, so they count the same rows. `$in_agency` is the
/// agency condition: `sql::in_agency` for a list's pages, `sql::in_agency_array` for a statistic's one scan;
/// `$table` names the table in SQL text, `$r` its columns, `$kind` the engagement's kind column.
macro_rules! filter_recommendations {
    ($query:ident, $filter:expr, $in_agency:path, $table:literal, $r:ident, $kind:expr) => {{
        let filter: &RecommendationFilter = $filter;
        if let Some(agency) = filter.addressed_to_agency_id {
            $query = $query.filter($in_agency(
                concat!($table, ".addressed_to_agency_id"),
                agency,
                filter.include_subagencies.unwrap_or(true),
            ));
        }
        if let Some(status) = filter.status {
            $query = $query.filter($r::status.eq(status));
        }
        match filter.overdue {
            Some(true) => $query = $query.filter(Fragment::new(overdue($table))),
            Some(false) => {
                $query = $query.filter(Fragment::new(format!(
                    "NOT coalesce({}, false)",
                    overdue($table)
                )))
            }
            None => {}
        }
        if let Some(engagement) = filter.engagement_id {
            $query = $query.filter($r::engagement_id.eq(engagement));
        }
        if let Some(kind) = filter.kind {
            $query = $query.filter($kind.eq(kind));
        }
        if let Some(issuer) = filter.issuer_organization_id {
            $query = $query.filter($r::issuer_organization_id.eq(issuer));
        }
        if let Some(source) = filter.status_source {
            $query = $query.filter($r::status_source.eq(source));
        }
        if let Some(from) = filter.from {
            $query = $query.filter($r::issued_on.ge(from));
        }
        if let Some(to) = filter.to {
            $query = $query.filter($r::issued_on.le(to));
        }
    }};
}

/// The recommendations the caller may read, filtered as the list filters them, as the statistics' derived table:
/// columns `addressed_to_agency_id`, `issued_on`, `due_on`, `status`, `priority`, `issuer_organization_id`,
/// `status_source`, the engagement's `kind` and `region_code`, and what the status history says of the answers
/// (`first_answered_on`, `agency_status`, `agency_first_answered_on`).
///
/// Read from `recommendation_facts` alone where the caller's read rule depends only on visibility
/// ([`facts_readable`]); otherwise from the recommendations joined with their engagements, under [`readable`].
pub fn stats_rows(
    caller: &Caller,
    filter: &RecommendationFilter,
) -> Box<dyn diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send> {
    use recommendation_facts::dsl as f;
    let answers = (
        f::first_answered_on,
        f::agency_status,
        f::agency_first_answered_on,
    );
    if let Some(rule) = facts_readable(caller) {
        let mut query = f::recommendation_facts
            .filter(rule)
            .select((
                f::addressed_to_agency_id,
                f::issued_on,
                f::due_on,
                f::status,
                f::priority,
                f::issuer_organization_id,
                f::status_source,
                f::kind,
                f::region_code,
                answers,
            ))
            .into_boxed();
        // The agency with its sub-agencies as an array: see `in_agency_array`.
        filter_recommendations!(
            query,
            filter,
            crate::db::sql::in_agency_array,
            "recommendation_facts",
            f,
            f::kind
        );
        return Box::new(query);
    }
    use recommendations::dsl as r;
    let mut query = r::recommendations
        .inner_join(engagements::table)
        .inner_join(f::recommendation_facts)
        .filter(readable(caller))
        .select((
            r::addressed_to_agency_id,
            r::issued_on,
            r::due_on,
            r::status,
            r::priority,
            r::issuer_organization_id,
            r::status_source,
            engagements::kind,
            engagements::region_code,
            answers,
        ))
        .into_boxed();
    filter_recommendations!(
        query,
        filter,
        crate::db::sql::in_agency_array,
        "recommendations",
        r,
        engagements::kind
    );
    Box::new(query)
}

/// The statistics' read rule over `recommendation_facts`, for callers whose rule [`readable`] decides from
/// visibility alone (its `audience`): anonymous readers, admins, analysts, agency officers (who also read what is
/// addressed to their agency, unless from a planned visit), and members and secretaries with no organisation or
/// councils. `None` for the others, whose rule depends on their parties: their rows are read through [`readable`].
pub fn facts_readable(caller: &Caller) -> Option<Fragment> {
    let rule = audience_readable(caller, "recommendation_facts.audience")?;
    let officer = caller
        .actor
        .as_ref()
        .filter(|a| a.role == Role::AgencyOfficer)
        .and_then(|a| a.agency_id);
    Some(match officer {
        Some(agency) => Fragment::new("(")
            .push(rule)
            .sql(" OR (recommendation_facts.addressed_to_agency_id = ")
            .uuid(agency)
            .sql(" AND NOT recommendation_facts.planned_visit))"),
        None => rule,
    })
}

/// A keyset page (`limit + 1` rows) of the recommendations the caller may read: two queries.
pub async fn list(
    conn: &mut Conn,
    caller: &Caller,
    filter: &RecommendationFilter,
    after: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<Recommendation>> {
    use recommendations::dsl as r;
    let mut query = read_from!()
        .filter(readable(caller))
        .select(read_select!())
        .into_boxed();
    filter_recommendations!(
        query,
        filter,
        crate::db::sql::in_agency,
        "recommendations",
        r,
        engagements::kind
    );
    if let Some(cursor) = after {
        let key = cursor
            .key
            .parse::<NaiveDate>()
            .map_err(|_| ApiError::field("cursor", "is not a cursor returned by this list"))?;
        query = query.filter(crate::db::sql::after(
            "recommendations.issued_on",
            "recommendations.id",
            true,
            KeyValue::Date(key),
            cursor.id,
        ));
    }
    let rows = query
        .order((r::issued_on.desc(), r::id.desc()))
        .limit(limit + 1)
        .load(conn)
        .await?;
    assemble(conn, rows).await
}

crate::body_types! {
    /// A new recommendation.
    create CreateRecommendation;
    /// Changes to a recommendation (its status moves through `POST /recommendations/{id}/status`).
    #[derive(AsChangeset)]
    #[diesel(table_name = recommendations)]
    update UpdateRecommendation;
    /// Text.
    #[validate(length(min = 1, max = 10000), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 10000)]
    text: String = required,
    /// The agency it is addressed to.
    addressed_to_agency_id: Uuid = required,
    /// Issued on (default today).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    issued_on: NaiveDate = derived,
    /// Due on (not before `issued_on`).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    due_on: NaiveDate = optional,
    /// Priority (default `normal`).
    priority: Priority = default,
    /// Who may read it (default `internal`).
    visibility: Visibility = default,
}

/// A change of status.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeStatus {
    /// The new status.
    pub status: RecommendationStatus,
    /// Why, or what the agency answered (required for `rejected` and to reopen).
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    pub note: Option<String>,
    /// The day it took effect (the agency's letter, the decree): between `issued_on` and today; default today.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub effective_on: Option<NaiveDate>,
    /// A link to the evidence (the letter, the published decision).
    #[validate(custom(function = "crate::http::extract::web_url"), length(max = 2000))]
    #[schema(format = "uri", max_length = 2000)]
    pub evidence_url: Option<String>,
}
