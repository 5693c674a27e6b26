//! HTTP handlers of the statistics.

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get};

use super::collections::{
    AnswersParam, COUNCIL_JOINS, ConsultationGroupBy, ConsultationMeasures, Consultations,
    CouncilGroupBy, CouncilMeasures, Councils, EngagementGroupBy, EngagementMeasures, Engagements,
    GRANT_JOINS, GrantGroupBy, GrantMeasures, Grants, Monitoring, MonitoringGroupBy,
    MonitoringMeasures, RecommendationGroupBy, RecommendationMeasures, Recommendations,
    VISIT_JOINS, recommendation_answers, submission_answers,
};
use super::engine::{self, Collection, Span, Stats, StatsParams};
use crate::auth::Caller;
use crate::councils::model::CouncilStatsFilter;
use crate::db::sql::{Fragment, Statement};
use crate::engagements::EngagementKind;
use crate::engagements::model::{self as core, EngagementFilter};
use crate::grants::model::GrantFilter;
use crate::http::{ApiResult, ProblemResponses, Query};
use crate::monitoring::model::VisitFilter;
use crate::recommendations::model::RecommendationFilter;
use crate::state::AppState;
use crate::submissions::model::SubmissionFilter;

/// Counts engagements of every kind, grouped by `kind`, `year`, `month`, `region`, `sphere`, `agency`,
/// `organization` (any party role, or the owner), `council`, `status` or `visibility`, with every filter of
/// `GET /engagements`. An agency or organisation group holds each engagement it takes part in.
#[utoipa::path(tag = "statistics", params(EngagementGroupBy, StatsParams, EngagementFilter),
    responses((status = 200, description = "The groups and totals", headers(("Age" = u64, description = "Seconds since these numbers were counted: 0 when counted for this request, more when given again (only while this server has committed no write since, and for at most HAMKORI_STATS_FRESH_SECONDS, 60 by default)")), content(
        (Stats<EngagementMeasures> = "application/json"), (String = "text/csv"))),
        ProblemResponses))]
#[get("/stats/engagements")]
pub async fn engagement_stats(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    params: Query<StatsParams>,
    group_by: Query<EngagementGroupBy>,
    filter: Query<EngagementFilter>,
) -> ApiResult<HttpResponse> {
    let params = group_by.0.onto(params.0);
    engine::check::<Engagements>(&params)?;
    state
        .counted
        .answer(&req, &caller, async {
            let _turn = engine::turn().await?;
            let mut conn = state.db().await?;
            crate::engagements::handlers::check_filter(&mut conn, &filter).await?;
            let stats = count_engagements(&mut conn, &caller, &params, &filter).await?;
            engine::answer(&stats, &params, Engagements::NAME)
        })
        .await
}

/// The engagement statistic: from the tallies where they hold it, otherwise counted from the rows (the scorecards'
/// engagement section too).
pub(super) async fn count_engagements(
    conn: &mut crate::db::Conn,
    caller: &Caller,
    params: &StatsParams,
    filter: &EngagementFilter,
) -> ApiResult<Stats<EngagementMeasures>> {
    if let Some(stats) = super::tallies::engagements(conn, caller, params, filter).await? {
        return Ok(stats);
    }
    let span = Span {
        from: filter.from,
        to: filter.to,
    };
    engine::compute::<Engagements>(conn, caller, params, span, || {
        Ok(Statement::new("(")
            .query(core::filtered(core::stats_rows(caller, None), filter))
            .sql(") base"))
    })
    .await
}

/// Counts recommendations and their outcomes — implementation and response rates, overdue ones, median days to
/// the first answer — grouped by `agency` (addressed to), `year` or `month` (issued), `kind` (of engagement),
/// `status`, `priority`, `organization` (issuer), `region` or `source` (whose word the status is), with every
/// filter of `GET /recommendations`; `answers=agency` counts only answers the agency recorded itself.
#[utoipa::path(tag = "statistics", params(RecommendationGroupBy, StatsParams, AnswersParam, RecommendationFilter),
    responses((status = 200, description = "The groups and totals", headers(("Age" = u64, description = "Seconds since these numbers were counted: 0 when counted for this request, more when given again (only while this server has committed no write since, and for at most HAMKORI_STATS_FRESH_SECONDS, 60 by default)")), content(
        (Stats<RecommendationMeasures> = "application/json"), (String = "text/csv"))),
        ProblemResponses))]
