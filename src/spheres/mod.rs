//! Spheres: the thematic areas of cooperation, with stable codes.

use actix_web::get;
use actix_web::web::{self, Data};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::db::Conn;
use crate::db::schema::spheres;
use crate::http::{ApiError, ApiResult, Page, ProblemResponses};
use crate::state::AppState;

/// A sphere.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = spheres, check_for_backend(diesel::pg::Pg))]
pub struct Sphere {
    /// Stable code, e.g. `human_rights`.
    pub code: String,
    /// Name in Russian.
    pub name_ru: String,
    /// Name in English.
    pub name_en: String,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version.
    pub version: i32,
}

/// Fails with 422 on `field` naming the first code that is not a sphere.
pub async fn ensure_all_exist(conn: &mut Conn, codes: &[String], field: &str) -> ApiResult<()> {
    if codes.is_empty() {
        return Ok(());
    }
    let known: Vec<String> = spheres::table
        .select(spheres::code)
        .filter(spheres::code.eq_any(codes))
        .load(conn)
        .await?;
    match codes.iter().find(|c| !known.contains(c)) {
        Some(unknown) => Err(ApiError::field(
            field,
            format!("unknown sphere `{unknown}`"),
        )),
        None => Ok(()),
    }
}

/// Lists every sphere.
#[utoipa::path(tag = "reference", responses((status = 200, body = Page<Sphere>), ProblemResponses))]
#[get("/spheres")]
pub async fn list_spheres(state: Data<AppState>) -> ApiResult<web::Json<Page<Sphere>>> {
    let mut conn = state.db().await?;
    let items = spheres::table
        .select(Sphere::as_select())
        .order(spheres::code.asc())
        .load(&mut conn)
        .await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}
