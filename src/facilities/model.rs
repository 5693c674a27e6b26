//! Facilities: the places that are monitored (detention isolators, police stations, care homes, …).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::db::Conn;
use crate::db::schema::facilities;
use crate::db::sql::{self, DirectorySort};
use crate::http::export::{CsvRow, opt};
use crate::http::extract::not_blank;
use crate::http::{ApiError, ApiResult, Cursor, Keyed};
use crate::regions::directory;

crate::text_enum! {
    /// What kind of place a facility is.
    pub enum FacilityType {
        /// A temporary detention isolator (IVS).
        TemporaryDetention => "temporary_detention",
        /// A pre-trial detention centre.
        PretrialDetention => "pretrial_detention",
        /// A police station.
        PoliceStation => "police_station",
        /// A prison or colony.
        Prison => "prison",
        /// A psychiatric institution.
        PsychiatricInstitution => "psychiatric_institution",
        /// A social care home.
        SocialCareHome => "social_care_home",
        /// A children's institution.
        ChildrenInstitution => "children_institution",
        /// A migrant detention centre.
        MigrantDetention => "migrant_detention",
        /// A military facility.
        Military => "military",
        /// Anything else.
        Other => "other",
    }
}

/// A monitored facility.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = facilities, check_for_backend(diesel::pg::Pg))]
pub struct Facility {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Type.
    pub facility_type: FacilityType,
    /// The agency that runs it.
    pub operating_agency_id: Uuid,
    /// Region.
    pub region_code: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Places.
    pub capacity: Option<i32>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

crate::body_types! {
    /// A new facility.
    #[derive(Insertable)]
    #[diesel(table_name = facilities)]
    create CreateFacility;
    /// Changes to a facility.
    #[derive(AsChangeset)]
    #[diesel(table_name = facilities)]
    update UpdateFacility;
    /// Name.
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 300)]
    name: String = required,
    /// Type.
    facility_type: FacilityType = required,
    /// The agency that runs it.
    operating_agency_id: Uuid = required,
    /// Region.
    #[validate(length(min = 2, max = 40))]
    #[schema(min_length = 2, max_length = 40)]
    region_code: String = optional,
    /// Address.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    address: String = optional,
    /// Places.
    #[validate(range(min = 0, max = 1000000))]
    #[schema(minimum = 0, maximum = 1000000)]
    capacity: i32 = optional,
}

/// Filters of the facility list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FacilityFilter {
    /// Part of the name (case-insensitive).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Type.
    #[param(inline)]
    pub facility_type: Option<FacilityType>,
    /// The operating agency, or one of its sub-agencies unless `include_subagencies=false`.
    pub operating_agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// Sort order (default `name`).
    #[param(inline)]
    pub sort: Option<DirectorySort>,
}

impl FacilityFilter {
    /// The sort order in force.
    pub fn sort(&self) -> DirectorySort {
        self.sort.unwrap_or(DirectorySort::Name)
    }
}

crate::directory_record!(Facility, facilities, "facility", find);

impl Keyed for Facility {
    fn cursor(&self, sort: &str) -> Cursor {
        directory::cursor(sort, &self.name, self.created_at, self.id)
    }
}

impl CsvRow for Facility {
    const HEADER: &'static [&'static str] = &[
        "id",
        "name",
        "facility_type",
        "operating_agency_id",
        "region_code",
        "address",
        "capacity",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            self.facility_type.to_string(),
            self.operating_agency_id.to_string(),
            opt(&self.region_code),
            opt(&self.address),
            opt(&self.capacity),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

impl Facility {
    /// The facility named by `field`, or 422.
    pub async fn find_for_field(conn: &mut Conn, id: Uuid, field: &str) -> ApiResult<Self> {
        match Self::find(conn, id).await {
            Err(ApiError::NotFound) => {
                Err(ApiError::field(field, format!("unknown facility `{id}`")))
            }
            other => other,
        }
    }

    /// A keyset page (`limit + 1` rows) of facilities.
    pub async fn list(
        conn: &mut Conn,
        filter: &FacilityFilter,
        after: Option<Cursor>,
        limit: i64,
    ) -> ApiResult<Vec<Self>> {
        use facilities::dsl as f;
        let mut query = f::facilities.select(Self::as_select()).into_boxed();
        if let Some(q) = &filter.q {
            query = query.filter(f::name.ilike(directory::contains(q)));
        }
        if let Some(t) = filter.facility_type {
            query = query.filter(f::facility_type.eq(t));
        }
        if let Some(agency) = filter.operating_agency_id {
            query = query.filter(sql::in_agency(
                "facilities.operating_agency_id",
                agency,
                filter.include_subagencies.unwrap_or(true),
            ));
        }
        if let Some(code) = &filter.region_code {
            query = query.filter(sql::in_region("facilities.region_code", code.clone()));
        }
        Ok(
            crate::directory_keyset!(query, "facilities", filter.sort(), after, limit)?
                .load(conn)
                .await?,
        )
    }
}
