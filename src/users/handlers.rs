//! HTTP handlers of users (admins only).

use actix_web::web::Data;
use actix_web::{HttpResponse, delete, get, patch, post};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::model::{self, Binding, CreateUser, NewUser, OLDEST, UpdateUser, User, normalize_email};
use crate::audit::write::{self, Table};
use crate::auth::{Actor, password};
use crate::db::Conn;
use crate::db::schema::users;
use crate::http::{
    ApiError, ApiResult, IdPath, IfMatch, Json, Page, PageParams, Path, ProblemResponses, Query,
    created, ok_versioned,
};
use crate::regions::directory;
use crate::state::AppState;

/// Lists users, oldest first (admins).
#[utoipa::path(tag = "users", params(PageParams), security(("bearer" = [])),
    responses((status = 200, body = Page<User>), ProblemResponses))]
#[get("/users")]
pub async fn list_users(
    state: Data<AppState>,
    actor: Actor,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let mut conn = state.db().await?;
    let rows = User::list(&mut conn, page.cursor(OLDEST)?, page.limit()).await?;
    Ok(HttpResponse::Ok().json(Page::from_rows(rows, page.limit(), OLDEST)))
}

/// Gets one user (admins).
#[utoipa::path(tag = "users", params(IdPath), security(("bearer" = [])),
    responses((status = 200, body = User, headers(("ETag" = String))), ProblemResponses))]
#[get("/users/{id}")]
pub async fn get_user(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let mut conn = state.db().await?;
    let user = User::find(&mut conn, path.id).await?;
    Ok(ok_versioned(&user, user.version))
}

/// Creates a user (admins). The password is stored as an Argon2id hash and never returned.
#[utoipa::path(tag = "users", request_body = CreateUser, security(("bearer" = [])),
    responses((status = 201, body = User, headers(("Location" = String), ("ETag" = String))), ProblemResponses))]
#[post("/users")]
pub async fn create_user(
    state: Data<AppState>,
    actor: Actor,
    body: Json<CreateUser>,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let new = body.0;
    let hash = password::hash(new.password.clone()).await?;
    let user = create(&mut *state.db().await?, &actor, &new, &hash).await?;
    Ok(created(
        &format!("/api/v1/users/{}", user.id),
        &user,
        user.version,
    ))
}

/// Creates a user on the audited write path; shared by the API, `hamkori user create`, start-up and the demo.
pub async fn create(
    conn: &mut Conn,
    actor: &Actor,
    new: &CreateUser,
    hash: &str,
) -> ApiResult<User> {
    let id = Uuid::now_v7();
    let save = async |conn: &mut Conn| {
        let binding = Binding {
            role: new.role,
            organization_id: new.organization_id,
            agency_id: new.agency_id,
            council_ids: new.council_ids.clone(),
        };
        binding.check(conn).await?;
        let binding = binding.normalized();
        let email = normalize_email(&new.email);
        let user = NewUser {
            id,
            email: &email,
            display_name: &new.display_name,
            role: new.role,
            organization_id: binding.organization_id,
            agency_id: binding.agency_id,
            password_hash: hash,
        };
        model::insert(conn, user, &binding.council_ids).await
    };
    write::create(conn, actor, save, async |conn| User::find(conn, id).await).await
}

/// Changes a user (admins). A new password replaces the old one and ends the user's sessions; a new role or
/// binding, or disabling the account, refuses every access token issued before (the user refreshes to get the
/// new rights; a disabled account cannot). An admin cannot disable their own account.
#[utoipa::path(tag = "users", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    request_body = UpdateUser, security(("bearer" = [])),
    responses((status = 200, body = User, headers(("ETag" = String))), ProblemResponses))]
