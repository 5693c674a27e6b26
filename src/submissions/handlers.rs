//! HTTP handlers of submissions and the agencies' answers.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post, put};
use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::{
    self, AnswerSubmission, CreateSubmission, NEWEST, ResponseStatus, Submission, SubmissionFilter,
    UpdateSubmission,
};
use crate::audit::write::{ActorThenWhole, Existing, Table, create, lock, touch};
use crate::auth::policy::{self, Action, EngagementFacts, Record, Recorder};
use crate::auth::{Actor, Caller};
use crate::consultations::model::{self as consultations_model, refresh_parties};
use crate::db::Conn;
use crate::db::schema::{consultations, submission_organizations as so, submissions};
use crate::domain::AnswerSource;
use crate::engagements::{EngagementKind, PartyRole};
use crate::http::export::{self};
use crate::http::{
    ApiError, ApiResult, FieldError, FormatParam, IdPath, IfMatch, Json, Output, Page, PageParams,
    PartyPath, Path, Precondition, ProblemResponses, Query, created, ok_versioned,
};
use crate::state::AppState;

async fn page(
    state: &AppState,
    caller: Caller,
    filter: SubmissionFilter,
    page: &PageParams,
    format: Output,
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
    consultations_model::find(&mut *state.db().await?, &caller, path.id).await?;
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

/// The agency that answers a consultation's submissions.
async fn responsible_agency(conn: &mut Conn, consultation_id: Uuid) -> ApiResult<Uuid> {
    Ok(consultations::table
        .find(consultation_id)
        .select(consultations::responsible_agency_id)
        .first(conn)
        .await?)
}

/// An existing submission on the write path: its row locked, read as the actor may see it, and `action` checked
/// against its organisations and the agency that answers it.
fn existing(
    actor: &Actor,
    id: Uuid,
    action: Action,
) -> Existing<
    impl AsyncFn(&mut Conn) -> ApiResult<Submission>,
    impl AsyncFnOnce(&mut Conn, &Submission) -> ApiResult<()>,
> {
    let caller = actor.caller();
    Existing {
        table: Table::Submissions,
        id,
        find: async move |conn: &mut Conn| model::find(conn, &caller, id).await,
        rule: async move |conn: &mut Conn, s: &Submission| {
            let record = Record::Submission {
                organizations: &s.organization_ids,
                owner: s.owner_organization_id,
                // Only an answer depends on the agency: other writes spare the lookup.
                responsible_agency: match action {
                    Action::Answer => Some(responsible_agency(conn, s.consultation_id).await?),
                    _ => None,
                },
            };
            policy::check(actor, action, record)
        },
        // A submission is written by its own organisations, not by everyone on the consultation.
        precondition: Precondition::Optional,
    }
}

/// Refuses a change that would leave out the organisation that made the submission (an admin may).
fn keeps_owner(actor: &Actor, owner: Option<Uuid>, organization_ids: &[Uuid]) -> ApiResult<()> {
    if actor.is_admin() || owner.is_none_or(|o| organization_ids.contains(&o)) {
        Ok(())
    } else {
        Err(ApiError::field(
            "organization_ids",
            "must still include the organisation that made the submission",
        ))
    }
}

/// Once the submission has an answer, what was answered is fixed — its text, provision and date (which decides
/// whether it was late) — except for admins, whose corrections the audit log keeps.
fn check_answered_terms(
    actor: &Actor,
    before: &Submission,
    changes: &UpdateSubmission,
) -> ApiResult<()> {
    if actor.is_admin() || before.response.status == ResponseStatus::Pending {
        return Ok(());
    }
    let changed = [
        (
            "proposal",
            changes
                .proposal
                .as_ref()
                .is_some_and(|p| *p != before.proposal),
        ),
        (
            "provision",
            changes
                .provision
                .as_ref()
                .is_some_and(|p| *p != before.provision),
        ),
        (
            "submitted_on",
            changes
                .submitted_on
                .is_some_and(|d| d != before.submitted_on),
        ),
    ];
    let errors: Vec<FieldError> = changed
        .into_iter()
        .filter(|(_, changed)| *changed)
        .map(|(field, _)| FieldError::new(field, "is fixed once an answer exists"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Validation(errors))
    }
}

/// A submission is dated within its consultation's comment period or after it (late, and marked so), never
/// before the consultation opened nor in the future.
fn check_submitted_on(day: NaiveDate, opens_on: NaiveDate) -> ApiResult<()> {
    if day < opens_on || day > Utc::now().date_naive() {
        return Err(ApiError::field(
            "submitted_on",
            format!("must lie between the consultation's opening ({opens_on}) and today"),
        ));
    }
    Ok(())
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
    let id = Uuid::now_v7();
    let mut conn = state.db().await?;
    let caller = actor.caller();
    let consultation = consultations_model::find(&mut conn, &caller, consultation_id).await?;
    policy::check(
        &actor,
        Action::Create,
        Record::Submission {
            organizations: &new.organization_ids,
            owner: None,
            responsible_agency: Some(consultation.responsible_agency_id),
        },
    )?;
    let owner = policy::owner_of_new(&actor, <[Uuid]>::first(&new.organization_ids).copied());
    let submitted_on = new.submitted_on.unwrap_or_else(|| Utc::now().date_naive());
    check_submitted_on(submitted_on, consultation.opens_on)?;
    let save = async |conn: &mut Conn| {
        // Before anything is written: submissions to one consultation re-derive its parties one at a time.
        lock(conn, Table::Engagements, consultation_id).await?;
        model::check_organizations(conn, &new.organization_ids).await?;
        diesel::insert_into(submissions::table)
            .values((
                submissions::id.eq(id),
                submissions::consultation_id.eq(consultation_id),
                submissions::provision.eq(&new.provision),
                submissions::proposal.eq(&new.proposal),
                submissions::rationale.eq(&new.rationale),
                submissions::submitted_on.eq(submitted_on),
                submissions::created_by.eq(actor.id),
                submissions::owner_organization_id.eq(owner),
            ))
            .execute(conn)
            .await?;
        model::set_organizations(conn, id, &new.organization_ids).await?;
        refresh_parties(conn, consultation_id).await
    };
    let submission = create(&mut conn, &actor, save, async |conn| {
        model::find(conn, &caller, id).await
    })
    .await?;
    Ok(created(
        &format!("/api/v1/submissions/{id}"),
        &submission,
        submission.version,
    ))
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
    let submission = existing(&actor, path.id, Action::Update)
        .update(
            &mut *state.db().await?,
            &actor,
            &if_match,
            async |conn, before| {
                check_answered_terms(&actor, before, &changes)?;
                if let Some(day) = changes.submitted_on {
                    let opens_on = consultations::table
                        .find(before.consultation_id)
                        .select(consultations::opens_on)
                        .first(conn)
                        .await?;
                    check_submitted_on(day, opens_on)?;
                }
                if let Some(orgs) = &changes.organization_ids {
                    keeps_owner(&actor, before.owner_organization_id, orgs)?;
                    model::check_organizations(conn, orgs).await?;
                    model::set_organizations(conn, before.id, orgs).await?;
                }
                diesel::update(submissions::table.find(before.id))
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
                refresh_parties(conn, before.consultation_id).await
            },
        )
        .await?;
    Ok(ok_versioned(&submission, submission.version))
}

/// Withdraws a co-submitting organisation from a submission another organisation made naming it (its members and
/// admins; the organisation that made it deletes the submission instead; the last one cannot leave, 409).
#[utoipa::path(tag = "consultations", params(PartyPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])), responses((status = 204, description = "Withdrawn"), ProblemResponses))]
#[delete("/submissions/{id}/organizations/{organization_id}")]
pub async fn withdraw_from_submission(
    state: Data<AppState>,
    actor: Actor,
    path: Path<PartyPath>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let PartyPath {
        id,
        organization_id,
    } = path.0;
    // The organisation may no longer read a submission to a restricted consultation once it has left it.
    let readers = ActorThenWhole::new(&actor);
    let existing = Existing {
        table: Table::Submissions,
        id,
        find: async move |conn: &mut Conn| model::find(conn, readers.next(), id).await,
        rule: async |_: &mut Conn, s: &Submission| {
            let named = s
                .organization_ids
                .iter()
                .map(|o| (*o, PartyRole::Submitter));
            let facts = EngagementFacts {
                kind: EngagementKind::Consultation,
                owner: s.owner_organization_id,
                council_id: None,
                organizations: named.collect(),
            };
            policy::check(
                &actor,
                Action::Delete,
                Record::NamedParty {
                    engagement: &facts,
                    organization: organization_id,
                },
            )
        },
        precondition: Precondition::Optional,
    };
    existing
        .update(
            &mut *state.db().await?,
            &actor,
            &if_match,
            async |conn, before| {
                let remaining = crate::remove_child!(
                    conn,
                    so,
                    submission_id,
                    before.id,
                    organization_id,
                    organization_id
                );
                if remaining == 0 {
                    return Err(ApiError::Conflict(
                        "the last submitter cannot withdraw; delete the submission instead".into(),
                    ));
                }
                touch(conn, Table::Submissions, before.id).await?;
                refresh_parties(conn, before.consultation_id).await
            },
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
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
    existing(&actor, path.id, Action::Delete)
        .delete(
            &mut *state.db().await?,
            &actor,
            &if_match,
            async |conn, before| {
                diesel::delete(submissions::table.find(before.id))
                    .execute(conn)
                    .await?;
                refresh_parties(conn, before.consultation_id).await
            },
        )
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Records the agency's answer: by an officer of the responsible agency, an admin, or a submitting NGO
/// reporting the answer it received.
#[utoipa::path(tag = "consultations", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = AnswerSubmission, security(("bearer" = [])),
    responses((status = 200, body = Submission, headers(("ETag" = String))), ProblemResponses))]
#[put("/submissions/{id}/response")]
pub async fn put_submission_response(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<AnswerSubmission>,
) -> ApiResult<HttpResponse> {
    let answer = body.0;
    let submission = existing(&actor, path.id, Action::Answer)
        .update(
            &mut *state.db().await?,
            &actor,
            &if_match,
            async |conn, before| {
                let responded_on = match answer.status {
                    ResponseStatus::Pending => answer.responded_on,
                    _ => Some(
                        answer
                            .responded_on
                            .unwrap_or_else(|| Utc::now().date_naive()),
                    ),
                };
                if let Some(day) = responded_on
                    && (day < before.submitted_on || day > Utc::now().date_naive())
                {
                    return Err(ApiError::field(
                        "responded_on",
                        format!(
                            "must lie between the submission ({}) and today",
                            before.submitted_on
                        ),
                    ));
                }
                let agency = responsible_agency(conn, before.consultation_id).await?;
                let recorder = Recorder::of(&actor, Some(agency));
                // The agency's own answer is its word: an NGO's report may not replace it (an admin may correct).
                if before.response.source == Some(AnswerSource::Agency)
                    && !matches!(recorder.source, AnswerSource::Agency | AnswerSource::Admin)
                {
                    return Err(ApiError::Forbidden(
                        "The responsible agency recorded this answer itself; only it or an admin may change it.",
                    ));
                }
                diesel::update(submissions::table.find(before.id))
                    .set((
                        submissions::response_status.eq(answer.status),
                        submissions::response_text.eq(&answer.text),
                        submissions::responded_on.eq(responded_on),
                        submissions::responded_by.eq(actor.id),
                        submissions::response_recorder_role.eq(recorder.role),
                        submissions::response_recorder_organization_id.eq(recorder.organization_id),
                        submissions::response_recorder_agency_id.eq(recorder.agency_id),
                        submissions::response_recorded_at.eq(diesel::dsl::now),
                        submissions::response_evidence_url.eq(&answer.evidence_url),
                        submissions::response_source.eq(recorder.source),
                        submissions::updated_at.eq(diesel::dsl::now),
                        submissions::version.eq(submissions::version + 1),
                    ))
                    .execute(conn)
                    .await?;
                Ok(())
            },
        )
        .await?;
    Ok(ok_versioned(&submission, submission.version))
}
