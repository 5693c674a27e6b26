//! The state every handler can reach: the pool, the token keys, metrics and the API document.
//!
//! A plain holder. The API document and the route table are made from every handler, and every handler reads
//! this state, so the state is assembled at the top (`AppState::new`, in lib.rs) and only carries them here.

use std::sync::Arc;

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
}

impl AppState {
    /// A connection for one request; a pool failure is a 503.
    pub async fn db(&self) -> ApiResult<PooledConn> {
        Ok(self.pool.get().await?)
    }
}

impl HasPool for AppState {
    fn pool(&self) -> &DbPool {
        &self.pool
    }
}
