//! Failed-login throttling, kept in the database so that every API process sees the same counts.
//!
//! Failures are counted per account *and* client address (an IPv4 address or an IPv6 /64, see
//! `http::client`): guesses from one client lock out that client only, and the owner signs in from anywhere
//! else. Against guessing spread over many addresses, an account that has failed [`ACCOUNT_CEILING`] times in
//! the window is closed to every client except those it has signed in from before. An attempt refused here is
//! not counted, so retrying while throttled never extends the wait.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel::sql_types::Text;
use diesel_async::{AsyncConnection, RunQueryDsl};

use crate::db::Conn;
use crate::db::schema::{login_failures, refresh_tokens, users};
use crate::http::{ApiError, ApiResult};

/// Failed logins for one account from one client allowed within [`WINDOW_MINUTES`]; the next attempt is 429.
pub const MAX_FAILURES: i64 = 5;
/// Failed logins for one account from all clients together after which only known clients may try.
pub const ACCOUNT_CEILING: i64 = 100;
/// The window in which failures are counted.
pub const WINDOW_MINUTES: i64 = 15;

/// Counts a login attempt for `email` from `client`, or refuses it with 429 and `Retry-After` when either
/// limit is reached. Returns the attempt's id: a success or an unchecked attempt removes it again.
pub async fn count_attempt(conn: &mut Conn, email: &str, client: &str) -> ApiResult<i64> {
    let email = email.to_owned();
    let client = client.to_owned();
    conn.transaction(async |conn| {
        // One account's attempts are counted one at a time, so parallel guesses cannot all pass the count.
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 72092))")
            .bind::<Text, _>(&email)
            .execute(conn)
            .await?;
        let since = Utc::now() - Duration::minutes(WINDOW_MINUTES);
        diesel::delete(login_failures::table.filter(login_failures::attempted_at.le(since)))
            .execute(conn)
            .await?;
        let (count, oldest): (i64, Option<DateTime<Utc>>) = login_failures::table
            .filter(login_failures::email.eq(&email))
            .filter(login_failures::client.eq(&client))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(login_failures::attempted_at),
            ))
            .first(conn)
            .await?;
        if count >= MAX_FAILURES {
            return Err(ApiError::TooManyRequests(wait(oldest)));
        }
        let (count, oldest): (i64, Option<DateTime<Utc>>) = login_failures::table
            .filter(login_failures::email.eq(&email))
            .select((
                diesel::dsl::count_star(),
                diesel::dsl::min(login_failures::attempted_at),
            ))
            .first(conn)
            .await?;
        if count >= ACCOUNT_CEILING && !known_client(conn, &email, &client).await? {
            tracing::warn!(
                "an account's failed logins reached the ceiling; only known clients may try"
            );
            return Err(ApiError::TooManyRequests(wait(oldest)));
        }
        Ok(diesel::insert_into(login_failures::table)
            .values((
                login_failures::email.eq(&email),
                login_failures::client.eq(&client),
            ))
            .returning(login_failures::id)
            .get_result(conn)
            .await?)
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

/// Whether the account has signed in from this client before (its sessions remember their client).
async fn known_client(conn: &mut Conn, email: &str, client: &str) -> ApiResult<bool> {
    Ok(diesel::select(diesel::dsl::exists(
        refresh_tokens::table
            .inner_join(users::table)
            .filter(users::email.eq(email))
            .filter(refresh_tokens::client.eq(client)),
    ))
    .get_result(conn)
    .await?)
}

/// Removes an attempt whose password was never checked (every verifier was busy).
pub async fn uncount(conn: &mut Conn, attempt: i64) -> ApiResult<()> {
    diesel::delete(login_failures::table.find(attempt))
        .execute(conn)
        .await?;
    Ok(())
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
