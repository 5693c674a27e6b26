//! The state every handler can reach: the pool, the token keys, metrics and the API document.
//!
//! A plain holder. The API document and the route table are made from every handler, and every handler reads
//! this state, so the state is assembled at the top (`AppState::new`, in lib.rs) and only carries them here.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use actix_web_prom::PrometheusMetrics;

use crate::auth::{Sessions, TokenKeys};
use crate::config::AuthSettings;
use crate::db::{DbPool, PooledConn};
use crate::http::ApiResult;
use crate::http::client::TrustedProxies;
use crate::http::export::HasPool;
use crate::http::fallback::RouteTable;

/// What every handler can reach: the pool, the token keys, metrics and the API document.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: DbPool,
    /// Access-token keys.
    pub tokens: Arc<TokenKeys>,
    /// The check that an access token's session still stands.
    pub sessions: Arc<Sessions>,
    /// Session and client-address settings.
    pub auth: Arc<AuthSettings>,
    /// The proxies whose `X-Forwarded-For` is believed.
    pub proxies: Arc<TrustedProxies>,
    /// Request metrics and their registry.
    pub metrics: PrometheusMetrics,
    /// The OpenAPI document, serialized once.
    pub openapi_json: Arc<String>,
    /// Documented paths and methods, for 405 answers.
    pub routes: Arc<RouteTable>,
    /// The licence of the open-data download.
    pub open_data: Arc<crate::config::OpenDataSettings>,
    /// The open-data downloads this process serves at once: each holds a database connection while it streams.
    pub open_data_slots: Arc<tokio::sync::Semaphore>,
    /// Statistics already counted, given again while nothing was written since.
    pub counted: Arc<crate::answers::Counted>,
    /// The workers' own pools, handed out in turn by [`AppState::for_worker`].
    pub worker_pools: Arc<WorkerPools>,
}

/// One pool per worker thread. A connection's I/O is driven on the thread that opened it, so a worker that used
/// another worker's connection would wake that thread, and wait for it, twice per statement; with a pool of its
/// own every statement stays on the worker's thread (docs/benchmarks.md, "one pool per worker").
pub struct WorkerPools {
    pools: Vec<DbPool>,
    next: AtomicUsize,
}

impl WorkerPools {
    /// The pools, handed out in turn; at least one.
    pub fn new(pools: Vec<DbPool>) -> anyhow::Result<Self> {
        anyhow::ensure!(!pools.is_empty(), "the state needs at least one pool");
        Ok(Self {
            pools,
            next: AtomicUsize::new(0),
        })
    }

    /// Every pool, for the metrics.
    pub fn all(&self) -> &[DbPool] {
        &self.pools
    }

    /// The first pool, which the state itself reads (there is one: see [`WorkerPools::new`]).
    pub fn first(&self) -> &DbPool {
        &self.pools[0]
    }

    /// The next pool in turn.
    fn take(&self) -> DbPool {
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        self.pools[turn % self.pools.len()].clone()
    }
}

impl AppState {
    /// A connection for one request; a pool failure is a 503.
    pub async fn db(&self) -> ApiResult<PooledConn> {
        Ok(self.pool.get().await?)
    }

    /// The state for one more worker: the next of the workers' pools, read by the session check too (whose
    /// memory stays one for the process).
    pub fn for_worker(&self) -> Self {
        let pool = self.worker_pools.take();
        Self {
            sessions: Arc::new(self.sessions.with_pool(pool.clone())),
            pool,
            ..self.clone()
        }
    }
}

impl HasPool for AppState {
    fn pool(&self) -> &DbPool {
        &self.pool
    }
}
