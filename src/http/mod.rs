//! The HTTP layer shared by every noun: errors, extractors, pagination, exports, headers, fallbacks.

pub mod client;
pub mod error;
pub mod export;
pub mod extract;
pub mod fallback;
pub mod pagination;
pub mod patch;
pub mod precondition;
pub mod request_id;

pub use error::{ApiError, ApiResult, FieldError, Problem, ProblemResponses};
pub use extract::{Json, Path, Query};
pub use pagination::{Cursor, Delimiter, Format, FormatParam, Keyed, Output, Page, PageParams};
pub use precondition::{IfMatch, Precondition, PreconditionResponses, created, ok_versioned};

use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// A path naming a record and an organisation named on it.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PartyPath {
    /// The record's id (UUID).
    pub id: Uuid,
    /// The organisation's id (UUID).
    pub organization_id: Uuid,
}

/// A path with one record id.
#[derive(Debug, Clone, Copy, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IdPath {
    /// The record's id (UUID).
    pub id: Uuid,
}
