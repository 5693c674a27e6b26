//! Meetings of councils: status, time, place, format, agenda, attendance, minutes and documents.

pub mod handlers;
pub mod model;

pub use model::Meeting;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_council_meetings)
        .service(handlers::create_meeting)
        .service(handlers::list_meetings)
        .service(handlers::get_meeting)
        .service(handlers::update_meeting)
        .service(handlers::delete_meeting)
        .service(handlers::meeting_history);
}
