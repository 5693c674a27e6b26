//! Hamkori: a REST API that records how NGOs and government agencies work together.
//!
//! `build_app` assembles the same actix-web app for the server and for the tests.

pub mod agencies;
pub mod audit;
pub mod auth;
pub mod config;
pub mod consultations;
pub mod councils;
pub mod db;
pub mod demo;
pub mod domain;
pub mod engagements;
pub mod facilities;
pub mod grants;
pub mod hearings;
pub mod http;
pub mod meetings;
pub mod monitoring;
pub mod openapi;
pub mod ops;
pub mod organizations;
pub mod recommendations;
pub mod regions;
pub mod spheres;
pub mod state;
pub mod submissions;
pub mod users;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::from_fn;
use actix_web::web::{self, Data};
use actix_web::{App, HttpResponse};
use utoipa_actix_web::AppExt;

pub use crate::state::AppState;

/// Every documented route: operations at the root, the API under `/api/v1`.
pub fn routes(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    ops::routes(cfg);
    cfg.service(utoipa_actix_web::scope("/api/v1").configure(|api| {
        auth::handlers::routes(api);
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
        api.service(audit::handlers::list_audit);
    }));
}

/// Builds the application around a state.
pub fn build_app(
    state: AppState,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let (app, _) = App::new()
        .into_utoipa_app()
        .configure(routes)
        .split_for_parts();
    app.app_data(Data::new(state.clone()))
        .app_data(Data::new(state.routes.clone()))
        .service(
            utoipa_swagger_ui::SwaggerUi::new("/docs/{_:.*}")
                .config(utoipa_swagger_ui::Config::from("/openapi.json")),
        )
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        )
        .default_service(actix_web::dev::fn_service(http::fallback::not_routed))
        .wrap(from_fn(http::fallback::reject_undeclared_parameters))
        .wrap(state.metrics.clone())
        .wrap(from_fn(http::request_id::middleware))
}
