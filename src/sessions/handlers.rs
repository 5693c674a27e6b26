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

use super::throttle;
use crate::auth::revocation::revoke_family;
use crate::auth::token::{self, ACCESS_TTL_SECONDS, Holder, REFRESH_TTL_DAYS};
use crate::auth::{Actor, password};
use crate::db::Conn;
use crate::db::schema::refresh_tokens;
use crate::http::client::ClientAddr;
use crate::http::{ApiError, ApiResult, Json, Problem, ProblemResponses};
use crate::state::AppState;
use crate::users::User;
use crate::users::model::normalize_email;

const BAD_CREDENTIALS: &str = "The email or password is wrong.";
const BAD_REFRESH: &str = "The refresh token is unknown, expired or already used.";
const DISABLED: &str = "The account is disabled.";

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

/// Logs in. Wrong email and wrong password get the same 401. Failures are counted per account and client
/// address: after 5 in 15 minutes that client gets 429 with `Retry-After` (attempts refused so are not counted),
/// while the account's owner still signs in from elsewhere; after 100 from all clients together, only clients
/// the account signed in from before may try. While too many logins are being checked at once, 503 with
/// `Retry-After`.
#[utoipa::path(tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenPair),
        (status = 401, description = "Wrong email or password (the same answer for both), or a disabled account",
            body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed logins for this account from this client",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds until the next attempt is allowed"))),
        (status = 503, description = "Every password verifier is busy; retry shortly",
            body = Problem, content_type = "application/problem+json",
            headers(("Retry-After" = u64, description = "Seconds to wait"))),
        ProblemResponses))]
#[post("/auth/login")]
pub async fn login(
    state: Data<AppState>,
    client: ClientAddr,
    body: Json<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let email = normalize_email(&body.email);
    let client = client.key();
    // A turn at the verifiers comes first: beyond them a flood is turned away (503) before it holds a pool
    // connection or counts as a failed attempt, since its password was never checked. The attempt is counted
    // before the slow check so that parallel guesses count against the limit too; a success forgets it again.
    // The connection goes back to the pool while the password is hashed.
    let turn = match password::turn().await {
        Ok(turn) => turn,
        Err(password::VerifyError::Busy) => {
            tracing::warn!("login turned away: every password verifier is busy");
            return Err(ApiError::Unavailable("password verifiers busy".into()));
        }
        Err(password::VerifyError::Failed(error)) => return Err(error.into()),
    };
    let credentials = {
        let mut conn = state.db().await?;
        throttle::count_attempt(&mut conn, &email, &client).await?;
        User::sign_in_credentials(&mut conn, &email).await?
    };
    let (user_id, hash) = match credentials {
        Some((id, hash)) => (Some(id), Some(hash)),
        None => (None, None),
    };
    let ok = password::verify(&turn, body.password.clone(), hash).await?;
    drop(turn);
    let Some(user_id) = user_id.filter(|_| ok) else {
        tracing::info!("failed login");
        return Err(ApiError::Unauthorized(BAD_CREDENTIALS));
    };
    let mut conn = state.db().await?;
    let pair = conn
        .transaction(async |conn| {
            throttle::succeeded(conn, &email, &client).await?;
            issue(conn, &state, user_id, Uuid::now_v7(), &client).await
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(pair))
}

/// Stores a new refresh token in the session `family` and signs an access token with the user's current
/// rights and session version. A disabled account gets nothing.
async fn issue(
    conn: &mut Conn,
    state: &AppState,
    user_id: Uuid,
    family: Uuid,
    client: &str,
) -> ApiResult<TokenPair> {
    // The version first, the rights after: a change of rights between the two reads then signs the new rights
    // with the old version, which the per-request check refuses (it fails closed), never old rights with the
    // new version.
    let (session_version, disabled) = User::session_state(conn, user_id).await?;
    let user = User::find(conn, user_id).await?;
    if disabled {
        return Err(ApiError::Unauthorized(DISABLED));
    }
    let (refresh_token, digest) = token::new_refresh_token();
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7()),
            refresh_tokens::user_id.eq(user.id),
            refresh_tokens::family_id.eq(family),
            refresh_tokens::token_hash.eq(digest),
            refresh_tokens::expires_at.eq(Utc::now() + Duration::days(REFRESH_TTL_DAYS)),
            refresh_tokens::client.eq(client),
        ))
        .execute(conn)
        .await?;
    let access = state.tokens.issue(Holder {
        user_id: user.id,
        role: user.role,
        organization_id: user.organization_id,
        agency_id: user.agency_id,
        council_ids: user.council_ids,
        session_id: family,
        session_version,
    })?;
    Ok(TokenPair {
        access_token: access,
        token_type: "Bearer".to_owned(),
        expires_in: ACCESS_TTL_SECONDS,
        refresh_token,
    })
}

