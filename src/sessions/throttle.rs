//! Failed-login throttling, kept in the database so that every API process sees the same counts.
//!
//! Failures are counted per account *and* client address (an IPv4 address or an IPv6 /64, see
//! `http::client`): guesses from one client lock out that client only, and the owner signs in from anywhere
//! else. Against guessing spread over many addresses, an account that has failed [`ACCOUNT_CEILING`] times in
//! the window is closed to every client except those it has signed in from before. An attempt refused here is
//! not counted, so retrying while throttled never extends the wait.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::db::Conn;
use crate::db::schema::login_failures;
use crate::http::{ApiError, ApiResult};

/// Failed logins for one account from one client allowed within [`WINDOW_MINUTES`]; the next attempt is 429.
pub const MAX_FAILURES: i64 = 5;
/// Failed logins for one account from all clients together after which only known clients may try.
pub const ACCOUNT_CEILING: i64 = 100;
/// The window in which failures are counted.
pub const WINDOW_MINUTES: i64 = 15;

/// Counts a login attempt for `email` from `client`, or refuses it with 429 and `Retry-After` when either
/// limit is reached. Returns the attempt's id (a success forgets the attempts with `succeeded`).
pub async fn count_attempt(conn: &mut Conn, email: &str, client: &str) -> ApiResult<i64> {
    #[derive(QueryableByName)]
    struct Counted {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let email = email.to_owned();
    let client = client.to_owned();
    conn.transaction(async |conn| {
        // One account's attempts are counted one at a time, so parallel guesses cannot all pass the count. The
        // lock and the count are sent together (pipelined: one round trip) but run in order, and the count is a
        // statement of its own, so it sees every attempt committed while this one waited for the lock. The common
        // case, an attempt within both limits, is that one insert.
        let mut shared: &Conn = conn;
        let lock = diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 72092))")
            .bind::<Text, _>(&email)
            .execute(&mut shared);
        let count = diesel::sql_query(
            "INSERT INTO login_failures (email, client) SELECT $1, $2 \
             WHERE (SELECT count(*) FROM login_failures \
                    WHERE email = $1 AND client = $2 AND attempted_at > now() - make_interval(mins => $3)) < $4 \
               AND ((SELECT count(*) FROM login_failures \
                     WHERE email = $1 AND attempted_at > now() - make_interval(mins => $3)) < $5 \
                    OR EXISTS (SELECT 1 FROM refresh_tokens r JOIN users u ON u.id = r.user_id \
                               WHERE u.email = $1 AND r.client = $2)) \
             RETURNING id",
        )
        .bind::<Text, _>(&email)
        .bind::<Text, _>(&client)
        .bind::<Integer, _>(WINDOW_MINUTES as i32)
        .bind::<BigInt, _>(MAX_FAILURES)
        .bind::<BigInt, _>(ACCOUNT_CEILING)
        .load::<Counted>(&mut shared);
        let (_, counted) = futures_util::future::try_join(lock, count).await?;
        let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
        if let Some(Counted { id }) = counted.into_iter().next() {
            // Failures older than the window count for nothing; every so often they are swept.
            if id % 64 == 0 {
                diesel::delete(login_failures::table.filter(login_failures::attempted_at.le(since)))
                    .execute(conn)
                    .await?;
            }
            return Ok(id);
        }
        let (count, oldest): (i64, Option<DateTime<Utc>>) = login_failures::table
            .filter(login_failures::email.eq(&email))
            .filter(login_failures::client.eq(&client))
            .filter(login_failures::attempted_at.gt(since))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(login_failures::attempted_at),
            ))
            .first(conn)
            .await?;
        if count >= MAX_FAILURES {
            return Err(ApiError::TooManyRequests(wait(oldest)));
        }
        tracing::warn!("an account's failed logins reached the ceiling; only known clients may try");
        let oldest: Option<DateTime<Utc>> = login_failures::table
            .filter(login_failures::email.eq(&email))
            .filter(login_failures::attempted_at.gt(since))
            .select(diesel::dsl::min(login_failures::attempted_at))
            .first(conn)
            .await?;
        Err(ApiError::TooManyRequests(wait(oldest)))
    })
    .await
}

/// Seconds until the oldest failure leaves the window: counts never pass a limit (refused attempts are not
/// counted), so that is when the next attempt is allowed.
fn wait(oldest: Option<DateTime<Utc>>) -> u64 {
    let until = oldest.unwrap_or_else(Utc::now) + Duration::minutes(WINDOW_MINUTES);
    u64::try_from((until - Utc::now()).num_seconds())
        .unwrap_or(0)
        .max(1)
}

/// Forgets the failures of this account from this client after a successful login (and only those: the owner
/// signing in must not lift an attacker's throttle elsewhere).
pub async fn succeeded(conn: &mut Conn, email: &str, client: &str) -> ApiResult<()> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::email.eq(email))
            .filter(login_failures::client.eq(client)),
    )
    .execute(conn)
    .await?;
    Ok(())
}
