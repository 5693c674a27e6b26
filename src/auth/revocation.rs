//! Revoking refresh tokens: one session (a rotation family), or every session of a user.
//!
//! Here rather than with the session endpoints because changing a password (in `users`) revokes too, and users
//! sit below those endpoints.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use crate::db::Conn;
use crate::db::schema::refresh_tokens;
use crate::http::ApiResult;

/// Revokes the refresh tokens of one family that are still live (logout, or a reused token).
pub async fn revoke_family(conn: &mut Conn, family: Uuid) -> ApiResult<()> {
    diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(family)))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}

/// Revokes every refresh token of a user (after a password change).
pub async fn revoke_all(conn: &mut Conn, user_id: Uuid) -> ApiResult<()> {
    diesel::update(refresh_tokens::table.filter(refresh_tokens::user_id.eq(user_id)))
        .filter(refresh_tokens::revoked_at.is_null())
        .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(())
}
