//! Answers kept: statistics and scorecards already counted. One is given again from memory while nothing has
//! been written through this app since it was counted, for at most [`FRESH_FOR`]; its `Age` header says how
//! long ago it was counted. A dashboard polled by many readers, or a flood of one question, then costs one count,
//! and readers asking the same question at once wait for that one count instead of each starting their own.
//!
//! An answer is only ever given to readers whose read rule is the same as the one it was counted for (see
//! [`Reader`]), for the same request (path and query) on the same day (overdue counts depend on the day). Every
//! write the app commits ([`NoteWriteOnDrop`], held across the one write path's commit) makes every earlier answer
//! stale at once; a write that reaches the database another way (another process, a bulk load) shows after
//! [`FRESH_FOR`] at the latest.
//!
//! The write path does not hold the app's state, so [`middleware`] lends each request the count of writes of the
//! app serving it (a task-local value) for the write path to note its commit in. Each app counts its own writes:
//! two apps in one process (the tests run many) never end each other's answers.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::web::{Bytes, Data};
use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use crate::auth::{Caller, Role};
use crate::http::ApiResult;

/// The longest an answer is given again, unless configured otherwise (`HAMKORI_STATS_FRESH_SECONDS`).
pub const FRESH_FOR: Duration = Duration::from_secs(60);

/// What the kept answers may weigh in all (bytes of their bodies and keys, and a share for the cache's own
/// bookkeeping per entry).
const CAPACITY_BYTES: u64 = 64 * 1024 * 1024;

/// What the cache itself keeps per answer besides the request and the body, counted against the capacity.
const ENTRY_OVERHEAD_BYTES: usize = 512;

/// Writes committed by one app: an answer counted before the latest one is stale.
type Writes = Arc<AtomicU64>;

tokio::task_local! {
    /// The writes of the app serving the current request (see [`middleware`]).
    static WRITES_OF_THIS_APP: Writes;
}

/// Lends the request the count of writes of the app serving it, for [`NoteWriteOnDrop`] to reach from the write
/// path. The value stays set while the request's future is dropped half way, so an abandoned commit is noted too.
pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    match req.app_data::<Data<Counted>>() {
        Some(counted) => {
            let writes = Arc::clone(&counted.writes);
            WRITES_OF_THIS_APP.scope(writes, next.call(req)).await
        }
        None => next.call(req).await,
    }
}

/// Notes a write when dropped. Held across a commit, it notes the write whether the commit succeeds, fails (its
/// outcome is then unknown) or is abandoned half way (the request's future dropped). Outside a request (the demo
/// load, the command line) there are no answers to end.
#[derive(Debug)]
pub struct NoteWriteOnDrop;

impl Drop for NoteWriteOnDrop {
    fn drop(&mut self) {
        // Err only outside a request: nothing is kept there.
        let _outside_a_request = WRITES_OF_THIS_APP.try_with(|writes| {
            writes.fetch_add(1, Ordering::SeqCst);
        });
    }
}

/// Whose read rule an answer was counted under: readers with equal values read exactly the same rows (the read
/// rule depends on the role, and on the organisation, agency and councils a user holds; never on the user).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Reader {
    role: Option<Role>,
    organization_id: Option<Uuid>,
    agency_id: Option<Uuid>,
    council_ids: Vec<Uuid>,
}

impl Reader {
    fn of(caller: &Caller) -> Self {
        match &caller.actor {
            None => Self {
                role: None,
                organization_id: None,
                agency_id: None,
                council_ids: Vec::new(),
            },
            Some(actor) => {
                let mut council_ids = actor.council_ids.clone();
                council_ids.sort_unstable();
                Self {
                    role: Some(actor.role),
                    organization_id: actor.organization_id,
                    agency_id: actor.agency_id,
                    council_ids,
                }
            }
        }
    }
}

/// One question as asked: the request, the reader, the day, and how many writes had been made before it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Question {
    request: String,
    reader: Reader,
    day: NaiveDate,
    writes: u64,
}

/// A counted answer as sent.
#[derive(Debug, Clone)]
pub struct Answer {
    /// The body.
    pub body: Bytes,
    /// Its media type.
    pub content_type: &'static str,
    /// The `Content-Disposition` of a download, if it is one.
    pub disposition: Option<String>,
    /// When it was counted.
    pub counted_at: DateTime<Utc>,
}

impl Answer {
    /// A JSON answer counted now.
    pub fn json(value: &impl serde::Serialize) -> ApiResult<Self> {
        Ok(Self {
            body: Bytes::from(serde_json::to_vec(value).map_err(anyhow::Error::from)?),
            content_type: "application/json",
            disposition: None,
            counted_at: Utc::now(),
        })
    }
}

/// The answers of one app, kept per question (none when answers are not kept).
pub struct Counted {
    answers: Option<moka::future::Cache<Question, Answer>>,
    writes: Writes,
}

impl Default for Counted {
    fn default() -> Self {
        Self::new(FRESH_FOR)
    }
}

impl Counted {
    /// Answers kept for at most `fresh_for`; none kept when it is zero.
    pub fn new(fresh_for: Duration) -> Self {
        let answers = (!fresh_for.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(CAPACITY_BYTES)
                .weigher(|question: &Question, answer: &Answer| {
                    let bytes = ENTRY_OVERHEAD_BYTES
                        + question.request.len()
                        + question.reader.council_ids.len() * 16
                        + answer.body.len()
                        + answer.disposition.as_ref().map_or(0, String::len);
                    u32::try_from(bytes).unwrap_or(u32::MAX)
                })
                .time_to_live(fresh_for)
                .build()
        });
        Self {
            answers,
            writes: Writes::default(),
        }
    }

    /// Notes a write made past the write path (SQL run straight on the database): every answer kept is stale.
    pub fn note_write(&self) {
        self.writes.fetch_add(1, Ordering::SeqCst);
    }

    /// The answer to `request` for `caller`: the one counted before if it is still fresh, otherwise what `count`
    /// counts (once for every reader asking the same question at the same time). Failures are not kept.
    pub async fn answer(
        &self,
        request: &HttpRequest,
        caller: &Caller,
        count: impl Future<Output = ApiResult<Answer>>,
    ) -> ApiResult<HttpResponse> {
        let question = Question {
            request: request.uri().to_string(),
            reader: Reader::of(caller),
            day: Utc::now().date_naive(),
            writes: self.writes.load(Ordering::SeqCst),
        };
        let answer = match &self.answers {
            Some(answers) => answers
                .try_get_with(question, count)
                .await
                .map_err(|shared| {
                    Arc::try_unwrap(shared).unwrap_or_else(|shared| shared.replay())
                })?,
            None => count.await?,
        };
        let age = (Utc::now() - answer.counted_at).num_seconds().max(0);
        let mut response = HttpResponse::Ok();
        response
            .content_type(answer.content_type)
            .insert_header((header::AGE, age.to_string()));
        if let Some(disposition) = &answer.disposition {
            response.insert_header((header::CONTENT_DISPOSITION, disposition.clone()));
        }
        Ok(response.body(answer.body))
    }
}
