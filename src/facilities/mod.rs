//! Facilities: the monitored places (a public directory; admins write).

pub mod handlers;
pub mod model;

pub use model::Facility;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_facilities)
        .service(handlers::create_facility)
        .service(handlers::get_facility)
        .service(handlers::update_facility)
        .service(handlers::delete_facility)
        .service(handlers::facility_history);
}
