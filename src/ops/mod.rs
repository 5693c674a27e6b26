//! Operations endpoints: liveness, readiness, Prometheus metrics, the OpenAPI document.

use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use diesel_async::RunQueryDsl;
use prometheus::core::{Collector, Desc};
use prometheus::proto::MetricFamily;
use prometheus::{Encoder, IntGauge, Opts, TextEncoder};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::DbPool;
use crate::http::fallback::RouteTable;
use crate::http::{ApiError, ApiResult, ProblemResponses};
use crate::state::AppState;

/// A health answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok` or `ready`.
    pub status: &'static str,
}

/// The process is alive.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database answers; 503 while it does not (the pool reconnects by itself when it returns).
#[utoipa::path(tag = "operations", responses((status = 200, body = Health), ProblemResponses))]
#[get("/readyz")]
pub async fn readyz(state: Data<AppState>) -> ApiResult<HttpResponse> {
    let check = async {
        let mut conn = state.db().await?;
        diesel::sql_query("SELECT 1").execute(&mut conn).await?;
        Ok::<_, ApiError>(())
    };
    match tokio::time::timeout(Duration::from_secs(3), check).await {
        Ok(Ok(())) => Ok(HttpResponse::Ok().json(Health { status: "ready" })),
        Ok(Err(error)) => {
            tracing::warn!(%error, "not ready");
            Err(ApiError::Unavailable("database unreachable".into()))
        }
        Err(_) => Err(ApiError::Unavailable("database check timed out".into())),
    }
}

/// Prometheus metrics: requests by route and status, latency histograms, pool usage.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "text/plain", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: Data<AppState>) -> ApiResult<HttpResponse> {
    let mut buffer = Vec::new();
    TextEncoder::new()
        .encode(&state.metrics.registry.gather(), &mut buffer)
        .map_err(|e| anyhow::anyhow!("encoding metrics: {e}"))?;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(buffer))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(tag = "operations", responses((status = 200, content_type = "application/json", body = Object)))]
#[get("/openapi.json")]
pub async fn openapi_json(state: Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(state.openapi_json.as_str().to_owned())
}

/// The method label of every request whose method HTTP does not define.
pub const OTHER_METHOD: &str = "OTHER";

/// Renames the methods HTTP does not define to [`OTHER_METHOD`] before routing, so that made-up method names
/// cannot each add series to `/metrics` (the metrics middleware labels by method). No route takes such a
/// method, so the answer stays the one the original got: 405 with `Allow` on a documented path, else 404.
///
/// A request to a path no route serves (not in the API document, not the docs UI) is renamed too, whatever its
/// method but GET: it is a 404 for every method, and the metrics middleware counts it under the `UNKNOWN`
/// endpoint, so made-up paths with any methods add up to two series (GET and OTHER), not one per method. GET, the
/// common case, skips the look-up in the route table.
/// The request-id middleware, outside this one, has already logged the method the client sent.
pub async fn collapse_unknown_methods(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    const DEFINED: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    let unrouted = || {
        let path = req.path();
        req.method() != Method::GET
            && path != "/docs"
            && !path.starts_with("/docs/")
            && req
                .app_data::<Data<std::sync::Arc<RouteTable>>>()
                .is_some_and(|table| table.allowed(path).is_none())
    };
    if (!DEFINED.contains(req.method()) || unrouted())
        && let Ok(other) = Method::from_bytes(OTHER_METHOD.as_bytes())
    {
        req.head_mut().method = other;
    }
    next.call(req).await
}

/// Reports the pools' size, idle and waiting counts at each scrape, summed over the workers' pools.
pub struct PoolCollector {
    pools: Vec<DbPool>,
    size: IntGauge,
    available: IntGauge,
    waiting: IntGauge,
    max_size: IntGauge,
}

impl PoolCollector {
    /// A collector for the process's pools.
    pub fn new(pools: Vec<DbPool>) -> anyhow::Result<Self> {
        let gauge = |name: &str, help: &str| {
            IntGauge::with_opts(Opts::new(name, help).namespace("hamkori"))
        };
        Ok(Self {
            pools,
            size: gauge("db_pool_connections", "Open connections in the pool")?,
            available: gauge("db_pool_idle_connections", "Idle connections in the pool")?,
            waiting: gauge(
                "db_pool_waiting_requests",
                "Requests waiting for a connection",
            )?,
            max_size: gauge("db_pool_max_connections", "Largest size of the pool")?,
        })
    }
}

impl Collector for PoolCollector {
    fn desc(&self) -> Vec<&Desc> {
        [&self.size, &self.available, &self.waiting, &self.max_size]
            .into_iter()
            .flat_map(|g| g.desc())
            .collect()
    }

    fn collect(&self) -> Vec<MetricFamily> {
        let statuses: Vec<_> = self.pools.iter().map(DbPool::status).collect();
        let sum = |of: fn(&deadpool::managed::Status) -> usize| {
            i64::try_from(statuses.iter().map(of).sum::<usize>()).unwrap_or(i64::MAX)
        };
        self.size.set(sum(|s| s.size));
        self.available.set(sum(|s| s.available));
        self.waiting.set(sum(|s| s.waiting));
        self.max_size.set(sum(|s| s.max_size));
        [&self.size, &self.available, &self.waiting, &self.max_size]
            .into_iter()
            .flat_map(|g| g.collect())
            .collect()
    }
}
