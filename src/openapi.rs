//! The OpenAPI 3.1 document: a base (info, security, tags) plus every path the routes register.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

/// The static part of the document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hamkori API",
        description = "Records how NGOs and government agencies work together: councils, hearings, consultations, \
monitoring visits and grants, and what became of every recommendation. Errors are RFC 9457 problem+json; \
lists are keyset-paged `{items, next_cursor}`; writes accept `If-Match` and answer 412 when it is stale.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    components(schemas(crate::http::Problem, crate::http::FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Health, readiness, metrics and this document"),
        (name = "auth", description = "Log in, refresh, log out"),
        (name = "users", description = "User accounts (admins)"),
        (name = "reference", description = "Regions and spheres"),
        (name = "organizations", description = "NGOs and other non-state actors"),
        (name = "agencies", description = "Government bodies"),
        (name = "councils", description = "Public councils, their branches, commissions and members"),
        (name = "engagements", description = "Every kind of interaction, with its parties"),
        (name = "meetings", description = "Meetings of councils"),
        (name = "hearings", description = "Public hearings organised by civil society"),
        (name = "consultations", description = "Public consultations on draft acts, with submissions and answers"),
        (name = "monitoring", description = "Monitored facilities and monitoring visits with their findings"),
        (name = "grants", description = "Grants and other support to NGOs"),
        (name = "recommendations", description = "Recommendations followed to the agency until implemented or rejected"),
        (name = "audit", description = "Who changed what")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The whole document, as the running server serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes)
        .split_for_parts();
    doc
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}
