//! Organisations: NGOs and other non-state actors (a public directory).

pub mod handlers;
pub mod model;

pub use model::{Organization, OrganizationFilter, ensure_actors_exist};

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_organizations)
        .service(handlers::create_organization)
        .service(handlers::get_organization)
        .service(handlers::update_organization)
        .service(handlers::delete_organization)
        .service(handlers::organization_history);
}
