//! Hamkori: a REST API that records how NGOs and government agencies work together.
//!
//! `build_app` assembles the same actix-web app for the server and for the tests.

pub mod agencies;
pub mod audit;
pub mod auth;
pub mod config;
pub mod consultations;
pub mod councils;
pub mod db;
pub mod demo;
pub mod engagements;
pub mod facilities;
pub mod grants;
pub mod hearings;
pub mod http;
pub mod meetings;
pub mod monitoring;
pub mod openapi;
pub mod ops;
pub mod organizations;
pub mod recommendations;
pub mod regions;
pub mod spheres;
pub mod submissions;
pub mod users;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse};
use actix_web_prom::{PrometheusMetrics, PrometheusMetricsBuilder};
use utoipa_actix_web::AppExt;

use crate::auth::TokenKeys;
use crate::db::{DbPool, PooledConn};
use crate::http::ApiResult;
use crate::http::fallback::RouteTable;

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

/// Every documented route: operations at the root, the API under `/api/v1`.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    ops::routes(cfg);
    cfg.service(utoipa_actix_web::scope("/api/v1").configure(|api| {
        auth::handlers::routes(api);
        users::routes(api);
        regions::routes(api);
        spheres::routes(api);
        organizations::routes(api);
        agencies::routes(api);
        councils::routes(api);
        engagements::routes(api);
        meetings::routes(api);
        hearings::routes(api);
        consultations::routes(api);
        submissions::routes(api);
        facilities::routes(api);
        monitoring::routes(api);
        grants::routes(api);
        recommendations::routes(api);
        api.service(audit::handlers::list_audit);
    }));
}

/// Builds the application around a state.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = App::new()
        .into_utoipa_app()
        .configure(routes)
        .split_for_parts();
    app.app_data(Data::new(state.clone()))
        .app_data(Data::new(state.routes.clone()))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/openapi.json")),
        )
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        )
        .default_service(actix_web::dev::fn_service(http::fallback::not_routed))
        .wrap(from_fn(http::fallback::reject_undeclared_parameters))
        .wrap(state.metrics.clone())
        .wrap(from_fn(http::request_id::middleware))
}
