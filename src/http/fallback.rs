//! Answers for requests no handler took: 405 with `Allow` when the path exists, else 404.

use std::sync::Arc;

use actix_router::ResourceDef;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::web::Data;

use super::error::ApiError;

/// The documented paths with their methods, taken from the OpenAPI document.
#[derive(Debug, Default)]
pub struct RouteTable {
    routes: Vec<(ResourceDef, Vec<String>)>,
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
                let mut methods: Vec<String> = value
                    .as_object()
                    .into_iter()
                    .flat_map(|o| o.keys())
                    .filter(|k| matches!(k.as_str(), "get" | "post" | "put" | "patch" | "delete"))
                    .map(|k| k.to_ascii_uppercase())
                    .collect();
                methods.sort();
                (ResourceDef::new(path.as_str()), methods)
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
            .flat_map(|(_, m)| m.iter().map(String::as_str))
            .collect();
        if methods.is_empty() {
            return None;
        }
        methods.sort_unstable();
        methods.dedup();
        Some(methods.join(", "))
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
