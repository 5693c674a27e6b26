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
    header_pending: bool,
    done: bool,
}

/// Streams every row `fetch` yields, batch after batch, in the requested format. The response starts before
/// the whole list is read, so memory stays flat; each batch borrows a pooled connection only while it is read,
/// so slow downloads do not starve the pool. A failure mid-stream is logged with the request id and aborts the
/// connection, so that a truncated file never looks complete.
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
    let request_id = super::request_id::current().unwrap_or_default();
    let state = State {
        pool,
        cursor: None,
        fetch,
        sort,
        header_pending: format == Format::Csv,
        done: false,
    };
    let body = stream::unfold(state, move |mut st| {
        let request_id = request_id.clone();
        async move {
            if st.done {
                return None;
            }
            let mut out = Vec::with_capacity(64 * 1024);
            if st.header_pending {
                st.header_pending = false;
                out.extend_from_slice("\u{feff}".as_bytes());
                write_csv(
                    &mut out,
                    T::HEADER.iter().map(|s| (*s).to_owned()).collect(),
                );
            }
            let batch = async {
                let mut conn = st.pool.get().await?;
                (st.fetch)(&mut conn, st.cursor.take()).await
            };
            let rows = match batch.await {
                Ok(rows) => rows,
                Err(error) => {
                    tracing::error!(%request_id, ?error, "export aborted by a database error");
                    st.done = true;
                    let abort = actix_web::error::ErrorServiceUnavailable("export aborted");
                    return Some((Err(abort), st));
                }
            };
            if usize::try_from(EXPORT_BATCH).is_ok_and(|batch| rows.len() < batch) {
                st.done = true;
            }
            st.cursor = rows.last().map(|r| r.cursor(st.sort));
            for row in &rows {
                match format {
                    Format::Csv => write_csv(&mut out, row.record()),
                    _ => {
                        if serde_json::to_writer(&mut out, row).is_ok() {
                            out.push(b'\n');
                        }
                    }
                }
            }
            Some((Ok::<_, actix_web::Error>(Bytes::from(out)), st))
        }
    });
    let (content_type, extension) = match format {
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
        _ => ("application/x-ndjson", "ndjson"),
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .insert_header((
            "Content-Disposition",
            format!("attachment; filename=\"{name}.{extension}\""),
        ))
        .streaming(body)
}

/// A cell that a spreadsheet would run as a formula gets a leading apostrophe (OWASP's CSV-injection advice);
/// numbers keep their sign.
fn defuse(cell: String) -> String {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    if risky && cell.parse::<f64>().is_err() {
        format!("'{cell}")
    } else {
        cell
    }
}

fn write_csv(out: &mut Vec<u8>, record: Vec<String>) {
    let mut writer = csv::WriterBuilder::new().from_writer(Vec::new());
    if writer.write_record(record.into_iter().map(defuse)).is_ok()
        && let Ok(bytes) = writer.into_inner()
    {
        out.extend_from_slice(&bytes);
    }
}
