//! The one error type of the API and its RFC 9457 `application/problem+json` body.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// One invalid field of a request: where it is and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the request, e.g. `region_code` or `agenda[2].title`.
    pub field: String,
    /// What is wrong, in plain English.
    pub message: String,
}

impl FieldError {
    /// A field error from anything printable.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Problem {
    /// A URI that names the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request.
    pub detail: String,
    /// The request id, to quote when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The invalid fields, for validation problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// Every way a request can fail.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not JSON at all.
    #[error("malformed request body: {0}")]
    BadRequest(String),
    /// No valid credentials were presented.
    #[error("authentication required")]
    Unauthorized(&'static str),
    /// The caller is known but may not do this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// Nothing there, or nothing the caller may see.
    #[error("not found")]
    NotFound,
    /// The path exists but not with this method.
    #[error("method not allowed")]
    MethodNotAllowed(String),
    /// The write conflicts with existing data.
    #[error("conflict: {0}")]
    Conflict(String),
    /// `If-Match` names a version that is no longer current.
    #[error("precondition failed")]
    PreconditionFailed,
    /// The operation must be conditional (RFC 6585): this header is missing.
    #[error("precondition required: {0}")]
    PreconditionRequired(&'static str),
    /// The body is larger than the server accepts.
    #[error("payload too large")]
    PayloadTooLarge(usize),
    /// The body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// One or more fields are invalid.
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    /// Too many attempts; try again after this many seconds.
    #[error("too many requests")]
    TooManyRequests(u64),
    /// A dependency (the database) is down.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A bug or an unexpected failure; logged with its cause, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The result type of handlers and models.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// A validation error for one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, message)])
    }

    fn slug_and_title(&self) -> (&'static str, &'static str) {
        match self {
            Self::BadRequest(_) => ("malformed-request", "Malformed request"),
            Self::Unauthorized(_) => ("unauthorized", "Authentication required"),
            Self::Forbidden(_) => ("forbidden", "Forbidden"),
            Self::NotFound => ("not-found", "Not found"),
            Self::MethodNotAllowed(_) => ("method-not-allowed", "Method not allowed"),
            Self::Conflict(_) => ("conflict", "Conflict"),
            Self::PreconditionFailed => ("precondition-failed", "Precondition failed"),
            Self::PreconditionRequired(_) => ("precondition-required", "Precondition required"),
            Self::PayloadTooLarge(_) => ("payload-too-large", "Payload too large"),
            Self::UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
            Self::Validation(_) => ("validation", "Invalid request"),
            Self::TooManyRequests(_) => ("too-many-requests", "Too many requests"),
            Self::Unavailable(_) => ("unavailable", "Service unavailable"),
            Self::Internal(_) => ("internal", "Internal server error"),
        }
    }

    fn detail(&self) -> String {
        match self {
            Self::BadRequest(why) => format!("The request body is not valid JSON: {why}"),
            Self::Unauthorized(why) => (*why).to_owned(),
            Self::Forbidden(why) => (*why).to_owned(),
            Self::NotFound => "No such resource.".to_owned(),
            Self::MethodNotAllowed(allow) => format!("This path supports only: {allow}."),
            Self::Conflict(why) => why.clone(),
            Self::PreconditionFailed => {
                "The resource has changed since the version named in If-Match; fetch it again."
                    .to_owned()
            }
            Self::PreconditionRequired(header) => format!(
                "This operation needs the {header} header: send the ETag you last read, so that another \
                 writer's change is not overwritten unseen."
            ),
            Self::PayloadTooLarge(limit) => format!("The request body exceeds {limit} bytes."),
            Self::UnsupportedMediaType => "The request body must be application/json.".to_owned(),
            Self::Validation(errors) if errors.len() == 1 => {
                format!("The field `{}` is invalid.", errors[0].field)
            }
            Self::Validation(errors) => format!("{} fields are invalid.", errors.len()),
            Self::TooManyRequests(secs) => {
                format!("Too many failed attempts; retry in {secs} seconds.")
            }
            Self::Unavailable(_) => {
                "The service is temporarily unavailable; retry shortly.".to_owned()
            }
            Self::Internal(_) => {
                "An unexpected error occurred; quote the request id when reporting it.".to_owned()
            }
        }
    }

    /// A one-line account for people at a terminal (the CLI): the detail, or each invalid field.
    pub fn summary(&self) -> String {
        match self {
            Self::Validation(errors) => errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect::<Vec<_>>()
                .join("; "),
            other => other.detail(),
        }
    }

    /// Builds the problem body.
    pub fn problem(&self, request_id: Option<String>) -> Problem {
        let (slug, title) = self.slug_and_title();
        Problem {
            kind: format!("urn:hamkori:problem:{slug}"),
            title: title.to_owned(),
            status: self.status_code().as_u16(),
            detail: self.detail(),
            request_id,
            errors: match self {
                Self::Validation(errors) => errors.clone(),
                Self::PreconditionRequired(header) => vec![FieldError::new(*header, "is required")],
                _ => Vec::new(),
            },
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            Self::PreconditionRequired(_) => StatusCode::PRECONDITION_REQUIRED,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The body is finished by the request-id middleware, which knows the id and logs server errors.
    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type(PROBLEM_JSON);
        match self {
            Self::Unauthorized(_) => {
                response
                    .insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
            }
            Self::MethodNotAllowed(allow) => {
                if let Ok(value) = HeaderValue::from_str(allow) {
                    response.insert_header((header::ALLOW, value));
                }
            }
            Self::TooManyRequests(secs) => {
                response.insert_header((header::RETRY_AFTER, secs.to_string()));
            }
            Self::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "5"));
            }
            _ => {}
        }
        if let Self::Internal(cause) = self {
            tracing::error!(error = ?cause, "request failed");
        }
        let body = self.problem(super::request_id::current());
        response.body(serde_json::to_vec(&body).unwrap_or_default())
    }
}

