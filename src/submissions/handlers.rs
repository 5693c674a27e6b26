//! HTTP handlers of submissions and the agencies' answers.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post, put};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{
    self, CreateSubmission, NEWEST, ResponseStatus, Submission, SubmissionFilter,
    SubmissionResponse, UpdateSubmission,
};
use crate::audit::{self, AuditAction};
use crate::auth::{Actor, Caller, Role};
use crate::consultations::model::{self as consultations, refresh_parties};
use crate::db::Conn;
use crate::db::schema::submissions;
use crate::http::export::{self};
use crate::http::{
    ApiError, ApiResult, Format, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, created, ok_versioned,
};
use crate::state::AppState;

const ENTITY: &str = "submission";

async fn page(
    state: &AppState,
    caller: Caller,
    filter: SubmissionFilter,
    page: &PageParams,
    format: Format,
) -> ApiResult<HttpResponse> {
    export::respond(
        state,
        format,
        page,
        "submissions",
        NEWEST,
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { model::list(conn, &caller, &filter, cursor, limit).await })
        }),
    )
    .await
}

/// Lists the submissions the caller may read, newest first; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "consultations", params(SubmissionFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Submission> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/submissions")]
pub async fn list_submissions(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<SubmissionFilter>,
    params: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    page(&state, caller, filter.0, &params, format.get()).await
}

/// Lists the submissions to one consultation.
#[utoipa::path(tag = "consultations", params(IdPath, SubmissionFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Submission> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/consultations/{id}/submissions")]
pub async fn list_consultation_submissions(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
    filter: Query<SubmissionFilter>,
    params: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    consultations::find(&mut *state.db().await?, &caller, path.id).await?;
    let filter = SubmissionFilter {
        consultation_id: Some(path.id),
        ..filter.0
    };
    page(&state, caller, filter, &params, format.get()).await
}

/// Gets one submission.
#[utoipa::path(tag = "consultations", params(IdPath),
    responses((status = 200, body = Submission, headers(("ETag" = String))), ProblemResponses))]
#[get("/submissions/{id}")]
pub async fn get_submission(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let submission = model::find(&mut conn, &caller, path.id).await?;
    Ok(ok_versioned(&submission, submission.version))
}

/// Whether the actor speaks for one of these organisations (or is an admin).
fn speaks_for(actor: &Actor, organization_ids: &[Uuid]) -> bool {
    actor.is_admin()
        || (actor.role == Role::NgoMember
            && actor
                .organization_id
                .is_some_and(|org| organization_ids.contains(&org)))
}

