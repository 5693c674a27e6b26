//! Hamkori: a REST API that records how NGOs and government agencies work together.
//!
//! `build_app` assembles the same actix-web app for the server and for the tests.
//!
//! Modules depend downwards only (docs/architecture.md draws the layers; `tests/api/layers.rs` enforces it).
//! This root is the top: it assembles the state from the route table and the API document.

pub mod agencies;
pub mod answers;
pub mod audit;
pub mod auth;
pub mod calendar;
pub mod config;
pub mod consultations;
pub mod councils;
pub mod db;
pub mod demo;
pub mod domain;
pub mod engagements;
pub mod facilities;
pub mod grants;
pub mod hearings;
pub mod http;
pub mod idempotency;
pub mod meetings;
pub mod monitoring;
pub mod open_data;
pub mod openapi;
pub mod ops;
pub mod organizations;
pub mod recommendations;
pub mod regions;
pub mod routes;
pub mod search;
pub mod sessions;
pub mod spheres;
pub mod state;
pub mod stats;
pub mod submissions;
pub mod users;

use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse};
use actix_web_prom::PrometheusMetricsBuilder;
use utoipa_actix_web::AppExt;

use crate::auth::{Sessions, TokenKeys};
use crate::config::AuthSettings;
use crate::db::DbPool;
use crate::http::client::TrustedProxies;
use crate::http::fallback::RouteTable;
pub use crate::routes::routes;
pub use crate::state::AppState;

impl AppState {
    /// Assembles the state; nothing here touches the database.
    ///
    /// Built here rather than in `state`: the API document and the route table come from every handler, and
    /// every handler reads the state, so only the top of the crate can make both without a cycle.
    pub fn new(pool: DbPool, jwt_secret: &[u8]) -> anyhow::Result<Self> {
        Self::with_settings(pool, jwt_secret, AuthSettings::default())
    }

    /// [`AppState::new`] with session and client-address settings.
    pub fn with_settings(
        pool: DbPool,
        jwt_secret: &[u8],
        auth: AuthSettings,
    ) -> anyhow::Result<Self> {
        Self::with_worker_pools(vec![pool], jwt_secret, auth)
    }

    /// [`AppState::with_settings`] with one pool per worker, handed out in turn by [`AppState::for_worker`] (the
    /// state itself reads the first); the metrics sum them. An empty list is an error.
    pub fn with_worker_pools(
        pools: Vec<DbPool>,
        jwt_secret: &[u8],
        auth: AuthSettings,
    ) -> anyhow::Result<Self> {
        let workers = state::WorkerPools::new(pools)?;
        let pool = workers.first().clone();
        let metrics = PrometheusMetricsBuilder::new("hamkori")
            .buckets(&[
                0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
            ])
            .mask_unmatched_patterns("UNKNOWN")
            .build()
            .map_err(|e| anyhow::anyhow!("building metrics: {e}"))?;
        metrics
            .registry
            .register(Box::new(ops::PoolCollector::new(workers.all().to_vec())?))
            .map_err(|e| anyhow::anyhow!("registering pool metrics: {e}"))?;
        let doc = openapi::document();
        let sessions = Sessions::new(
            pool.clone(),
            std::time::Duration::from_secs(auth.session_cache_seconds),
        );
        Ok(Self {
            pool,
            tokens: Arc::new(TokenKeys::new(jwt_secret)?),
            sessions: Arc::new(sessions),
            proxies: Arc::new(TrustedProxies::new(auth.trusted_proxies.clone())),
            auth: Arc::new(auth),
            metrics,
            openapi_json: Arc::new(serde_json::to_string(&doc)?),
            routes: Arc::new(RouteTable::from_openapi(&doc)),
            open_data: Arc::default(),
            open_data_slots: Arc::new(tokio::sync::Semaphore::new(
                open_data::handlers::DOWNLOADS_AT_ONCE,
            )),
            counted: Arc::default(),
            worker_pools: Arc::new(workers),
        })
    }

    /// The state with statistics given again for at most `fresh_for` (zero: counted on every request).
    pub fn with_stats_fresh_for(mut self, fresh_for: std::time::Duration) -> Self {
        self.counted = Arc::new(answers::Counted::new(fresh_for));
        self
    }

