//! Regions: ISO 3166-2 style codes in a tree (country → regions → districts added by admins).

pub mod directory;

use actix_web::web::{self, Data};
use actix_web::{HttpResponse, get, post};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use crate::audit::write::{self, Audited};
use crate::auth::Actor;
use crate::db::Conn;
use crate::db::schema::regions;
use crate::http::{ApiError, ApiResult, Json, Page, ProblemResponses, created};
use crate::state::AppState;

crate::text_enum! {
    /// The level of a region in the tree.
    pub enum RegionLevel {
        /// The country.
        Country => "country",
        /// A province or the capital.
        Region => "region",
        /// A district or town.
        District => "district",
    }
}

/// A region.
#[derive(Debug, Clone, Queryable, Selectable, Insertable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = regions, check_for_backend(diesel::pg::Pg))]
pub struct Region {
    /// Code, e.g. `TJ-SU`.
    pub code: String,
    /// The enclosing region's code.
    pub parent_code: Option<String>,
    /// Level in the tree.
    pub level: RegionLevel,
    /// Name in Russian.
    pub name_ru: String,
    /// Name in English.
    pub name_en: String,
    /// Name in Tajik.
    pub name_tg: Option<String>,
    /// Created at.
    #[diesel(skip_insertion)]
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    #[diesel(skip_insertion)]
    pub updated_at: DateTime<Utc>,
    /// Version, +1 on each change.
    #[diesel(skip_insertion)]
    pub version: i32,
}

/// Regions are audited under their code, which is also their key everywhere else.
impl Audited for Region {
    const ENTITY: &'static str = "region";

    fn audit_key(&self) -> String {
        self.code.clone()
    }

    fn version(&self) -> i32 {
        self.version
    }
}

impl Region {
    /// One region by code (404 when there is none).
    pub async fn find(conn: &mut Conn, code: &str) -> ApiResult<Self> {
        Ok(regions::table
            .find(code)
            .select(Self::as_select())
            .first(conn)
            .await?)
    }
}

/// A new region (a district, usually).
#[derive(Debug, Deserialize, Validate, ToSchema, Insertable)]
#[serde(deny_unknown_fields)]
#[diesel(table_name = regions)]
pub struct CreateRegion {
    /// Code: the parent's code plus a suffix, e.g. `TJ-SU-KHJ`.
    #[validate(length(min = 2, max = 40), custom(function = "valid_code"))]
    #[schema(
        min_length = 2,
        max_length = 40,
        pattern = "^[A-Z]{2}(-[A-Z0-9]{1,12})*$"
    )]
    pub code: String,
    /// The enclosing region's code (required below the country).
    #[validate(length(min = 2, max = 40))]
    #[schema(min_length = 2, max_length = 40)]
    pub parent_code: Option<String>,
    /// Level in the tree.
    pub level: RegionLevel,
    /// Name in Russian.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name_ru: String,
    /// Name in English.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name_en: String,
    /// Name in Tajik.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub name_tg: Option<String>,
}

fn valid_code(code: &str) -> Result<(), validator::ValidationError> {
    let mut parts = code.split('-');
    let country_ok = parts
        .next()
        .is_some_and(|c| c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase()));
    let rest_ok = parts.all(|p| {
        (1..=12).contains(&p.len())
            && p.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    });
    if country_ok && rest_ok {
        Ok(())
    } else {
        Err(validator::ValidationError::new("code")
            .with_message("must look like `TJ-SU-KHJ`".into()))
    }
}

/// Fails with 422 on `field` when the region does not exist.
pub async fn ensure_exists(conn: &mut Conn, code: &str, field: &str) -> ApiResult<()> {
    let found = diesel::select(diesel::dsl::exists(regions::table.find(code)))
        .get_result(conn)
        .await?;
    directory::known(found, field, "region", code)
}

/// The region `code` and its sub-regions at any depth; 422 on `field` when the region does not exist.
pub async fn subtree(conn: &mut Conn, code: &str, field: &str) -> ApiResult<Vec<String>> {
    #[derive(QueryableByName)]
    struct Code {
        #[diesel(sql_type = diesel::sql_types::Text)]
        code: String,
    }
    let codes: Vec<Code> = crate::db::sql::Statement::new("SELECT code FROM ")
        .fragment(crate::db::sql::region_subtree_table(code.to_owned()))
        .sql(" AS subtree")
        .load(conn)
        .await?;
    directory::known(!codes.is_empty(), field, "region", code)?;
    Ok(codes.into_iter().map(|c| c.code).collect())
}

/// Lists every region, parents before children.
#[utoipa::path(tag = "reference", responses((status = 200, body = Page<Region>), ProblemResponses))]
#[get("/regions")]
pub async fn list_regions(state: Data<AppState>) -> ApiResult<web::Json<Page<Region>>> {
    let mut conn = state.db().await?;
    let items = regions::table
        .select(Region::as_select())
        .order(regions::code.asc())
        .load(&mut conn)
        .await?;
    Ok(web::Json(Page {
        items,
        next_cursor: None,
    }))
}

/// A region's path.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct CodePath {
    /// The region's code, e.g. `TJ-SU`.
    pub code: String,
}

/// Gets one region.
#[utoipa::path(tag = "reference", params(CodePath),
    responses((status = 200, body = Region, headers(("ETag" = String))), ProblemResponses))]
#[get("/regions/{code}")]
pub async fn get_region(
    state: Data<AppState>,
    path: crate::http::Path<CodePath>,
) -> ApiResult<HttpResponse> {
    let region = Region::find(&mut *state.db().await?, &path.code).await?;
    Ok(crate::http::ok_versioned(&region, region.version))
}

/// Adds a region under an existing one (admins).
#[utoipa::path(tag = "reference", request_body = CreateRegion, security(("bearer" = [])),
    responses((status = 201, body = Region), ProblemResponses))]
#[post("/regions")]
pub async fn create_region(
    state: Data<AppState>,
    actor: Actor,
    body: Json<CreateRegion>,
) -> ApiResult<HttpResponse> {
    actor.require_admin()?;
    let new = body.0;
    let save = async |conn: &mut Conn| {
        match &new.parent_code {
            Some(parent) => {
                ensure_exists(conn, parent, "parent_code").await?;
                if !new.code.starts_with(&format!("{parent}-")) {
                    return Err(ApiError::field(
                        "code",
                        format!("must start with `{parent}-`"),
                    ));
                }
            }
            None if new.level != RegionLevel::Country => {
                return Err(ApiError::field(
                    "parent_code",
                    "is required below the country level",
                ));
            }
            None => {}
        }
        diesel::insert_into(regions::table)
            .values(&new)
            .execute(conn)
            .await?;
        Ok(())
    };
    let region = write::create(&mut *state.db().await?, &actor, save, async |conn| {
        Region::find(conn, &new.code).await
    })
    .await?;
    Ok(created(
        &format!("/api/v1/regions/{}", region.code),
        &region,
        region.version,
    ))
}
