//! Scorecards: one page of an agency's or an organisation's record, each number computed by the statistics
//! engine over what the caller may read, with a link to the list behind it.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get};
use chrono::NaiveDate;
use diesel::sql_types::{Date, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::collections::{
    ConsultationMeasures, Consultations, EngagementMeasures, GrantMeasures, RecommendationMeasures,
    Recommendations, recommendation_answers, submission_answers,
};
use super::engine::{self, Collection, Span, Stats, StatsParams};
use crate::answers::Answer;
use crate::auth::Caller;
use crate::db::Conn;
use crate::db::sql::{Fragment, Statement};
use crate::engagements::model::EngagementFilter;
use crate::grants::model::GrantFilter;
use crate::http::{ApiResult, IdPath, Path, ProblemResponses};
use crate::recommendations::model::RecommendationFilter;
use crate::state::AppState;
use crate::submissions::model::SubmissionFilter;

/// One part of a scorecard: the statistic and the list it counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Section<M> {
    /// The numbers, grouped as the section says.
    pub stats: Stats<M>,
    /// The list behind the numbers (the same filters).
    pub list: String,
    /// The statistic itself, to regroup or download as CSV.
    pub statistic: String,
}

/// A seat on a council held today.
#[derive(Debug, Clone, Serialize, ToSchema, diesel::QueryableByName)]
pub struct Seat {
    /// The council.
    #[diesel(sql_type = SqlUuid)]
    pub council_id: Uuid,
    /// Its name.
    #[diesel(sql_type = Text)]
    pub council_name: String,
    /// The seat's role.
    #[diesel(sql_type = Text)]
    pub role: String,
    /// Since.
    #[diesel(sql_type = Nullable<Date>)]
    pub since: Option<NaiveDate>,
    /// Until (null while the term runs).
    #[diesel(sql_type = Nullable<Date>)]
    pub until: Option<NaiveDate>,
}

/// An agency's record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AgencyScorecard {
    /// The agency.
    pub agency_id: Uuid,
    /// Its name.
    pub name: String,
    /// Engagements it takes part in, by kind and year.
    pub engagements: Section<EngagementMeasures>,
    /// Recommendations addressed to it and what became of them, by year issued.
    pub recommendations_received: Section<RecommendationMeasures>,
    /// Submissions to the consultations it is responsible for and their fate, by year submitted.
    pub submissions_received: Section<ConsultationMeasures>,
    /// Grants it gave, per currency, by year.
    pub grants_given: Section<GrantMeasures>,
    /// Council seats it holds today (councils the caller may read).
    pub council_seats: Vec<Seat>,
}

/// An organisation's record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrganizationScorecard {
    /// The organisation.
    pub organization_id: Uuid,
    /// Its name.
    pub name: String,
    /// Engagements it takes part in or owns, by kind and year.
    pub engagements: Section<EngagementMeasures>,
    /// Recommendations it issued and what became of them, by year issued.
    pub recommendations_issued: Section<RecommendationMeasures>,
    /// Its submissions to consultations and their fate, by year submitted.
    pub submissions: Section<ConsultationMeasures>,
    /// Grants it received, per currency, by year.
    pub grants_received: Section<GrantMeasures>,
    /// Council seats it holds today (councils the caller may read).
    pub council_seats: Vec<Seat>,
}

fn by(group_by: &str) -> StatsParams {
    StatsParams {
        group_by: Some(group_by.to_owned()),
        ..StatsParams::default()
    }
}

/// A section: the statistic of collection `C` grouped by `group_by`, over `from`, with its links.
async fn section<C: Collection>(
    conn: &mut Conn,
    caller: &Caller,
    group_by: &str,
    (list, statistic): (String, String),
    from: impl Fn() -> ApiResult<Statement> + Sync,
) -> ApiResult<Section<C::Measures>> {
    let stats = engine::compute::<C>(conn, caller, &by(group_by), Span::default(), from).await?;
    Ok(linked(stats, group_by, (list, statistic)))
}

