//! Submissions to consultations and the agencies' answers to them.

pub mod handlers;
pub mod model;

pub use model::Submission;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_submissions)
        .service(handlers::list_consultation_submissions)
        .service(handlers::create_submission)
        .service(handlers::get_submission)
        .service(handlers::update_submission)
        .service(handlers::delete_submission)
        .service(handlers::withdraw_from_submission)
        .service(handlers::put_submission_response);
}
