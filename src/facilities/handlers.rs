//! HTTP handlers of facilities (a public directory; admins write).

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::{CreateFacility, Facility, FacilityFilter, UpdateFacility};
use crate::agencies::Agency;
use crate::audit::write::Table;
use crate::auth::{Actor, Caller};
use crate::db::Conn;
use crate::db::schema::facilities;
use crate::http::{
    ApiError, ApiResult, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, ok_versioned,
};
use crate::regions::{self, directory};
use crate::state::AppState;

/// Lists facilities; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "monitoring", params(FacilityFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Facility> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/facilities")]
pub async fn list_facilities(
    state: Data<AppState>,
    _caller: Caller,
    filter: Query<FacilityFilter>,
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
        "facilities",
        sort,
        filter,
        Facility::list,
    )
    .await
}

/// Gets one facility.
#[utoipa::path(tag = "monitoring", params(IdPath),
    responses((status = 200, body = Facility, headers(("ETag" = String))), ProblemResponses))]
#[get("/facilities/{id}")]
pub async fn get_facility(
    state: Data<AppState>,
    _caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let facility = Facility::find(&mut conn, path.id).await?;
    Ok(ok_versioned(&facility, facility.version))
}

/// Adds a facility (admins).
#[utoipa::path(tag = "monitoring", request_body = CreateFacility, security(("bearer" = [])),
    responses((status = 201, body = Facility, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/facilities")]
pub async fn create_facility(
    state: Data<AppState>,
    actor: Actor,
    body: Json<CreateFacility>,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let new = body.0;
    let save = async |conn: &mut Conn, id: Uuid| {
        Agency::ensure_exists(conn, new.operating_agency_id, "operating_agency_id").await?;
        if let Some(code) = &new.region_code {
            regions::ensure_exists(conn, code, "region_code").await?;
        }
        diesel::insert_into(facilities::table)
            .values((
                &new,
                facilities::id.eq(id),
                facilities::created_by.eq(actor.id),
            ))
            .execute(conn)
            .await?;
        Ok(())
    };
    directory::create(
        &mut *state.db().await?,
        &actor,
        "facilities",
        Facility::find,
        save,
    )
    .await
}

/// Changes a facility (admins).
#[utoipa::path(tag = "monitoring", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateFacility, security(("bearer" = [])),
    responses((status = 200, body = Facility, headers(("ETag" = String))), ProblemResponses))]
#[patch("/facilities/{id}")]
pub async fn update_facility(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateFacility>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let id = path.id;
    let facility = directory::existing(
        Table::Facilities,
        id,
        Facility::find,
        directory::admins_only(&actor)?,
    )
    .update(
        &mut *state.db().await?,
        &actor,
        &if_match,
        async |conn, _| {
            if let Some(agency) = changes.operating_agency_id {
                Agency::ensure_exists(conn, agency, "operating_agency_id").await?;
            }
            if let Some(Some(code)) = &changes.region_code {
                regions::ensure_exists(conn, code, "region_code").await?;
            }
            // A new operator becomes the operator party of the facility's visits by trigger (see the migration
            // `derived_agency_parties`): the directory does not write engagement parties.
            crate::directory_update!(conn, facilities, id, &changes)
        },
    )
    .await?;
    Ok(ok_versioned(&facility, facility.version))
}

crate::directory_delete_handler! {
    tag: "monitoring", table: Facilities, remove: Facility::remove, |actor| Facility::find,
    /// Deletes a facility (admins); 409 while visits refer to it.
    delete_facility: "/facilities/{id}",
}

/// The change history of a facility (admins and analysts).
#[utoipa::path(tag = "monitoring", params(IdPath, PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<crate::audit::AuditEntry>), ProblemResponses))]
#[get("/facilities/{id}/history")]
pub async fn facility_history(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    page: Query<PageParams>,
) -> ApiResult<actix_web::web::Json<Page<crate::audit::AuditEntry>>> {
    Facility::find(&mut *state.db().await?, path.id).await?;
    if !actor.may_read_audit() {
        return Err(ApiError::Forbidden(
            "Only admins and analysts may read a facility's history.",
        ));
    }
    directory::history::<Facility>(&state, path.id, &page).await
}