/// A section of `stats`, grouped by `group_by`, with its links.
fn linked<M>(stats: Stats<M>, group_by: &str, (list, statistic): (String, String)) -> Section<M> {
    Section {
        stats,
        list,
        statistic: format!("{statistic}&group_by={group_by}"),
    }
}

/// The links of a section: the list and the statistic, with one filter.
fn links(list: &str, stats: &str, filter: &str, id: Uuid) -> (String, String) {
    (
        format!("/api/v1/{list}?{filter}={id}"),
        format!("/api/v1/stats/{stats}?{filter}={id}"),
    )
}

async fn engagements(
    conn: &mut Conn,
    caller: &Caller,
    filter: EngagementFilter,
    links: (String, String),
) -> ApiResult<Section<EngagementMeasures>> {
    let group_by = "kind,year";
    let stats = super::handlers::count_engagements(conn, caller, &by(group_by), &filter).await?;
    Ok(linked(stats, group_by, links))
}

async fn recommendations(
    conn: &mut Conn,
    caller: &Caller,
    filter: RecommendationFilter,
    links: (String, String),
) -> ApiResult<Section<RecommendationMeasures>> {
    section::<Recommendations>(conn, caller, "year", links, || {
        Ok(Statement::new("(")
            .query(crate::recommendations::model::stats_rows(caller, &filter))
            .sql(")")
            .sql(recommendation_answers(Default::default())))
    })
    .await
}

async fn submissions(
    conn: &mut Conn,
    caller: &Caller,
    filter: SubmissionFilter,
    links: (String, String),
) -> ApiResult<Section<ConsultationMeasures>> {
    section::<Consultations>(conn, caller, "year", links, || {
        Ok(Statement::new("(")
            .query(crate::submissions::model::stats_rows(caller, &filter))
            .sql(")")
            .sql(submission_answers(Default::default())))
    })
    .await
}

async fn grants(
    conn: &mut Conn,
    caller: &Caller,
    filter: GrantFilter,
    links: (String, String),
) -> ApiResult<Section<GrantMeasures>> {
    let group_by = "year";
    let stats = super::handlers::count_grants(conn, caller, &by(group_by), &filter).await?;
    Ok(linked(stats, group_by, links))
}

/// The seats held today by the organisation or agency in `column` (`organization_id` or `agency_id`).
async fn seats(conn: &mut Conn, caller: &Caller, column: &str, id: Uuid) -> ApiResult<Vec<Seat>> {
    Ok(Statement::new(format!(
        "SELECT councils.id AS council_id, councils.name AS council_name, council_members.role, \
         council_members.since, council_members.until FROM council_members \
         JOIN councils ON councils.id = council_members.council_id WHERE council_members.{column} = "
    ))
    .fragment(Fragment::new("").uuid(id))
    .sql(" AND ")
    .sql(crate::councils::model::CURRENT_SEAT)
    .sql(" AND ")
    .fragment(crate::councils::model::readable_sql(caller))
    .sql(" ORDER BY councils.name, councils.id, council_members.id")
    .load(conn)
    .await?)
}

/// Whose record a scorecard is.
#[derive(Debug, Clone, Copy)]
enum Whose {
    Agency(Uuid),
    Organization(Uuid),
}

/// The sections every scorecard has, for an agency or an organisation.
struct Record {
    engagements: Section<EngagementMeasures>,
    recommendations: Section<RecommendationMeasures>,
    submissions: Section<ConsultationMeasures>,
    grants: Section<GrantMeasures>,
    council_seats: Vec<Seat>,
}

