//! Streaming exports: a whole filtered list as CSV (with BOM) or NDJSON, fetched in keyset batches.

use std::future::Future;
use std::pin::Pin;

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use futures_util::stream;
use serde::Serialize;

use super::error::ApiError;
use super::pagination::{Cursor, Format, Keyed};
use crate::db::DbPool;

/// Rows fetched per database round trip while exporting.
pub const EXPORT_BATCH: i64 = 500;

/// A row that can be written as a CSV record.
pub trait CsvRow {
    /// The header line's column names.
    const HEADER: &'static [&'static str];
    /// The row's values in header order.
    fn record(&self) -> Vec<String>;
}

/// Joins a list for one CSV cell.
pub fn join<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(";")
}

/// An optional value as a CSV cell.
pub fn opt<T: std::fmt::Display>(value: &Option<T>) -> String {
    value.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// Fetches up to `limit + 1` rows after a cursor: one list query, used for pages and for export batches.
pub type FetchPage<T> = Box<
    dyn for<'c> Fn(
        &'c mut crate::db::Conn,
        Option<Cursor>,
        i64,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<T>, ApiError>> + 'c>>,
>;

/// Whatever holds the database pool a list is read from: the app state, which sits above this layer.
pub trait HasPool {
    /// The pool.
    fn pool(&self) -> &DbPool;
}

impl<S: HasPool + ?Sized> HasPool for actix_web::web::Data<S> {
    fn pool(&self) -> &DbPool {
        (**self).pool()
    }
}

/// Answers a list request: a JSON page, or the whole filtered list streamed as CSV or NDJSON.
pub async fn respond<T>(
    state: &impl HasPool,
    format: Format,
    page: &super::PageParams,
    name: &str,
    sort: &'static str,
    fetch: FetchPage<T>,
) -> Result<HttpResponse, ApiError>
where
    T: CsvRow + Serialize + Keyed + 'static,
{
    match format {
        Format::Json => {
            let mut conn = state.pool().get().await?;
            let rows = fetch(&mut conn, page.cursor(sort)?, page.limit()).await?;
            Ok(HttpResponse::Ok().json(super::Page::from_rows(rows, page.limit(), sort)))
        }
        format => Ok(stream(
            format,
            name,
            state.pool().clone(),
            sort,
            Box::new(move |conn, cursor| fetch(conn, cursor, EXPORT_BATCH - 1)),
        )),
    }
}

/// Fetches one batch after a cursor.
pub type FetchBatch<T> = Box<
    dyn for<'c> Fn(
        &'c mut crate::db::Conn,
        Option<Cursor>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<T>, ApiError>> + 'c>>,
>;

struct State<T> {
    pool: DbPool,
    cursor: Option<Cursor>,
    fetch: FetchBatch<T>,
    sort: &'static str,
    head: Option<Vec<u8>>,
    tail: Option<Vec<u8>>,
    rows_written: usize,
    done: bool,
}

/// Writes one row; the flag says whether it is the first row of the whole body.
type Encode<T> = Box<dyn Fn(&mut Vec<u8>, &T, bool)>;

/// Streams every row `fetch` yields, batch after batch: `head`, the rows, `tail`. The response starts before the
/// whole list is read, so memory stays flat; each batch borrows a pooled connection only while it is read, so slow
/// downloads do not starve the pool. A failure mid-stream is logged with the request id and aborts the
/// connection, so that a truncated file never looks complete.
fn stream_rows<T: Keyed + 'static>(
    pool: DbPool,
    sort: &'static str,
    fetch: FetchBatch<T>,
    head: Vec<u8>,
    encode: Encode<T>,
    tail: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    let request_id = super::request_id::current().unwrap_or_default();
    let state = State {
        pool,
        cursor: None,
        fetch,
        sort,
        head: Some(head),
        tail: Some(tail),
        rows_written: 0,
        done: false,
    };
    let encode = std::rc::Rc::new(encode);
    stream::unfold(state, move |mut st| {
        let (request_id, encode) = (request_id.clone(), encode.clone());
        async move {
            if st.done {
                return st
                    .tail
                    .take()
                    .filter(|t| !t.is_empty())
                    .map(|t| (Ok(Bytes::from(t)), st));
            }
            let mut out = st.head.take().unwrap_or_default();
            let batch = async {
                let mut conn = st.pool.get().await?;
                (st.fetch)(&mut conn, st.cursor.take()).await
            };
            let rows = match batch.await {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::error!(%request_id, ?error, "export aborted by a database error");
                    st.done = true;
                    st.tail = None;
                    return Some((
                        Err(actix_web::error::ErrorServiceUnavailable("export aborted")),
                        st,
                    ));
                }
            };
            if usize::try_from(EXPORT_BATCH).is_ok_and(|batch| rows.len() < batch) {
                st.done = true;
            }
            st.cursor = rows.last().map(|r| r.cursor(st.sort));
            for row in &rows {
                encode(&mut out, row, st.rows_written == 0);
                st.rows_written += 1;
            }
            Some((Ok(Bytes::from(out)), st))
        }
    })
}

