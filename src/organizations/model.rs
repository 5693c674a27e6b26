//! Organisations: rows, request bodies, filters and queries.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::db::Conn;
use crate::db::schema::organizations;
use crate::db::sql::{self, DirectorySort};
use crate::http::export::{CsvRow, join, opt};
use crate::http::extract::{not_blank, web_url};
use crate::http::{ApiError, ApiResult, Cursor, FieldError, Keyed};
use crate::regions::directory;

crate::text_enum! {
    /// What kind of non-state actor an organisation is.
    pub enum OrganizationKind {
        /// A non-governmental organisation.
        Ngo => "ngo",
        /// A coalition or network of organisations.
        Coalition => "coalition",
        /// An international organisation.
        InternationalOrganization => "international_organization",
        /// A donor.
        Donor => "donor",
        /// A media outlet.
        Media => "media",
        /// A business.
        Business => "business",
        /// Anything else.
        Other => "other",
    }
}

crate::text_enum! {
    /// Where an organisation works from.
    pub enum Settlement {
        /// A town or city.
        Urban => "urban",
        /// A village.
        Rural => "rural",
    }
}

crate::text_enum! {
    /// Whether an organisation still works.
    pub enum OrganizationStatus {
        /// Working.
        Active => "active",
        /// Not working at the moment.
        Inactive => "inactive",
        /// Closed for good.
        Dissolved => "dissolved",
    }
}

/// An organisation.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = organizations, check_for_backend(diesel::pg::Pg))]
pub struct Organization {
    /// Id.
    pub id: Uuid,
    /// Full name.
    pub name: String,
    /// Short name or acronym.
    pub short_name: Option<String>,
    /// Kind.
    pub kind: OrganizationKind,
    /// State registration number (unique).
    pub registration_number: Option<String>,
    /// Date of registration.
    pub registered_on: Option<NaiveDate>,
    /// Region of its seat.
    pub region_code: Option<String>,
    /// Urban or rural.
    pub settlement: Option<Settlement>,
    /// Spheres it works in.
    pub sphere_codes: Vec<String>,
    /// Website.
    pub website: Option<String>,
    /// Contact email.
    pub email: Option<String>,
    /// Contact phone.
    pub phone: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Status.
    pub status: OrganizationStatus,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version, +1 on each change; also the `ETag`.
    pub version: i32,
}

crate::body_types! {
    /// A new organisation.
    #[derive(Insertable)]
    #[diesel(table_name = organizations)]
    create CreateOrganization;
    /// Changes to an organisation: absent fields stay, `null` clears a nullable one.
    #[derive(AsChangeset)]
    #[diesel(table_name = organizations)]
    update UpdateOrganization;
    /// Full name.
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 300)]
    name: String = required,
    /// Short name or acronym.
    #[validate(length(min = 1, max = 100))]
    #[schema(min_length = 1, max_length = 100)]
    short_name: String = optional,
    /// Kind.
    kind: OrganizationKind = required,
    /// State registration number (unique).
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    registration_number: String = optional,
    /// Date of registration.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    registered_on: NaiveDate = optional,
    /// Region of its seat (a code from `GET /regions`).
    #[validate(length(min = 2, max = 40))]
    #[schema(min_length = 2, max_length = 40)]
    region_code: String = optional,
    /// Urban or rural.
    settlement: Settlement = optional,
    /// Spheres it works in (codes from `GET /spheres`).
    #[validate(length(max = 15))]
    #[schema(max_items = 15)]
    sphere_codes: Vec<String> = default,
    /// Website (absolute URL).
    #[validate(custom(function = "web_url"), length(max = 500))]
    #[schema(format = "uri", max_length = 500)]
    website: String = optional,
    /// Contact email.
    #[validate(email, length(max = 254))]
    #[schema(format = Email, max_length = 254)]
    email: String = optional,
    /// Contact phone.
    #[validate(length(min = 3, max = 40))]
    #[schema(min_length = 3, max_length = 40)]
    phone: String = optional,
    /// What it does.
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    description: String = optional,
    /// Status (default `active`).
    status: OrganizationStatus = default = "active",
}

