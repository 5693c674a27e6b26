//! `GET /export/open-data.zip`: the package, written as it is read.

use std::io::Write;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use actix_web::web::{Bytes, Data};
use actix_web::{HttpResponse, get};
use chrono::Utc;
use diesel_async::RunQueryDsl;
use tokio::sync::{mpsc, oneshot};
use zip::ZipWriter;
use zip::write::SimpleFileOptions;

use super::collections::{self, Collection};
use super::package::{self, OpenDataSettings};
use crate::audit::write::in_transaction;
use crate::db::Conn;
use crate::http::export::{Sizing, write_record};
use crate::http::{ApiError, ApiResult, ProblemResponses};
use crate::state::AppState;

/// Downloads served at once by one process (`AppState::open_data_slots`): each holds a database connection (one
/// snapshot) while it streams. Another gets a 503 with `Retry-After`.
pub const DOWNLOADS_AT_ONCE: usize = 2;

/// How long the download waits for a client that stopped reading before it gives up and frees its connection.
const STALLED: Duration = Duration::from_secs(60);

/// The most rows read at once: one connection serves the whole download, so larger batches than a list export's
/// save statements (a batch still stops at about a megabyte of CSV).
const BATCH_ROWS: i64 = 2_000;

/// Chunks on their way to the client: a couple of batches, so memory stays flat however large the package.
const CHUNKS_IN_FLIGHT: usize = 2;

/// What the ZIP writer writes into; drained to the client after every batch.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl Sink {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Zip = ZipWriter<zip::write::StreamWriter<Sink>>;

/// A batch to compress, which hands the writer back when done.
type Job = Box<dyn FnOnce() + Send>;

/// The ZIP being written, compressing one batch on the download's own thread while the next batch is read, so
/// that the server's own work overlaps Postgres' (docs/benchmarks.md, "Open data"). One thread per download, not
/// the shared blocking pool: every pooled thread that compressed a batch kept its own allocator heap, which took
/// the server's memory past 100 MiB once the reads were fast.
struct Packer {
    /// The writer, when no batch is being compressed.
    zip: Option<Zip>,
    /// The batch being compressed; it hands the writer back.
    compressing: Option<oneshot::Receiver<std::io::Result<Zip>>>,
    /// The compressing thread's queue; the thread ends when the packer is dropped.
    jobs: std::sync::mpsc::Sender<Job>,
    sink: Sink,
    tx: Chunks,
}

impl Packer {
    fn new(tx: Chunks) -> ApiResult<Self> {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("open-data-zip".into())
            .spawn(move || {
                while let Ok(job) = queue.recv() {
                    job();
                }
            })
            .map_err(|e| ApiError::Internal(anyhow::anyhow!("starting the ZIP thread: {e}")))?;
        let sink = Sink::default();
        Ok(Self {
            zip: Some(ZipWriter::new_stream(sink.clone())),
            compressing: None,
            jobs,
            sink,
            tx,
        })
    }

    /// Waits for the batch being compressed, sends what it wrote, and hands out the writer.
    async fn idle(&mut self) -> ApiResult<&mut Zip> {
        if let Some(compressing) = self.compressing.take() {
            let zip = compressing
                .await
                .map_err(|e| ApiError::Internal(anyhow::anyhow!("compressing a batch: {e}")))?
                .map_err(io_error)?;
            self.zip = Some(zip);
        }
        send(&self.tx, self.sink.take()).await?;
        self.zip.as_mut().ok_or_else(writer_lost)
    }

    /// Starts the next file of the package.
    async fn start_file(&mut self, name: &str) -> ApiResult<()> {
        self.idle()
            .await?
            .start_file(name, options())
            .map_err(zip_error)
    }

    /// Compresses `bytes` into the current file on the ZIP thread, and returns at once.
    async fn write(&mut self, bytes: Vec<u8>) -> ApiResult<()> {
        self.idle().await?;
        let mut zip = self.zip.take().ok_or_else(writer_lost)?;
        let (done, compressing) = oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                // The receiver is gone only when the download was abandoned.
                let _ = done.send(zip.write_all(&bytes).map(|()| zip));
            }))
            .map_err(|_| ApiError::Internal(anyhow::anyhow!("the ZIP thread has stopped")))?;
        self.compressing = Some(compressing);
        Ok(())
    }

    /// Ends the package and sends its last bytes.
    async fn finish(mut self) -> ApiResult<()> {
        self.idle().await?;
        let zip = self.zip.take().ok_or_else(writer_lost)?;
        zip.finish().map_err(zip_error)?;
        send(&self.tx, self.sink.take()).await
    }
}

/// Every file deflated at the default level: the fastest one made the download 60 % larger for 12 % less time
/// (docs/benchmarks.md, "Open data").
fn options() -> SimpleFileOptions {
    SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true)
}

type Chunks = mpsc::Sender<Result<Bytes, actix_web::Error>>;

