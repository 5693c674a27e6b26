//! `GET /search`: one ranked list across engagements, recommendations, submissions, organisations and agencies,
//! under the lists' read rules (docs/search.md).

pub mod handlers;
pub mod model;

pub use model::{SearchHit, SearchParams, SearchType};

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::search);
}
