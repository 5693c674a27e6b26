//! Keyset pagination: the page parameters, the opaque cursor and the `{items, next_cursor}` page.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::error::ApiError;

/// Default page size.
pub const DEFAULT_LIMIT: i64 = 50;
/// Largest page size.
pub const MAX_LIMIT: i64 = 200;

/// How a list is returned: a JSON page, or the whole filtered list streamed as CSV or NDJSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// A page of `{items, next_cursor}`.
    #[default]
    Json,
    /// Every matching row as UTF-8 CSV with a byte-order mark.
    Csv,
    /// Every matching row as newline-delimited JSON.
    Ndjson,
}

/// The paging parameters every list accepts.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1–200 (default 50).
    #[validate(range(min = 1, max = 200))]
    #[param(minimum = 1, maximum = 200, default = 50)]
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    #[validate(length(min = 1, max = 512))]
    #[param(min_length = 1, max_length = 512)]
    pub cursor: Option<String>,
}

/// The separator of CSV cells.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Delimiter {
    /// `,`.
    #[default]
    Comma,
    /// `;`, which spreadsheet programs in Russian (and most European) locales split on.
    Semicolon,
}

impl Delimiter {
    /// The separator byte.
    pub fn byte(self) -> u8 {
        match self {
            Self::Comma => b',',
            Self::Semicolon => b';',
        }
    }
}

/// The format parameters of lists that can be exported.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParam {
    /// `json` (default) for a page; `csv` or `ndjson` for the whole filtered list, streamed.
    #[param(inline)]
    pub format: Option<Format>,
    /// CSV separator: `comma` (default) or `semicolon`, which spreadsheet programs in Russian locales split on.
    #[param(inline)]
    pub delimiter: Option<Delimiter>,
}

/// How a list is answered: the format, and for CSV the separator.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Output {
    /// The format.
    pub format: Format,
    /// The CSV separator.
    pub delimiter: Delimiter,
}

impl FormatParam {
    /// The requested format and separator.
    pub fn get(&self) -> Output {
        Output {
            format: self.format.unwrap_or_default(),
            delimiter: self.delimiter.unwrap_or_default(),
        }
    }
}

impl PageParams {
    /// The page size.
    pub fn limit(&self) -> i64 {
        self.limit.unwrap_or(DEFAULT_LIMIT)
    }

    /// Decodes the cursor, which must have been made for the same sort order.
    pub fn cursor(&self, sort: &str) -> Result<Option<Cursor>, ApiError> {
        self.cursor
            .as_deref()
            .map(|c| Cursor::decode(c, sort))
            .transpose()
    }
}

/// The position after the last row of a page: the sort key and id of that row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort order the cursor belongs to.
    #[serde(rename = "s")]
    pub sort: String,
    /// The sort key of the last row, as text.
    #[serde(rename = "k")]
    pub key: String,
    /// The id of the last row.
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Cursor {
    /// A cursor after a row.
    pub fn new(sort: &str, key: impl Into<String>, id: Uuid) -> Self {
        Self {
            sort: sort.to_owned(),
            key: key.into(),
            id,
        }
    }

    /// The opaque form given to clients.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// Reads an opaque cursor; a cursor from another sort order is refused.
    pub fn decode(raw: &str, sort: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::field("cursor", "is not a cursor returned by this list");
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let cursor: Cursor = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
        if cursor.key.len() > 400 || cursor.key.contains('\0') {
            return Err(invalid());
        }
        if cursor.sort != sort {
            return Err(ApiError::field("cursor", "belongs to another sort order"));
        }
        Ok(cursor)
    }

    /// The key parsed as a timestamp, for lists sorted by time.
    pub fn time_key(&self) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
        chrono::DateTime::parse_from_rfc3339(&self.key)
            .map(|t| t.to_utc())
            .map_err(|_| ApiError::field("cursor", "is not a cursor returned by this list"))
    }
}

impl From<crate::db::sql::InvalidKey> for ApiError {
    fn from(_: crate::db::sql::InvalidKey) -> Self {
        ApiError::field("cursor", "is not a cursor returned by this list")
    }
}

/// A page of a list.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page, or null on the last page.
    pub next_cursor: Option<String>,
}

/// A row that can be paged: it knows its cursor position in a sort order.
pub trait Keyed {
    /// The cursor just after this row in the given sort order.
    fn cursor(&self, sort: &str) -> Cursor;
}

impl<T: Keyed> Page<T> {
    /// Builds a page from `limit + 1` fetched rows: the extra row only says that another page exists.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, sort: &str) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|row| row.cursor(sort).encode())
        } else {
            None
        };
        Self {
            items: rows,
            next_cursor,
        }
    }
}
