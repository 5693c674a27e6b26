//! Streaming exports: a whole filtered list as CSV (with BOM) or NDJSON, fetched in keyset batches.

use std::borrow::Cow;
use std::future::Future;
use std::pin::Pin;

use actix_web::HttpResponse;
use actix_web::web::Bytes;
use futures_util::stream;
use serde::Serialize;

use super::error::ApiError;
use super::pagination::{Cursor, Format, Keyed, Output};
use crate::db::DbPool;

/// The most rows fetched per database round trip while exporting.
pub const EXPORT_BATCH: i64 = 500;

/// Output after which a batch stops early, and the size batches aim at: a visit can carry a megabyte of
/// findings, and a batch of 500 such rows would hold half a gigabyte per download.
pub const BATCH_BYTES: usize = 1 << 20;

/// Rows asked for first, before the size of a row is known (each later batch is sized by the rows seen).
const FIRST_BATCH: i64 = 8;

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
    output: Output,
    page: &super::PageParams,
    name: &str,
    sort: &'static str,
    fetch: FetchPage<T>,
) -> Result<HttpResponse, ApiError>
where
    T: CsvRow + Serialize + Keyed + 'static,
{
    match output.format {
        Format::Json => {
            let mut conn = state.pool().get().await?;
            let rows = fetch(&mut conn, page.cursor(sort)?, page.limit()).await?;
            Ok(HttpResponse::Ok().json(super::Page::from_rows(rows, page.limit(), sort)))
        }
        _ => Ok(stream(output, name, state.pool().clone(), sort, fetch)),
    }
}

/// Fetches one batch after a cursor.
pub type FetchBatch<T> = Box<
    dyn for<'c> Fn(
        &'c mut crate::db::Conn,
        Option<Cursor>,
    ) -> Pin<Box<dyn Future<Output = Result<Vec<T>, ApiError>> + 'c>>,
>;

/// How many rows the next batch asks for, and where a batch stops.
#[derive(Debug)]
pub struct Sizing {
    /// Rows asked for beyond the one that tells whether more follow (the page limit of `FetchPage`).
    limit: i64,
    /// The most rows a batch asks for.
    most: i64,
    /// Whether `limit` follows the size of the rows seen; fixed for fetches that ignore it.
    adaptive: bool,
}

impl Sizing {
    /// Batches sized by the rows seen: a few rows first, then as many as fill about [`BATCH_BYTES`].
    pub fn adaptive() -> Self {
        Self::adaptive_up_to(EXPORT_BATCH)
    }

    /// As [`Sizing::adaptive`], with batches of up to `most` rows: for a reader that holds one connection for
    /// its whole length, so that fewer, larger batches cost fewer statements.
    pub fn adaptive_up_to(most: i64) -> Self {
        Self {
            limit: FIRST_BATCH - 1,
            most: most.max(FIRST_BATCH),
            adaptive: true,
        }
    }

    /// The rows the next batch asks for, beyond the one that tells whether more follow.
    pub fn limit(&self) -> i64 {
        self.limit
    }

    fn fixed() -> Self {
        Self {
            limit: EXPORT_BATCH - 1,
            most: EXPORT_BATCH,
            adaptive: false,
        }
    }

    /// Encodes `rows` (a batch of up to `limit + 1`) until the output passes [`BATCH_BYTES`]; returns how many
    /// were written and whether the list has ended. Rows left unwritten are fetched again after the last one
    /// written, so every row is sent exactly once.
    pub fn write<T>(
        &mut self,
        rows: &[T],
        out: &mut Vec<u8>,
        mut encode: impl FnMut(&mut Vec<u8>, &T),
    ) -> (usize, bool) {
        let start = out.len();
        let mut sent = 0;
        for row in rows {
            encode(out, row);
            sent += 1;
            if out.len() - start >= BATCH_BYTES {
                break;
            }
        }
        let fewer_than_asked = i64::try_from(rows.len()).is_ok_and(|n| n <= self.limit);
        if self.adaptive && sent > 0 {
            let per_row = ((out.len() - start) / sent).max(1);
            self.limit = i64::try_from(BATCH_BYTES / per_row)
                .unwrap_or(i64::MAX)
                .clamp(1, self.most - 1);
        }
        (sent, sent == rows.len() && fewer_than_asked)
    }
}

