//! Request ids, the request span and log line, and the headers every response carries.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::Instrument;

/// The header that carries the request id both ways.
pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being served on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The ids of a request, stored in the request's extensions for extractors.
#[derive(Debug, Clone)]
pub struct RequestId {
    /// The server's own id (a UUIDv7), made for every request: the one in log lines, problem bodies, the
    /// `X-Request-Id` response header and the audit row's `request_id`.
    pub id: String,
    /// The id the client sent in `X-Request-Id`, when it is a plain token (see [`client_id`]); kept apart so that
    /// a client can neither choose nor collide with the server's id.
    pub client: Option<String>,
}

/// Longest client request id kept.
pub const CLIENT_ID_MAX: usize = 128;

/// The client's `X-Request-Id` when it is 1–128 characters of `[A-Za-z0-9._:-]`; anything else (spaces, control
/// characters, quotes, non-ASCII, longer) is dropped whole: never stored, logged or echoed.
pub fn client_id(req: &ServiceRequest) -> Option<String> {
    req.headers()
        .get(&X_REQUEST_ID)
        .map(|v| v.as_bytes())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= CLIENT_ID_MAX
                && v.iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        })
        .and_then(|v| std::str::from_utf8(v).ok())
        .map(str::to_owned)
}

/// Wraps every request: id, span, one log line, and the common response headers.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, Error> {
    let id = uuid::Uuid::now_v7().to_string();
    let client = client_id(&req);
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        client_request_id = tracing::field::Empty,
        method = %req.method(),
        path = %req.path()
    );
    if let Some(client) = &client {
        span.record("client_request_id", client.as_str());
    }
    req.extensions_mut().insert(RequestId {
        id: id.clone(),
        client,
    });
    let authenticated = req.headers().contains_key(header::AUTHORIZATION);
    let is_api = req.path().starts_with("/api/");
    let is_read = req.method() == actix_web::http::Method::GET
        || req.method() == actix_web::http::Method::HEAD;
    let started = Instant::now();

    let mut res = REQUEST_ID
        .scope(id.clone(), next.call(req).instrument(span.clone()))
        .await?;

    let status = res.status();
    let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| {
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), elapsed_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request served");
        }
    });

    let headers = res.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(X_REQUEST_ID, value);
    }
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if is_api && !headers.contains_key(header::CACHE_CONTROL) {
        // Anything a credential unlocked, and every non-read, must not be stored by caches;
        // anonymous reads of public data may be cached but must be revalidated (ETag).
        let value = if authenticated || !is_read || !status.is_success() {
            "no-store"
        } else {
            "no-cache"
        };
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    Ok(res)
}
