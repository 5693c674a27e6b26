//! Submissions to consultations: one or several organisations propose a change to a provision, and the
//! responsible agency's answer is recorded.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::{Caller, Role};
use crate::db::Conn;
use crate::db::schema::{
    consultations, organizations, submission_facts, submission_organizations as so, submissions,
};
use crate::db::sql::Fragment;
use crate::db::sql::KeyValue;
use crate::domain::AnswerSource;
use crate::engagements::model::{audience_readable, readable_sql};
use crate::http::export::{CsvRow, join, opt};
use crate::http::extract::not_blank;
use crate::http::{ApiError, ApiResult, Cursor, Keyed};

crate::text_enum! {
    /// What the agency did with a proposal.
    pub enum ResponseStatus {
        /// No answer yet.
        Pending => "pending",
        /// Taken into account.
        Accepted => "accepted",
        /// Partly taken into account.
        PartiallyAccepted => "partially_accepted",
        /// Refused.
        Rejected => "rejected",
        /// Not considered at all.
        NotConsidered => "not_considered",
    }
}

/// The agency's answer to a submission, as recorded (`PUT /submissions/{id}/response`).
#[derive(Debug, Clone, PartialEq, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerSubmission {
    /// What became of the proposal.
    pub status: ResponseStatus,
    /// The answer's text.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    pub text: Option<String>,
    /// The day the agency actually answered: between the submission and today (default today for an answer
    /// other than `pending`).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub responded_on: Option<NaiveDate>,
    /// A link to the evidence (the agency's letter, the published table of comments).
    #[validate(custom(function = "crate::http::extract::web_url"), length(max = 2000))]
    #[schema(format = "uri", max_length = 2000)]
    pub evidence_url: Option<String>,
}

/// The agency's answer to a submission, with its provenance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SubmissionResponse {
    /// What became of the proposal.
    pub status: ResponseStatus,
    /// The answer's text.
    pub text: Option<String>,
    /// The day the agency answered.
    pub responded_on: Option<NaiveDate>,
    /// A link to the evidence.
    pub evidence_url: Option<String>,
    /// Whose word it is: `agency` only when the responsible agency recorded it itself (none before an answer is
    /// recorded).
    pub source: Option<AnswerSource>,
    /// Who recorded it.
    pub recorded_by: Option<Uuid>,
    /// Their role when they recorded it.
    pub recorder_role: Option<Role>,
    /// Their organisation then (an NGO member's).
    pub recorder_organization_id: Option<Uuid>,
    /// Their agency then (an agency officer's).
    pub recorder_agency_id: Option<Uuid>,
    /// When it was recorded (server time).
    pub recorded_at: Option<DateTime<Utc>>,
}

/// A submission.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Submission {
    /// Id.
    pub id: Uuid,
    /// The consultation.
    pub consultation_id: Uuid,
    /// The submitting organisations (a coalition when several).
    pub organization_ids: Vec<Uuid>,
    /// The same organisations with their names.
    pub organizations: Vec<Submitter>,
    /// The organisation that made it: it alone changes it; the others it names read it and may withdraw.
    pub owner_organization_id: Option<Uuid>,
    /// The provision concerned (article, paragraph).
    pub provision: Option<String>,
    /// The proposed change.
    pub proposal: String,
    /// Why.
    pub rationale: Option<String>,
    /// When it was submitted.
    pub submitted_on: NaiveDate,
    /// Submitted after the comment period closed (kept, but marked).
    pub late: bool,
    /// The agency's answer.
    pub response: SubmissionResponse,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

crate::audited!(Submission, "submission");

/// A submitting organisation with its name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Submitter {
    /// The organisation.
    pub organization_id: Uuid,
    /// Its name.
    pub name: String,
}

impl Keyed for Submission {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, self.submitted_on.to_string(), self.id)
    }
}

impl CsvRow for Submission {
    const HEADER: &'static [&'static str] = &[
        "id",
        "consultation_id",
        "organization_ids",
        "organizations",
        "provision",
        "proposal",
        "rationale",
        "submitted_on",
        "late",
        "response_status",
        "response_text",
        "responded_on",
        "response_source",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        let names: Vec<&str> = self.organizations.iter().map(|o| o.name.as_str()).collect();
        vec![
            self.id.to_string(),
            self.consultation_id.to_string(),
            join(&self.organization_ids),
            join(&names),
            opt(&self.provision),
            self.proposal.clone(),
            opt(&self.rationale),
            self.submitted_on.to_string(),
            self.late.to_string(),
            self.response.status.to_string(),
            opt(&self.response.text),
            opt(&self.response.responded_on),
            opt(&self.response.source),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = submissions, check_for_backend(diesel::pg::Pg))]
struct SubmissionRow {
    id: Uuid,
    consultation_id: Uuid,
    provision: Option<String>,
    proposal: String,
    rationale: Option<String>,
    submitted_on: NaiveDate,
    response_status: ResponseStatus,
    response_text: Option<String>,
    responded_on: Option<NaiveDate>,
    responded_by: Option<Uuid>,
    response_recorder_role: Option<Role>,
    response_recorder_organization_id: Option<Uuid>,
    response_recorder_agency_id: Option<Uuid>,
    response_recorded_at: Option<DateTime<Utc>>,
    response_evidence_url: Option<String>,
    response_source: Option<AnswerSource>,
    owner_organization_id: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    version: i32,
}

