//! User accounts: admins manage them; each user has one of five roles and the bindings the role needs.

pub mod handlers;
pub mod model;

pub use model::User;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_users)
        .service(handlers::create_user)
        .service(handlers::get_user)
        .service(handlers::update_user)
        .service(handlers::delete_user);
}
