//! HTTP handlers of organisations.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::{CreateOrganization, Organization, OrganizationFilter, UpdateOrganization};
use crate::audit::write::Table;
use crate::auth::{Actor, Caller};
use crate::db::Conn;
use crate::db::schema::organizations;
use crate::http::{
    ApiError, ApiResult, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, ok_versioned,
};
use crate::regions::directory;
use crate::state::AppState;
use crate::{regions, spheres};

/// Admins, and members of the organisation itself, may change it (DESIGN.md §5).
fn editor(actor: &Actor, id: Uuid) -> ApiResult<()> {
    if actor.may_edit_organization(id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "You may edit only your own organisation.",
        ))
    }
}

/// Checks the region and the spheres an organisation names, where given.
async fn check_references(
    conn: &mut Conn,
    region_code: Option<&str>,
    sphere_codes: Option<&[String]>,
) -> ApiResult<()> {
    if let Some(code) = region_code {
        regions::ensure_exists(conn, code, "region_code").await?;
    }
    if let Some(codes) = sphere_codes {
        spheres::ensure_all_exist(conn, codes, "sphere_codes").await?;
    }
    Ok(())
}

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
    let mut conn = state.db().await?;
    if let Some(code) = &filter.region_code {
        regions::ensure_exists(&mut conn, code, "region_code").await?;
    }
    if let Some(code) = &filter.sphere_code {
        spheres::ensure_all_exist(&mut conn, std::slice::from_ref(code), "sphere_code").await?;
    }
    drop(conn);
    let (format, sort) = (format.get(), filter.sort());
    directory::respond(
        &state,
        format,
        &page,
        "organizations",
        sort,
        filter,
        Organization::list,
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
    let save = async |conn: &mut Conn, id: Uuid| {
        check_references(conn, new.region_code.as_deref(), Some(&new.sphere_codes)).await?;
        diesel::insert_into(organizations::table)
            .values((
                &new,
                organizations::id.eq(id),
                organizations::created_by.eq(actor.id),
            ))
            .execute(conn)
            .await?;
        Ok(())
    };
    directory::create(
        &mut *state.db().await?,
        &actor,
        "organizations",
        Organization::find,
        save,
    )
    .await
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
    let org = directory::existing(Table::Organizations, id, Organization::find, || {
        editor(&actor, id)
    })
    .update(
        &mut *state.db().await?,
        &actor,
        &if_match,
        async |conn, _| {
            let region_code = changes.region_code.as_ref().and_then(Option::as_deref);
            check_references(conn, region_code, changes.sphere_codes.as_deref()).await?;
            crate::directory_update!(conn, organizations, id, &changes)
        },
    )
    .await?;
    Ok(ok_versioned(&org, org.version))
}

crate::directory_delete_handler! {
    tag: "organizations", table: Organizations, remove: Organization::remove, |actor| Organization::find,
    /// Deletes an organisation (admins); 409 while other records refer to it.
    delete_organization: "/organizations/{id}",
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
    directory::history::<Organization>(&state, path.id, &page).await
}
