//! HTTP handlers of recommendations.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, patch, post};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::lifecycle::{RecommendationStatus, Transition};
use super::model::{
    self, ChangeStatus, CreateRecommendation, NEWEST, Recommendation, RecommendationFilter,
    UpdateRecommendation,
};
use crate::agencies::Agency;
use crate::audit::write::{Audited, Existing, Table, create};
use crate::auth::policy::{self, Action, Record, Recorder};
use crate::auth::{Actor, Caller};
use crate::db::Conn;
use crate::db::schema::{recommendation_status_history as history, recommendations};
use crate::engagements::model::{self as engagements, facts_of};
use crate::http::export::{self};
use crate::http::{
    ApiError, ApiResult, FieldError, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    Precondition, PreconditionResponses, ProblemResponses, Query, created, ok_versioned,
};
use crate::state::AppState;

/// An existing recommendation on the write path: its row locked, read as the actor may see it, and `action`
/// checked against the engagement it comes from and the agency it is addressed to.
fn existing(
    actor: &Actor,
    id: Uuid,
    action: Action,
) -> Existing<
    impl AsyncFn(&mut Conn) -> ApiResult<Recommendation>,
    impl AsyncFnOnce(&mut Conn, &Recommendation) -> ApiResult<()>,
> {
    let caller = actor.caller();
    Existing {
        table: Table::Recommendations,
        id,
        find: async move |conn: &mut Conn| model::find(conn, &caller, id).await,
        rule: async move |conn: &mut Conn, r: &Recommendation| {
            let engagement = facts_of(conn, r.engagement_id).await?;
            let record = Record::Recommendation {
                engagement: &engagement,
                addressed_to: r.addressed_to_agency_id,
            };
            policy::check(actor, action, record)
        },
        // Several organisations edit a recommendation (DESIGN.md §3): a PATCH must name the version it changes.
        // A status change need not: its lifecycle is checked against the status as it is.
        precondition: match action {
            Action::Update | Action::Delete => Precondition::Required,
            _ => Precondition::Optional,
        },
    }
}

/// A recommendation is issued on a day that has come (an answer could not take effect before it), and due no
/// earlier than it is issued.
fn check_dates(issued_on: NaiveDate, due_on: Option<NaiveDate>) -> ApiResult<()> {
    if issued_on > Utc::now().date_naive() {
        return Err(ApiError::field("issued_on", "must not be in the future"));
    }
    match due_on {
        Some(due) if due < issued_on => {
            Err(ApiError::field("due_on", "must not be before issued_on"))
        }
        _ => Ok(()),
    }
}

/// `no_response` says the agency let a deadline pass that it could see: recorded by anyone but an admin, the
/// deadline must have passed after the recommendation was recorded here (an NGO cannot log a recommendation
/// with a deadline already past and call it unanswered at once), and it takes effect after the deadline.
fn check_no_response(
    actor: &Actor,
    before: &Recommendation,
    effective_on: NaiveDate,
) -> ApiResult<()> {
    let Some(due) = before.due_on else {
        return Ok(());
    };
    if effective_on <= due {
        return Err(ApiError::field(
            "effective_on",
            format!("must be after due_on ({due}) for `no_response`"),
        ));
    }
    if !actor.is_admin() && before.created_at.date_naive() > due {
        return Err(ApiError::field(
            "status",
            "`no_response` needs a deadline that passed after the recommendation was recorded here; an admin \
             may record it for an older one",
        ));
    }
    Ok(())
}

