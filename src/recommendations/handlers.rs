//! HTTP handlers of recommendations.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, patch, post};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use super::lifecycle::{RecommendationStatus, Transition};
use super::model::{
    self, ChangeStatus, CreateRecommendation, NEWEST, Recommendation, RecommendationFilter,
    UpdateRecommendation,
};
use crate::agencies::Agency;
use crate::audit::{self, AuditAction};
use crate::auth::{Actor, Caller, Role};
use crate::db::Conn;
use crate::db::schema::{recommendation_status_history as history, recommendations};
use crate::engagements::model::{EngagementRow, parties_of};
use crate::engagements::write::may_write;
use crate::http::export::{self};
use crate::http::{
    ApiError, ApiResult, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, created, ok_versioned,
};
use crate::state::AppState;

const ENTITY: &str = "recommendation";

/// The engagement behind a write, with whether the actor may change it: 404 when they may not read it.
async fn engagement_access(conn: &mut Conn, actor: &Actor, engagement_id: Uuid) -> ApiResult<bool> {
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let row = EngagementRow::find_readable(conn, &caller, engagement_id).await?;
    let parties = parties_of(conn, &[engagement_id])
        .await?
        .remove(&engagement_id)
        .unwrap_or_default();
    Ok(may_write(actor, &row, &parties))
}

fn check_dates(issued_on: chrono::NaiveDate, due_on: Option<chrono::NaiveDate>) -> ApiResult<()> {
    match due_on {
        Some(due) if due < issued_on => {
            Err(ApiError::field("due_on", "must not be before issued_on"))
        }
        _ => Ok(()),
    }
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
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let recommendation = conn
        .transaction(async |conn| {
            if !engagement_access(conn, &actor, engagement_id).await? {
                return Err(ApiError::Forbidden(
                    "You may not issue recommendations from this engagement.",
                ));
            }
            let issued_on = new.issued_on.unwrap_or_else(|| Utc::now().date_naive());
            check_dates(issued_on, new.due_on)?;
            Agency::ensure_exists(conn, new.addressed_to_agency_id, "addressed_to_agency_id")
                .await?;
            let id = Uuid::now_v7();
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
                ))
                .execute(conn)
                .await?;
            record_change(conn, &actor, id, RecommendationStatus::Issued, None).await?;
            let recommendation = model::find(conn, &caller, id).await?;
            audit::record(
                conn,
                &actor,
                AuditAction::Create,
                ENTITY,
                &id.to_string(),
                None,
                Some(&recommendation),
            )
            .await?;
            Ok::<_, ApiError>(recommendation)
        })
        .await?;
    let location = format!("/api/v1/recommendations/{}", recommendation.id);
    Ok(created(&location, &recommendation, recommendation.version))
}

async fn record_change(
    conn: &mut Conn,
    actor: &Actor,
    id: Uuid,
    status: RecommendationStatus,
    note: Option<&str>,
) -> ApiResult<()> {
    diesel::insert_into(history::table)
        .values((
            history::id.eq(Uuid::now_v7()),
            history::recommendation_id.eq(id),
            history::status.eq(status),
            history::note.eq(note),
            history::changed_by.eq(actor.id),
        ))
        .execute(conn)
        .await?;
    Ok(())
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

/// Locks a recommendation and loads it as the actor sees it (404 when they may not).
async fn lock(conn: &mut Conn, actor: &Actor, id: Uuid) -> ApiResult<Recommendation> {
    recommendations::table
        .find(id)
        .select(recommendations::id)
        .for_update()
        .first::<Uuid>(conn)
        .await?;
    model::find(
        conn,
        &Caller {
            actor: Some(actor.clone()),
        },
        id,
    )
    .await
}

/// Changes a recommendation's text, addressee, dates, priority or visibility (whoever may change its engagement).
#[utoipa::path(tag = "recommendations", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateRecommendation, security(("bearer" = [])),
    responses((status = 200, body = Recommendation, headers(("ETag" = String))), ProblemResponses))]
#[patch("/recommendations/{id}")]
pub async fn update_recommendation(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateRecommendation>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let id = path.id;
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let recommendation = conn
        .transaction(async |conn| {
            let before = lock(conn, &actor, id).await?;
            if !engagement_access(conn, &actor, before.engagement_id).await? {
                return Err(ApiError::Forbidden(
                    "You may not change recommendations of this engagement.",
                ));
            }
            if_match.check(before.version)?;
            check_dates(
                changes.issued_on.unwrap_or(before.issued_on),
                changes.due_on.unwrap_or(before.due_on),
            )?;
            if let Some(agency) = changes.addressed_to_agency_id {
                Agency::ensure_exists(conn, agency, "addressed_to_agency_id").await?;
            }
            diesel::update(recommendations::table.find(id))
                .set((
                    &changes,
                    recommendations::updated_at.eq(diesel::dsl::now),
                    recommendations::version.eq(recommendations::version + 1),
                ))
                .execute(conn)
                .await?;
            let after = model::find(conn, &caller, id).await?;
            audit::record(
                conn,
                &actor,
                AuditAction::Update,
                ENTITY,
                &id.to_string(),
                Some(&before),
                Some(&after),
            )
            .await?;
            Ok::<_, ApiError>(after)
        })
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
    let id = path.id;
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let recommendation = conn
        .transaction(async |conn| {
            let before = lock(conn, &actor, id).await?;
            let may_answer = match actor.role {
                Role::Admin => true,
                Role::AgencyOfficer => actor.agency_id == Some(before.addressed_to_agency_id),
                Role::NgoMember => engagement_access(conn, &actor, before.engagement_id).await?,
                Role::Analyst | Role::Secretary => false,
            };
            if !may_answer {
                return Err(ApiError::Forbidden(
                    "Only the agency addressed, the organisation that issued it and admins may record an answer.",
                ));
            }
            if_match.check(before.version)?;
            Transition {
                from: before.status,
                to: change.status,
                note: change.note.as_deref(),
                due_on: before.due_on,
                today: Utc::now().date_naive(),
                by_admin: actor.is_admin(),
            }
            .check()?;
            diesel::update(recommendations::table.find(id))
                .set((
                    recommendations::status.eq(change.status),
                    recommendations::updated_at.eq(diesel::dsl::now),
                    recommendations::version.eq(recommendations::version + 1),
                ))
                .execute(conn)
                .await?;
            record_change(conn, &actor, id, change.status, change.note.as_deref()).await?;
            let after = model::find(conn, &caller, id).await?;
            audit::record(conn, &actor, AuditAction::Update, ENTITY, &id.to_string(), Some(&before), Some(&after)).await?;
            Ok::<_, ApiError>(after)
        })
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
    let recommendation = model::find(
        &mut conn,
        &Caller {
            actor: Some(actor.clone()),
        },
        path.id,
    )
    .await?;
    let allowed = actor.may_read_audit()
        || engagement_access(&mut conn, &actor, recommendation.engagement_id).await?;
    drop(conn);
    if !allowed {
        return Err(ApiError::Forbidden(
            "Only admins, analysts and the engagement's editors may read its history.",
        ));
    }
    let filter = crate::audit::AuditFilter {
        entity_type: Some(ENTITY.to_owned()),
        entity_id: Some(path.id.to_string()),
        actor_id: None,
        hide_users: true,
        directory_only: false,
    };
    crate::audit::handlers::history_page(&state, filter, &page).await
}
