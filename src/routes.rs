//! Every documented route, in one table: operations at the root, the API under `/api/v1`.
//!
//! It names every handler, so it sits above all of them; the app (`build_app`) and the OpenAPI document are
//! both built from it, which keeps the two equal.

use crate::{
    agencies, audit, calendar, consultations, councils, engagements, facilities, grants, hearings,
    meetings, monitoring, open_data, ops, organizations, recommendations, regions, search,
    sessions, spheres, stats, submissions, users,
};

/// Every documented route: operations at the root, the API under `/api/v1`.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    ops::routes(cfg);
    cfg.service(utoipa_actix_web::scope("/api/v1").configure(|api| {
        sessions::routes(api);
        users::routes(api);
        regions::routes(api);
        spheres::routes(api);
        organizations::routes(api);
        agencies::routes(api);
        councils::routes(api);
        engagements::routes(api);
        meetings::routes(api);
        hearings::routes(api);
        consultations::routes(api);
        submissions::routes(api);
        facilities::routes(api);
        monitoring::routes(api);
        grants::routes(api);
        recommendations::routes(api);
        stats::routes(api);
        search::routes(api);
        calendar::routes(api);
        open_data::routes(api);
        api.service(audit::handlers::list_audit);
    }));
}