/// Sort order: newest submissions first.
pub const NEWEST: &str = "-submitted_on";

/// Filters of submission lists.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SubmissionFilter {
    /// The consultation (given by the path on a consultation's list).
    pub consultation_id: Option<Uuid>,
    /// Submitted by this organisation (alone or in a coalition).
    pub organization_id: Option<Uuid>,
    /// What became of it.
    #[param(inline)]
    pub response_status: Option<ResponseStatus>,
    /// The agency responsible for the consultation, or one of its sub-agencies unless `include_subagencies=false`.
    pub responsible_agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// Whose word the answer is (`agency`: only what the agencies recorded themselves).
    #[param(inline)]
    pub response_source: Option<AnswerSource>,
}

/// SQL that is true when the caller may read the submission's consultation.
fn readable(caller: &Caller) -> Fragment {
    Fragment::new(
        "EXISTS (SELECT 1 FROM engagements WHERE engagements.id = submissions.consultation_id AND ",
    )
    .push(readable_sql(
        caller,
        "engagements.visibility",
        "engagements",
    ))
    .sql(")")
}

async fn assemble(
    conn: &mut Conn,
    rows: Vec<(SubmissionRow, NaiveDate)>,
) -> ApiResult<Vec<Submission>> {
    let ids: Vec<Uuid> = rows.iter().map(|(r, _)| r.id).collect();
    let mut orgs: HashMap<Uuid, Vec<Submitter>> = crate::db::page::group_by_parent(
        so::table
            .inner_join(organizations::table)
            .filter(so::submission_id.eq_any(&ids))
            .order((so::submission_id, so::position))
            .select((so::submission_id, so::organization_id, organizations::name))
            .load::<(Uuid, Uuid, String)>(conn)
            .await?
            .into_iter()
            .map(|(submission, organization_id, name)| {
                (
                    submission,
                    Submitter {
                        organization_id,
                        name,
                    },
                )
            }),
    );
    Ok(rows
        .into_iter()
        .map(|(r, closes_on)| {
            let organizations = orgs.remove(&r.id).unwrap_or_default();
            Submission {
                organization_ids: organizations.iter().map(|o| o.organization_id).collect(),
                organizations,
                owner_organization_id: r.owner_organization_id,
                late: r.submitted_on > closes_on,
                response: SubmissionResponse {
                    status: r.response_status,
                    text: r.response_text,
                    responded_on: r.responded_on,
                    evidence_url: r.response_evidence_url,
                    source: r.response_source,
                    recorded_by: r.responded_by,
                    recorder_role: r.response_recorder_role,
                    recorder_organization_id: r.response_recorder_organization_id,
                    recorder_agency_id: r.response_recorder_agency_id,
                    recorded_at: r.response_recorded_at,
                },
                id: r.id,
                consultation_id: r.consultation_id,
                provision: r.provision,
                proposal: r.proposal,
                rationale: r.rationale,
                submitted_on: r.submitted_on,
                created_at: r.created_at,
                updated_at: r.updated_at,
                version: r.version,
            }
        })
        .collect())
}