/// Submits a proposal to a consultation, for one organisation or a coalition; a submission after the comment
/// period is kept and marked `late`.
#[utoipa::path(tag = "consultations", params(IdPath), request_body = CreateSubmission, security(("bearer" = [])),
    responses((status = 201, body = Submission, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/consultations/{id}/submissions")]
pub async fn create_submission(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    body: Json<CreateSubmission>,
) -> ApiResult<HttpResponse> {
    let new = body.0;
    let consultation_id = path.id;
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let submission = conn
        .transaction(async |conn| {
            consultations::find(conn, &caller, consultation_id).await?;
            if !speaks_for(&actor, &new.organization_ids) {
                return Err(ApiError::Forbidden(
                    "You may submit only on behalf of your own organisation.",
                ));
            }
            model::check_organizations(conn, &new.organization_ids).await?;
            let id = Uuid::now_v7();
            diesel::insert_into(submissions::table)
                .values((
                    submissions::id.eq(id),
                    submissions::consultation_id.eq(consultation_id),
                    submissions::provision.eq(&new.provision),
                    submissions::proposal.eq(&new.proposal),
                    submissions::rationale.eq(&new.rationale),
                    submissions::submitted_on
                        .eq(new.submitted_on.unwrap_or_else(|| Utc::now().date_naive())),
                    submissions::created_by.eq(actor.id),
                ))
                .execute(conn)
                .await?;
            model::set_organizations(conn, id, &new.organization_ids).await?;
            refresh_parties(conn, consultation_id).await?;
            let submission = model::find(conn, &caller, id).await?;
            audit::record(
                conn,
                &actor,
                AuditAction::Create,
                ENTITY,
                &id.to_string(),
                None,
                Some(&submission),
            )
            .await?;
            Ok::<_, ApiError>(submission)
        })
        .await?;
    Ok(created(
        &format!("/api/v1/submissions/{}", submission.id),
        &submission,
        submission.version,
    ))
}

async fn lock(conn: &mut Conn, actor: &Actor, id: Uuid) -> ApiResult<Submission> {
    submissions::table
        .find(id)
        .select(submissions::id)
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

/// Changes a submission (its organisations' members and admins).
#[utoipa::path(tag = "consultations", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateSubmission, security(("bearer" = [])),
    responses((status = 200, body = Submission, headers(("ETag" = String))), ProblemResponses))]
#[patch("/submissions/{id}")]
pub async fn update_submission(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateSubmission>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let id = path.id;
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let submission = conn
        .transaction(async |conn| {
            let before = lock(conn, &actor, id).await?;
            if !speaks_for(&actor, &before.organization_ids) {
                return Err(ApiError::Forbidden(
                    "Only the submitting organisations and admins may change it.",
                ));
            }
            if_match.check(before.version)?;
            if let Some(orgs) = &changes.organization_ids {
                if !speaks_for(&actor, orgs) {
                    return Err(ApiError::field(
                        "organization_ids",
                        "must still include your organisation",
                    ));
                }
                model::check_organizations(conn, orgs).await?;
                model::set_organizations(conn, id, orgs).await?;
            }
            diesel::update(submissions::table.find(id))
                .set((
                    submissions::provision.eq(changes
                        .provision
                        .clone()
                        .unwrap_or(before.provision.clone())),
                    submissions::proposal
                        .eq(changes.proposal.clone().unwrap_or(before.proposal.clone())),
                    submissions::rationale.eq(changes
                        .rationale
                        .clone()
                        .unwrap_or(before.rationale.clone())),
                    submissions::submitted_on
                        .eq(changes.submitted_on.unwrap_or(before.submitted_on)),
                    submissions::updated_at.eq(diesel::dsl::now),
                    submissions::version.eq(submissions::version + 1),
                ))
                .execute(conn)
                .await?;
            refresh_parties(conn, before.consultation_id).await?;
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
    Ok(ok_versioned(&submission, submission.version))
}

/// Deletes a submission (its organisations' members and admins).
#[utoipa::path(tag = "consultations", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted"), ProblemResponses))]
#[delete("/submissions/{id}")]
pub async fn delete_submission(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let id = path.id;
    let mut conn = state.db().await?;
    conn.transaction(async |conn| {
        let before = lock(conn, &actor, id).await?;
        if !speaks_for(&actor, &before.organization_ids) {
            return Err(ApiError::Forbidden(
                "Only the submitting organisations and admins may delete it.",
            ));
        }
        if_match.check(before.version)?;
        diesel::delete(submissions::table.find(id))
            .execute(conn)
            .await?;
        refresh_parties(conn, before.consultation_id).await?;
        audit::record(
            conn,
            &actor,
            AuditAction::Delete,
            ENTITY,
            &id.to_string(),
            Some(&before),
            None,
        )
        .await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Records the agency's answer: by an officer of the responsible agency, an admin, or a submitting NGO
/// reporting the answer it received.
#[utoipa::path(tag = "consultations", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = SubmissionResponse, security(("bearer" = [])),
    responses((status = 200, body = Submission, headers(("ETag" = String))), ProblemResponses))]
#[put("/submissions/{id}/response")]
pub async fn put_submission_response(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<SubmissionResponse>,
) -> ApiResult<HttpResponse> {
    let answer = body.0;
    let id = path.id;
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let submission = conn
        .transaction(async |conn| {
            let before = lock(conn, &actor, id).await?;
            let consultation = consultations::find(conn, &caller, before.consultation_id).await?;
            let may = speaks_for(&actor, &before.organization_ids)
                || (actor.role == Role::AgencyOfficer && actor.agency_id == Some(consultation.responsible_agency_id));
            if !may {
                return Err(ApiError::Forbidden(
                    "Only the responsible agency, the submitting organisations and admins may record the answer.",
                ));
            }
            if_match.check(before.version)?;
            let responded_on = match answer.status {
                ResponseStatus::Pending => answer.responded_on,
                _ => Some(answer.responded_on.unwrap_or_else(|| Utc::now().date_naive())),
            };
            if let Some(day) = responded_on
                && day < before.submitted_on
            {
                return Err(ApiError::field("responded_on", "must not be before the submission"));
            }
            diesel::update(submissions::table.find(id))
                .set((
                    submissions::response_status.eq(answer.status),
                    submissions::response_text.eq(&answer.text),
                    submissions::responded_on.eq(responded_on),
                    submissions::responded_by.eq(actor.id),
                    submissions::updated_at.eq(diesel::dsl::now),
                    submissions::version.eq(submissions::version + 1),
                ))
                .execute(conn)
                .await?;
            let after = model::find(conn, &caller, id).await?;
            audit::record(conn, &actor, AuditAction::Update, ENTITY, &id.to_string(), Some(&before), Some(&after)).await?;
            Ok::<_, ApiError>(after)
        })
        .await?;
    Ok(ok_versioned(&submission, submission.version))
}
