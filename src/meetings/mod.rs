//! wip
/// Registers the routes.
pub fn routes(_cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {}
