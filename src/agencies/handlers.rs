//! HTTP handlers of agencies.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::{Agency, AgencyFilter, CreateAgency, UpdateAgency};
use crate::audit::write::Table;
use crate::auth::{Actor, Caller};
use crate::db::Conn;
use crate::db::schema::agencies;
use crate::http::{
    ApiError, ApiResult, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, ok_versioned,
};
use crate::regions::{self, directory};
use crate::state::AppState;

/// Lists agencies, filtered and keyset-paged; `format=csv|ndjson` streams the whole filtered list.
#[utoipa::path(tag = "agencies", params(AgencyFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Agency> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/agencies")]
pub async fn list_agencies(
    state: Data<AppState>,
    _caller: Caller,
    filter: Query<AgencyFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    let filter = filter.0;
    if let Some(code) = &filter.region_code {
        regions::ensure_exists(&mut *state.db().await?, code, "region_code").await?;
    }
    let (format, sort) = (format.get(), filter.sort());
    directory::respond(
        &state,
        format,
        &page,
        "agencies",
        sort,
        filter,
        Agency::list,
    )
    .await
}

/// Gets one agency; its `ETag` is its version.
#[utoipa::path(tag = "agencies", params(IdPath),
    responses((status = 200, body = Agency, headers(("ETag" = String, description = "The version, quoted"))),
        ProblemResponses))]
#[get("/agencies/{id}")]
pub async fn get_agency(
    state: Data<AppState>,
    _caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let agency = Agency::find(&mut conn, path.id).await?;
    Ok(ok_versioned(&agency, agency.version))
}

/// Creates an agency (admins).
#[utoipa::path(tag = "agencies", request_body = CreateAgency, security(("bearer" = [])),
    responses((status = 201, body = Agency, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/agencies")]
pub async fn create_agency(
    state: Data<AppState>,
    actor: Actor,
    body: Json<CreateAgency>,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let new = body.0;
    let save = async |conn: &mut Conn, id: Uuid| {
        if let Some(code) = &new.region_code {
            regions::ensure_exists(conn, code, "region_code").await?;
        }
        if let Some(parent) = new.parent_id {
            Agency::ensure_exists(conn, parent, "parent_id").await?;
        }
        diesel::insert_into(agencies::table)
            .values((&new, agencies::id.eq(id), agencies::created_by.eq(actor.id)))
            .execute(conn)
            .await?;
        Ok(())
    };
    directory::create(
        &mut *state.db().await?,
        &actor,
        "agencies",
        Agency::find,
        save,
    )
    .await
}

/// Changes an agency (admins). `If-Match` guards against lost updates.
#[utoipa::path(tag = "agencies", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateAgency, security(("bearer" = [])),
    responses((status = 200, body = Agency, headers(("ETag" = String))), ProblemResponses))]
#[patch("/agencies/{id}")]
pub async fn update_agency(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateAgency>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let id = path.id;
    let agency = directory::existing(
        Table::Agencies,
        id,
        Agency::find,
        directory::admins_only(&actor)?,
    )
    .update(
        &mut *state.db().await?,
        &actor,
        &if_match,
        async |conn, _| {
            if let Some(Some(code)) = &changes.region_code {
                regions::ensure_exists(conn, code, "region_code").await?;
            }
            if let Some(Some(parent)) = changes.parent_id {
                Agency::ensure_exists(conn, parent, "parent_id").await?;
                directory::ensure_no_loop(conn, "agencies", "agency", id, parent).await?;
            }
            crate::directory_update!(conn, agencies, id, &changes)
        },
    )
    .await?;
    Ok(ok_versioned(&agency, agency.version))
}

crate::directory_delete_handler! {
    tag: "agencies", table: Agencies, remove: Agency::remove, |actor| Agency::find,
    /// Deletes an agency (admins); 409 while other records (sub-agencies, councils, users, …) refer to it.
    delete_agency: "/agencies/{id}",
}

/// The change history of an agency, newest first (admins and analysts).
#[utoipa::path(tag = "agencies", params(IdPath, PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<crate::audit::AuditEntry>), ProblemResponses))]
#[get("/agencies/{id}/history")]
pub async fn agency_history(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    page: Query<PageParams>,
) -> ApiResult<actix_web::web::Json<Page<crate::audit::AuditEntry>>> {
    if !actor.may_read_audit() {
        return Err(ApiError::Forbidden(
            "Only admins and analysts may read an agency's history.",
        ));
    }
    directory::history::<Agency>(&state, path.id, &page).await
}
