//! `POST /auth/login`, `/auth/refresh`, `/auth/logout` and `GET /auth/me`.

use actix_web::web::Data;
use actix_web::{HttpResponse, get, post};
use chrono::{Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;
use validator::Validate;

use crate::auth::revocation::revoke_family;
use crate::auth::token::{self, ACCESS_TTL_SECONDS, REFRESH_TTL_DAYS};
use crate::auth::{Actor, password};
use crate::db::Conn;
use crate::db::schema::{login_failures, refresh_tokens};
use crate::http::{ApiError, ApiResult, Json, ProblemResponses};
use crate::state::AppState;
use crate::users::User;
use crate::users::model::normalize_email;

/// Failed logins for one email allowed within [`FAILURE_WINDOW_MINUTES`] before 429.
pub const MAX_FAILURES: i64 = 5;
/// The window in which failed logins are counted.
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

const BAD_CREDENTIALS: &str = "The email or password is wrong.";
const BAD_REFRESH: &str = "The refresh token is unknown, expired or already used.";

/// Credentials.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email.
    #[validate(length(min = 3, max = 254))]
    #[schema(min_length = 3, max_length = 254)]
    pub email: String,
    /// Password.
    #[validate(length(min = 1, max = 128))]
    #[schema(min_length = 1, max_length = 128, format = Password)]
    pub password: String,
}

/// A refresh token, to rotate or revoke.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token from the last login or refresh.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub refresh_token: String,
}

/// The stored state of a refresh token.
#[derive(Queryable, Selectable)]
#[diesel(table_name = refresh_tokens, check_for_backend(diesel::pg::Pg))]
struct StoredRefresh {
    id: Uuid,
    user_id: Uuid,
    family_id: Uuid,
    expires_at: chrono::DateTime<Utc>,
    revoked_at: Option<chrono::DateTime<Utc>>,
}

/// A new access token and refresh token.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// JWT for `Authorization: Bearer`.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// Opaque token for `POST /auth/refresh`; single use.
    pub refresh_token: String,
}

/// Logs in. Wrong email and wrong password get the same 401; after 5 failures in 15 minutes, 429. While too
/// many logins are being checked at once, 503 with `Retry-After`.
#[utoipa::path(tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair), ProblemResponses))]
#[post("/auth/login")]
pub async fn login(state: Data<AppState>, body: Json<LoginRequest>) -> ApiResult<HttpResponse> {
    let email = normalize_email(&body.email);
    // The attempt is recorded before the slow check so that parallel guesses count against the limit too;
    // a success deletes it again. The connection goes back to the pool while the password is hashed.
    let (attempt, credentials) = {
        let mut conn = state.db().await?;
        let attempt: i64 = diesel::insert_into(login_failures::table)
            .values(login_failures::email.eq(&email))
            .returning(login_failures::id)
            .get_result(&mut conn)
            .await?;
        if let Some(retry_after) = locked_out(&mut conn, &email).await? {
            return Err(ApiError::TooManyRequests(retry_after));
        }
        (attempt, User::credentials(&mut conn, &email).await?)
    };
    let (user_id, hash) = match credentials {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    let ok = match password::verify(body.password.clone(), hash).await {
        Ok(ok) => ok,
        Err(password::VerifyError::Busy) => {
            // The password was never checked, so the attempt is not a failure: a flood must not lock the
            // account whose owner retries after the 503.
            tracing::warn!("login turned away: every password verifier is busy");
            let mut conn = state.db().await?;
            diesel::delete(login_failures::table.find(attempt))
                .execute(&mut conn)
                .await?;
            return Err(ApiError::Unavailable("password verifiers busy".into()));
        }
        Err(password::VerifyError::Failed(error)) => return Err(error.into()),
    };
    let mut conn = state.db().await?;
    let Some(user_id) = user_id.filter(|_| ok) else {
        tracing::info!("failed login");
        return Err(ApiError::Unauthorized(BAD_CREDENTIALS));
    };
    let pair = conn
        .transaction(async |conn| {
            diesel::delete(login_failures::table.filter(login_failures::email.eq(&email)))
                .execute(conn)
                .await?;
            issue(conn, &state, user_id, Uuid::now_v7()).await
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(pair))
}

/// Seconds until the email may try again, when it has failed too often; old failures are forgotten here.
async fn locked_out(conn: &mut Conn, email: &str) -> ApiResult<Option<u64>> {
    let since = Utc::now() - Duration::minutes(FAILURE_WINDOW_MINUTES);
    diesel::delete(login_failures::table.filter(login_failures::attempted_at.le(since)))
        .execute(conn)
        .await?;
    let (count, oldest): (i64, Option<chrono::DateTime<Utc>>) = login_failures::table
        .filter(login_failures::email.eq(email))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(login_failures::attempted_at),
        ))
        .first(conn)
        .await?;
    // The attempt being made is counted: the sixth within the window is refused.
    if count <= MAX_FAILURES {
        return Ok(None);
    }
    let until = oldest.unwrap_or_else(Utc::now) + Duration::minutes(FAILURE_WINDOW_MINUTES);
    Ok(Some(
        u64::try_from((until - Utc::now()).num_seconds())
            .unwrap_or(0)
            .max(1),
    ))
}

