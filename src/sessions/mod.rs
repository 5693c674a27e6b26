//! Sessions over HTTP: log in, refresh, log out, and who am I (`/auth/…`, tagged `auth` in the API document).
//!
//! These endpoints read user accounts, and user accounts use `auth` (passwords, the caller, revocation), so
//! they live here, above both, rather than in `auth`.

pub mod handlers;
pub mod throttle;

/// Registers the routes.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(handlers::login)
        .service(handlers::refresh)
        .service(handlers::logout)
        .service(handlers::me);
}
