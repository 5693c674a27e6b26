//! HTTP handlers of meetings.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::model::{self, CreateMeeting, Meeting, MeetingFilter, ORDER, UpdateMeeting};
use crate::audit::{self, AuditAction};
use crate::auth::{Actor, Caller};
use crate::councils::Council;
use crate::db::Conn;
use crate::engagements::write::{Core, set_parties};
use crate::engagements::{EngagementKind, Party};
use crate::http::{
    ApiError, ApiResult, IdPath, IfMatch, Json, Page, PageParams, Path, ProblemResponses, Query,
    created, ok_versioned,
};
use crate::state::AppState;

const ENTITY: &str = "meeting";

/// Lists the meetings of a council the caller may read, newest first.
#[utoipa::path(tag = "meetings", params(IdPath, MeetingFilter, PageParams),
    responses((status = 200, body = Page<Meeting>), ProblemResponses))]
#[get("/councils/{id}/meetings")]
pub async fn list_council_meetings(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
    filter: Query<MeetingFilter>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    Council::find(&mut conn, &caller, path.id).await?;
    let filter = MeetingFilter {
        council_id: Some(path.id),
        ..filter.0
    };
    let rows = model::list(
        &mut conn,
        &caller,
        &filter,
        page.cursor(ORDER)?,
        page.limit(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, page.limit(), ORDER)))
}

/// Lists the meetings of every council the caller may read, newest first.
#[utoipa::path(tag = "meetings", params(MeetingFilter, PageParams),
    responses((status = 200, body = Page<Meeting>), ProblemResponses))]
#[get("/meetings")]
pub async fn list_meetings(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<MeetingFilter>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let rows = model::list(
        &mut conn,
        &caller,
        &filter,
        page.cursor(ORDER)?,
        page.limit(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, page.limit(), ORDER)))
}

/// Gets one meeting.
#[utoipa::path(tag = "meetings", params(IdPath),
    responses((status = 200, body = Meeting, headers(("ETag" = String))), ProblemResponses))]
#[get("/meetings/{id}")]
pub async fn get_meeting(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let meeting = model::find(&mut conn, &caller, path.id).await?;
    Ok(ok_versioned(&meeting, meeting.version))
}

/// Checks a meeting body and writes the whole meeting: core, specific part, attendance, parties.
async fn save(
    conn: &mut Conn,
    actor: &Actor,
    council: &Council,
    id: Uuid,
    body: &CreateMeeting,
    existing: bool,
) -> ApiResult<()> {
    model::check_attendance(conn, &body.attendance).await?;
    let core = Core {
        kind: EngagementKind::Meeting,
        title: body.title.clone(),
        summary: body.summary.clone(),
        status: body.status.into(),
        starts_on: model::local_date(body.starts_at),
        ends_on: None,
        region_code: body
            .region_code
            .clone()
            .or_else(|| council.region_code.clone()),
        sphere_codes: body
            .sphere_codes
            .clone()
            .unwrap_or_else(|| council.sphere_codes.clone()),
        visibility: body.visibility,
        owner_organization_id: None,
        council_id: Some(council.id),
        documents: Core::documents_json(&body.documents),
    };
    core.check(conn).await?;
    if existing {
        core.update(conn, id).await?;
    } else {
        core.insert(conn, id, actor).await?;
    }
    model::write_specific(conn, id, body, existing).await?;
    let parties: Vec<Party> = Meeting::derive_parties(council.host_agency_id, &body.attendance);
    set_parties(conn, id, &parties).await
}

/// Records a meeting of a council (admins and the council's secretaries). An unknown council is 404.
#[utoipa::path(tag = "meetings", params(IdPath), request_body = CreateMeeting, security(("bearer" = [])),
    responses((status = 201, body = Meeting, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/councils/{id}/meetings")]
pub async fn create_meeting(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    body: Json<CreateMeeting>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let council_id = path.id;
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let meeting = conn
        .transaction(async |conn| {
            let council = Council::find(conn, &caller, council_id).await?;
            if !actor.may_edit_council(council_id) {
                return Err(ApiError::Forbidden(
                    "Only admins and the council's secretaries may record its meetings.",
                ));
            }
            let id = Uuid::now_v7();
            save(conn, &actor, &council, id, &body, false).await?;
            let meeting = model::find(conn, &caller, id).await?;
            audit::record(
                conn,
                &actor,
                AuditAction::Create,
                ENTITY,
                &id.to_string(),
                None,
                Some(&meeting),
            )
            .await?;
            Ok::<_, ApiError>(meeting)
        })
        .await?;
    Ok(created(
        &format!("/api/v1/meetings/{}", meeting.id),
        &meeting,
        meeting.version,
    ))
}

/// Loads a meeting for a write: 404 when the caller may not read it, 403 when they may not change it.
async fn writable(conn: &mut Conn, actor: &Actor, id: Uuid) -> ApiResult<(Meeting, Council)> {
    let message = "Only admins and the council's secretaries may change its meetings.";
    crate::engagements::write::lock_for_write(conn, actor, id, message).await?;
    let meeting = model::find(
        conn,
        &Caller {
            actor: Some(actor.clone()),
        },
        id,
    )
    .await?;
    let council = Council::find_for_update(conn, meeting.council_id).await?;
    Ok((meeting, council))
}

/// Changes a meeting; lists in the body replace the stored ones.
#[utoipa::path(tag = "meetings", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateMeeting, security(("bearer" = [])),
    responses((status = 200, body = Meeting, headers(("ETag" = String))), ProblemResponses))]
#[patch("/meetings/{id}")]
pub async fn update_meeting(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateMeeting>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let id = path.id;
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let meeting = conn
        .transaction(async |conn| {
            let (before, council) = writable(conn, &actor, id).await?;
            if_match.check(before.version)?;
            let merged = changes.apply(before.clone());
            save(conn, &actor, &council, id, &merged, true).await?;
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
    Ok(ok_versioned(&meeting, meeting.version))
}

/// Deletes a meeting; 409 while recommendations come from it.
#[utoipa::path(tag = "meetings", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted"), ProblemResponses))]
#[delete("/meetings/{id}")]
pub async fn delete_meeting(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let id = path.id;
    let mut conn = state.db().await?;
    conn.transaction(async |conn| {
        let (before, _) = writable(conn, &actor, id).await?;
        crate::engagements::write::delete_audited(
            conn,
            &actor,
            id,
            ENTITY,
            &if_match,
            &before,
            before.version,
        )
        .await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// The change history of a meeting (admins, analysts, and the council's secretaries).
#[utoipa::path(tag = "meetings", params(IdPath, PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<crate::audit::AuditEntry>), ProblemResponses))]
#[get("/meetings/{id}/history")]
pub async fn meeting_history(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    page: Query<PageParams>,
) -> ApiResult<actix_web::web::Json<Page<crate::audit::AuditEntry>>> {
    crate::engagements::handlers::history(&state, &actor, ENTITY, path.id, &page).await
}
