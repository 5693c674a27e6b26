//! The OpenAPI 3.1 document: a base (info, security, tags) plus every path the routes register, completed so
//! that third-party validators (openapi-spec-validator, `redocly lint`) accept it.

use actix_web::http::StatusCode;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::schema::{ArrayItems, Schema};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_actix_web::AppExt;

/// The static part of the document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Hamkori API",
        description = "Records how NGOs and government agencies work together: councils, hearings, consultations, \
monitoring visits and grants, and what became of every recommendation. Errors are RFC 9457 problem+json; \
lists are keyset-paged `{items, next_cursor}`; writes accept `If-Match` and answer 412 when it is stale (428 when \
an engagement or recommendation is changed or deleted without it); POST and PUT accept `Idempotency-Key` to make \
retries safe. Every answer carries `X-Request-Id`: the server's own id of the request, which problem bodies, logs \
and the audit log quote; an `X-Request-Id` the client sends (1–128 characters of `[A-Za-z0-9._:-]`, else ignored) \
is kept beside it as `client_request_id`, never in its place.",
        license(name = "AGPL-3.0-or-later", identifier = "AGPL-3.0-or-later")
    ),
    // Paths are absolute (`/api/v1/...`), so the server is the root of whatever host serves the document; `/` is
    // also what a client assumes when `servers` is absent, so declaring it changes nothing for clients.
    servers((url = "/", description = "The host that serves this document")),
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
        (name = "search", description = "Full text across engagements, recommendations, submissions, organisations and agencies"),
        (name = "statistics", description = "Counts, rates and sums over what the caller may read, grouped as analysts ask"),
        (name = "open data", description = "Every public record in one download, with its description and licence"),
        (name = "calendar", description = "Upcoming meetings, hearings and comment-period deadlines to subscribe to"),
        (name = "audit", description = "Who changed what")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            BEARER,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "An access token from `/auth/login` or `/auth/refresh`, valid for 15 minutes. It is refused \
                         (401) once its session ends (logout, a reused refresh token, a new password) or its user is \
                         deleted, disabled, or given another role or binding: at once on the process that made the \
                         change, within 5 seconds on every other.",
                    ))
                    .build(),
            ),
        );
    }
}

/// The name of the bearer scheme in `components.securitySchemes`.
const BEARER: &str = "bearer";

/// Operations that never read a bearer token: probes, this document, the token endpoints themselves (they
/// authenticate by the body) and the reference lists. Every other operation takes a `Caller` or an `Actor`; a
/// test checks each operation's declared security against what the server does with and without a token.
const ANONYMOUS_OPERATIONS: &[&str] = &[
    "healthz",
    "readyz",
    "metrics",
    "openapi_json",
    "login",
    "refresh",
    "logout",
    "list_regions",
    "get_region",
    "list_spheres",
];

/// Declares on every operation whether it needs a token, so clients and linters need not guess.
struct OperationSecurity;

impl Modify for OperationSecurity {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations_mut(openapi) {
            // Handlers that take an `Actor` (a token is required) say so in their own annotation.
            if operation.security.is_some() {
                continue;
            }
            let anonymous = operation
                .operation_id
                .as_deref()
                .is_some_and(|id| ANONYMOUS_OPERATIONS.contains(&id));
            operation.security = Some(if anonymous {
                // An empty list: no requirement at all.
                Vec::new()
            } else {
                // A `Caller`: a token widens what the caller may read, and no token is fine too.
                vec![
                    SecurityRequirement::new(BEARER, Vec::<String>::new()),
                    SecurityRequirement::default(),
                ]
            });
        }
    }
}

/// Declares `Idempotency-Key` on every POST and PUT that takes a token, with its 409 and 422: the server applies
/// the header exactly where the document declares it (`http::fallback::RouteTable::declares_header`).
struct IdempotencyKeys;

impl Modify for IdempotencyKeys {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use crate::idempotency::{HEADER, KEPT_FOR_HOURS, MAX_KEY_LENGTH};
        use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        use utoipa::openapi::{ContentBuilder, Required, ResponseBuilder};

