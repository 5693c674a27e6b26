//! Answers for requests no handler took: 405 with `Allow` when the path exists, else 404.

use std::sync::Arc;

use actix_router::ResourceDef;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::web::Data;

use super::error::ApiError;

/// A documented operation: its method and the query and header parameters it declares.
#[derive(Debug)]
struct Operation {
    method: String,
    query: Vec<String>,
    /// Header names, in lower case.
    headers: Vec<String>,
}

/// The documented paths with their operations, taken from the OpenAPI document.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<Operation>)>,
}

impl RouteTable {
    /// Builds the table from an OpenAPI document.
    pub fn from_openapi(doc: &utoipa::openapi::OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let value = serde_json::to_value(item).unwrap_or_default();
                let operations = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| {
                        matches!(k.as_str(), "get" | "post" | "put" | "patch" | "delete")
                    })
                    .map(|(method, op)| {
                        let names = |place: &str| -> Vec<String> {
                            op["parameters"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .filter(|p| p["in"] == place)
                                .filter_map(|p| p["name"].as_str().map(str::to_owned))
                                .collect()
                        };
                        Operation {
                            method: method.to_ascii_uppercase(),
                            query: names("query"),
                            headers: names("header")
                                .iter()
                                .map(|h| h.to_ascii_lowercase())
                                .collect(),
                        }
                    })
                    .collect();
                (ResourceDef::new(path.as_str()), operations)
            })
            .collect();
        Self { routes }
    }

    /// The methods a path supports, if it is a known path.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let mut methods: Vec<&str> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, ops)| ops.iter().map(|o| o.method.as_str()))
            .collect();
        if methods.is_empty() {
            return None;
        }
        methods.sort_unstable();
        methods.dedup();
        Some(methods.join(", "))
    }

    /// Whether the operation at `method` and `path` declares the header `name` (any case), so that what the
    /// server does with a header follows the document.
    pub fn declares_header(&self, method: &str, path: &str, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, ops)| ops.iter().filter(|o| o.method == method))
            .any(|o| o.headers.contains(&name))
    }

    /// The first query parameter that the operation does not declare (a typo in a filter name would otherwise
    /// silently widen a list). Paths outside the document, and outside `/api/`, are not checked.
    pub fn undeclared_parameter(&self, method: &str, path: &str, query: &str) -> Option<String> {
        // Operations endpoints (probes, scrapers) stay lenient; the API is strict.
        if query.is_empty() || !path.starts_with("/api/") {
            return None;
        }
        let declared: Vec<&str> = self
            .routes
            .iter()
            .filter(|(def, _)| def.is_match(path))
            .flat_map(|(_, ops)| ops.iter().filter(|o| o.method == method))
            .flat_map(|o| o.query.iter().map(String::as_str))
            .collect();
        let known_operation = self
            .routes
            .iter()
            .any(|(def, ops)| def.is_match(path) && ops.iter().any(|o| o.method == method));
        if !known_operation {
            return None;
        }
        url::form_urlencoded::parse(query.as_bytes())
            .map(|(key, _)| key.into_owned())
            .find(|key| !declared.contains(&key.as_str()))
    }
}

/// Refuses a query parameter the operation does not declare, with 422 naming it.
pub async fn reject_undeclared_parameters(
    req: ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody + 'static>,
) -> Result<
    ServiceResponse<actix_web::body::EitherBody<impl actix_web::body::MessageBody + 'static>>,
    actix_web::Error,
> {
    let undeclared = req.app_data::<Data<Arc<RouteTable>>>().and_then(|t| {
        t.undeclared_parameter(req.method().as_str(), req.path(), req.query_string())
    });
    match undeclared {
        Some(name) => {
            let error = ApiError::field(name, "is not a parameter of this operation");
            let (req, _) = req.into_parts();
            let res = actix_web::ResponseError::error_response(&error);
            Ok(ServiceResponse::new(req, res).map_into_right_body())
        }
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

/// The default service of the app.
pub async fn not_routed(req: ServiceRequest) -> Result<ServiceResponse, actix_web::Error> {
    let table = req.app_data::<Data<Arc<RouteTable>>>().cloned();
    let error = match table.and_then(|t| t.allowed(req.path())) {
        Some(allow) => ApiError::MethodNotAllowed(allow),
        None => ApiError::NotFound,
    };
    let (req, _) = req.into_parts();
    let res = actix_web::ResponseError::error_response(&error);
    Ok(ServiceResponse::new(req, res))
}
