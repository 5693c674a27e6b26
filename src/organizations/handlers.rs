//! HTTP handlers of organisations.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use uuid::Uuid;

use super::model::{CreateOrganization, Organization, OrganizationFilter, UpdateOrganization};
use crate::audit::{self, AuditAction, AuditFilter};
use crate::auth::{Actor, Caller};
use crate::db::schema::organizations;
use crate::http::export::{self};
use crate::http::{
    ApiError, ApiResult, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, created, ok_versioned,
};
use crate::state::AppState;
use crate::{regions, spheres};

const ENTITY: &str = "organization";

/// Lists organisations, filtered and keyset-paged; `format=csv|ndjson` streams the whole filtered list.
#[utoipa::path(tag = "organizations", params(OrganizationFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Organization> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/organizations")]
pub async fn list_organizations(
    state: Data<AppState>,
    _caller: Caller,
    filter: Query<OrganizationFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    let filter = filter.0;
    let sort = filter.sort().as_str();
    let mut conn = state.db().await?;
    if let Some(code) = &filter.region_code {
        regions::ensure_exists(&mut conn, code, "region_code").await?;
    }
    if let Some(code) = &filter.sphere_code {
        spheres::ensure_all_exist(&mut conn, std::slice::from_ref(code), "sphere_code").await?;
    }
    drop(conn);
    export::respond(
        &state,
        format.get(),
        &page,
        "organizations",
        sort,
        Box::new(move |conn, cursor, limit| {
            let filter = filter.clone();
            Box::pin(async move { Organization::list(conn, &filter, cursor, limit).await })
        }),
    )
    .await
}

/// Gets one organisation; its `ETag` is its version.
#[utoipa::path(tag = "organizations", params(IdPath),
    responses((status = 200, body = Organization, headers(("ETag" = String, description = "The version, quoted"))),
        ProblemResponses))]
#[get("/organizations/{id}")]
pub async fn get_organization(
    state: Data<AppState>,
    _caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let org = Organization::find(&mut conn, path.id).await?;
    Ok(ok_versioned(&org, org.version))
}

/// Creates an organisation (admins).
#[utoipa::path(tag = "organizations", request_body = CreateOrganization, security(("bearer" = [])),
    responses((status = 201, body = Organization, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/organizations")]
pub async fn create_organization(
    state: Data<AppState>,
    actor: Actor,
    body: Json<CreateOrganization>,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let new = body.0;
    let mut conn = state.db().await?;
    let org = conn
        .transaction(async |conn| {
            if let Some(code) = &new.region_code {
                regions::ensure_exists(conn, code, "region_code").await?;
            }
            spheres::ensure_all_exist(conn, &new.sphere_codes, "sphere_codes").await?;
            let id = Uuid::now_v7();
            let org: Organization = diesel::insert_into(organizations::table)
                .values((
                    &new,
                    organizations::id.eq(id),
                    organizations::created_by.eq(actor.id),
                ))
                .returning(Organization::as_returning())
                .get_result(conn)
                .await?;
            audit::record(
                conn,
                &actor,
                AuditAction::Create,
                ENTITY,
                &id.to_string(),
                None,
                Some(&org),
            )
            .await?;
            Ok::<_, ApiError>(org)
        })
        .await?;
    Ok(created(
        &format!("/api/v1/organizations/{}", org.id),
        &org,
        org.version,
    ))
}

/// Changes an organisation (admins, and members of that organisation). `If-Match` guards against lost updates.
#[utoipa::path(tag = "organizations", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateOrganization, security(("bearer" = [])),
    responses((status = 200, body = Organization, headers(("ETag" = String))), ProblemResponses))]
#[patch("/organizations/{id}")]
pub async fn update_organization(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateOrganization>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let id = path.id;
    let mut conn = state.db().await?;
    let org = conn
        .transaction(async |conn| {
            let before = Organization::find_for_update(conn, id).await?;
            if !actor.may_edit_organization(id) {
                return Err(ApiError::Forbidden(
                    "You may edit only your own organisation.",
                ));
            }
            if_match.check(before.version)?;
            if let Some(Some(code)) = &changes.region_code {
                regions::ensure_exists(conn, code, "region_code").await?;
            }
            if let Some(codes) = &changes.sphere_codes {
                spheres::ensure_all_exist(conn, codes, "sphere_codes").await?;
            }
            let after: Organization = diesel::update(organizations::table.find(id))
                .set((
                    &changes,
                    organizations::updated_at.eq(diesel::dsl::now),
                    organizations::version.eq(organizations::version + 1),
                ))
                .returning(Organization::as_returning())
                .get_result(conn)
                .await?;
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
    Ok(ok_versioned(&org, org.version))
}

/// Deletes an organisation (admins); 409 while other records refer to it.
#[utoipa::path(tag = "organizations", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted"), ProblemResponses))]
#[delete("/organizations/{id}")]
pub async fn delete_organization(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let id = path.id;
    let mut conn = state.db().await?;
    conn.transaction(async |conn| {
        let before = Organization::find_for_update(conn, id).await?;
        if_match.check(before.version)?;
        diesel::delete(organizations::table.find(id))
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

/// The change history of an organisation, newest first (admins, analysts, and its own members).
#[utoipa::path(tag = "organizations", params(IdPath, PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<crate::audit::AuditEntry>), ProblemResponses))]
#[get("/organizations/{id}/history")]
pub async fn organization_history(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    page: Query<PageParams>,
) -> ApiResult<actix_web::web::Json<Page<crate::audit::AuditEntry>>> {
    if !(actor.may_read_audit() || actor.may_edit_organization(path.id)) {
        return Err(ApiError::Forbidden(
            "Only admins, analysts and the organisation's members may read its history.",
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
