//! Monitoring visits to facilities, with findings that may be confidential.

pub mod handlers;
pub mod model;

pub use model::Visit;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_visits)
        .service(handlers::list_facility_visits)
        .service(handlers::create_visit)
        .service(handlers::get_visit)
        .service(handlers::update_visit)
        .service(handlers::delete_visit)
        .service(handlers::visit_history)
        .service(handlers::withdraw_from_visit);
}
