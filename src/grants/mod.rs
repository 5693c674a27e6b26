//! Grants and other support to NGOs, and their 360Giving export.

pub mod handlers;
pub mod model;
pub mod money;
pub mod threesixty;

pub use model::Grant;

/// Registers the routes (the 360Giving export before `/grants/{id}`, so that it is not read as an id).
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::export_360giving)
        .service(handlers::list_grants)
        .service(handlers::create_grant)
        .service(handlers::get_grant)
        .service(handlers::update_grant)
        .service(handlers::delete_grant)
        .service(handlers::grant_history);
}