    /// The state with the open-data download's licence.
    pub fn with_open_data(mut self, settings: config::OpenDataSettings) -> Self {
        self.open_data = Arc::new(settings);
        self
    }
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
        // The caller extractor reads the keys and the session check on their own: `auth` sits below the state.
        .app_data(Data::from(state.tokens.clone()))
        .app_data(Data::from(state.sessions.clone()))
        .app_data(Data::from(state.proxies.clone()))
        // The write path notes its commits in the app's kept answers without holding the state (see `answers`).
        .app_data(Data::from(state.counted.clone()))
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
        // Innermost: a request it replays or refuses has passed every check of the layers around it.
        .wrap(from_fn(idempotency::middleware))
        .wrap(from_fn(answers::middleware))
        .wrap(from_fn(http::fallback::reject_undeclared_parameters))
        // Inside the metrics middleware, which reads the method once the answer is made: made-up methods are
        // counted under one label, and unmatched paths under `UNKNOWN` (see `AppState::new`).
        .wrap(from_fn(ops::collapse_unknown_methods))
        .wrap(state.metrics.clone())
        .wrap(from_fn(http::request_id::middleware))
}

#[cfg(test)]
mod tests {
    // Here, at the top, because it names an enum of nearly every module (see `text_enum!`).
    fn check<T: serde::Serialize + std::fmt::Display>(all: &[T]) {
        for value in all {
            assert_eq!(
                serde_json::to_value(value).ok(),
                Some(serde_json::Value::String(value.to_string()))
            );
        }
    }

    #[test]
    fn text_enums_serialize_as_stored() {
        check(crate::domain::Role::ALL);
        check(crate::audit::AuditAction::ALL);
        check(crate::regions::RegionLevel::ALL);
        check(crate::organizations::model::OrganizationKind::ALL);
        check(crate::organizations::model::Settlement::ALL);
        check(crate::organizations::model::OrganizationStatus::ALL);
        check(crate::agencies::model::GovernmentLevel::ALL);
        check(crate::agencies::model::AgencyKind::ALL);
        check(crate::councils::model::CouncilKind::ALL);
        check(crate::councils::model::MemberRole::ALL);
        check(crate::domain::EngagementKind::ALL);
        check(crate::domain::Visibility::ALL);
        check(crate::domain::PartyRole::ALL);
        check(crate::engagements::model::DocumentKind::ALL);
        check(crate::meetings::model::MeetingStatus::ALL);
        check(crate::meetings::model::MeetingFormat::ALL);
        check(crate::recommendations::RecommendationStatus::ALL);
        check(crate::recommendations::model::Priority::ALL);
        check(crate::hearings::model::HearingStatus::ALL);
        check(crate::consultations::model::ActType::ALL);
        check(crate::consultations::model::ConsultationStatus::ALL);
        check(crate::submissions::model::ResponseStatus::ALL);
        check(crate::facilities::model::FacilityType::ALL);
        check(crate::monitoring::model::VisitStatus::ALL);
        check(crate::monitoring::model::VisitAccess::ALL);
        check(crate::search::SearchType::ALL);
        check(crate::monitoring::model::FindingCategory::ALL);
        check(crate::monitoring::model::Severity::ALL);
        check(crate::grants::model::SupportType::ALL);
        check(crate::grants::model::GrantStatus::ALL);
    }

    /// Each worker gets the next pool in turn, and the pool metrics count them all.
    #[test]
    fn workers_take_the_pools_in_turn_and_the_metrics_sum_them() {
        let pool = |size| {
            crate::db::pool("postgres://nobody@127.0.0.1:1/none", size)
                .expect("a pool is built without connecting")
        };
        let secret = b"a secret of at least thirty-two bytes";
        let state = crate::AppState::with_worker_pools(
            vec![pool(2), pool(3)],
            secret,
            crate::config::AuthSettings::default(),
        )
        .expect("state");
        let sizes: Vec<usize> = (0..3)
            .map(|_| state.for_worker().pool.status().max_size)
            .collect();
        assert_eq!(sizes, [2, 3, 2]);
        let scraped = prometheus::TextEncoder::new()
            .encode_to_string(&state.metrics.registry.gather())
            .expect("metrics");
        assert!(
            scraped.contains("hamkori_db_pool_max_connections 5"),
            "{scraped}"
        );
        assert!(
            crate::AppState::with_worker_pools(
                Vec::new(),
                secret,
                crate::config::AuthSettings::default()
            )
            .is_err()
        );
    }
}
