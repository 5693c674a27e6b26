//! Recommendations: issued from an engagement to an agency, followed through their lifecycle to the end.

pub mod handlers;
pub mod lifecycle;
pub mod model;

pub use lifecycle::RecommendationStatus;
pub use model::Recommendation;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::create_recommendation)
        .service(handlers::list_recommendations)
        .service(handlers::get_recommendation)
        .service(handlers::update_recommendation)
        .service(handlers::change_recommendation_status)
        .service(handlers::recommendation_history);
}