#[get("/stats/recommendations")]
pub async fn recommendation_stats(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    params: Query<StatsParams>,
    group_by: Query<RecommendationGroupBy>,
    answers: Query<AnswersParam>,
    filter: Query<RecommendationFilter>,
) -> ApiResult<HttpResponse> {
    let params = group_by.0.onto(params.0);
    engine::check::<Recommendations>(&params)?;
    let joins = recommendation_answers(answers.answers.unwrap_or_default());
    let span = Span {
        from: filter.from,
        to: filter.to,
    };
    counted::<Recommendations>(&req, &state, &caller, &params, span, || {
        Ok(Statement::new("(")
            .query(crate::recommendations::model::stats_rows(&caller, &filter))
            .sql(")")
            .sql(joins))
    })
    .await
}

/// Counts submissions to consultations and their fate — accepted fully or partly, rejected, never answered, late;
/// acceptance and response rates — grouped by `agency` (responsible), `organization` (submitter), `year` or
/// `month` (submitted), `consultation`, `act_type`, `level`, `status` or `source`, with every filter of
/// `GET /submissions`; `answers=agency` counts only responses the agency recorded itself.
#[utoipa::path(tag = "statistics", params(ConsultationGroupBy, StatsParams, AnswersParam, SubmissionFilter),
    responses((status = 200, description = "The groups and totals", headers(("Age" = u64, description = "Seconds since these numbers were counted: 0 when counted for this request, more when given again (only while this server has committed no write since, and for at most HAMKORI_STATS_FRESH_SECONDS, 60 by default)")), content(
        (Stats<ConsultationMeasures> = "application/json"), (String = "text/csv"))),
        ProblemResponses))]
#[get("/stats/consultations")]
pub async fn consultation_stats(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    params: Query<StatsParams>,
    group_by: Query<ConsultationGroupBy>,
    answers: Query<AnswersParam>,
    filter: Query<SubmissionFilter>,
) -> ApiResult<HttpResponse> {
    let params = group_by.0.onto(params.0);
    engine::check::<Consultations>(&params)?;
    let joins = submission_answers(answers.answers.unwrap_or_default());
    counted::<Consultations>(&req, &state, &caller, &params, Span::default(), || {
        Ok(Statement::new("(")
            .query(crate::submissions::model::stats_rows(&caller, &filter))
            .sql(")")
            .sql(joins))
    })
    .await
}

/// Counts grants with their exact sums per currency (never added across currencies), grouped by `funder`,
/// `recipient`, `sphere`, `region`, `year` or `month` (start), `support_type`, `currency` or `status`, with every
/// filter of `GET /grants`.
#[utoipa::path(tag = "statistics", params(GrantGroupBy, StatsParams, GrantFilter),
    responses((status = 200, description = "The groups and totals", headers(("Age" = u64, description = "Seconds since these numbers were counted: 0 when counted for this request, more when given again (only while this server has committed no write since, and for at most HAMKORI_STATS_FRESH_SECONDS, 60 by default)")), content(
        (Stats<GrantMeasures> = "application/json"), (String = "text/csv"))),
        ProblemResponses))]
#[get("/stats/grants")]
pub async fn grant_stats(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    params: Query<StatsParams>,
    group_by: Query<GrantGroupBy>,
    filter: Query<GrantFilter>,
) -> ApiResult<HttpResponse> {
    let params = group_by.0.onto(params.0);
    engine::check::<Grants>(&params)?;
    crate::grants::handlers::check_filter(&state, &filter).await?;
    state
        .counted
        .answer(&req, &caller, async {
            let _turn = engine::turn().await?;
            let mut conn = state.db().await?;
            let stats = count_grants(&mut conn, &caller, &params, &filter).await?;
            engine::answer(&stats, &params, Grants::NAME)
        })
        .await
}

/// The grant statistic: from the grant tally where it holds it, otherwise counted from the rows (an agency's and an
/// organisation's scorecard too).
pub(super) async fn count_grants(
    conn: &mut crate::db::Conn,
    caller: &Caller,
    params: &StatsParams,
    filter: &GrantFilter,
) -> ApiResult<Stats<GrantMeasures>> {
    if let Some(stats) = super::tallies::grants(conn, caller, params, filter).await? {
        return Ok(stats);
    }
    engine::compute::<Grants>(conn, caller, params, Span::default(), || {
        let rows = core::stats_rows(caller, Some(EngagementKind::Grant));
        Ok(Statement::new("(")
            .query(crate::grants::model::filtered(rows, filter)?)
            .sql(")")
            .sql(GRANT_JOINS))
    })
    .await
}

