//! HTTP handlers of public hearings.

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel_async::AsyncConnection;
use uuid::Uuid;

use super::model::{self, CreateHearing, Hearing, HearingFilter, UpdateHearing};
use crate::audit::{self, AuditAction};
use crate::auth::{Actor, Caller, Role};
use crate::db::Conn;
use crate::engagements::EngagementKind;
use crate::engagements::model::NEWEST;
use crate::engagements::write::{Core, lock_for_write, set_parties};
use crate::http::export::{self};
use crate::http::{
    ApiError, ApiResult, FormatParam, IdPath, IfMatch, Json, Page, PageParams, Path,
    ProblemResponses, Query, created, ok_versioned,
};
use crate::state::AppState;

const ENTITY: &str = "hearing";

/// Lists the hearings the caller may read, newest first; `format=csv|ndjson` streams them all.
#[utoipa::path(tag = "hearings", params(HearingFilter, PageParams, FormatParam),
    responses((status = 200, description = "A page, or the whole list as CSV/NDJSON", content(
        (Page<Hearing> = "application/json"), (String = "text/csv"), (String = "application/x-ndjson"))),
        ProblemResponses))]
#[get("/hearings")]
pub async fn list_hearings(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<HearingFilter>,
    page: Query<PageParams>,
    format: Query<FormatParam>,
) -> ApiResult<HttpResponse> {
    let filter = filter.0;
    if let Some(code) = &filter.region_code {
        crate::regions::ensure_exists(&mut *state.db().await?, code, "region_code").await?;
    }
    export::respond(
        &state,
        format.get(),
        &page,
        "hearings",
        NEWEST,
        Box::new(move |conn, cursor, limit| {
            let (filter, caller) = (filter.clone(), caller.clone());
            Box::pin(async move { model::list(conn, &caller, &filter, cursor, limit).await })
        }),
    )
    .await
}

/// Gets one hearing.
#[utoipa::path(tag = "hearings", params(IdPath),
    responses((status = 200, body = Hearing, headers(("ETag" = String))), ProblemResponses))]
#[get("/hearings/{id}")]
pub async fn get_hearing(
    state: Data<AppState>,
    caller: Caller,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    let hearing = model::find(&mut conn, &caller, path.id).await?;
    Ok(ok_versioned(&hearing, hearing.version))
}

/// Checks a hearing body and writes the whole hearing: core, specific part, organisers, invitations, parties.
async fn save(
    conn: &mut Conn,
    actor: &Actor,
    id: Uuid,
    owner: Option<Uuid>,
    body: &CreateHearing,
    existing: bool,
) -> ApiResult<()> {
    body.check_actors(conn).await?;
    let core = Core {
        kind: EngagementKind::Hearing,
        title: body.title.clone(),
        summary: body.summary.clone(),
        status: body.status.into(),
        starts_on: body.starts_on,
        ends_on: None,
        region_code: body.region_code.clone(),
        sphere_codes: body.sphere_codes.clone(),
        visibility: body.visibility,
        owner_organization_id: owner,
        council_id: None,
        documents: Core::documents_json(&body.documents),
    };
    core.check(conn).await?;
    if existing {
        core.update(conn, id).await?;
    } else {
        core.insert(conn, id, actor).await?;
    }
    model::write_specific(conn, id, body, existing).await?;
    set_parties(conn, id, &body.parties()).await
}

/// Logs a hearing an NGO organised, alone or with partners (NGO members must list their own organisation).
#[utoipa::path(tag = "hearings", request_body = CreateHearing, security(("bearer" = [])),
    responses((status = 201, body = Hearing, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/hearings")]
pub async fn create_hearing(
    state: Data<AppState>,
    actor: Actor,
    body: Json<CreateHearing>,
) -> ApiResult<HttpResponse> {
    let body = body.0;
    let owner = match actor.role {
        Role::Admin => <[Uuid]>::first(&body.organizer_ids).copied(),
        Role::NgoMember
            if actor
                .organization_id
                .is_some_and(|org| body.organizer_ids.contains(&org)) =>
        {
            actor.organization_id
        }
        Role::NgoMember => {
            return Err(ApiError::Forbidden(
                "An NGO member may log only hearings their organisation organised.",
            ));
        }
        _ => {
            return Err(ApiError::Forbidden(
                "Only NGO members and admins log hearings.",
            ));
        }
    };
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let hearing = conn
        .transaction(async |conn| {
            let id = Uuid::now_v7();
            save(conn, &actor, id, owner, &body, false).await?;
            let hearing = model::find(conn, &caller, id).await?;
            audit::record(
                conn,
                &actor,
                AuditAction::Create,
                ENTITY,
                &id.to_string(),
                None,
                Some(&hearing),
            )
            .await?;
            Ok::<_, ApiError>(hearing)
        })
        .await?;
    Ok(created(
        &format!("/api/v1/hearings/{}", hearing.id),
        &hearing,
        hearing.version,
    ))
}

/// Loads a hearing for a write: 404 when the caller may not read it, 403 when they may not change it.
async fn writable(conn: &mut Conn, actor: &Actor, id: Uuid) -> ApiResult<Hearing> {
    lock_for_write(
        conn,
        actor,
        id,
        "Only the organisers and admins may change this hearing.",
    )
    .await?;
    model::find(
        conn,
        &Caller {
            actor: Some(actor.clone()),
        },
        id,
    )
    .await
}

/// Changes a hearing; lists in the body replace the stored ones.
#[utoipa::path(tag = "hearings", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateHearing, security(("bearer" = [])),
    responses((status = 200, body = Hearing, headers(("ETag" = String))), ProblemResponses))]
#[patch("/hearings/{id}")]
pub async fn update_hearing(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateHearing>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let id = path.id;
    let caller = Caller {
        actor: Some(actor.clone()),
    };
    let mut conn = state.db().await?;
    let hearing = conn
        .transaction(async |conn| {
            let before = writable(conn, &actor, id).await?;
            if_match.check(before.version)?;
            let owner = before.owner_organization_id;
            let merged = changes.apply(before.clone());
            save(conn, &actor, id, owner, &merged, true).await?;
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
    Ok(ok_versioned(&hearing, hearing.version))
}

/// Deletes a hearing; 409 while recommendations come from it.
#[utoipa::path(tag = "hearings", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted"), ProblemResponses))]
#[delete("/hearings/{id}")]
pub async fn delete_hearing(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let id = path.id;
    let mut conn = state.db().await?;
    conn.transaction(async |conn| {
        let before = writable(conn, &actor, id).await?;
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

/// The change history of a hearing (admins, analysts and its organisers).
#[utoipa::path(tag = "hearings", params(IdPath, PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<crate::audit::AuditEntry>), ProblemResponses))]
#[get("/hearings/{id}/history")]
pub async fn hearing_history(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    page: Query<PageParams>,
) -> ApiResult<actix_web::web::Json<Page<crate::audit::AuditEntry>>> {
    crate::engagements::handlers::history(&state, &actor, ENTITY, path.id, &page).await
}
