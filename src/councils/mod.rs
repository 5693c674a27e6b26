//! Councils: standing consultative bodies with branches, commissions and members (a public directory).

pub mod handlers;
pub mod members;
pub mod model;

pub use model::{Council, Member};

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::list_councils)
        .service(handlers::create_council)
        .service(handlers::get_council)
        .service(handlers::update_council)
        .service(handlers::delete_council)
        .service(handlers::council_history)
        .service(members::list_members)
        .service(members::add_member)
        .service(members::get_member)
        .service(members::update_member)
        .service(members::remove_member);
}
