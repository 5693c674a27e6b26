//! Public hearings organised by civil society, with officials and the media invited.

pub mod handlers;
pub mod model;

pub use model::Hearing;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_hearings)
        .service(handlers::create_hearing)
        .service(handlers::get_hearing)
        .service(handlers::update_hearing)
        .service(handlers::delete_hearing)
        .service(handlers::hearing_history)
        .service(handlers::withdraw_from_hearing);
}
