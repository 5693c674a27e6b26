//! HTTP handlers of council members (seats).

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::handlers::secretary_or_admin;
use super::model::{Council, CreateMember, MEMBER_ORDER, Member, MemberFilter, UpdateMember};
use crate::audit::write::{Existing, Table};
use crate::auth::{Actor, Caller};
use crate::db::Conn;
use crate::db::schema::council_members;
use crate::http::export;
use crate::http::{
    ApiError, ApiResult, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, ok_versioned,
};
use crate::organizations::ensure_actors_exist;
use crate::regions::directory;
use crate::state::AppState;

/// Who may change a council's seats, and the words for those who may not.
const REFUSAL: &str = "Only admins and the council's secretaries may change its members.";

/// A seat's path.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MemberPath {
    /// The council's id.
    pub id: Uuid,
    /// The seat's id.
    pub member_id: Uuid,
}

fn check_dates(
    since: Option<chrono::NaiveDate>,
    until: Option<chrono::NaiveDate>,
) -> ApiResult<()> {
    match (since, until) {
        (Some(s), Some(u)) if u < s => Err(ApiError::field("until", "must not be before `since`")),
        _ => Ok(()),
    }
}

/// Checks that the council is there for the actor (404) and that they may change its seats (403), before
/// anything is locked.
async fn writable_council(conn: &mut Conn, actor: &Actor, id: Uuid) -> ApiResult<()> {
    Council::find(conn, &actor.caller(), id).await?;
    secretary_or_admin(actor, id, REFUSAL)
}

/// A seat of a writable council on the audited write path: locked, read, and the council's rule asked again.
async fn existing_seat<'a>(
    conn: &mut Conn,
    actor: &'a Actor,
    path: MemberPath,
) -> ApiResult<
    Existing<
        impl AsyncFn(&mut Conn) -> ApiResult<Member> + 'a,
        impl AsyncFnOnce(&mut Conn, &Member) -> ApiResult<()> + 'a,
    >,
> {
    writable_council(conn, actor, path.id).await?;
    Ok(directory::existing(
        Table::CouncilMembers,
        path.member_id,
        async move |conn, id| Member::find(conn, path.id, id).await,
        move || secretary_or_admin(actor, path.id, REFUSAL),
    ))
}

/// Lists a council's seats: those whose term runs today, or all with `current=false`; `format=csv|ndjson`
/// streams them all, with the holder's name beside its id.
#[utoipa::path(tag = "councils", params(IdPath, MemberFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Member> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/councils/{id}/members")]
pub async fn list_members(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
    filter: Query<MemberFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    // 404 for a council the caller may not read, before any seat is listed.
    let council_id = Council::find(&mut *state.db().await?, &caller, path.id)
        .await?
        .id;
    let current = filter.current.unwrap_or(true);
    export::respond(
        &state,
        format.get(),
        &page,
        "council-members",
        MEMBER_ORDER,
        Box::new(move |conn, cursor, limit| {
            Box::pin(async move { Member::list(conn, council_id, current, cursor, limit).await })
        }),
    )
    .await
}

/// Gets one seat.
#[utoipa::path(tag = "councils", params(MemberPath),
    responses((status = 200, body = Member, headers(("ETag" = String))), ProblemResponses))]
#[get("/councils/{id}/members/{member_id}")]
pub async fn get_member(
    state: Data<AppState>,
    caller: Caller,
    path: Path<MemberPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    Council::find(&mut conn, &caller, path.id).await?;
    let member = Member::find(&mut conn, path.id, path.member_id).await?;
    Ok(ok_versioned(&member, member.version))
}

/// Adds a seat (admins and the council's secretaries): an organisation or an agency, with a role and a term.
/// An organisation holds one seat per council at a time (overlapping terms → 409).
#[utoipa::path(tag = "councils", params(IdPath), request_body = CreateMember, security(("bearer" = [])),
    responses((status = 201, body = Member, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/councils/{id}/members")]
pub async fn add_member(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    body: Json<CreateMember>,
) -> ApiResult<HttpResponse> {
    let new = body.0;
    let council_id = path.id;
    let mut conn = state.db().await?;
    writable_council(&mut conn, &actor, council_id).await?;
    let save = async |conn: &mut Conn, id: Uuid| {
        let (orgs, agencies) = match (new.organization_id, new.agency_id) {
            (Some(o), None) => (vec![("organization_id".to_owned(), o)], vec![]),
            (None, Some(a)) => (vec![], vec![("agency_id".to_owned(), a)]),
            _ => {
                return Err(ApiError::field(
                    "organization_id",
                    "give exactly one of organization_id and agency_id",
                ));
            }
        };
        check_dates(new.since, new.until)?;
        ensure_actors_exist(conn, &orgs, &agencies).await?;
        diesel::insert_into(council_members::table)
            .values((
                &new,
                council_members::id.eq(id),
                council_members::council_id.eq(council_id),
            ))
            .execute(conn)
            .await?;
        Ok(())
    };
    let find = async |conn: &mut Conn, id| Member::find(conn, council_id, id).await;
    let seats = format!("councils/{council_id}/members");
    directory::create(&mut conn, &actor, &seats, find, save).await
}

/// Changes a seat: role, representative, term.
#[utoipa::path(tag = "councils", params(MemberPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateMember, security(("bearer" = [])),
    responses((status = 200, body = Member, headers(("ETag" = String))), ProblemResponses))]
#[patch("/councils/{id}/members/{member_id}")]
pub async fn update_member(
    state: Data<AppState>,
    actor: Actor,
    path: Path<MemberPath>,
    if_match: IfMatch,
    body: Json<UpdateMember>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let mut conn = state.db().await?;
    let member = existing_seat(&mut conn, &actor, *path)
        .await?
        .update(&mut conn, &actor, &if_match, async |conn, before| {
            check_dates(
                changes.since.unwrap_or(before.since),
                changes.until.unwrap_or(before.until),
            )?;
            crate::directory_update!(conn, council_members, before.id, &changes)
        })
        .await?;
    Ok(ok_versioned(&member, member.version))
}

/// Removes a seat (to end a term instead, set `until`).
#[utoipa::path(tag = "councils", params(MemberPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])), responses((status = 204, description = "Removed"), ProblemResponses))]
#[delete("/councils/{id}/members/{member_id}")]
pub async fn remove_member(
    state: Data<AppState>,
    actor: Actor,
    path: Path<MemberPath>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    existing_seat(&mut conn, &actor, *path)
        .await?
        .delete(&mut conn, &actor, &if_match, Member::remove)
        .await?;
    Ok(HttpResponse::NoContent().finish())
}
