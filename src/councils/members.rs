//! HTTP handlers of council members (seats).

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use super::model::{Council, CreateMember, MEMBER_ORDER, Member, MemberFilter, UpdateMember};
use crate::audit::{self, AuditAction};
use crate::auth::{Actor, Caller};
use crate::db::schema::council_members;
use crate::http::{
    ApiError, ApiResult, IdPath, IfMatch, Json, Page, PageParams, Path, ProblemResponses, Query,
    created, ok_versioned,
};
use crate::organizations::ensure_actors_exist;
use crate::state::AppState;

const ENTITY: &str = "council_member";

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

/// Loads the council for a write and checks that the actor may change its members.
async fn writable_council(
    conn: &mut crate::db::Conn,
    actor: &Actor,
    id: Uuid,
) -> ApiResult<Council> {
    let council = Council::find(
        conn,
        &Caller {
            actor: Some(actor.clone()),
        },
        id,
    )
    .await?;
    if !actor.may_edit_council(id) {
        return Err(ApiError::Forbidden(
            "Only admins and the council's secretaries may change its members.",
        ));
    }
    Ok(council)
}

/// Lists a council's seats: those whose term runs today, or all with `current=false`.
#[utoipa::path(tag = "councils", params(IdPath, MemberFilter, PageParams),
    responses((status = 200, body = Page<Member>), ProblemResponses))]
#[get("/councils/{id}/members")]
pub async fn list_members(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
    filter: Query<MemberFilter>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    Council::find(&mut conn, &caller, path.id).await?;
    let current = filter.current.unwrap_or(true);
    let rows = Member::list(
        &mut conn,
        path.id,
        current,
        page.cursor(MEMBER_ORDER)?,
        page.limit(),
    )
    .await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, page.limit(), MEMBER_ORDER)))
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
    let member = conn
        .transaction(async |conn| {
            writable_council(conn, &actor, council_id).await?;
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
            let id = Uuid::now_v7();
            let member: Member = diesel::insert_into(council_members::table)
                .values((
                    &new,
                    council_members::id.eq(id),
                    council_members::council_id.eq(council_id),
                ))
                .returning(Member::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                &actor,
                AuditAction::Create,
                ENTITY,
                &id.to_string(),
                None,
                Some(&member),
            )
            .await?;
            Ok::<_, ApiError>(member)
        })
        .await?;
    let location = format!("/api/v1/councils/{council_id}/members/{}", member.id);
    Ok(created(&location, &member, member.version))
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
    let MemberPath {
        id: council_id,
        member_id,
    } = *path;
    let mut conn = state.db().await?;
    let member = conn
        .transaction(async |conn| {
            writable_council(conn, &actor, council_id).await?;
            let before = Member::find_for_update(conn, council_id, member_id).await?;
            if_match.check(before.version)?;
            check_dates(
                changes.since.unwrap_or(before.since),
                changes.until.unwrap_or(before.until),
            )?;
            let after: Member = diesel::update(council_members::table.find(member_id))
                .set((
                    &changes,
                    council_members::updated_at.eq(diesel::dsl::now),
                    council_members::version.eq(council_members::version + 1),
                ))
                .returning(Member::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                &actor,
                AuditAction::Update,
                ENTITY,
                &member_id.to_string(),
                Some(&before),
                Some(&after),
            )
            .await?;
            Ok::<_, ApiError>(after)
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
    let MemberPath {
        id: council_id,
        member_id,
    } = *path;
    let mut conn = state.db().await?;
    conn.transaction(async |conn| {
        writable_council(conn, &actor, council_id).await?;
        let before = Member::find_for_update(conn, council_id, member_id).await?;
        if_match.check(before.version)?;
        diesel::delete(council_members::table.find(member_id))
            .execute(conn)
            .await?;
        audit::record(
            conn,
            &actor,
            AuditAction::Delete,
            ENTITY,
            &member_id.to_string(),
            Some(&before),
            None,
        )
        .await
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