/// Issues a recommendation from an engagement to an agency (whoever may change the engagement).
#[utoipa::path(tag = "recommendations", params(IdPath), request_body = CreateRecommendation, security(("bearer" = [])),
    responses((status = 201, body = Recommendation, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/engagements/{id}/recommendations")]
pub async fn create_recommendation(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    body: Json<CreateRecommendation>,
) -> ApiResult<HttpResponse> {
    let new = body.0;
    let engagement_id = path.id;
    let id = Uuid::now_v7();
    let mut conn = state.db().await?;
    // 404 when the engagement is hidden from the caller, before anything is said about their rights.
    let engagement = engagements::find(&mut conn, &actor.caller(), engagement_id).await?;
    policy::check(
        &actor,
        Action::Create,
        Record::Recommendation {
            engagement: &engagement.facts(),
            addressed_to: new.addressed_to_agency_id,
        },
    )?;
    // The issuing organisation: the NGO member's own, else the engagement's owner.
    let issuer = policy::owner_of_new(&actor, engagement.owner_organization_id);
    let recorder = Recorder::of(&actor, Some(new.addressed_to_agency_id));
    let save = async |conn: &mut Conn| {
        let issued_on = new.issued_on.unwrap_or_else(|| Utc::now().date_naive());
        check_dates(issued_on, new.due_on)?;
        Agency::ensure_exists(conn, new.addressed_to_agency_id, "addressed_to_agency_id").await?;
        diesel::insert_into(recommendations::table)
            .values((
                recommendations::id.eq(id),
                recommendations::engagement_id.eq(engagement_id),
                recommendations::text.eq(&new.text),
                recommendations::addressed_to_agency_id.eq(new.addressed_to_agency_id),
                recommendations::issued_on.eq(issued_on),
                recommendations::due_on.eq(new.due_on),
                recommendations::priority.eq(new.priority),
                recommendations::visibility.eq(new.visibility),
                recommendations::created_by.eq(actor.id),
                recommendations::issuer_organization_id.eq(issuer),
                recommendations::status_source.eq(recorder.source),
            ))
            .execute(conn)
            .await?;
        let issued = Answer {
            status: RecommendationStatus::Issued,
            note: None,
            effective_on: issued_on,
            evidence_url: None,
        };
        record_change(conn, &recorder, id, &issued).await
    };
    let caller = actor.caller();
    let recommendation = create(&mut conn, &actor, save, async |conn| {
        model::find(conn, &caller, id).await
    })
    .await?;
    let location = format!("/api/v1/recommendations/{id}");
    Ok(created(&location, &recommendation, recommendation.version))
}

/// A status as it enters the history.
struct Answer<'a> {
    status: RecommendationStatus,
    note: Option<&'a str>,
    effective_on: NaiveDate,
    evidence_url: Option<&'a str>,
}

/// Appends a status to the history with its provenance.
async fn record_change(
    conn: &mut Conn,
    recorder: &Recorder,
    id: Uuid,
    answer: &Answer<'_>,
) -> ApiResult<()> {
    diesel::insert_into(history::table)
        .values((
            history::id.eq(Uuid::now_v7()),
            history::recommendation_id.eq(id),
            history::status.eq(answer.status),
            history::note.eq(answer.note),
            history::changed_by.eq(recorder.user),
            history::recorder_role.eq(recorder.role),
            history::recorder_organization_id.eq(recorder.organization_id),
            history::recorder_agency_id.eq(recorder.agency_id),
            history::effective_on.eq(answer.effective_on),
            history::evidence_url.eq(answer.evidence_url),
            history::source.eq(recorder.source),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Once an answer exists, the terms it answered are fixed: the text, the agency, the issue date and the deadline
/// (admins may still correct them; the audit log keeps the change). Before that, a deadline may be moved but not into
/// the past, so that nobody can make a recommendation overdue by editing it.
fn check_terms(
    actor: &Actor,
    before: &Recommendation,
    changes: &UpdateRecommendation,
    today: NaiveDate,
) -> ApiResult<()> {
    if actor.is_admin() {
        return Ok(());
    }
    let answered = before
        .status_history
        .iter()
        .any(|c| c.status != RecommendationStatus::Issued);
    let mut errors = Vec::new();
    let mut fixed = |field: &str, changed: bool| {
        if answered && changed {
            errors.push(FieldError::new(
                field,
                "is fixed once an answer exists; ask an admin to correct it",
            ));
        }
    };
    fixed(
        "text",
        changes.text.as_ref().is_some_and(|t| *t != before.text),
    );
    fixed(
        "addressed_to_agency_id",
        changes
            .addressed_to_agency_id
            .is_some_and(|a| a != before.addressed_to_agency_id),
    );
    fixed(
        "issued_on",
        changes.issued_on.is_some_and(|d| d != before.issued_on),
    );
    let due_changed = changes.due_on.is_some_and(|d| d != before.due_on);
    fixed("due_on", due_changed);
    if !answered && due_changed && changes.due_on.flatten().is_some_and(|due| due < today) {
        errors.push(FieldError::new("due_on", "must not be moved into the past"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// Lists the recommendations the caller may read, newest first; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "recommendations", params(RecommendationFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Recommendation> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/recommendations")]
pub async fn list_recommendations(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<RecommendationFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    let filter = filter.0;
    if let (Some(from), Some(to)) = (filter.from, filter.to)
        && to < from
    {
        return Err(ApiError::field("to", "must not be before `from`"));
    }
    export::respond(
        &state,
        format.get(),
        &page,
        "recommendations",
        NEWEST,
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { model::list(conn, &caller, &filter, cursor, limit).await })
        }),
    )
    .await
}

/// Gets one recommendation with its status history.
#[utoipa::path(tag = "recommendations", params(IdPath),
    responses((status = 200, body = Recommendation, headers(("ETag" = String))), ProblemResponses))]
#[get("/recommendations/{id}")]
pub async fn get_recommendation(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let recommendation = model::find(&mut conn, &caller, path.id).await?;
    Ok(ok_versioned(&recommendation, recommendation.version))
}

/// Changes a recommendation's text, addressee, dates, priority or visibility (whoever may change its engagement).
#[utoipa::path(tag = "recommendations", params(IdPath, ("If-Match" = String, Header, description = "The ETag last read (required: 428 without it)")),
    request_body = UpdateRecommendation, security(("bearer" = [])),
    responses((status = 200, body = Recommendation, headers(("ETag" = String))), PreconditionResponses, ProblemResponses))]
#[patch("/recommendations/{id}")]
pub async fn update_recommendation(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateRecommendation>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let recommendation = existing(&actor, path.id, Action::Update)
        .update(
            &mut *state.db().await?,
            &actor,
            &if_match,
            async |conn, before| {
                check_terms(&actor, before, &changes, Utc::now().date_naive())?;
                check_dates(
                    changes.issued_on.unwrap_or(before.issued_on),
                    changes.due_on.unwrap_or(before.due_on),
                )?;
                if let Some(agency) = changes.addressed_to_agency_id {
                    Agency::ensure_exists(conn, agency, "addressed_to_agency_id").await?;
                }
                diesel::update(recommendations::table.find(before.id))
                    .set((
                        &changes,
                        recommendations::updated_at.eq(diesel::dsl::now),
                        recommendations::version.eq(recommendations::version + 1),
                    ))
                    .execute(conn)
                    .await?;
                Ok(())
            },
        )
        .await?;
    Ok(ok_versioned(&recommendation, recommendation.version))
}

/// Moves a recommendation through its lifecycle and keeps the change in its history. The agency's officers,
/// the organisation that issued it and admins may; a move that makes no sense is 422; a stale `If-Match` is 412.
#[utoipa::path(tag = "recommendations", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = ChangeStatus, security(("bearer" = [])),
    responses((status = 200, body = Recommendation, headers(("ETag" = String))), ProblemResponses))]
