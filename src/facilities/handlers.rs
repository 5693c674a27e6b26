//! HTTP handlers of facilities (a public directory; admins write).

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{CreateFacility, Facility, FacilityFilter, UpdateFacility};
use crate::agencies::Agency;
use crate::audit::{self, AuditAction, AuditFilter};
use crate::auth::{Actor, Caller};
use crate::db::schema::facilities;
use crate::http::export::{self};
use crate::http::{
    ApiError, ApiResult, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, created, ok_versioned,
};
use crate::regions;
use crate::state::AppState;

const ENTITY: &str = "facility";

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
    let sort = filter.sort().as_str();
    let mut conn = state.db().await?;
    if let Some(code) = &filter.region_code {
        regions::ensure_exists(&mut conn, code, "region_code").await?;
    }
    drop(conn);
    export::respond(
        &state,
        format.get(),
        &page,
        "facilities",
        sort,
        Box::new(move |conn, cursor, limit| {
            let filter = filter.clone();
            Box::pin(async move { Facility::list(conn, &filter, cursor, limit).await })
        }),
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
    let mut conn = state.db().await?;
    let facility = conn
        .transaction(async |conn| {
            Agency::ensure_exists(conn, new.operating_agency_id, "operating_agency_id").await?;
            if let Some(code) = &new.region_code {
                regions::ensure_exists(conn, code, "region_code").await?;
            }
            let id = Uuid::now_v7();
            let facility: Facility = diesel::insert_into(facilities::table)
                .values((
                    &new,
                    facilities::id.eq(id),
                    facilities::created_by.eq(actor.id),
                ))
                .returning(Facility::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                &actor,
                AuditAction::Create,
                ENTITY,
                &id.to_string(),
                None,
                Some(&facility),
            )
            .await?;
            Ok::<_, ApiError>(facility)
        })
        .await?;
    Ok(created(
        &format!("/api/v1/facilities/{}", facility.id),
        &facility,
        facility.version,
    ))
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
    actor.require_admin()?;
    let changes = body.0;
    let id = path.id;
    let mut conn = state.db().await?;
    let facility = conn
        .transaction(async |conn| {
            let before = Facility::find_for_update(conn, id).await?;
            if_match.check(before.version)?;
            if let Some(agency) = changes.operating_agency_id {
                Agency::ensure_exists(conn, agency, "operating_agency_id").await?;
            }
            if let Some(Some(code)) = &changes.region_code {
                regions::ensure_exists(conn, code, "region_code").await?;
            }
            let after: Facility = diesel::update(facilities::table.find(id))
                .set((
                    &changes,
                    facilities::updated_at.eq(diesel::dsl::now),
                    facilities::version.eq(facilities::version + 1),
                ))
                .returning(Facility::as_returning())
                .get_result(conn)
                .await?;
            // A new operator becomes the operator party of the facility's visits by trigger (see the migration
            // `derived_agency_parties`): the directory does not write engagement parties.
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
    Ok(ok_versioned(&facility, facility.version))
}

/// Deletes a facility (admins); 409 while visits refer to it.
#[utoipa::path(tag = "monitoring", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted"), ProblemResponses))]
#[delete("/facilities/{id}")]
pub async fn delete_facility(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let id = path.id;
    let mut conn = state.db().await?;
    conn.transaction(async |conn| {
        let before = Facility::find_for_update(conn, id).await?;
        if_match.check(before.version)?;
        diesel::delete(facilities::table.find(id))
            .execute(conn)
            .await?;
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
    let filter = AuditFilter {
        entity_type: Some(ENTITY.to_owned()),
        entity_id: Some(path.id.to_string()),
        actor_id: None,
        hide_users: true,
        directory_only: false,
    };
    audit::handlers::history_page(&state, filter, &page).await
}