#[patch("/users/{id}")]
pub async fn update_user(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
    body: Json<UpdateUser>,
) -> ApiResult<HttpResponse> {
    let changes = body.0;
    let id = path.id;
    let account = directory::existing(
        Table::Users,
        id,
        User::find,
        directory::admins_only(&actor)?,
    );
    let hash = match &changes.password {
        Some(p) => Some(password::hash(p.clone()).await?),
        None => None,
    };
    let user = account
        .update(
            &mut *state.db().await?,
            &actor,
            &if_match,
            async |conn, before| {
                let binding = Binding {
                    role: changes.role.unwrap_or(before.role),
                    organization_id: changes.organization_id.unwrap_or(before.organization_id),
                    agency_id: changes.agency_id.unwrap_or(before.agency_id),
                    council_ids: changes
                        .council_ids
                        .clone()
                        .unwrap_or_else(|| before.council_ids.clone()),
                };
                binding.check(conn).await?;
                let binding = binding.normalized();
                let disabled = changes.disabled.unwrap_or(before.disabled);
                if disabled && id == actor.id {
                    return Err(ApiError::Conflict(
                        "You cannot disable your own account.".to_owned(),
                    ));
                }
                let mut councils = binding.council_ids.clone();
                councils.sort_unstable();
                councils.dedup();
                let rights_changed = binding.role != before.role
                    || binding.organization_id != before.organization_id
                    || binding.agency_id != before.agency_id
                    || councils != before.council_ids;
                // Moving the session version on refuses every access token issued before (auth::session).
                let ends_tokens =
                    rights_changed || hash.is_some() || (disabled && !before.disabled);
                let email = changes
                    .email
                    .as_deref()
                    .map(normalize_email)
                    .unwrap_or_else(|| before.email.clone());
                let display_name = changes
                    .display_name
                    .clone()
                    .unwrap_or_else(|| before.display_name.clone());
                diesel::update(users::table.find(id))
                    .set((
                        users::email.eq(&email),
                        users::display_name.eq(&display_name),
                        users::role.eq(binding.role),
                        users::organization_id.eq(binding.organization_id),
                        users::agency_id.eq(binding.agency_id),
                        users::disabled.eq(disabled),
                        users::session_version.eq(users::session_version + i32::from(ends_tokens)),
                        users::updated_at.eq(diesel::dsl::now),
                        users::version.eq(users::version + 1),
                    ))
                    .execute(conn)
                    .await?;
                if let Some(hash) = &hash {
                    diesel::update(users::table.find(id))
                        .set(users::password_hash.eq(hash))
                        .execute(conn)
                        .await?;
                    crate::auth::revocation::revoke_all(conn, id).await?;
                }
                User::set_councils(conn, id, &binding.council_ids).await
            },
        )
        .await?;
    // This process refuses the old tokens at once; the others within their session cache period.
    state.sessions.forget_user(id);
    Ok(ok_versioned(&user, user.version))
}

/// Deletes a user (admins); their access tokens are refused from then on. An admin cannot delete their own
/// account.
#[utoipa::path(tag = "users", params(IdPath, ("If-Match" = Option<String>, Header, description = "The ETag last read")),
    security(("bearer" = [])), responses((status = 204, description = "Deleted"), ProblemResponses))]
#[delete("/users/{id}")]
pub async fn delete_user(
    state: Data<AppState>,
    actor: Actor,
    path: Path<IdPath>,
    if_match: IfMatch,
) -> ApiResult<HttpResponse> {
    let id = path.id;
    let admins = directory::admins_only(&actor)?;
    // Nobody deletes themselves: an admin doing so could leave no one to manage the accounts.
    let rule = || {
        admins()?;
        if id == actor.id {
            return Err(ApiError::Conflict(
                "You cannot delete your own account.".to_owned(),
            ));
        }
        Ok(())
    };
    directory::existing(Table::Users, id, User::find, rule)
        .delete(&mut *state.db().await?, &actor, &if_match, User::remove)
        .await?;
    state.sessions.forget_user(id);
    Ok(HttpResponse::NoContent().finish())
}