        let problem = |description: &str| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        crate::http::error::PROBLEM_JSON,
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Problem")))
                            .build(),
                    )
                    .build(),
            )
        };
        for item in openapi.paths.paths.values_mut() {
            for operation in [item.post.as_mut(), item.put.as_mut()]
                .into_iter()
                .flatten()
            {
                let anonymous = operation
                    .operation_id
                    .as_deref()
                    .is_some_and(|id| ANONYMOUS_OPERATIONS.contains(&id));
                if anonymous {
                    continue;
                }
                let parameter = ParameterBuilder::new()
                    .name(HEADER)
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(format!(
                        "Makes a retry safe: the same key with the same request within {KEPT_FOR_HOURS} hours \
                         replays the first answer (marked `Idempotent-Replayed: true`) instead of doing the work \
                         again. Keys are the caller's own."
                    )))
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .min_length(Some(1))
                            .max_length(Some(MAX_KEY_LENGTH))
                            .pattern(Some("^[!-~]+$")),
                    ))
                    .build();
                operation
                    .parameters
                    .get_or_insert_with(Vec::new)
                    .push(RefOr::T(parameter));
                let responses = &mut operation.responses.responses;
                responses.entry("409".to_owned()).or_insert_with(|| {
                    problem("A request with this Idempotency-Key is still being processed, or the write conflicts with existing data.")
                });
                responses.entry("422".to_owned()).or_insert_with(|| {
                    problem("Invalid input naming each field, or an Idempotency-Key already used for another request.")
                });
            }
        }
    }
}

/// Gives every response without a description the meaning of its status code: OpenAPI requires one, and
/// annotations that name only a status and a body leave it empty.
struct ResponseDescriptions;

impl Modify for ResponseDescriptions {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for operation in operations_mut(openapi) {
            for (status, response) in &mut operation.responses.responses {
                if let RefOr::T(response) = response
                    && response.description.is_empty()
                {
                    response.description = status_meaning(status).to_owned();
                }
            }
        }
    }
}

/// Points list items at their named schema instead of at a copy of it. utoipa inlines the item schema of a
/// generic such as `Page<T>` into every `Page_T`; where the copy equals a component, a `$ref` means the same,
/// and lets code generators make one `Agency` type rather than one per page (and linters see the component used).
struct SharedItemSchemas;

impl Modify for SharedItemSchemas {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Some(components) = openapi.components.as_mut() else {
            return;
        };
        let objects: Vec<(String, Schema)> = components
            .schemas
            .iter()
            .filter_map(|(name, schema)| match schema {
                RefOr::T(object @ Schema::Object(_)) => Some((name.clone(), object.clone())),
                _ => None,
            })
            .collect();
        for schema in components.schemas.values_mut() {
            let RefOr::T(Schema::Object(object)) = schema else {
                continue;
            };
            for property in object.properties.values_mut() {
                let RefOr::T(Schema::Array(array)) = property else {
                    continue;
                };
                let ArrayItems::RefOrSchema(items) = &mut array.items else {
                    continue;
                };
                let named = match items.as_ref() {
                    RefOr::T(item) => objects.iter().find(|(_, object)| object == item),
                    RefOr::Ref(_) => None,
                };
                if let Some((name, _)) = named {
                    **items = RefOr::Ref(Ref::from_schema_name(name));
                }
            }
        }
    }
}

/// The meaning of a response key: a status code's reason phrase, or the class of a range such as `4XX`.
fn status_meaning(status: &str) -> &str {
    match status {
        "1XX" => "Informational",
        "2XX" => "Success",
        "3XX" => "Redirection",
        "4XX" => "Client error",
        "5XX" => "Server error",
        "default" => "Any other response",
        code => code
            .parse::<u16>()
            .ok()
            .and_then(|code| StatusCode::from_u16(code).ok())
            .and_then(|code| code.canonical_reason())
            .unwrap_or(code),
    }
}

/// Every operation of every path.
fn operations_mut(openapi: &mut utoipa::openapi::OpenApi) -> impl Iterator<Item = &mut Operation> {
    openapi.paths.paths.values_mut().flat_map(|item| {
        let PathItem {
            get,
            put,
            post,
            delete,
            options,
            head,
            patch,
            trace,
            query,
            additional_operations,
            ..
        } = item;
        [get, put, post, delete, options, head, patch, trace, query]
            .into_iter()
            .flatten()
            .chain(additional_operations.values_mut())
    })
}

/// The whole document, as the running server serves it.
pub fn document() -> utoipa::openapi::OpenApi {
    let (_, mut doc) = actix_web::App::new()
        .into_utoipa_app()
        .openapi(ApiDoc::openapi())
        .configure(crate::routes)
        .split_for_parts();
    // `#[openapi(modifiers(...))]` runs on the base document before the routes add their paths, so the
    // modifiers that walk operations run here.
    OperationSecurity.modify(&mut doc);
    IdempotencyKeys.modify(&mut doc);
    ResponseDescriptions.modify(&mut doc);
    SharedItemSchemas.modify(&mut doc);
    doc
}

/// The document as committed in `openapi/openapi.json`.
pub fn document_json() -> String {
    let mut text = serde_json::to_string_pretty(&document()).unwrap_or_default();
    text.push('\n');
    text
}