fn active() -> OrganizationStatus {
    OrganizationStatus::Active
}

/// Filters of the organisation list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationFilter {
    /// Part of the name or short name (case-insensitive).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Kind.
    #[param(inline)]
    pub kind: Option<OrganizationKind>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// Works in this sphere.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub sphere_code: Option<String>,
    /// Status.
    #[param(inline)]
    pub status: Option<OrganizationStatus>,
    /// Urban or rural.
    #[param(inline)]
    pub settlement: Option<Settlement>,
    /// Sort order (default `name`).
    #[param(inline)]
    pub sort: Option<DirectorySort>,
}

impl OrganizationFilter {
    /// The sort order in force.
    pub fn sort(&self) -> DirectorySort {
        self.sort.unwrap_or(DirectorySort::Name)
    }
}

crate::directory_record!(Organization, organizations, "organization", find);

impl Keyed for Organization {
    fn cursor(&self, sort: &str) -> Cursor {
        directory::cursor(sort, &self.name, self.created_at, self.id)
    }
}

impl CsvRow for Organization {
    const HEADER: &'static [&'static str] = &[
        "id",
        "name",
        "short_name",
        "kind",
        "registration_number",
        "registered_on",
        "region_code",
        "settlement",
        "sphere_codes",
        "website",
        "email",
        "phone",
        "description",
        "status",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            opt(&self.short_name),
            self.kind.to_string(),
            opt(&self.registration_number),
            opt(&self.registered_on),
            opt(&self.region_code),
            opt(&self.settlement),
            join(&self.sphere_codes),
            opt(&self.website),
            opt(&self.email),
            opt(&self.phone),
            opt(&self.description),
            self.status.to_string(),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

impl Organization {
    /// A keyset page (`limit + 1` rows) of organisations matching the filter.
    #[tracing::instrument(skip(conn))]
    pub async fn list(
        conn: &mut Conn,
        filter: &OrganizationFilter,
        after: Option<Cursor>,
        limit: i64,
    ) -> ApiResult<Vec<Self>> {
        Ok(Self::query(filter, after, limit)?.load(conn).await?)
    }

    /// The query behind [`Organization::list`].
    pub fn query(
        filter: &OrganizationFilter,
        after: Option<Cursor>,
        limit: i64,
    ) -> ApiResult<
        organizations::BoxedQuery<
            'static,
            diesel::pg::Pg,
            diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<Self, diesel::pg::Pg>>,
        >,
    > {
        use organizations::dsl as o;
        let mut query = o::organizations.select(Self::as_select()).into_boxed();
        if let Some(q) = &filter.q {
            query = query.filter(sql::name_matches("organizations", q));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(o::kind.eq(kind));
        }
        if let Some(code) = &filter.region_code {
            query = query.filter(sql::in_region("organizations.region_code", code.clone()));
        }
        if let Some(sphere) = &filter.sphere_code {
            query = query.filter(o::sphere_codes.contains(vec![sphere.clone()]));
        }
        if let Some(status) = filter.status {
            query = query.filter(o::status.eq(status));
        }
        if let Some(settlement) = filter.settlement {
            query = query.filter(o::settlement.eq(settlement));
        }
        Ok(crate::directory_keyset!(
            query,
            "organizations",
            filter.sort(),
            after,
            limit
        )?)
    }
}

/// A directory entry that exists: its key (an id, or a region's or sphere's code) and which directory holds it.
#[derive(Debug, QueryableByName)]
struct Known {
    #[diesel(sql_type = diesel::sql_types::Text)]
    key: String,
    #[diesel(sql_type = diesel::sql_types::Text)]
    directory: String,
}

/// What a record names in the directory (organisations, agencies, regions, spheres), each beside the field path
/// that names it: checked in one statement, every unknown one a 422 naming its field.
#[derive(Debug, Default)]
pub struct Named {
    /// Organisation ids.
    pub organizations: Vec<(String, Uuid)>,
    /// Agency ids.
    pub agencies: Vec<(String, Uuid)>,
    /// Region codes.
    pub regions: Vec<(String, String)>,
    /// Sphere codes.
    pub spheres: Vec<(String, String)>,
    /// Council ids, and the read rule of the councils (SQL over `councils`) the caller may name: one they may not
    /// read is unknown to them.
    pub councils: Option<(Vec<(String, Uuid)>, sql::Fragment)>,
}

impl Named {
    /// Organisations and agencies.
    pub fn actors(organizations: Vec<(String, Uuid)>, agencies: Vec<(String, Uuid)>) -> Self {
        Self {
            organizations,
            agencies,
            ..Self::default()
        }
    }

    /// Fails with 422 naming each entry (by its field path) that does not exist. Every directory is asked in the
    /// same one statement, so diesel keeps it prepared.
    pub async fn ensure_exist(&self, conn: &mut Conn) -> ApiResult<()> {
        if self.organizations.is_empty()
            && self.agencies.is_empty()
            && self.regions.is_empty()
            && self.spheres.is_empty()
            && self.councils.is_none()
        {
            return Ok(());
        }
        let ids = |named: &[(String, Uuid)]| named.iter().map(|(_, id)| *id).collect::<Vec<_>>();
        let codes = |named: &[(String, String)]| {
            named
                .iter()
                .map(|(_, code)| code.clone())
                .collect::<Vec<_>>()
        };
        let known = sql::Statement::new(
            "SELECT id::text AS key, 'organization' AS directory FROM organizations WHERE id = ANY(",
        )
        .fragment(sql::Fragment::new("").uuids(ids(&self.organizations)))
        .sql(") UNION ALL SELECT id::text, 'agency' FROM agencies WHERE id = ANY(")
        .fragment(sql::Fragment::new("").uuids(ids(&self.agencies)))
        .sql(") UNION ALL SELECT code, 'region' FROM regions WHERE code = ANY(")
        .fragment(sql::Fragment::new("").texts(codes(&self.regions)))
        .sql(") UNION ALL SELECT code, 'sphere' FROM spheres WHERE code = ANY(")
        .fragment(sql::Fragment::new("").texts(codes(&self.spheres)))
        .sql(")");
        let known: Vec<Known> = match &self.councils {
            Some((councils, readable)) => known
                .sql(" UNION ALL SELECT id::text, 'council' FROM councils WHERE id = ANY(")
                .fragment(sql::Fragment::new("").uuids(ids(councils)))
                .sql(") AND ")
                .fragment(readable.clone()),
            None => known,
        }
        .load(conn)
        .await?;
        let exists = |directory: &str, key: &str| {
            known
                .iter()
                .any(|k| k.directory == directory && k.key == key)
        };
        let mut errors = Vec::new();
        let mut check = |directory: &str, what: &str, field: &str, key: String| {
            if !exists(directory, &key) {
                errors.push(FieldError::new(field, format!("unknown {what} `{key}`")));
            }
        };
        for (field, id) in &self.organizations {
            check("organization", "organisation", field, id.to_string());
        }
        for (field, id) in &self.agencies {
            check("agency", "agency", field, id.to_string());
        }
        for (field, code) in &self.regions {
            check("region", "region", field, code.clone());
        }
        for (field, code) in &self.spheres {
            check("sphere", "sphere", field, code.clone());
        }
        for (field, id) in self.councils.iter().flat_map(|(councils, _)| councils) {
            check("council", "council", field, id.to_string());
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation(errors))
        }
    }
}

/// Fails with 422 naming each organisation or agency id (by its field path) that does not exist: the check of
/// every record that names actors (a council's members, an engagement's parties), in one statement.
pub async fn ensure_actors_exist(
    conn: &mut Conn,
    organizations: &[(String, Uuid)],
    agencies: &[(String, Uuid)],
) -> ApiResult<()> {
    Named::actors(organizations.to_vec(), agencies.to_vec())
        .ensure_exist(conn)
        .await
}
