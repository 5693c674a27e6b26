//! Agencies: rows, request bodies, filters and queries.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::db::Conn;
use crate::db::schema::agencies;
use crate::db::sql::{self, DirectorySort};
use crate::http::export::{CsvRow, opt};
use crate::http::extract::{not_blank, web_url};
use crate::http::{ApiResult, Cursor, Keyed};
use crate::regions::directory;

crate::text_enum! {
    /// The level of government a body belongs to.
    pub enum GovernmentLevel {
        /// The republic.
        National => "national",
        /// A province (viloyat).
        Regional => "regional",
        /// A district (nohiya).
        District => "district",
        /// A city.
        City => "city",
        /// A rural municipality (jamoat).
        Jamoat => "jamoat",
    }
}

crate::text_enum! {
    /// What kind of government body an agency is.
    pub enum AgencyKind {
        /// A parliament or one of its chambers.
        Parliament => "parliament",
        /// The Executive Office of the President.
        PresidentialAdministration => "presidential_administration",
        /// The government as a whole.
        Government => "government",
        /// A ministry.
        Ministry => "ministry",
        /// A state committee.
        StateCommittee => "state_committee",
        /// An agency or service.
        Agency => "agency",
        /// A local executive body (hukumat).
        LocalExecutive => "local_executive",
        /// Police, prosecutors and other law enforcement.
        LawEnforcement => "law_enforcement",
        /// A court.
        Court => "court",
        /// The ombudsman.
        Ombudsman => "ombudsman",
        /// Anything else.
        Other => "other",
    }
}

/// An agency.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = agencies, check_for_backend(diesel::pg::Pg))]
pub struct Agency {
    /// Id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Short name or acronym.
    pub short_name: Option<String>,
    /// Level of government.
    pub level: GovernmentLevel,
    /// Kind of body.
    pub kind: AgencyKind,
    /// The agency it belongs to.
    pub parent_id: Option<Uuid>,
    /// Region it serves.
    pub region_code: Option<String>,
    /// Website.
    pub website: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version, +1 on each change; also the `ETag`.
    pub version: i32,
}

crate::body_types! {
    /// A new agency.
    #[derive(Insertable)]
    #[diesel(table_name = agencies)]
    create CreateAgency;
    /// Changes to an agency: absent fields stay, `null` clears a nullable one.
    #[derive(AsChangeset)]
    #[diesel(table_name = agencies)]
    update UpdateAgency;
    /// Full name.
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 300)]
    name: String = required,
    /// Short name or acronym.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    short_name: String = optional,
    /// Level of government.
    level: GovernmentLevel = required,
    /// Kind of body.
    kind: AgencyKind = required,
    /// The agency it belongs to.
    parent_id: Uuid = optional,
    /// Region it serves (a code from `GET /regions`).
    #[validate(length(min = 2, max = 40))]
    #[schema(min_length = 2, max_length = 40)]
    region_code: String = optional,
    /// Website (absolute URL).
    #[validate(custom(function = "web_url"), length(max = 500))]
    #[schema(format = "uri", max_length = 500)]
    website: String = optional,
    /// What it does.
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    description: String = optional,
}

/// Filters of the agency list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgencyFilter {
    /// Part of the name or short name (case-insensitive).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Level of government.
    #[param(inline)]
    pub level: Option<GovernmentLevel>,
    /// Kind of body.
    #[param(inline)]
    pub kind: Option<AgencyKind>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// Only the direct subordinates of this agency.
    pub parent_id: Option<Uuid>,
    /// Sort order (default `name`).
    #[param(inline)]
    pub sort: Option<DirectorySort>,
}

impl AgencyFilter {
    /// The sort order in force.
    pub fn sort(&self) -> DirectorySort {
        self.sort.unwrap_or(DirectorySort::Name)
    }
}

crate::directory_record!(Agency, agencies, "agency", find);

impl Keyed for Agency {
    fn cursor(&self, sort: &str) -> Cursor {
        directory::cursor(sort, &self.name, self.created_at, self.id)
    }
}

impl CsvRow for Agency {
    const HEADER: &'static [&'static str] = &[
        "id",
        "name",
        "short_name",
        "level",
        "kind",
        "parent_id",
        "region_code",
        "website",
        "description",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            opt(&self.short_name),
            self.level.to_string(),
            self.kind.to_string(),
            opt(&self.parent_id),
            opt(&self.region_code),
            opt(&self.website),
            opt(&self.description),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

impl Agency {
    /// Fails with 422 on `field` when the agency does not exist.
    pub async fn ensure_exists(conn: &mut Conn, id: Uuid, field: &str) -> ApiResult<()> {
        let found = diesel::select(diesel::dsl::exists(agencies::table.find(id)))
            .get_result(conn)
            .await?;
        directory::known(found, field, "agency", id)
    }

    /// The agency and its sub-agencies at any depth (empty when there is no such agency).
    pub async fn subtree(conn: &mut Conn, id: Uuid) -> ApiResult<Vec<Uuid>> {
        Ok(agencies::table
            .filter(sql::in_agency("agencies.id", id, true))
            .select(agencies::id)
            .load(conn)
            .await?)
    }

    /// A keyset page (`limit + 1` rows) of agencies matching the filter.
    #[tracing::instrument(skip(conn))]
    pub async fn list(
        conn: &mut Conn,
        filter: &AgencyFilter,
        after: Option<Cursor>,
        limit: i64,
    ) -> ApiResult<Vec<Self>> {
        use agencies::dsl as a;
        let mut query = a::agencies.select(Self::as_select()).into_boxed();
        if let Some(q) = &filter.q {
            query = query.filter(sql::name_matches("agencies", q));
        }
        if let Some(level) = filter.level {
            query = query.filter(a::level.eq(level));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(a::kind.eq(kind));
        }
        if let Some(code) = &filter.region_code {
            query = query.filter(sql::in_region("agencies.region_code", code.clone()));
        }
        if let Some(parent) = filter.parent_id {
            query = query.filter(a::parent_id.eq(parent));
        }
        Ok(
            crate::directory_keyset!(query, "agencies", filter.sort(), after, limit)?
                .load(conn)
                .await?,
        )
    }
}
