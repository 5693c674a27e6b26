//! Request extractors that turn every malformed input into a problem naming the field.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use validator::{Validate, ValidationErrors, ValidationErrorsKind};

use super::error::{ApiError, FieldError};

/// The largest JSON body the API accepts.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A JSON body, deserialized strictly and validated.
///
/// Syntax errors give 400; a wrong type, an unknown field, a bad enum value or a failed rule give 422
/// naming the field; a body that is not `application/json` gives 415; one over [`MAX_BODY_BYTES`] gives 413.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let content_type_ok = is_json(req);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !content_type_ok {
                return Err(ApiError::UnsupportedMediaType);
            }
            if declared_length.is_some_and(|len| len > MAX_BODY_BYTES) {
                return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
            }
            let mut body = web::BytesMut::new();
            while let Some(chunk) = payload.next().await {
                let chunk = chunk.map_err(|e| ApiError::BadRequest(e.to_string()))?;
                if body.len() + chunk.len() > MAX_BODY_BYTES {
                    return Err(ApiError::PayloadTooLarge(MAX_BODY_BYTES));
                }
                body.extend_from_slice(&chunk);
            }
            reject_nul_in_json(&body)?;
            let value = parse_json::<T>(&body)?;
            validate(&value)?;
            Ok(Json(value))
        })
    }
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(value) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Deserializes JSON, telling syntax errors (400) from data errors (422 with the field's path).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                ApiError::Validation(vec![data_error(&path, &inner.to_string())])
            }
            _ => ApiError::BadRequest(inner.to_string()),
        }
    })
}

const NUL_MESSAGE: &str = "must not contain NUL characters";

/// Postgres text cannot hold U+0000: refuse it up front, naming the field, instead of failing in the database.
fn reject_nul_in_json(body: &[u8]) -> Result<(), ApiError> {
    if !body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Ok(());
    }
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(());
    };
    match nul_path(&value, String::new()) {
        Some(path) => Err(ApiError::field(
            if path.is_empty() {
                "body".to_owned()
            } else {
                path
            },
            NUL_MESSAGE,
        )),
        None => Ok(()),
    }
}

fn nul_path(value: &serde_json::Value, here: String) -> Option<String> {
    match value {
        serde_json::Value::String(s) if s.contains('\0') => Some(here),
        serde_json::Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_path(v, format!("{here}[{i}]"))),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(here.clone());
            }
            nul_path(
                v,
                if here.is_empty() {
                    k.clone()
                } else {
                    format!("{here}.{k}")
                },
            )
        }),
        _ => None,
    }
}

/// Names the field of a serde data error: an unknown field is reported by its own name.
fn data_error(path: &str, message: &str) -> FieldError {
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    let base = if path == "." {
        String::new()
    } else {
        path.to_owned()
    };
    if let Some(rest) = message.strip_prefix("unknown field `") {
        // The path already ends with the unknown key; at the top level it may be empty.
        let field = if base.is_empty() {
            rest.split('`').next().unwrap_or_default().to_owned()
        } else {
            base
        };
        return FieldError::new(field, "unknown field");
    }
    if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let field = if base.is_empty() {
            name.to_owned()
        } else {
            format!("{base}.{name}")
        };
        return FieldError::new(field, "is required");
    }
    FieldError::new(
        if base.is_empty() {
            "body".to_owned()
        } else {
            base
        },
        message,
    )
}

/// Query parameters, deserialized (repeated keys become lists) and validated; errors name the parameter.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<T> std::ops::Deref for Query<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Validate> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

/// Parses and validates a query string.
pub fn parse_query<T: DeserializeOwned + Validate>(query: &str) -> Result<T, ApiError> {
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if value.contains('\0') {
            return Err(ApiError::field(key.into_owned(), NUL_MESSAGE));
        }
        // `?limit=` would otherwise read as an absent parameter; a parameter given must have a value.
        if value.is_empty() {
            return Err(ApiError::field(key.into_owned(), "must not be empty"));
        }
    }
    let de = serde_html_form::Deserializer::from_bytes(query.as_bytes());
    let value: T = serde_path_to_error::deserialize(de).map_err(|err| {
        let path = err.path().to_string();
        ApiError::Validation(vec![data_error(&path, &err.into_inner().to_string())])
    })?;
    validate(&value)?;
    Ok(value)
}

/// Runs the `validator` rules of a value and turns failures into field errors.
pub fn validate<T: Validate>(value: &T) -> Result<(), ApiError> {
    value.validate().map_err(|errors| {
        let mut out = Vec::new();
        collect(&errors, "", &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        ApiError::Validation(out)
    })
}

fn collect(errors: &ValidationErrors, prefix: &str, out: &mut Vec<FieldError>) {
    for (field, kind) in errors.errors() {
        let name = if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for e in list {
                    let message = e
                        .message
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_else(|| describe(e));
                    out.push(FieldError::new(name.clone(), message));
                }
            }
            ValidationErrorsKind::Struct(inner) => collect(inner, &name, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    collect(inner, &format!("{name}[{index}]"), out);
                }
            }
        }
    }
}

fn describe(error: &validator::ValidationError) -> String {
    let param = |key: &str| error.params.get(key).map(ToString::to_string);
    match error.code.as_ref() {
        "length" => match (param("min"), param("max")) {
            (Some(min), Some(max)) if min == "1" => {
                format!("must be non-empty and at most {max} characters")
            }
            (Some(min), Some(max)) => {
                format!("must have between {min} and {max} characters or items")
            }
            (Some(min), None) => format!("must have at least {min} characters or items"),
            (None, Some(max)) => format!("must have at most {max} characters or items"),
            _ => "has a wrong length".to_owned(),
        },
        "range" => match (param("min"), param("max")) {
            (Some(min), Some(max)) => format!("must be between {min} and {max}"),
            (Some(min), None) => format!("must be at least {min}"),
            (None, Some(max)) => format!("must be at most {max}"),
            _ => "is out of range".to_owned(),
        },
        "email" => "must be an email address".to_owned(),
        "url" => "must be an absolute URL".to_owned(),
        other => other.replace('_', " "),
    }
}

/// Path parameters; a malformed one (a bad UUID, say) gives 422 naming the parameter.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<T> std::ops::Deref for Path<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Path<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let de = actix_router::PathDeserializer::new(req.match_info());
        let result = serde_path_to_error::deserialize(de)
            .map(Path)
            .map_err(|err| {
                let path = err.path().to_string();
                ApiError::Validation(vec![data_error(&path, &err.into_inner().to_string())])
            });
        std::future::ready(result)
    }
}

/// A `validator` rule: the text is not only whitespace.
pub fn not_blank(value: &str) -> Result<(), validator::ValidationError> {
    if value.trim().is_empty() {
        Err(validator::ValidationError::new("blank").with_message("must not be blank".into()))
    } else {
        Ok(())
    }
}

/// A `validator` rule: an absolute `http` or `https` URL.
pub fn web_url(value: &str) -> Result<(), validator::ValidationError> {
    match url::Url::parse(value) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(()),
        _ => Err(validator::ValidationError::new("url")
            .with_message("must be an absolute http(s) URL".into())),
    }
}

/// A `validator` rule: an RFC 3339 full-date, i.e. a four-digit year (chrono also reads signed years,
/// which Postgres may not store).
pub fn rfc3339_date(value: &chrono::NaiveDate) -> Result<(), validator::ValidationError> {
    use chrono::Datelike;
    if (0..=9999).contains(&value.year()) {
        Ok(())
    } else {
        Err(validator::ValidationError::new("date")
            .with_message("must be a date with a four-digit year".into()))
    }
}