fn attachment(
    content_type: &str,
    file_name: &str,
    body: impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{file_name}\""),
        ))
        .streaming(body)
}

/// Streams a whole filtered list as CSV (UTF-8 with a byte-order mark) or NDJSON.
pub fn stream<T>(
    format: Format,
    name: &str,
    pool: DbPool,
    sort: &'static str,
    fetch: FetchBatch<T>,
) -> HttpResponse
where
    T: CsvRow + Serialize + Keyed + 'static,
{
    if format == Format::Csv {
        let mut head = "\u{feff}".as_bytes().to_vec();
        write_csv(
            &mut head,
            T::HEADER.iter().map(|s| (*s).to_owned()).collect(),
        );
        let body = stream_rows(
            pool,
            sort,
            fetch,
            head,
            Box::new(|out, row: &T, _| write_csv(out, row.record())),
            Vec::new(),
        );
        attachment("text/csv; charset=utf-8", &format!("{name}.csv"), body)
    } else {
        let encode = |out: &mut Vec<u8>, row: &T, _| {
            if serde_json::to_writer(&mut *out, row).is_ok() {
                out.push(b'\n');
            }
        };
        let body = stream_rows(pool, sort, fetch, Vec::new(), Box::new(encode), Vec::new());
        attachment("application/x-ndjson", &format!("{name}.ndjson"), body)
    }
}

/// Streams rows as the array `key` of one JSON object (e.g. a 360Giving package: `{"grants": [...]}`).
pub fn stream_json_package<T>(
    key: &str,
    file_name: &str,
    pool: DbPool,
    sort: &'static str,
    fetch: FetchBatch<T>,
) -> HttpResponse
where
    T: Serialize + Keyed + 'static,
{
    let head = format!("{{{}:[", serde_json::Value::String(key.to_owned())).into_bytes();
    let encode = |out: &mut Vec<u8>, row: &T, first: bool| {
        if !first {
            out.push(b',');
        }
        if serde_json::to_writer(&mut *out, row).is_err() {
            out.extend_from_slice(b"null");
        }
    };
    let body = stream_rows(pool, sort, fetch, head, Box::new(encode), b"]}".to_vec());
    attachment("application/json", file_name, body)
}

/// Characters that make a spreadsheet read a cell as a formula when they come first, in their ASCII, full-width
/// and small forms: spreadsheet programs fold the wide forms to ASCII before parsing.
const FORMULA_STARTS: &[char] = &[
    '=', '+', '-', '@', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}', '\u{fe66}', '\u{fe62}',
    '\u{fe63}', '\u{fe6b}', '\u{2212}',
];

/// A cell that a spreadsheet would run as a formula gets a leading apostrophe (OWASP's CSV-injection advice).
/// Spreadsheets skip leading blanks before deciding, so the first non-blank character decides; a leading tab or
/// carriage return is risky in itself. Plain numbers keep their sign.
fn defuse(cell: String) -> String {
    let first = cell.trim_start().chars().next();
    let risky =
        cell.starts_with(['\t', '\r']) || first.is_some_and(|c| FORMULA_STARTS.contains(&c));
    if risky && !cell.parse::<f64>().is_ok_and(f64::is_finite) {
        format!("'{cell}")
    } else {
        cell
    }
}

/// Writes one record. A cell is quoted when it holds a quote, a line break, a comma or a semicolon: spreadsheet
/// programs in Russian locales split on `;`, so a bare `;` would shift the columns after it (and could start a
/// formula in a cell of its own).
fn write_csv(out: &mut Vec<u8>, record: Vec<String>) {
    for (i, cell) in record.into_iter().map(defuse).enumerate() {
        if i > 0 {
            out.push(b',');
        }
        if cell.contains(['"', '\r', '\n', ',', ';']) {
            out.push(b'"');
            out.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
            out.push(b'"');
        } else {
            out.extend_from_slice(cell.as_bytes());
        }
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(cells: &[&str]) -> String {
        let mut out = Vec::new();
        write_csv(&mut out, cells.iter().map(|c| (*c).to_owned()).collect());
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn formulas_are_defused_after_blanks_and_in_wide_forms() {
        for cell in [
            "=1+1",
            " =1+1",
            "\u{3000}+1",
            "\u{ff1d}1+1",
            "\u{ff20}SUM(A1)",
            "\t1",
            "\rx",
            "-x",
            "@x",
        ] {
            assert_eq!(defuse(cell.to_owned()), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["-12.5", "+3", "plain", "", "a=b", "1-2"] {
            assert_eq!(defuse(cell.to_owned()), cell, "{cell:?}");
        }
        assert_eq!(defuse("-inf".to_owned()), "'-inf");
    }

    #[test]
    fn cells_with_separators_or_quotes_are_quoted() {
        assert_eq!(
            line(&["x;=1+1;y", "a,b", "say \"hi\"", "two\nlines", "plain"]),
            "\"x;=1+1;y\",\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",plain\n"
        );
    }
}