/// Computes the sections of a record: the same statistics for both actors, each with the filter that names the
/// actor in that collection.
async fn record(conn: &mut Conn, caller: &Caller, whose: Whose) -> ApiResult<Record> {
    let (mut e, mut r, mut s, mut g) = (
        EngagementFilter::default(),
        RecommendationFilter::default(),
        SubmissionFilter::default(),
        GrantFilter::default(),
    );
    // The filter naming the actor in each collection; the first is also its column in council seats.
    let (id, [actor, recommended, submitted, granted]) = match whose {
        Whose::Agency(id) => {
            e.agency_id = Some(id);
            r.addressed_to_agency_id = Some(id);
            s.responsible_agency_id = Some(id);
            g.funder_agency_id = Some(id);
            let names = [
                "agency_id",
                "addressed_to_agency_id",
                "responsible_agency_id",
                "funder_agency_id",
            ];
            (id, names)
        }
        Whose::Organization(id) => {
            e.organization_id = Some(id);
            r.issuer_organization_id = Some(id);
            s.organization_id = Some(id);
            g.recipient_organization_id = Some(id);
            let names = [
                "organization_id",
                "issuer_organization_id",
                "organization_id",
                "recipient_organization_id",
            ];
            (id, names)
        }
    };
    Ok(Record {
        engagements: engagements(
            conn,
            caller,
            e,
            links("engagements", "engagements", actor, id),
        )
        .await?,
        recommendations: recommendations(
            conn,
            caller,
            r,
            links("recommendations", "recommendations", recommended, id),
        )
        .await?,
        submissions: submissions(
            conn,
            caller,
            s,
            links("submissions", "consultations", submitted, id),
        )
        .await?,
        grants: grants(conn, caller, g, links("grants", "grants", granted, id)).await?,
        council_seats: seats(conn, caller, actor, id).await?,
    })
}

/// An agency's record on one page: engagements by kind and year, recommendations addressed to it and their
/// outcomes, submissions to its consultations and their fate, grants it gave per currency, and its council
/// seats today — each counted over what the caller may read, with a link to the list behind it.
#[utoipa::path(tag = "statistics", params(IdPath),
    responses((status = 200, body = AgencyScorecard, headers(("Age" = u64, description = "Seconds since these numbers were counted: 0 when counted for this request, more when given again (only while this server has committed no write since, and for at most HAMKORI_STATS_FRESH_SECONDS, 60 by default)"))), ProblemResponses))]
#[get("/agencies/{id}/scorecard")]
pub async fn agency_scorecard(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    state
        .counted
        .answer(&req, &caller, async {
            let _turn = engine::turn().await?;
            let mut conn = state.db().await?;
            let agency = crate::agencies::Agency::find(&mut conn, path.id).await?;
            let record = record(&mut conn, &caller, Whose::Agency(path.id)).await?;
            Answer::json(&AgencyScorecard {
                agency_id: path.id,
                name: agency.name,
                engagements: record.engagements,
                recommendations_received: record.recommendations,
                submissions_received: record.submissions,
                grants_given: record.grants,
                council_seats: record.council_seats,
            })
        })
        .await
}

/// An organisation's record on one page: engagements by kind and year, recommendations it issued and their
/// outcomes, its submissions and their fate, grants it received per currency, and its council seats today —
/// each counted over what the caller may read, with a link to the list behind it.
#[utoipa::path(tag = "statistics", params(IdPath),
    responses((status = 200, body = OrganizationScorecard, headers(("Age" = u64, description = "Seconds since these numbers were counted: 0 when counted for this request, more when given again (only while this server has committed no write since, and for at most HAMKORI_STATS_FRESH_SECONDS, 60 by default)"))), ProblemResponses))]
#[get("/organizations/{id}/scorecard")]
pub async fn organization_scorecard(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    state
        .counted
        .answer(&req, &caller, async {
            let _turn = engine::turn().await?;
            let mut conn = state.db().await?;
            let organization = crate::organizations::Organization::find(&mut conn, path.id).await?;
            let record = record(&mut conn, &caller, Whose::Organization(path.id)).await?;
            Answer::json(&OrganizationScorecard {
                organization_id: path.id,
                name: organization.name,
                engagements: record.engagements,
                recommendations_issued: record.recommendations,
                submissions: record.submissions,
                grants_received: record.grants,
                council_seats: record.council_seats,
            })
        })
        .await
}