/// Stores a new refresh token in `family` and signs an access token with the user's current role.
async fn issue(
    conn: &mut Conn,
    state: &AppState,
    user_id: Uuid,
    family: Uuid,
) -> ApiResult<TokenPair> {
    let user = User::find(conn, user_id).await?;
    let (refresh_token, digest) = token::new_refresh_token();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::user_id.eq(user.id),
            refresh_tokens::family_id.eq(family),
            refresh_tokens::token_hash.eq(digest),
            refresh_tokens::expires_at.eq(Utc::now() + Duration::days(REFRESH_TTL_DAYS)),
        ))
        .execute(conn)
        .await?;
    let access = state.tokens.issue(
        user.id,
        user.role,
        user.organization_id,
        user.agency_id,
        user.council_ids.clone(),
    )?;
    Ok(TokenPair {
        access_token: access,
        token_type: "Bearer".to_owned(),
        expires_in: ACCESS_TTL_SECONDS,
        refresh_token,
    })
}

/// Trades a refresh token for a new pair; the old token stops working. Presenting a used token again
/// revokes its whole family (someone else may hold a copy).
#[utoipa::path(tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair), ProblemResponses))]
#[post("/auth/refresh")]
pub async fn refresh(state: Data<AppState>, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let digest = token::digest(&body.refresh_token);
    let mut conn = state.db().await?;
    let outcome = conn
        .transaction(async |conn| {
            let found: Option<StoredRefresh> = refresh_tokens::table
                .filter(refresh_tokens::token_hash.eq(&digest))
                .select(StoredRefresh::as_select())
                .for_update()
                .first(conn)
                .await
                .optional()?;
            let Some(StoredRefresh { id, user_id, family_id: family, expires_at, revoked_at }) = found else {
                return Ok(None);
            };
            if revoked_at.is_some() {
                tracing::warn!(%user_id, "a used refresh token was presented again; revoking its family");
                revoke_family(conn, family).await?;
                return Ok(None);
            }
            if expires_at <= Utc::now() {
                return Ok(None);
            }
            diesel::update(refresh_tokens::table.find(id))
                .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
            issue(conn, &state, user_id, family).await.map(Some)
        })
        .await?;
    match outcome {
        Some(pair) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(pair)),
        None => Err(ApiError::Unauthorized(BAD_REFRESH)),
    }
}

/// Ends the session the refresh token belongs to. Always 204, so it reveals nothing about the token.
#[utoipa::path(tag = "auth", request_body = RefreshRequest,
    responses((status = 204, description = "Logged out"), ProblemResponses))]
#[post("/auth/logout")]
pub async fn logout(state: Data<AppState>, body: Json<RefreshRequest>) -> ApiResult<HttpResponse> {
    let digest = token::digest(&body.refresh_token);
    let mut conn = state.db().await?;
    let family: Option<Uuid> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(&digest))
        .select(refresh_tokens::family_id)
        .first(&mut conn)
        .await
        .optional()?;
    if let Some(family) = family {
        revoke_family(&mut conn, family).await?;
    }
    Ok(HttpResponse::NoContent().finish())
}

/// The user the access token belongs to.
#[utoipa::path(tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), ProblemResponses))]
#[get("/auth/me")]
pub async fn me(state: Data<AppState>, actor: Actor) -> ApiResult<HttpResponse> {
    let mut conn = state.db().await?;
    match User::find(&mut conn, actor.id).await {
        Ok(user) => Ok(HttpResponse::Ok().json(user)),
        Err(ApiError::NotFound) => Err(ApiError::Unauthorized(
            "The account of this token no longer exists.",
        )),
        Err(e) => Err(e),
    }
}
