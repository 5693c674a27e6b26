//! Whether an access token's session is still alive, asked of the database at most once per cache period.
//!
//! An access token carries its user's session version (`sv`) and its session (`sid`, the refresh-token family).
//! It is refused once the user is deleted or disabled, once the version has moved on (a change of role,
//! bindings or password), or once the session has ended (logout, a reused refresh token, a password change).
//! Each process remembers what it last read for a (user, session) pair for a short time, so a revocation made
//! by another process is seen within that time; the process that makes it forgets the pair at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use uuid::Uuid;

use super::token::Claims;
use crate::db::DbPool;
use crate::db::schema::{refresh_tokens, users};
use crate::http::ApiResult;

/// Pairs remembered at most; past this, expired ones are swept (and all, if none has expired).
const MAX_REMEMBERED: usize = 100_000;

/// What a process last read of a (user, session) pair.
#[derive(Debug, Clone, Copy)]
struct Seen {
    at: Instant,
    /// The user's session version, or `None` when the user, the account or the session is gone.
    version: Option<i32>,
}

/// The session check, with its short memory.
pub struct Sessions {
    pool: DbPool,
    ttl: Duration,
    /// One memory for the whole process, whichever pool reads: a pair forgotten by one worker is forgotten by all.
    seen: Arc<Mutex<HashMap<(Uuid, Uuid), Seen>>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Sessions {
    /// A check over this pool that trusts what it read for `ttl` (zero: reads on every request).
    pub fn new(pool: DbPool, ttl: Duration) -> Self {
        Self {
            pool,
            ttl,
            seen: Arc::default(),
        }
    }

    /// The same check, with the same memory, reading through another pool (a worker's own).
    pub fn with_pool(&self, pool: DbPool) -> Self {
        Self {
            pool,
            ttl: self.ttl,
            seen: Arc::clone(&self.seen),
        }
    }

    fn remembered(&self) -> std::sync::MutexGuard<'_, HashMap<(Uuid, Uuid), Seen>> {
        // A panic while holding the lock leaves a map that is still consistent: every write is one insert.
        self.seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Whether the token's session is alive and its rights current.
    pub async fn admits(&self, claims: &Claims) -> ApiResult<bool> {
        let key = (claims.sub, claims.sid);
        let cached = self.remembered().get(&key).copied();
        if let Some(seen) = cached.filter(|s| s.at.elapsed() < self.ttl) {
            match seen.version {
                // A newer token than the last read: the rights changed since; read again.
                Some(version) if claims.sv > version => {}
                Some(version) => return Ok(claims.sv == version),
                None => return Ok(false),
            }
        }
        let version = self.read(claims.sub, claims.sid).await?;
        if !self.ttl.is_zero() {
            let mut seen = self.remembered();
            if seen.len() >= MAX_REMEMBERED {
                let ttl = self.ttl;
                seen.retain(|_, s| s.at.elapsed() < ttl);
                if seen.len() >= MAX_REMEMBERED {
                    seen.clear();
                }
            }
            seen.insert(
                key,
                Seen {
                    at: Instant::now(),
                    version,
                },
            );
        }
        Ok(version == Some(claims.sv))
    }

    /// The user's session version if the user exists, is enabled, and the session has a live refresh token.
    async fn read(&self, user: Uuid, session: Uuid) -> ApiResult<Option<i32>> {
        let mut conn = self.pool.get().await?;
        let live = refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(session))
            .filter(refresh_tokens::user_id.eq(user))
            .filter(refresh_tokens::revoked_at.is_null())
            .filter(refresh_tokens::expires_at.gt(diesel::dsl::now));
        Ok(users::table
            .filter(users::id.eq(user))
            .filter(users::disabled.eq(false))
            .filter(diesel::dsl::exists(live))
            .select(users::session_version)
            .first(&mut conn)
            .await
            .optional()?)
    }

    /// Forgets what this process read of a user (their rights changed here, or they were deleted).
    pub fn forget_user(&self, user: Uuid) {
        self.remembered().retain(|(u, _), _| *u != user);
    }

    /// Forgets what this process read of a session (it ended here).
    pub fn forget_session(&self, session: Uuid) {
        self.remembered().retain(|(_, s), _| *s != session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_forgotten_through_one_pool_is_forgotten_through_every_pool() {
        let pool = |size| {
            crate::db::pool("postgres://nobody@127.0.0.1:1/none", size)
                .expect("a pool is built without connecting")
        };
        let first = Sessions::new(pool(2), Duration::from_secs(30));
        let second = first.with_pool(pool(3));
        let key = (Uuid::from_u128(1), Uuid::from_u128(2));
        first.remembered().insert(
            key,
            Seen {
                at: Instant::now(),
                version: Some(1),
            },
        );
        assert!(
            second.remembered().contains_key(&key),
            "what one worker read, the others remember"
        );
        second.forget_user(key.0);
        assert!(
            first.remembered().is_empty(),
            "a revocation made on one worker holds on every worker at once"
        );
    }
}