#[post("/recommendations/{id}/status")]
pub async fn change_recommendation_status(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<ChangeStatus>,
) -> ApiResult<HttpResponse> {
    let change = body.0;
    let recommendation = existing(&actor, path.id, Action::Answer)
        .update(
            &mut *state.db().await?,
            &actor,
            &if_match,
            async |conn, before| {
                let today = Utc::now().date_naive();
                Transition {
                    from: before.status,
                    to: change.status,
                    note: change.note.as_deref(),
                    due_on: before.due_on,
                    today,
                    by_admin: actor.is_admin(),
                }
                .check()?;
                let effective_on = change.effective_on.unwrap_or(today);
                if effective_on < before.issued_on || effective_on > today {
                    return Err(ApiError::field(
                        "effective_on",
                        format!(
                            "must lie between issued_on ({}) and today",
                            before.issued_on
                        ),
                    ));
                }
                if change.status == RecommendationStatus::NoResponse {
                    check_no_response(&actor, before, effective_on)?;
                }
                let recorder = Recorder::of(&actor, Some(before.addressed_to_agency_id));
                diesel::update(recommendations::table.find(before.id))
                    .set((
                        recommendations::status.eq(change.status),
                        recommendations::status_source.eq(recorder.source),
                        recommendations::updated_at.eq(diesel::dsl::now),
                        recommendations::version.eq(recommendations::version + 1),
                    ))
                    .execute(conn)
                    .await?;
                let answer = Answer {
                    status: change.status,
                    note: change.note.as_deref(),
                    effective_on,
                    evidence_url: change.evidence_url.as_deref(),
                };
                record_change(conn, &recorder, before.id, &answer).await
            },
        )
        .await?;
    Ok(ok_versioned(&recommendation, recommendation.version))
}

/// The change history of a recommendation (admins, analysts, and whoever may change its engagement); its status
/// changes are also in `status_history`.
#[utoipa::path(tag = "recommendations", params(IdPath, PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<crate::audit::AuditEntry>), ProblemResponses))]
#[get("/recommendations/{id}/history")]
pub async fn recommendation_history(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    page: Query<PageParams>,
) -> ApiResult<actix_web::web::Json<Page<crate::audit::AuditEntry>>> {
    let mut conn = state.db().await?;
    let recommendation = model::find(&mut conn, &actor.caller(), path.id).await?;
    let engagement = facts_of(&mut conn, recommendation.engagement_id).await?;
    drop(conn);
    policy::check(
        &actor,
        Action::ReadHistory,
        Record::Recommendation {
            engagement: &engagement,
            addressed_to: recommendation.addressed_to_agency_id,
        },
    )?;
    let filter = crate::audit::AuditFilter {
        entity_type: Some(Recommendation::ENTITY.to_owned()),
        entity_id: Some(path.id.to_string()),
        actor_id: None,
        hide_users: true,
        directory_only: false,
    };
    crate::audit::handlers::history_page(&state, filter, &page).await
}
