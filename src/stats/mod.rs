//! Statistics: the analyst's questions answered by one request each, counted under the read rule over exactly
//! the rows the matching list returns.

pub mod collections;
pub mod engine;
pub mod handlers;
pub mod overlaps;
pub mod scorecards;
pub mod tallies;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::engagement_stats)
        .service(handlers::recommendation_stats)
        .service(handlers::consultation_stats)
        .service(handlers::grant_stats)
        .service(handlers::monitoring_stats)
        .service(handlers::council_stats)
        .service(overlaps::overlaps)
        .service(scorecards::agency_scorecard)
        .service(scorecards::organization_scorecard);
}