impl From<DieselError> for ApiError {
    fn from(err: DieselError) -> Self {
        match err {
            DieselError::NotFound => Self::NotFound,
            DieselError::DatabaseError(kind, info) => {
                let constraint = info.constraint_name().unwrap_or_default().to_owned();
                match kind {
                    DatabaseErrorKind::UniqueViolation => Self::Conflict(unique_message(&constraint)),
                    DatabaseErrorKind::ForeignKeyViolation => Self::Conflict(
                        "The record is referenced by other records, or refers to one that does not exist.".to_owned(),
                    ),
                    DatabaseErrorKind::ExclusionViolation => Self::Conflict(exclusion_message(&constraint)),
                    DatabaseErrorKind::RestrictViolation => Self::Conflict(
                        "The record is referenced by other records.".to_owned(),
                    ),
                    // The connection broke under the query (the database restarted, the network dropped it): the
                    // pool drops it, and a retry gets a fresh one.
                    DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                        Self::Unavailable(format!("database connection lost: {}", info.message()))
                    }
                    DatabaseErrorKind::SerializationFailure => {
                        Self::Conflict("A concurrent change interfered; retry the request.".to_owned())
                    }
                    // Postgres broke a deadlock by aborting this transaction (SQLSTATE 40P01, which diesel does not
                    // name): nothing was written and the same request can succeed again. Logged, because a deadlock
                    // between the API's own writes is a defect to find.
                    _ if info.message().starts_with("deadlock detected") => {
                        tracing::warn!(detail = info.details().unwrap_or_default(), "database deadlock");
                        Self::Conflict("A concurrent change interfered; retry the request.".to_owned())
                    }
                    DatabaseErrorKind::CheckViolation => Self::Validation(vec![FieldError::new(
                        check_field(&constraint),
                        "violates a rule of the data model",
                    )]),
                    _ if is_data_error(info.message()) => Self::Validation(vec![FieldError::new(
                        info.column_name().unwrap_or("body"),
                        "is out of the range the database can store",
                    )]),
                    _ => Self::Internal(anyhow::anyhow!("database error ({kind:?}): {}", info.message())),
                }
            }
            // A transaction whose connection broke: the pool drops the connection.
            DieselError::BrokenTransactionManager => {
                Self::Unavailable("database connection lost in a transaction".into())
            }
            other => Self::Internal(anyhow::Error::new(other).context("database query failed")),
        }
    }
}