/// What a refresh came to.
enum Refreshed {
    /// A new pair.
    Pair(TokenPair),
    /// Refused, nothing changed.
    Refused,
    /// A spent token came back after the grace window: its session was ended.
    Reused(Uuid),
}

/// Whether a session still has a live refresh token (it was not logged out or revoked).
async fn session_live(conn: &mut Conn, family: Uuid) -> ApiResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family))
            .filter(refresh_tokens::revoked_at.is_null())
            .filter(refresh_tokens::expires_at.gt(diesel::dsl::now)),
    ))
    .get_result(conn)
    .await?)
}

/// Trades a refresh token for a new pair; the old token stops working. A spent token presented again within
/// the grace window (10 s by default; a client whose answer was lost retries) gets another new pair in the same
/// session; later, presenting it revokes the whole session (someone else may hold a copy) and with it every
/// access token issued in it.
#[utoipa::path(tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenPair),
        (status = 401, description = "The refresh token is unknown, expired, already used or its account disabled",
            body = Problem, content_type = "application/problem+json"),
        ProblemResponses))]
#[post("/auth/refresh")]
pub async fn refresh(
    state: Data<AppState>,
    client: ClientAddr,
    body: Json<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let digest = token::digest(&body.refresh_token);
    let client = client.key();
    // Clamped: a grace of more than an hour would be no rotation at all.
    let grace = Duration::seconds(state.auth.refresh_grace_seconds.min(3600) as i64);
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
                return Ok(Refreshed::Refused);
            };
            let now = Utc::now();
            if let Some(revoked_at) = revoked_at {
                // Rotated moments ago, and the session still stands (not logged out, not revoked): a retry.
                if revoked_at > now - grace && expires_at > now && session_live(conn, family).await? {
                    tracing::info!(%user_id, "a refresh token was presented again within the grace window");
                    return issue(conn, &state, user_id, family, &client).await.map(Refreshed::Pair);
                }
                tracing::warn!(%user_id, "a used refresh token was presented again; revoking its family");
                revoke_family(conn, family).await?;
                return Ok(Refreshed::Reused(family));
            }
            if expires_at <= now {
                return Ok(Refreshed::Refused);
            }
            diesel::update(refresh_tokens::table.find(id))
                .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
            issue(conn, &state, user_id, family, &client).await.map(Refreshed::Pair)
        })
        .await?;
    match outcome {
        Refreshed::Pair(pair) => Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(pair)),
        Refreshed::Reused(family) => {
            state.sessions.forget_session(family);
            Err(ApiError::Unauthorized(BAD_REFRESH))
        }
        Refreshed::Refused => Err(ApiError::Unauthorized(BAD_REFRESH)),
    }
}

/// Ends the session the refresh token belongs to, and with it the session's access tokens. Always 204, so it
/// reveals nothing about the token.
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
        // Its access tokens are refused at once here, and within the session cache period elsewhere.
        state.sessions.forget_session(family);
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
