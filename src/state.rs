//! The state every handler can reach: the pool, the token keys, metrics and the API document.

use std::sync::Arc;

use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};

use crate::auth::TokenKeys;
use crate::db::{DbPool, PooledConn};
use crate::http::ApiResult;
use crate::http::fallback::RouteTable;
use crate::{openapi, ops};

/// What every handler can reach: the pool, the token keys, metrics and the API document.
#[derive(Clone)]
pub struct AppState {
    /// The database pool.
    pub pool: DbPool,
    /// Access-token keys.
    pub tokens: Arc<TokenKeys>,
    /// Request metrics and their registry.
    pub metrics: PrometheusMetrics,
    /// The OpenAPI document, serialized once.
    pub openapi_json: Arc<String>,
    /// Documented paths and methods, for 405 answers.
    pub routes: Arc<RouteTable>,
}

impl AppState {
    /// Assembles the state; nothing here touches the database.
    pub fn new(pool: DbPool, jwt_secret: &[u8]) -> anyhow::Result<Self> {
        let metrics = PrometheusMetricsBuilder::new("hamkori")
            .buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
            .mask_unmatched_patterns("UNKNOWN")
            .build()
            .map_err(|e| anyhow::anyhow!("building metrics: {e}"))?;
        metrics
            .registry
            .register(Box::new(ops::PoolCollector::new(pool.clone())?))
            .map_err(|e| anyhow::anyhow!("registering pool metrics: {e}"))?;
        let doc = openapi::document();
        Ok(Self {
            pool,
            tokens: Arc::new(TokenKeys::new(jwt_secret)?),
            metrics,
            openapi_json: Arc::new(serde_json::to_string(&doc)?),
            routes: Arc::new(RouteTable::from_openapi(&doc)),
        })
    }

    /// A connection for one request; a pool failure is a 503.
    pub async fn db(&self) -> ApiResult<PooledConn> {
        Ok(self.pool.get().await?)
    }
}
