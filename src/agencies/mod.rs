//! Agencies: government bodies, optionally under a parent agency (a public directory).

pub mod handlers;
pub mod model;

pub use model::{Agency, AgencyFilter, GovernmentLevel};

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_agencies)
        .service(handlers::create_agency)
        .service(handlers::get_agency)
        .service(handlers::update_agency)
        .service(handlers::delete_agency)
        .service(handlers::agency_history);
}
