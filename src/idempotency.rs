//! Safe retries: an authenticated POST or PUT with an `Idempotency-Key` is done once (DESIGN.md §3).
//!
//! A middleware, so handlers do not change. For an operation whose document declares the header (every POST and
//! PUT that takes a token; see `openapi::IdempotencyKeys`), with a valid token, the request is claimed under
//! (user, key) before it runs, and its answer is kept for [`KEPT_FOR_HOURS`]:
//!
//! - the same key with the same method, path and body replays the first answer: status, body, content type,
//!   `Location` and `ETag`, with `Idempotent-Replayed: true`;
//! - the same key with another request is 422 naming the header, and runs nothing;
//! - the same key while the first request still runs is 409;
//! - a server error (5xx), 401, 408 or 429 is not kept: the claim is released and a retry runs afresh. Every other
//!   answer, a refusal included, is kept and replayed, as draft-ietf-httpapi-idempotency-key-header has it.
//! - a claim whose change was committed is never released nor taken as abandoned, even when the request failed
//!   after its commit: the claim carries the server's request id, and the audit rows the change committed carry
//!   it too ([`COMMITTED`]). A retry then gets 409 rather than a second change.
//! - when the database is unreachable right after the request (it went away mid-request), the release or the
//!   answer is written by a background task as soon as it is back (for up to [`FINISH_WITHIN_SECS`]).
//!
//! Without the header, or without a valid token (the handler answers 401), nothing changes. The body is read
//! whole to fingerprint it, within the limit the JSON extractor keeps (`http::extract::MAX_BODY_BYTES`, 413 over
//! it), and handed on to the handler.

use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::{Bytes, BytesMut, Data};
use actix_web::{HttpMessage, HttpResponse, ResponseError};
use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::auth::caller::authenticate;
use crate::db::Conn;
use crate::db::schema::idempotency_keys as keys;
use crate::http::error::FieldError;
use crate::http::extract::MAX_BODY_BYTES;
use crate::http::fallback::RouteTable;
use crate::http::request_id::RequestId;
use crate::http::{ApiError, ApiResult};
use crate::state::AppState;

/// The request header.
pub const HEADER: &str = "Idempotency-Key";
/// The longest key accepted.
pub const MAX_KEY_LENGTH: usize = 255;
/// How long an answer is replayed.
pub const KEPT_FOR_HOURS: i64 = 24;
/// A claim without an answer this old is taken to be abandoned (the process stopped while the request ran) and
/// may be claimed again: far longer than any request may run (statements stop after 15 s).
const ABANDONED_AFTER_MINUTES: i64 = 10;
/// Expired rows removed by each claim: bounded work per request keeps the table to about a day of keys, without
/// a background job.
const SWEEP: i64 = 100;
/// The answer's headers a replay repeats.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];
/// Whether the change of the request that made the claim was committed: its audit rows carry the claim's request
/// id, in the change's own transaction.
const COMMITTED: &str =
    "EXISTS (SELECT 1 FROM audit_log WHERE audit_log.request_id = idempotency_keys.request_id)";
/// How long a release or an answer that could not be written (the database went away) is retried in the
/// background.
pub const FINISH_WITHIN_SECS: u64 = 60;
/// Marks a replayed answer.
pub const REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

/// Checks a key: 1 to 255 visible ASCII characters (`!` to `~`), sent once.
fn parse_key(req: &ServiceRequest) -> Result<Option<String>, ApiError> {
    let mut values = req.headers().get_all(HEADER);
    let Some(first) = values.next() else {
        return Ok(None);
    };
    let invalid = |message: &str| ApiError::Validation(vec![FieldError::new(HEADER, message)]);
    if values.next().is_some() {
        return Err(invalid("must be sent once"));
    }
    let key = first.as_bytes();
    if key.is_empty() || key.len() > MAX_KEY_LENGTH {
        return Err(invalid("must be 1 to 255 characters long"));
    }
    if !key.iter().all(|b| (b'!'..=b'~').contains(b)) {
        return Err(invalid(
            "must be visible ASCII characters only (no spaces or control characters)",
        ));
    }
    Ok(Some(String::from_utf8_lossy(key).into_owned()))
}