/// Every public record in one ZIP: a CSV per collection, `datapackage.json` and a README.
///
/// One CSV file per collection (UTF-8 with a byte-order mark, names beside ids, the columns of each list's CSV
/// export), a Frictionless Data Package describing every column, and a README with the licence (CC BY 4.0 unless
/// configured) and the export time. Public records only, whoever asks; read in one repeatable-read snapshot and
/// streamed as it is read. Two downloads at a time per server process; another gets a 503 with `Retry-After`.
#[utoipa::path(tag = "open data",
    responses((status = 200, description = "The package, streamed", content((String = "application/zip"))),
        ProblemResponses))]
#[get("/export/open-data.zip")]
pub async fn open_data(
    state: Data<AppState>,
    _caller: crate::auth::Caller,
) -> ApiResult<HttpResponse> {
    let permit = state
        .open_data_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| {
            tracing::warn!("open-data download turned away: every slot busy");
            ApiError::Unavailable("open-data downloads busy".into())
        })?;
    let mut conn = state.db().await?;
    let settings = state.open_data.clone();
    let request_id = crate::http::request_id::current().unwrap_or_default();
    let (tx, rx) = mpsc::channel(CHUNKS_IN_FLIGHT);
    actix_web::rt::spawn(async move {
        let _permit = permit;
        if let Err(error) = write(&mut conn, &tx, &settings).await {
            tracing::error!(%request_id, ?error, "open-data download aborted");
            // Aborts the response, so that a truncated file never looks complete.
            let aborted = actix_web::error::ErrorServiceUnavailable("export aborted");
            if tx.send(Err(aborted)).await.is_err() {
                tracing::debug!(%request_id, "the client had already gone");
            }
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((
            "Content-Disposition",
            "attachment; filename=\"hamkori-open-data.zip\"",
        ))
        .streaming(body))
}

/// Writes the package into `tx`: every collection in one read-only repeatable-read transaction.
async fn write(conn: &mut Conn, tx: &Chunks, settings: &OpenDataSettings) -> ApiResult<()> {
    let mut packer = Packer::new(tx.clone())?;
    let collections = collections::all();
    in_transaction(conn, async |conn| {
        diesel::sql_query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(conn)
            .await?;
        // Parallel workers start anew for every batch, which doubled a batch's time at a million engagements
        // (docs/benchmarks.md, "Open data"); the download runs beside other requests anyway.
        diesel::sql_query("SET LOCAL max_parallel_workers_per_gather = 0")
            .execute(conn)
            .await?;
        let exported_at = Utc::now();
        for collection in &collections {
            packer
                .start_file(&format!("{}.csv", collection.name))
                .await?;
            write_collection(conn, collection, &mut packer).await?;
        }
        let metadata = [
            (
                "datapackage.json",
                serde_json::to_vec_pretty(&package::datapackage(
                    &collections,
                    settings,
                    exported_at,
                ))
                .map_err(|e| ApiError::Internal(e.into()))?,
            ),
            (
                "README.md",
                package::readme(&collections, settings, exported_at).into_bytes(),
            ),
        ];
        for (name, bytes) in metadata {
            packer.start_file(name).await?;
            packer.write(bytes).await?;
        }
        Ok(())
    })
    .await?;
    packer.finish().await
}

/// Writes one collection's CSV, batch after batch: each batch is compressed while the next is read.
async fn write_collection(
    conn: &mut Conn,
    collection: &Collection,
    packer: &mut Packer,
) -> ApiResult<()> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    write_record(&mut out, collection.columns, b',');
    let mut sizing = Sizing::adaptive_up_to(BATCH_ROWS);
    let mut cursor = None;
    loop {
        let records = (collection.fetch)(conn, cursor.take(), sizing.limit()).await?;
        let (sent, ended) = sizing.write(&records, &mut out, |out, (record, _)| {
            write_record(out, record, b',');
        });
        packer.write(std::mem::take(&mut out)).await?;
        cursor = sent
            .checked_sub(1)
            .and_then(|last| records.get(last))
            .map(|(_, next)| next.clone());
        if ended || cursor.is_none() {
            return Ok(());
        }
    }
}

/// Sends a chunk of the package; a client that stops reading for [`STALLED`] ends the download.
async fn send(tx: &Chunks, chunk: Vec<u8>) -> ApiResult<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    match tokio::time::timeout(STALLED, tx.send(Ok(Bytes::from(chunk)))).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) => Err(ApiError::Unavailable("the client left the download".into())),
        Err(_) => Err(ApiError::Unavailable("the client stopped reading".into())),
    }
}

fn writer_lost() -> ApiError {
    ApiError::Internal(anyhow::anyhow!("the ZIP writer was lost"))
}

fn zip_error(error: zip::result::ZipError) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("writing the ZIP: {error}"))
}

fn io_error(error: std::io::Error) -> ApiError {
    ApiError::Internal(anyhow::anyhow!("writing the ZIP: {error}"))
}
