//! HTTP handlers of meetings.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use uuid::Uuid;

use super::model::{self, CreateMeeting, Meeting, MeetingFilter, ORDER, UpdateMeeting};
use crate::auth::{Actor, Caller};
use crate::councils::Council;
use crate::db::Conn;
use crate::db::batch::Batch;
use crate::engagements::write::{self, Core, set_parties};
use crate::engagements::{EngagementKind, Party};
use crate::http::export;
use crate::http::{
    ApiResult, FormatParam, IdPath, Json, Output, Page, PageParams, Path, ProblemResponses, Query,
    created,
};
use crate::state::AppState;

/// Lists the meetings of a council the caller may read, newest first; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "meetings", params(IdPath, MeetingFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Meeting> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/councils/{id}/meetings")]
pub async fn list_council_meetings(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
    filter: Query<MeetingFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    // 404 for a council the caller may not read, before any meeting is listed.
    let council_id = Council::find(&mut *state.db().await?, &caller, path.id)
        .await?
        .id;
    let filter = MeetingFilter {
        council_id: Some(council_id),
        ..filter.0
    };
    respond(
        &state,
        caller,
        filter,
        &page,
        format.get(),
        "council-meetings",
    )
    .await
}

/// Lists the meetings of every council the caller may read, newest first; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "meetings", params(MeetingFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Meeting> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/meetings")]
pub async fn list_meetings(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<MeetingFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    respond(&state, caller, filter.0, &page, format.get(), "meetings").await
}

/// Answers a meeting list: a page, or the whole filtered list as CSV or NDJSON (`name` names the file), read
/// through the one list query.
async fn respond(
    state: &Data<AppState>,
    caller: Caller,
    filter: MeetingFilter,
    page: &PageParams,
    format: Output,
    name: &str,
) -> ApiResult<HttpResponse> {
    export::respond(
        state,
        format,
        page,
        name,
        ORDER,
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { model::list(conn, &caller, &filter, cursor, limit).await })
        }),
    )
    .await
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
    let named = model::attendance_named(&body.attendance)?;
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
    let mut batch = Batch::new(conn, existing);
    core.save(&mut batch, actor, id, named).await?;
    model::write_specific(&mut batch, id, body).await?;
    let parties: Vec<Party> = Meeting::derive_parties(council.host_agency_id, &body.attendance);
    set_parties(&mut batch, id, &parties).await?;
    Ok(batch.finish().await?)
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
    let id = Uuid::now_v7();
    let save = async |conn: &mut Conn| {
        // 404 for a council the caller may not read, before anything is said about their rights; locked, so that a
        // change of its host agency waits and then reaches this meeting's parties too.
        let council = Council::find_for_update_as(conn, &actor.caller(), path.id).await?;
        let facts = write::facts(EngagementKind::Meeting, None, Some(council.id), &[]);
        write::may_create(&actor, &facts)?;
        save(conn, &actor, &council, id, &body, false).await
    };
    let meeting =
        write::create_ruled_within(&mut *state.db().await?, &actor, id, save, model::find).await?;
    Ok(created(
        &format!("/api/v1/meetings/{id}"),
        &meeting,
        meeting.version,
    ))
}

/// Merges a PATCH into the meeting as it was and saves the result.
async fn change(
    conn: &mut Conn,
    actor: &Actor,
    before: &Meeting,
    changes: UpdateMeeting,
) -> ApiResult<()> {
    let council = Council::find_for_update(conn, before.council_id).await?;
    let merged = changes.apply(before.clone());
    save(conn, actor, &council, before.id, &merged, true).await
}

crate::engagement_handlers! {
    tag: "meetings", record: Meeting, find: model::find,
    /// Gets one meeting.
    get_meeting: "/meetings/{id}",
    /// Changes a meeting; lists in the body replace the stored ones.
    update_meeting(UpdateMeeting) => change,
    /// Deletes a meeting; 409 while recommendations come from it.
    delete_meeting,
    /// The change history of a meeting (admins, analysts, and the council's secretaries).
    meeting_history: "/meetings/{id}/history",
}