/// Reads the whole body, within the limit of the JSON extractor.
async fn read_body(req: &mut ServiceRequest) -> ApiResult<Bytes> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
        return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// What makes two requests the same: method, path with query, body.
fn fingerprint(req: &ServiceRequest, body: &[u8]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(req.method().as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(req.uri().path().as_bytes());
    hasher.update(b"?");
    hasher.update(req.uri().query().unwrap_or_default().as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize().to_vec()
}

/// A kept answer.
#[derive(Debug, Queryable)]
struct Kept {
    fingerprint: Vec<u8>,
    status: Option<i16>,
    headers: Option<serde_json::Value>,
    body: Option<Vec<u8>>,
}

/// What a claim found.
enum Claim {
    /// The key is ours: run the request.
    Run,
    /// The first request's answer.
    Replay(HttpResponse),
    /// The key was used for another request.
    Mismatch,
    /// The first request is still running.
    InFlight,
}

fn cutoff(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::hours(KEPT_FOR_HOURS)
}

/// Claims (user, key) for a request, or says what holds it.
async fn claim(
    conn: &mut Conn,
    user: Uuid,
    key: &str,
    print: &[u8],
    request_id: &str,
) -> ApiResult<Claim> {
    let now = Utc::now();
    diesel::sql_query(format!(
        "DELETE FROM idempotency_keys WHERE (user_id, key) IN (SELECT user_id, key FROM idempotency_keys \
         WHERE created_at < now() - interval '{KEPT_FOR_HOURS} hours' ORDER BY created_at LIMIT {SWEEP} \
         FOR UPDATE SKIP LOCKED)"
    ))
    .execute(conn)
    .await?;
    let this = keys::table.find((user, key));
    // This key's own expired or abandoned claim, whatever the sweep reached; never one whose change committed.
    diesel::delete(
        this.filter(
            keys::created_at.lt(cutoff(now)).or(keys::status
                .is_null()
                .and(keys::created_at.lt(now - Duration::minutes(ABANDONED_AFTER_MINUTES)))
                .and(diesel::dsl::not(
                    diesel::dsl::sql::<diesel::sql_types::Bool>(COMMITTED),
                ))),
        ),
    )
    .execute(conn)
    .await?;
    // A claim released between our insert and our read (a server error) is claimed again; twice is plenty.
    for _ in 0..3 {
        let inserted = diesel::insert_into(keys::table)
            .values((
                keys::user_id.eq(user),
                keys::key.eq(key),
                keys::fingerprint.eq(print),
                keys::request_id.eq(request_id),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        if inserted == 1 {
            return Ok(Claim::Run);
        }
        let kept: Option<Kept> = this
            .select((keys::fingerprint, keys::status, keys::headers, keys::body))
            .first(conn)
            .await
            .optional()?;
        let Some(kept) = kept else { continue };
        if kept.fingerprint != print {
            return Ok(Claim::Mismatch);
        }
        return match (kept.status, kept.headers, kept.body) {
            (Some(status), Some(headers), Some(body)) => {
                Ok(Claim::Replay(replay(status, headers, body)?))
            }
            _ => Ok(Claim::InFlight),
        };
    }
    Ok(Claim::InFlight)
}

/// The kept answer as a response.
fn replay(status: i16, headers: serde_json::Value, body: Vec<u8>) -> ApiResult<HttpResponse> {
    let corrupt = |what: &str| ApiError::Internal(anyhow::anyhow!("a kept answer has {what}"));
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .ok_or_else(|| corrupt("an invalid status"))?;
    let pairs: Vec<(String, String)> =
        serde_json::from_value(headers).map_err(|_| corrupt("unreadable headers"))?;
    let mut response = HttpResponse::build(status);
    for (name, value) in pairs {
        let name = HeaderName::try_from(name).map_err(|_| corrupt("a bad header name"))?;
        let value = HeaderValue::try_from(value).map_err(|_| corrupt("a bad header value"))?;
        response.insert_header((name, value));
    }
    response.insert_header((REPLAYED, HeaderValue::from_static("true")));
    Ok(response.body(body))
}

/// Keeps the answer of the request that holds the claim.
async fn keep(
    conn: &mut Conn,
    user: Uuid,
    key: &str,
    status: StatusCode,
    headers: serde_json::Value,
    body: &[u8],
) -> ApiResult<()> {
    let status = i16::try_from(status.as_u16()).map_err(|e| ApiError::Internal(e.into()))?;
    diesel::update(keys::table.find((user, key)))
        .set((
            keys::status.eq(status),
            keys::headers.eq(headers),
            keys::body.eq(body),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Releases a claim whose request did not complete, so that a retry runs afresh: unless its change committed
/// (the request failed after its commit), which a retry must not do again.
async fn release(conn: &mut Conn, user: Uuid, key: &str) -> ApiResult<()> {
    diesel::delete(
        keys::table
            .find((user, key))
            .filter(keys::status.is_null())
            .filter(diesel::dsl::not(
                diesel::dsl::sql::<diesel::sql_types::Bool>(COMMITTED),
            )),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Releases the claim this request made, if it made one and nothing ran under it (the claim failed on its way
/// back): only the claim carrying this request's id, never another request's under the same key.
async fn release_own(conn: &mut Conn, user: Uuid, key: &str, request_id: &str) -> ApiResult<()> {
    diesel::delete(
        keys::table
            .find((user, key))
            .filter(keys::status.is_null())
            .filter(keys::request_id.eq(request_id)),
    )
    .execute(conn)
    .await?;
    Ok(())
}

/// Runs `step` (a release or the keeping of an answer) now, and when it fails, again in the
/// background with a growing pause until it succeeds or [`FINISH_WITHIN_SECS`] pass: the database that failed the
/// request is often back a moment later, and a claim left without either blocks its key with 409s.
async fn finish<F>(state: Data<AppState>, what: &'static str, step: F)
where
    F: AsyncFn(&mut Conn) -> ApiResult<()> + 'static,
{
    async fn attempt<F: AsyncFn(&mut Conn) -> ApiResult<()>>(
        state: &AppState,
        step: &F,
    ) -> ApiResult<()> {
        let mut conn = state.db().await?;
        step(&mut conn).await
    }
    // Any failure is retried, not only one classified as "unavailable": a connection that breaks mid-statement
    // can surface as another error, and both steps are safe to repeat (a release deletes, a keep updates).
    match attempt(&state, &step).await {
        Ok(()) => {}
        Err(error) => {
            tracing::warn!(%error, what, "could not finish now; retrying in the background");
            let request_id = crate::http::request_id::current().unwrap_or_default();
            actix_web::rt::spawn(async move {
                let started = std::time::Instant::now();
                let mut pause = std::time::Duration::from_millis(50);
                loop {
                    actix_web::rt::time::sleep(pause).await;
                    match attempt(&state, &step).await {
                        Ok(()) => {
                            tracing::info!(%request_id, what, "done in the background");
                            return;
                        }
                        Err(error) if started.elapsed().as_secs() >= FINISH_WITHIN_SECS => {
                            tracing::warn!(%request_id, %error, what, "gave up; the claim frees itself later");
                            return;
                        }
                        Err(_) => pause = (pause * 2).min(std::time::Duration::from_secs(2)),
                    }
                }
            });
        }
    }
}

/// Answers that say "try again": not kept, so that the retry runs.
fn retryable(status: StatusCode) -> bool {
    status.is_server_error()
        || matches!(
            status,
            StatusCode::UNAUTHORIZED | StatusCode::REQUEST_TIMEOUT | StatusCode::TOO_MANY_REQUESTS
        )
}

/// A problem answer made here, before or instead of the handler.
fn refuse(req: ServiceRequest, error: &ApiError) -> ServiceResponse<BoxBody> {
    let (req, _) = req.into_parts();
    ServiceResponse::new(req, error.error_response())
}

/// The middleware: see the module documentation.
pub async fn middleware(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let applies = req.headers().contains_key(HEADER)
        && req
            .app_data::<Data<Arc<RouteTable>>>()
            .is_some_and(|t| t.declares_header(req.method().as_str(), req.path(), HEADER));
    if !applies {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let key = match parse_key(&req) {
        Ok(Some(key)) => key,
        Ok(None) => return Ok(next.call(req).await?.map_into_boxed_body()),
        Err(error) => return Ok(refuse(req, &error)),
    };
    // Keys are the caller's own; without a valid token the handler answers 401 as it would anyway.
    let Ok(Some(actor)) = authenticate(req.request().clone()).await else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let Some(state) = req.app_data::<Data<AppState>>().cloned() else {
        let error = ApiError::Internal(anyhow::anyhow!("the app state is not registered"));
        return Ok(refuse(req, &error));
    };
    let body = match read_body(&mut req).await {
        Ok(body) => body,
        Err(error) => return Ok(refuse(req, &error)),
    };
    let print = fingerprint(&req, &body);
    // One connection to claim and one to keep the answer, each given back before the next step: the handler
    // takes its own, and a request never holds two.
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|r| r.id.clone())
        .unwrap_or_default();
    let claimed = match state.db().await {
        Ok(mut conn) => claim(&mut conn, actor.id, &key, &print, &request_id).await,
        Err(error) => Err(error),
    };
    match claimed {
        Err(error) => {
            // The claim may have been stored even though its answer was lost with the connection: take back this
            // request's own claim, so that the key does not answer 409 until the claim counts as abandoned.
            let (user, own_key, own_request) = (actor.id, key.clone(), request_id.clone());
            finish(
                state.clone(),
                "take back an idempotency claim",
                async move |conn: &mut Conn| release_own(conn, user, &own_key, &own_request).await,
            )
            .await;
            return Ok(refuse(req, &error));
        }
        Ok(Claim::Mismatch) => {
            let error = ApiError::Validation(vec![FieldError::new(
                HEADER,
                format!(
                    "was used for another request (method, path or body) in the last {KEPT_FOR_HOURS} hours; \
                     use a new key for a new request"
                ),
            )]);
            return Ok(refuse(req, &error));
        }
        Ok(Claim::InFlight) => {
            let error = ApiError::Conflict(format!(
                "A request with this {HEADER} is still being processed; retry once it has been answered."
            ));
            return Ok(refuse(req, &error));
        }
        Ok(Claim::Replay(response)) => {
            let (req, _) = req.into_parts();
            return Ok(ServiceResponse::new(req, response));
        }
        Ok(Claim::Run) => {}
    }

    req.set_payload(Payload::from(body));
    let answered = next.call(req).await;
    let res = match answered {
        Ok(res) if !retryable(res.status()) => res,
        other => {
            let (user, key) = (actor.id, key.clone());
            finish(
                state,
                "release an idempotency key",
                async move |conn: &mut Conn| release(conn, user, &key).await,
            )
            .await;
            return Ok(other?.map_into_boxed_body());
        }
    };
    let status = res.status();
    let kept_headers: Vec<(String, String)> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = res.headers().get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    let (req, res) = res.into_parts();
    let (res, body) = res.into_parts();
    let body = actix_web::body::to_bytes(body).await.map_err(|e| {
        let e: Box<dyn std::error::Error> = e.into();
        actix_web::Error::from(ApiError::Internal(anyhow::anyhow!(
            "reading an answer to keep it: {e}"
        )))
    })?;
    // The work is done and committed: the answer goes out whether or not it can be kept now.
    let (user, kept_key, kept_body) = (actor.id, key.clone(), body.clone());
    let kept_headers = serde_json::json!(kept_headers);
    finish(
        state,
        "keep an idempotent answer",
        async move |conn: &mut Conn| {
            keep(
                conn,
                user,
                &kept_key,
                status,
                kept_headers.clone(),
                &kept_body,
            )
            .await
        },
    )
    .await;
    Ok(ServiceResponse::new(req, res.set_body(BoxBody::new(body))))
}