struct State<T> {
    pool: DbPool,
    cursor: Option<Cursor>,
    fetch: FetchPage<T>,
    sizing: Sizing,
    sort: &'static str,
    head: Option<Vec<u8>>,
    tail: Option<Vec<u8>>,
    rows_written: usize,
    done: bool,
}

/// Writes one row; the flag says whether it is the first row of the whole body.
type Encode<T> = Box<dyn Fn(&mut Vec<u8>, &T, bool)>;

/// Streams every row `fetch` yields, batch after batch: `head`, the rows, `tail`. The response starts before the
/// whole list is read, and each batch holds about [`BATCH_BYTES`] of rows (see [`Sizing`]), so memory stays
/// flat however large the rows are; each batch borrows a pooled connection only while it is read, so slow
/// downloads do not starve the pool. A failure mid-stream is logged with the request id and aborts the
/// connection, so that a truncated file never looks complete.
fn stream_rows<T: Keyed + 'static>(
    pool: DbPool,
    sort: &'static str,
    fetch: FetchPage<T>,
    sizing: Sizing,
    head: Vec<u8>,
    encode: Encode<T>,
    tail: Vec<u8>,
) -> impl futures_util::Stream<Item = Result<Bytes, actix_web::Error>> {
    let request_id = super::request_id::current().unwrap_or_default();
    let state = State {
        pool,
        cursor: None,
        fetch,
        sizing,
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
                (st.fetch)(&mut conn, st.cursor.take(), st.sizing.limit).await
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
            let written = &mut st.rows_written;
            let (sent, ended) = st.sizing.write(&rows, &mut out, |out, row| {
                encode(out, row, *written == 0);
                *written += 1;
            });
            st.done = ended;
            st.cursor = sent
                .checked_sub(1)
                .and_then(|last| rows.get(last))
                .map(|r| r.cursor(st.sort));
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
    output: Output,
    name: &str,
    pool: DbPool,
    sort: &'static str,
    fetch: FetchPage<T>,
) -> HttpResponse
where
    T: CsvRow + Serialize + Keyed + 'static,
{
    if output.format == Format::Csv {
        let delimiter = output.delimiter.byte();
        let mut head = "\u{feff}".as_bytes().to_vec();
        write_record(&mut head, T::HEADER, delimiter);
        let body = stream_rows(
            pool,
            sort,
            fetch,
            Sizing::adaptive(),
            head,
            Box::new(move |out, row: &T, _| write_record(out, row.record(), delimiter)),
            Vec::new(),
        );
        attachment("text/csv; charset=utf-8", &format!("{name}.csv"), body)
    } else {
        let encode = |out: &mut Vec<u8>, row: &T, _| {
            if serde_json::to_writer(&mut *out, row).is_ok() {
                out.push(b'\n');
            }
        };
        let body = stream_rows(
            pool,
            sort,
            fetch,
            Sizing::adaptive(),
            Vec::new(),
            Box::new(encode),
            Vec::new(),
        );
        attachment("application/x-ndjson", &format!("{name}.ndjson"), body)
    }
}

/// Streams rows as the array `key` of one JSON object (e.g. a 360Giving package: `{"grants": [...]}`). `fetch`
/// reads batches of [`EXPORT_BATCH`] rows; a batch still stops at [`BATCH_BYTES`] of output.
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
    let fetch: FetchPage<T> = Box::new(move |conn, cursor, _| fetch(conn, cursor));
    let body = stream_rows(
        pool,
        sort,
        fetch,
        Sizing::fixed(),
        head,
        Box::new(encode),
        b"]}".to_vec(),
    );
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
fn defuse(cell: &str) -> Cow<'_, str> {
    let first = cell.trim_start().chars().next();
    let risky =
        cell.starts_with(['\t', '\r']) || first.is_some_and(|c| FORMULA_STARTS.contains(&c));
    if risky && !cell.parse::<f64>().is_ok_and(f64::is_finite) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Writes one CSV record separated by `delimiter`: cells a spreadsheet would run as a formula are defused, and a
/// cell is quoted when it holds a quote, a line break, a comma or a semicolon (spreadsheet programs in Russian
/// locales split on `;`, so a bare `;` would shift the columns after it and could start a formula in a cell of
/// its own).
pub fn write_record<S: AsRef<str>>(
    out: &mut Vec<u8>,
    record: impl IntoIterator<Item = S>,
    delimiter: u8,
) {
    for (i, cell) in record.into_iter().enumerate() {
        if i > 0 {
            out.push(delimiter);
        }
        let cell = defuse(cell.as_ref());
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
        write_record(&mut out, cells, b',');
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
            assert_eq!(defuse(cell), format!("'{cell}"), "{cell:?}");
        }
        for cell in ["-12.5", "+3", "plain", "", "a=b", "1-2"] {
            assert_eq!(defuse(cell), cell, "{cell:?}");
        }
        assert_eq!(defuse("-inf"), "'-inf");
    }

    /// Exports `sizes` (bytes per row) through the batching a stream uses, over a keyset of row numbers.
    fn export(sizes: &[usize], mut sizing: Sizing) -> (Vec<usize>, Vec<usize>) {
        let (mut sent_rows, mut fetched_bytes) = (Vec::new(), Vec::new());
        let mut next = 0;
        loop {
            let asked = usize::try_from(sizing.limit + 1).unwrap_or(usize::MAX);
            let rows: Vec<usize> = (next..sizes.len()).take(asked).collect();
            fetched_bytes.push(rows.iter().map(|&r| sizes[r]).sum());
            let mut out = Vec::new();
            let (sent, ended) = sizing.write(&rows, &mut out, |out, &row| {
                out.resize(out.len() + sizes[row], b'x');
                sent_rows.push(row);
            });
            assert_eq!(
                out.len(),
                rows[..sent].iter().map(|&r| sizes[r]).sum::<usize>()
            );
            if ended {
                return (sent_rows, fetched_bytes);
            }
            next = rows[sent - 1] + 1;
        }
    }

    #[test]
    fn batches_of_large_rows_stop_by_bytes_and_send_every_row_once() {
        let mut sizes = vec![100; 1200];
        sizes.extend(std::iter::repeat_n(300_000, 40));
        sizes.extend(std::iter::repeat_n(2_000_000, 3));
        sizes.extend(vec![100; 700]);
        for sizing in [Sizing::adaptive(), Sizing::fixed()] {
            let (sent, _) = export(&sizes, sizing);
            assert_eq!(
                sent,
                (0..sizes.len()).collect::<Vec<_>>(),
                "each row once, in order"
            );
        }
        assert_eq!(export(&[], Sizing::adaptive()).0, Vec::<usize>::new());
        assert_eq!(
            export(&[5; 8], Sizing::adaptive()).0,
            (0..8).collect::<Vec<_>>()
        );
    }

    #[test]
    fn batches_of_rows_of_a_megabyte_hold_about_a_megabyte() {
        let (sent, fetched) = export(&[1 << 20; 60], Sizing::adaptive());
        assert_eq!(sent.len(), 60);
        // The first batch is the guess of eight rows; every later one asks for the limit of one row plus the row
        // that tells whether more follow.
        assert_eq!(fetched[0], 8 << 20);
        assert!(fetched[1..].iter().all(|&b| b <= 2 << 20), "{fetched:?}");
        let (_, fetched) = export(&[300_000; 60], Sizing::adaptive());
        assert!(
            fetched[1..].iter().all(|&b| b <= BATCH_BYTES + 2 * 300_000),
            "{fetched:?}"
        );
    }

    #[test]
    fn small_rows_still_come_500_to_a_batch() {
        let (_, fetched) = export(&[200; 3000], Sizing::adaptive());
        assert_eq!(fetched[0], 8 * 200);
        assert!(fetched[1..].iter().all(|&b| b <= 500 * 200));
        assert_eq!(fetched.len(), 1 + (3000_usize - 8).div_ceil(500));
    }

    #[test]
    fn cells_with_separators_or_quotes_are_quoted() {
        assert_eq!(
            line(&["x;=1+1;y", "a,b", "say \"hi\"", "two\nlines", "plain"]),
            "\"x;=1+1;y\",\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",plain\n"
        );
    }
}