/// One submission the caller may read.
pub async fn find(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Submission> {
    let row: (SubmissionRow, NaiveDate) = submissions::table
        .inner_join(consultations::table)
        .filter(submissions::id.eq(id))
        .filter(readable(caller))
        .select((SubmissionRow::as_select(), consultations::closes_on))
        .first(conn)
        .await?;
    assemble(conn, vec![row])
        .await?
        .pop()
        .ok_or(ApiError::NotFound)
}

/// The filters of [`SubmissionFilter`] on a boxed query, whatever it selects: over `submissions` joined with
/// `consultations` (the list, and the statistics of callers whose read rule depends on parties), or over
/// `submission_facts` (the other statistics). They share them, so they count the same rows. `$in_agency` is the
/// agency condition: `sql::in_agency` for a list's pages, `sql::in_agency_array` for a statistic's one scan;
/// `$s` names the submission's columns and `$agency` the responsible agency's column.
macro_rules! filter_submissions {
    ($query:ident, $filter:expr, $in_agency:path, $s:ident, $agency:literal) => {{
        let filter: &SubmissionFilter = $filter;
        if let Some(id) = filter.consultation_id {
            $query = $query.filter($s::consultation_id.eq(id));
        }
        if let Some(org) = filter.organization_id {
            $query = $query.filter(
                $s::id.eq_any(
                    so::table
                        .filter(so::organization_id.eq(org))
                        .select(so::submission_id),
                ),
            );
        }
        if let Some(status) = filter.response_status {
            $query = $query.filter($s::response_status.eq(status));
        }
        if let Some(source) = filter.response_source {
            $query = $query.filter($s::response_source.eq(source));
        }
        if let Some(agency) = filter.responsible_agency_id {
            $query = $query.filter($in_agency(
                $agency,
                agency,
                filter.include_subagencies.unwrap_or(true),
            ));
        }
    }};
}
/// The submissions the caller may read, filtered as the list filters them, as the statistics' derived table:
/// columns `id`, `consultation_id`, `submitted_on`, `response_status`, `responded_on`, `response_source`, and the
/// consultation's `responsible_agency_id`, `act_type`, `level` and `closes_on`.
///
/// Read from `submission_facts` alone where the caller's read rule depends only on visibility
/// ([`audience_readable`]: their consultation's); otherwise from the submissions joined with their consultations,
/// under [`readable`].
pub fn stats_rows(
    caller: &Caller,
    filter: &SubmissionFilter,
) -> Box<dyn diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send> {
    use submission_facts::dsl as f;
    if let Some(rule) = audience_readable(caller, "submission_facts.audience") {
        let mut query = f::submission_facts
            .filter(rule)
            .select((
                f::id,
                f::consultation_id,
                f::submitted_on,
                f::response_status,
                f::responded_on,
                f::response_source,
                f::responsible_agency_id,
                f::act_type,
                f::level,
                f::closes_on,
            ))
            .into_boxed();
        filter_submissions!(
            query,
            filter,
            crate::db::sql::in_agency_array,
            f,
            "submission_facts.responsible_agency_id"
        );
        return Box::new(query);
    }
    let mut query = submissions::table
        .inner_join(consultations::table)
        .filter(readable(caller))
        .select((
            submissions::id,
            submissions::consultation_id,
            submissions::submitted_on,
            submissions::response_status,
            submissions::responded_on,
            submissions::response_source,
            consultations::responsible_agency_id,
            consultations::act_type,
            consultations::level,
            consultations::closes_on,
        ))
        .into_boxed();
    // The agency with its sub-agencies as an array: see `in_agency_array`.
    filter_submissions!(
        query,
        filter,
        crate::db::sql::in_agency_array,
        submissions,
        "consultations.responsible_agency_id"
    );
    Box::new(query)
}

/// A keyset page (`limit + 1` rows) of the submissions the caller may read, newest first: two queries.
pub async fn list(
    conn: &mut Conn,
    caller: &Caller,
    filter: &SubmissionFilter,
    after: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<Submission>> {
    let mut query = submissions::table
        .inner_join(consultations::table)
        .filter(readable(caller))
        .select((SubmissionRow::as_select(), consultations::closes_on))
        .into_boxed();
    filter_submissions!(
        query,
        filter,
        crate::db::sql::in_agency,
        submissions,
        "consultations.responsible_agency_id"
    );
    if let Some(cursor) = after {
        let key = cursor
            .key
            .parse::<NaiveDate>()
            .map_err(|_| ApiError::field("cursor", "is not a cursor returned by this list"))?;
        query = query.filter(crate::db::sql::after(
            "submissions.submitted_on",
            "submissions.id",
            true,
            KeyValue::Date(key),
            cursor.id,
        ));
    }
    let rows = query
        .order((submissions::submitted_on.desc(), submissions::id.desc()))
        .limit(limit + 1)
        .load(conn)
        .await?;
    assemble(conn, rows).await
}

crate::body_types! {
    /// A new submission.
    create CreateSubmission;
    /// Changes to a submission (its answer goes through `PUT /submissions/{id}/response`).
    update UpdateSubmission;
    /// The submitting organisations (at least one; an NGO member must list their own).
    #[validate(length(min = 1, max = 50))]
    #[schema(min_items = 1, max_items = 50)]
    organization_ids: Vec<Uuid> = required,
    /// The provision concerned.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    provision: String = optional,
    /// The proposed change.
    #[validate(length(min = 1, max = 50000), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 50000)]
    proposal: String = required,
    /// Why.
    #[validate(length(max = 50000))]
    #[schema(max_length = 50000)]
    rationale: String = optional,
    /// When it was submitted (default today).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    submitted_on: NaiveDate = derived,
}

/// Replaces the organisations of a submission.
pub async fn set_organizations(
    conn: &mut Conn,
    id: Uuid,
    organization_ids: &[Uuid],
) -> ApiResult<()> {
    diesel::delete(so::table.filter(so::submission_id.eq(id)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = organization_ids
        .iter()
        .enumerate()
        .map(|(i, org)| {
            (
                so::submission_id.eq(id),
                so::organization_id.eq(*org),
                so::position.eq(i32::try_from(i).unwrap_or(i32::MAX)),
            )
        })
        .collect();
    diesel::insert_into(so::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// Checks that the organisations exist and none is listed twice.
pub async fn check_organizations(conn: &mut Conn, organization_ids: &[Uuid]) -> ApiResult<()> {
    let mut seen = std::collections::HashSet::new();
    if let Some(i) = organization_ids.iter().position(|id| !seen.insert(*id)) {
        return Err(ApiError::field(
            format!("organization_ids[{i}]"),
            "is listed twice",
        ));
    }
    let orgs: Vec<(String, Uuid)> = organization_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (format!("organization_ids[{i}]"), *id))
        .collect();
    crate::organizations::ensure_actors_exist(conn, &orgs, &[]).await
}