/// Counts monitoring visits and their findings, grouped by `facility`, `facility_type`, `agency` (operating the
/// facility), `region`, `year` or `month`, `status`, `access`, `category` or `severity` (of findings; visits
/// without findings form the empty group), with every filter of `GET /monitoring-visits`. Planned visits count
/// only for those who may see them; confidential findings count by category and severity, never by their text.
#[utoipa::path(tag = "statistics", params(MonitoringGroupBy, StatsParams, VisitFilter),
    responses((status = 200, description = "The groups and totals", headers(("Age" = u64, description = "Seconds since these numbers were counted: 0 when counted for this request, more when given again (only while this server has committed no write since, and for at most HAMKORI_STATS_FRESH_SECONDS, 60 by default)")), content(
        (Stats<MonitoringMeasures> = "application/json"), (String = "text/csv"))),
        ProblemResponses))]
#[get("/stats/monitoring")]
pub async fn monitoring_stats(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    params: Query<StatsParams>,
    group_by: Query<MonitoringGroupBy>,
    filter: Query<VisitFilter>,
) -> ApiResult<HttpResponse> {
    let params = group_by.0.onto(params.0);
    engine::check::<Monitoring>(&params)?;
    let span = Span {
        from: filter.from,
        to: filter.to,
    };
    counted::<Monitoring>(&req, &state, &caller, &params, span, || {
        let rows = core::stats_rows(&caller, Some(EngagementKind::MonitoringVisit));
        Ok(Statement::new("(")
            .query(crate::monitoring::model::filtered(rows, &filter))
            .sql(")")
            .sql(VISIT_JOINS))
    })
    .await
}

/// Council health: meetings (held, cancelled) in the period, attendance at held meetings, seats held today
/// (organisations and agencies, and their ratio), and median days from a meeting to its recorded minutes;
/// grouped by `council`, `agency` (host), `kind`, `level`, `region`, `year` (of the meetings) or `member`
/// (attendance per member, from the meetings' attendance lists). Meetings count only where the caller may read
/// them, councils only where the caller may read the council.
#[utoipa::path(tag = "statistics", params(CouncilGroupBy, StatsParams, CouncilStatsFilter),
    responses((status = 200, description = "The groups and totals", headers(("Age" = u64, description = "Seconds since these numbers were counted: 0 when counted for this request, more when given again (only while this server has committed no write since, and for at most HAMKORI_STATS_FRESH_SECONDS, 60 by default)")), content(
        (Stats<CouncilMeasures> = "application/json"), (String = "text/csv"))),
        ProblemResponses))]
#[get("/stats/councils")]
pub async fn council_stats(
    req: HttpRequest,
    state: Data<AppState>,
    caller: Caller,
    params: Query<StatsParams>,
    group_by: Query<CouncilGroupBy>,
    filter: Query<CouncilStatsFilter>,
) -> ApiResult<HttpResponse> {
    let params = group_by.0.onto(params.0);
    engine::check::<Councils>(&params)?;
    let span = Span {
        from: filter.from,
        to: filter.to,
    };
    counted::<Councils>(&req, &state, &caller, &params, span, || {
        let mut meetings = Fragment::new(
            " base LEFT JOIN engagements meeting ON meeting.council_id = base.id \
                 AND meeting.kind = 'meeting' AND ",
        )
        .push(core::readable_sql(&caller, "meeting.visibility", "meeting"));
        if let Some(from) = filter.from {
            meetings = meetings.sql(" AND meeting.starts_on >= ").date(from);
        }
        if let Some(to) = filter.to {
            meetings = meetings.sql(" AND meeting.starts_on <= ").date(to);
        }
        Ok(Statement::new("(")
            .query(crate::councils::model::stats_rows(&caller, &filter))
            .sql(")")
            .fragment(meetings)
            .sql(COUNCIL_JOINS))
    })
    .await
}

/// A statistic of `C` over the rows `from` gives: the answer kept for this question, or counted now (in a turn,
/// on one connection).
async fn counted<C: Collection>(
    req: &HttpRequest,
    state: &AppState,
    caller: &Caller,
    params: &StatsParams,
    span: Span,
    from: impl Fn() -> ApiResult<Statement> + Sync,
) -> ApiResult<HttpResponse>
where
    C::Measures: utoipa::ToSchema,
{
    state
        .counted
        .answer(req, caller, async {
            let _turn = engine::turn().await?;
            let mut conn = state.db().await?;
            let stats = engine::compute::<C>(&mut conn, caller, params, span, from).await?;
            engine::answer(&stats, params, C::NAME)
        })
        .await
}
