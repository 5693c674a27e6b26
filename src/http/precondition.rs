//! Optimistic concurrency: `ETag: "<version>"` on reads, `If-Match` on writes.

use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{FromRequest, HttpRequest, HttpResponse};
use serde::Serialize;

use super::error::{ApiError, Problem};

/// Whether a write must carry `If-Match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precondition {
    /// `If-Match` is checked when sent; a write without it replaces whatever is there.
    Optional,
    /// `If-Match` must be sent (428 without it, RFC 6585): records several organisations edit, where a blind
    /// write would silently undo another's change.
    Required,
}

/// The `If-Match` header of a write: absent, `*`, or a list of entity tags.
#[derive(Debug, Clone, Default)]
pub struct IfMatch(Option<Vec<String>>);

impl IfMatch {
    /// Passes when one of the tags (or `*`) is the current version, or when there is no `If-Match` and the write
    /// does not require one; a required but missing header is 428, a stale one 412.
    pub fn check(&self, current_version: i32, precondition: Precondition) -> Result<(), ApiError> {
        let Some(tags) = &self.0 else {
            return match precondition {
                Precondition::Optional => Ok(()),
                Precondition::Required => Err(ApiError::PreconditionRequired("If-Match")),
            };
        };
        let current = current_version.to_string();
        let matches = tags.iter().any(|tag| {
            // RFC 9110 §13.1.1: If-Match uses the strong comparison, so a weak tag never matches.
            let tag = tag.trim();
            tag == "*" || (!tag.starts_with("W/") && tag.trim_matches('"') == current)
        });
        if matches {
            Ok(())
        } else {
            Err(ApiError::PreconditionFailed)
        }
    }
}

impl FromRequest for IfMatch {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let values: Vec<String> = req
            .headers()
            .get_all(header::IF_MATCH)
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect();
        let present = req.headers().contains_key(header::IF_MATCH);
        std::future::ready(Ok(IfMatch(present.then_some(values))))
    }
}

fn etag(version: i32) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{version}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

/// A JSON response carrying the record's version as its `ETag`.
pub fn ok_versioned<T: Serialize>(body: &T, version: i32) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::ETAG, etag(version)))
        .json(body)
}

/// A `201 Created` with `Location` and `ETag`.
pub fn created<T: Serialize>(location: &str, body: &T, version: i32) -> HttpResponse {
    HttpResponse::build(StatusCode::CREATED)
        .insert_header((header::ETAG, etag(version)))
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// The answers of a write that requires `If-Match` ([`Precondition::Required`]), for its OpenAPI operation.
#[derive(utoipa::IntoResponses)]
pub enum PreconditionResponses {
    /// `If-Match` names a version that is no longer current: read the record again.
    #[response(status = 412, content_type = "application/problem+json")]
    Stale(Problem),
    /// `If-Match` is missing (RFC 6585); the problem names the header.
    #[response(status = 428, content_type = "application/problem+json")]
    Missing(Problem),
}
