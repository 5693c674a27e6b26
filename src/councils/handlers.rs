//! HTTP handlers of councils.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::model::{Council, CouncilFilter, CouncilKind, CreateCouncil, Member, UpdateCouncil};
use crate::agencies::Agency;
use crate::audit::write::Table;
use crate::auth::{Actor, Caller};
use crate::db::Conn;
use crate::db::schema::{agencies, councils};
use crate::http::export;
use crate::http::{
    ApiError, ApiResult, FieldError, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, ok_versioned,
};
use crate::regions::directory;
use crate::state::AppState;
use crate::{regions, spheres};

/// A short reference to an agency.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable)]
pub struct AgencyRef {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Short name.
    pub short_name: Option<String>,
}

/// A short reference to a council.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, Queryable)]
pub struct CouncilRef {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: CouncilKind,
}

/// A council's page: the council, its host agency, parent, children and current members.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CouncilPage {
    /// The council.
    #[serde(flatten)]
    pub council: Council,
    /// The host agency.
    pub host_agency: Option<AgencyRef>,
    /// The parent council.
    pub parent: Option<CouncilRef>,
    /// Regional branches and commissions the caller may see.
    pub children: Vec<CouncilRef>,
    /// Seats whose term runs today.
    pub members: Vec<Member>,
}

/// Lists the councils the caller may read, filtered and keyset-paged (`parent_id` gives a council's branches and
/// commissions); `format=csv|ndjson` streams the whole filtered list.
#[utoipa::path(tag = "councils", params(CouncilFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Council> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/councils")]
pub async fn list_councils(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<CouncilFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    let filter = filter.0;
    if let Some(code) = &filter.region_code {
        regions::ensure_exists(&mut *state.db().await?, code, "region_code").await?;
    }
    export::respond(
        &state,
        format.get(),
        &page,
        "councils",
        filter.sort().as_str(),
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { Council::list(conn, &caller, &filter, cursor, limit).await })
        }),
    )
    .await
}

/// Gets a council's page: host agency, parent, children and current members.
#[utoipa::path(tag = "councils", params(IdPath),
    responses((status = 200, body = CouncilPage, headers(("ETag" = String))), ProblemResponses))]
#[get("/councils/{id}")]
pub async fn get_council(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let council = Council::find(&mut conn, &caller, path.id).await?;
    let host_agency = match council.host_agency_id {
        Some(id) => agencies::table
            .find(id)
            .select((agencies::id, agencies::name, agencies::short_name))
            .first::<AgencyRef>(&mut conn)
            .await
            .optional()?,
        None => None,
    };
    let parent = match council.parent_id {
        Some(id) => councils::table
            .find(id)
            .filter(super::model::readable_sql(&caller))
            .select((councils::id, councils::name, councils::kind))
            .first::<CouncilRef>(&mut conn)
            .await
            .optional()?,
        None => None,
    };
    let children = councils::table
        .filter(councils::parent_id.eq(council.id))
        .filter(super::model::readable_sql(&caller))
        .select((councils::id, councils::name, councils::kind))
        .order((councils::name.asc(), councils::id.asc()))
        .load::<CouncilRef>(&mut conn)
        .await?;
    // A page of up to 1000 seats (the list fetches one more row to see whether another page exists).
    let mut members = Member::list(&mut conn, council.id, true, None, 999).await?;
    members.truncate(1000);
    let version = council.version;
    let page = CouncilPage {
        council,
        host_agency,
        parent,
        children,
        members,
    };
    Ok(ok_versioned(&page, version))
}

/// Admins, and secretaries of the council, may change it and its seats (DESIGN.md §5); `refusal` says so.
pub(super) fn secretary_or_admin(actor: &Actor, id: Uuid, refusal: &'static str) -> ApiResult<()> {
    if actor.may_edit_council(id) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(refusal))
    }
}

/// Checks a council's parent: a council the caller may read (one they may not read gets the same 422 as one that
/// does not exist, so the answer cannot reveal a hidden council), and not the council itself or one of its own.
async fn check_parent(
    conn: &mut Conn,
    caller: &Caller,
    id: Option<Uuid>,
    parent: Option<Uuid>,
) -> ApiResult<()> {
    let Some(parent) = parent else { return Ok(()) };
    match Council::find(conn, caller, parent).await {
        Err(ApiError::NotFound) => directory::known(false, "parent_id", "council", parent),
        other => other.map(|_| ()),
    }?;
    match id {
        Some(id) => directory::ensure_no_loop(conn, "councils", "council", id, parent).await,
        None => Ok(()),
    }
}