/// Whether Postgres refused a value itself (SQLSTATE class 22: out of range, bad encoding): a client error that
/// validation should have caught, so it is answered as one rather than as a 500.
fn is_data_error(message: &str) -> bool {
    [
        "out of range",
        "invalid byte sequence",
        "invalid input syntax",
        "value too long",
    ]
    .iter()
    .any(|m| message.contains(m))
}

/// The client-facing message for a unique constraint, by its name.
fn unique_message(constraint: &str) -> String {
    match constraint {
        "organizations_registration_number_key" => {
            "An organisation with this registration_number already exists.".to_owned()
        }
        "users_email_key" => "A user with this email already exists.".to_owned(),
        "regions_pkey" => "A region with this code already exists.".to_owned(),
        _ => "A record with the same unique value already exists.".to_owned(),
    }
}

/// The client-facing message for an exclusion constraint, by its name.
fn exclusion_message(constraint: &str) -> String {
    match constraint {
        "council_members_one_seat_per_organization" => {
            "The organisation already holds a seat on this council for an overlapping term."
                .to_owned()
        }
        _ => "The record overlaps an existing one.".to_owned(),
    }
}

/// The request field a check constraint guards, by its name.
fn check_field(constraint: &str) -> &'static str {
    match constraint {
        "councils_dissolved_after_established" => "dissolved_on",
        "agencies_not_own_parent" => "parent_id",
        "council_members_until_after_since" => "until",
        "engagements_ends_after_starts" => "ends_on",
        "recommendations_due_after_issued" => "due_on",
        _ => "body",
    }
}

impl From<deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>> for ApiError {
    fn from(err: deadpool::managed::PoolError<diesel_async::pooled_connection::PoolError>) -> Self {
        tracing::warn!(error = %err, "could not get a database connection");
        Self::Unavailable(err.to_string())
    }
}

/// The error responses every operation documents: any client error or server error, as problem+json.
#[derive(utoipa::IntoResponses)]
pub enum ProblemResponses {
    /// The request was refused; the problem says why and, for validation, which fields.
    #[response(status = "4XX", content_type = "application/problem+json")]
    Client(Problem),
    /// The server failed or the database is unavailable; quote the request id.
    #[response(status = "5XX", content_type = "application/problem+json")]
    Server(Problem),
}

impl ApiError {
    /// The same failure again, for each further request that waited on one shared piece of work (a statistic
    /// counted once for several readers): a bug's cause stays in the log of the request whose work failed.
    pub fn replay(&self) -> Self {
        match self {
            Self::BadRequest(m) => Self::BadRequest(m.clone()),
            Self::Unauthorized(m) => Self::Unauthorized(m),
            Self::Forbidden(m) => Self::Forbidden(m),
            Self::NotFound => Self::NotFound,
            Self::MethodNotAllowed(m) => Self::MethodNotAllowed(m.clone()),
            Self::Conflict(m) => Self::Conflict(m.clone()),
            Self::PreconditionFailed => Self::PreconditionFailed,
            Self::PreconditionRequired(m) => Self::PreconditionRequired(m),
            Self::PayloadTooLarge(n) => Self::PayloadTooLarge(*n),
            Self::UnsupportedMediaType => Self::UnsupportedMediaType,
            Self::Validation(errors) => Self::Validation(errors.clone()),
            Self::TooManyRequests(s) => Self::TooManyRequests(*s),
            Self::Unavailable(m) => Self::Unavailable(m.clone()),
            Self::Internal(e) => Self::Internal(anyhow::anyhow!("a shared answer failed: {e:#}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deadlock_victim_is_told_to_retry_like_a_serialization_failure() {
        let database = |kind, message: &str| {
            ApiError::from(DieselError::DatabaseError(
                kind,
                Box::new(message.to_owned()),
            ))
        };
        assert!(matches!(
            database(DatabaseErrorKind::Unknown, "deadlock detected"),
            ApiError::Conflict(_)
        ));
        assert!(matches!(
            database(
                DatabaseErrorKind::SerializationFailure,
                "could not serialize access"
            ),
            ApiError::Conflict(_)
        ));
        assert!(matches!(
            database(DatabaseErrorKind::Unknown, "something else"),
            ApiError::Internal(_)
        ));
    }
}
