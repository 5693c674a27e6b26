//! Public consultations on draft laws and normative acts.

pub mod handlers;
pub mod model;

pub use model::Consultation;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_consultations)
        .service(handlers::create_consultation)
        .service(handlers::get_consultation)
        .service(handlers::update_consultation)
        .service(handlers::delete_consultation)
        .service(handlers::consultation_history);
}