/// Checks a council's other references: host agency, region, spheres, and the order of its dates.
async fn check(
    conn: &mut Conn,
    host: Option<Uuid>,
    region: Option<&str>,
    sphere_codes: &[String],
    dates: (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
) -> ApiResult<()> {
    if let (Some(from), Some(to)) = dates
        && to < from
    {
        return Err(ApiError::Validation(vec![FieldError::new(
            "dissolved_on",
            "must not be before established_on",
        )]));
    }
    if let Some(host) = host {
        Agency::ensure_exists(conn, host, "host_agency_id").await?;
    }
    if let Some(code) = region {
        regions::ensure_exists(conn, code, "region_code").await?;
    }
    spheres::ensure_all_exist(conn, sphere_codes, "sphere_codes").await
}

/// Creates a council (admins).
#[utoipa::path(tag = "councils", request_body = CreateCouncil, security(("bearer" = [])),
    responses((status = 201, body = Council, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/councils")]
pub async fn create_council(
    state: Data<AppState>,
    actor: Actor,
    body: Json<CreateCouncil>,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let new = body.0;
    let save = async |conn: &mut Conn, id: Uuid| {
        let dates = (new.established_on, new.dissolved_on);
        check_parent(conn, &actor.caller(), None, new.parent_id).await?;
        check(
            conn,
            new.host_agency_id,
            new.region_code.as_deref(),
            &new.sphere_codes,
            dates,
        )
        .await?;
        diesel::insert_into(councils::table)
            .values((&new, councils::id.eq(id), councils::created_by.eq(actor.id)))
            .execute(conn)
            .await?;
        Ok(())
    };
    let caller = actor.caller();
    let find = async |conn: &mut Conn, id| Council::find(conn, &caller, id).await;
    directory::create(&mut *state.db().await?, &actor, "councils", find, save).await
}

/// Changes a council (admins, and the council's secretaries).
#[utoipa::path(tag = "councils", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateCouncil, security(("bearer" = [])),
    responses((status = 200, body = Council, headers(("ETag" = String))), ProblemResponses))]
#[patch("/councils/{id}")]
pub async fn update_council(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateCouncil>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let id = path.id;
    let caller = actor.caller();
    let find = async |conn: &mut Conn, id| Council::find(conn, &caller, id).await;
    let rule = || {
        secretary_or_admin(
            &actor,
            id,
            "Only admins and the council's secretaries may edit it.",
        )
    };
    let council = directory::existing(Table::Councils, id, find, rule)
        .update(
            &mut *state.db().await?,
            &actor,
            &if_match,
            async |conn, before| {
                let host = changes.host_agency_id.unwrap_or(before.host_agency_id);
                let parent = changes.parent_id.unwrap_or(before.parent_id);
                let region = changes
                    .region_code
                    .clone()
                    .unwrap_or(before.region_code.clone());
                let spheres = changes
                    .sphere_codes
                    .clone()
                    .unwrap_or(before.sphere_codes.clone());
                let dates = (
                    changes.established_on.unwrap_or(before.established_on),
                    changes.dissolved_on.unwrap_or(before.dissolved_on),
                );
                // Only a new parent is checked: a secretary may edit a branch whose parent they cannot read.
                let new_parent = if parent == before.parent_id {
                    None
                } else {
                    parent
                };
                check_parent(conn, &actor.caller(), Some(id), new_parent).await?;
                check(conn, host, region.as_deref(), &spheres, dates).await?;
                // A new host becomes the host party of the council's meetings by trigger (see the migration
                // `derived_agency_parties`): the directory does not write engagement parties.
                crate::directory_update!(conn, councils, id, &changes)
            },
        )
        .await?;
    Ok(ok_versioned(&council, council.version))
}

crate::directory_delete_handler! {
    tag: "councils", table: Councils, remove: Council::remove, |actor| {
        let caller = actor.caller();
        async move |conn: &mut Conn, id| Council::find(conn, &caller, id).await
    },
    /// Deletes a council (admins); 409 while meetings, branches or secretaries refer to it.
    delete_council: "/councils/{id}",
}

/// The change history of a council (admins, analysts and its secretaries).
#[utoipa::path(tag = "councils", params(IdPath, PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<crate::audit::AuditEntry>), ProblemResponses))]
#[get("/councils/{id}/history")]
pub async fn council_history(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    page: Query<PageParams>,
) -> ApiResult<actix_web::web::Json<Page<crate::audit::AuditEntry>>> {
    Council::find(&mut *state.db().await?, &actor.caller(), path.id).await?;
    if !(actor.may_read_audit() || actor.may_edit_council(path.id)) {
        return Err(ApiError::Forbidden(
            "Only admins, analysts and the council's secretaries may read its history.",
        ));
    }
    directory::history::<Council>(&state, path.id, &page).await
}
