//! Councils and their members: rows, bodies, filters and queries.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Nullable, Text};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::agencies::GovernmentLevel;
use crate::auth::Caller;
use crate::db::Conn;
use crate::db::schema::{council_members, councils};
use crate::db::sql::{self, DirectorySort, Fragment};
use crate::domain::{Role, Visibility};
use crate::http::export::{CsvRow, join, opt};
use crate::http::extract::not_blank;
use crate::http::patch::{nullable, required};
use crate::http::{ApiResult, Cursor, Keyed};
use crate::regions::directory;

crate::text_enum! {
    /// What kind of standing body a council is.
    pub enum CouncilKind {
        /// A public council.
        PublicCouncil => "public_council",
        /// A coordination council.
        CoordinationCouncil => "coordination_council",
        /// An expert council.
        ExpertCouncil => "expert_council",
        /// A commission.
        Commission => "commission",
        /// A working group.
        WorkingGroup => "working_group",
    }
}

crate::text_enum! {
    /// A member's role in a council.
    pub enum MemberRole {
        /// Chair.
        Chair => "chair",
        /// Deputy chair.
        DeputyChair => "deputy_chair",
        /// Secretary.
        Secretary => "secretary",
        /// Member.
        Member => "member",
        /// Observer.
        Observer => "observer",
    }
}

/// A council.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = councils, check_for_backend(diesel::pg::Pg))]
pub struct Council {
    /// Id.
    pub id: Uuid,
    /// Name.
    pub name: String,
    /// Kind.
    pub kind: CouncilKind,
    /// Level of government it works at.
    pub level: GovernmentLevel,
    /// The agency that hosts it.
    pub host_agency_id: Option<Uuid>,
    /// The council it is a branch or commission of.
    pub parent_id: Option<Uuid>,
    /// Region.
    pub region_code: Option<String>,
    /// Spheres.
    pub sphere_codes: Vec<String>,
    /// Founded on.
    pub established_on: Option<NaiveDate>,
    /// Dissolved on.
    pub dissolved_on: Option<NaiveDate>,
    /// The act it was set up by.
    pub legal_basis: Option<String>,
    /// What it does.
    pub description: Option<String>,
    /// Who may read it.
    pub visibility: Visibility,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

crate::body_types! {
    /// A new council.
    #[derive(Insertable)]
    #[diesel(table_name = councils)]
    create CreateCouncil;
    /// Changes to a council.
    #[derive(AsChangeset)]
    #[diesel(table_name = councils)]
    update UpdateCouncil;
    /// Name.
    #[validate(length(min = 1, max = 300), custom(function = "not_blank"))]
    #[schema(pattern = r"\S", min_length = 1, max_length = 300)]
    name: String = required,
    /// Kind.
    kind: CouncilKind = required,
    /// Level of government.
    level: GovernmentLevel = required,
    /// Host agency.
    host_agency_id: Uuid = optional,
    /// Parent council.
    parent_id: Uuid = optional,
    /// Region.
    #[validate(length(min = 2, max = 40))]
    #[schema(min_length = 2, max_length = 40)]
    region_code: String = optional,
    /// Spheres.
    #[validate(length(max = 15))]
    #[schema(max_items = 15)]
    sphere_codes: Vec<String> = default,
    /// Founded on.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    established_on: NaiveDate = optional,
    /// Dissolved on (not before `established_on`).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    dissolved_on: NaiveDate = optional,
    /// The act it was set up by.
    #[validate(length(min = 1, max = 1000))]
    #[schema(min_length = 1, max_length = 1000)]
    legal_basis: String = optional,
    /// What it does.
    #[validate(length(max = 10000))]
    #[schema(max_length = 10000)]
    description: String = optional,
    /// Who may read it (default `public`: councils are part of the directory).
    visibility: Visibility = default = "public",
}

fn public() -> Visibility {
    Visibility::Public
}

/// Filters of the council list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CouncilFilter {
    /// Part of the name (case-insensitive).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Only the branches and commissions of this council.
    pub parent_id: Option<Uuid>,
    /// Hosted by this agency, or by one of its sub-agencies unless `include_subagencies=false`.
    pub host_agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// Kind.
    #[param(inline)]
    pub kind: Option<CouncilKind>,
    /// Level.
    #[param(inline)]
    pub level: Option<GovernmentLevel>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// Sort order (default `name`).
    #[param(inline)]
    pub sort: Option<DirectorySort>,
}

impl CouncilFilter {
    /// The sort order in force.
    pub fn sort(&self) -> DirectorySort {
        self.sort.unwrap_or(DirectorySort::Name)
    }
}

crate::directory_record!(Council, councils, "council");

impl Keyed for Council {
    fn cursor(&self, sort: &str) -> Cursor {
        directory::cursor(sort, &self.name, self.created_at, self.id)
    }
}

impl CsvRow for Council {
    const HEADER: &'static [&'static str] = &[
        "id",
        "name",
        "kind",
        "level",
        "host_agency_id",
        "parent_id",
        "region_code",
        "sphere_codes",
        "established_on",
        "dissolved_on",
        "legal_basis",
        "description",
        "visibility",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.name.clone(),
            self.kind.to_string(),
            self.level.to_string(),
            opt(&self.host_agency_id),
            opt(&self.parent_id),
            opt(&self.region_code),
            join(&self.sphere_codes),
            opt(&self.established_on),
            opt(&self.dissolved_on),
            opt(&self.legal_basis),
            opt(&self.description),
            self.visibility.to_string(),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

/// SQL that is true when the caller may read a council: public to all, internal to the signed-in,
/// restricted to admins and the council's secretaries.
pub fn readable_sql(caller: &Caller) -> Fragment {
    match &caller.actor {
        None => Fragment::new("councils.visibility = 'public'"),
        Some(actor) if actor.role == Role::Admin => Fragment::new("TRUE"),
        Some(actor) if actor.role == Role::Secretary && !actor.council_ids.is_empty() => {
            Fragment::new("(councils.visibility IN ('public', 'internal') OR councils.id = ANY(")
                .uuids(actor.council_ids.clone())
                .sql("))")
        }
        Some(_) => Fragment::new("councils.visibility IN ('public', 'internal')"),
    }
}

fn readable<QS: 'static>(caller: &Caller) -> sql::BoxedCondition<QS> {
    readable_sql(caller).boxed()
}

impl Council {
    /// One council the caller may read (404 otherwise).
    pub async fn find(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Self> {
        Ok(councils::table
            .find(id)
            .filter(readable::<councils::table>(caller))
            .select(Self::as_select())
            .first(conn)
            .await?)
    }

    /// One council, locked for an update.
    pub async fn find_for_update(conn: &mut Conn, id: Uuid) -> ApiResult<Self> {
        Ok(councils::table
            .find(id)
            .select(Self::as_select())
            .for_update()
            .first(conn)
            .await?)
    }

    /// One council the caller may read (404 otherwise), locked for an update.
    pub async fn find_for_update_as(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Self> {
        Ok(councils::table
            .find(id)
            .filter(readable::<councils::table>(caller))
            .select(Self::as_select())
            .for_update()
            .first(conn)
            .await?)
    }

    /// Fails with 422 on `field` when the council does not exist.
    pub async fn ensure_exists(conn: &mut Conn, id: Uuid, field: &str) -> ApiResult<()> {
        let found = diesel::select(diesel::dsl::exists(councils::table.find(id)))
            .get_result(conn)
            .await?;
        directory::known(found, field, "council", id)
    }

    /// A keyset page (`limit + 1` rows) of the councils the caller may read.
    pub async fn list(
        conn: &mut Conn,
        caller: &Caller,
        filter: &CouncilFilter,
        after: Option<Cursor>,
        limit: i64,
    ) -> ApiResult<Vec<Self>> {
        use councils::dsl as c;
        let mut query = c::councils
            .select(Self::as_select())
            .filter(readable(caller))
            .into_boxed();
        if let Some(q) = &filter.q {
            query = query.filter(c::name.ilike(directory::contains(q)));
        }
        if let Some(parent) = filter.parent_id {
            query = query.filter(c::parent_id.eq(parent));
        }
        if let Some(host) = filter.host_agency_id {
            query = query.filter(sql::in_agency(
                "councils.host_agency_id",
                host,
                filter.include_subagencies.unwrap_or(true),
            ));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(c::kind.eq(kind));
        }
        if let Some(level) = filter.level {
            query = query.filter(c::level.eq(level));
        }
        if let Some(code) = &filter.region_code {
            query = query.filter(sql::in_region("councils.region_code", code.clone()));
        }
        Ok(
            crate::directory_keyset!(query, "councils", filter.sort(), after, limit)?
                .load(conn)
                .await?,
        )
    }
}

/// A seat on a council.
#[derive(Debug, Clone, Queryable, Selectable, Serialize, Deserialize, ToSchema)]
#[diesel(table_name = council_members, check_for_backend(diesel::pg::Pg))]
pub struct Member {
    /// Id.
    pub id: Uuid,
    /// The council.
    pub council_id: Uuid,
    /// The organisation holding the seat (or null for an agency).
    pub organization_id: Option<Uuid>,
    /// The agency holding the seat (or null for an organisation).
    pub agency_id: Option<Uuid>,
    /// The name of the organisation or agency holding the seat.
    #[diesel(select_expression = crate::db::sql::static_sql::<Nullable<Text>>(MEMBER_NAME))]
    #[diesel(select_expression_type = crate::db::sql::StaticSql<Nullable<Text>>)]
    pub member_name: Option<String>,
    /// Role.
    pub role: MemberRole,
    /// The person who sits.
    pub representative_name: Option<String>,
    /// Since.
    pub since: Option<NaiveDate>,
    /// Until (null while the term runs).
    pub until: Option<NaiveDate>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

/// The name of a seat's holder: two lookups by primary key per seat, as cheap as a join and usable wherever the
/// seats are read.
const MEMBER_NAME: &str = "COALESCE(\
    (SELECT o.name FROM organizations o WHERE o.id = council_members.organization_id), \
    (SELECT a.name FROM agencies a WHERE a.id = council_members.agency_id))";

/// A new seat: exactly one of `organization_id` and `agency_id`.
#[derive(Debug, Clone, Deserialize, Validate, ToSchema, Insertable)]
#[serde(deny_unknown_fields)]
#[diesel(table_name = council_members)]
pub struct CreateMember {
    /// The organisation.
    pub organization_id: Option<Uuid>,
    /// The agency.
    pub agency_id: Option<Uuid>,
    /// Role.
    pub role: MemberRole,
    /// The person who sits.
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub representative_name: Option<String>,
    /// Since.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub since: Option<NaiveDate>,
    /// Until.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub until: Option<NaiveDate>,
}

/// Changes to a seat.
#[derive(Debug, Clone, Default, Deserialize, Validate, ToSchema, AsChangeset)]
#[serde(deny_unknown_fields)]
#[diesel(table_name = council_members)]
pub struct UpdateMember {
    /// Role.
    #[serde(default, deserialize_with = "required")]
    #[schema(nullable = false)]
    pub role: Option<MemberRole>,
    /// The person who sits.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(length(min = 1, max = 200))]
    #[schema(min_length = 1, max_length = 200)]
    pub representative_name: Option<Option<String>>,
    /// Since.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub since: Option<Option<NaiveDate>>,
    /// Until.
    #[serde(default, deserialize_with = "nullable")]
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub until: Option<Option<NaiveDate>>,
}

/// Filters of a council's member list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MemberFilter {
    /// Only seats whose term runs today (default), or all of them with `false`.
    pub current: Option<bool>,
}

/// Sort order of members: by creation.
pub const MEMBER_ORDER: &str = "id";

impl Keyed for Member {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, "", self.id)
    }
}

impl CsvRow for Member {
    const HEADER: &'static [&'static str] = &[
        "id",
        "council_id",
        "organization_id",
        "agency_id",
        "member_name",
        "role",
        "representative_name",
        "since",
        "until",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        vec![
            self.id.to_string(),
            self.council_id.to_string(),
            opt(&self.organization_id),
            opt(&self.agency_id),
            opt(&self.member_name),
            self.role.to_string(),
            opt(&self.representative_name),
            opt(&self.since),
            opt(&self.until),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

crate::directory_record!(Member, council_members, "council_member");

/// SQL for "the term runs today".
pub const CURRENT_SEAT: &str = "(council_members.since IS NULL OR council_members.since <= current_date) AND (council_members.until IS NULL OR council_members.until >= current_date)";

impl Member {
    /// A page of a council's seats (`limit + 1` rows).
    pub async fn list(
        conn: &mut Conn,
        council_id: Uuid,
        current: bool,
        after: Option<Cursor>,
        limit: i64,
    ) -> ApiResult<Vec<Self>> {
        let mut query = council_members::table
            .filter(council_members::council_id.eq(council_id))
            .select(Self::as_select())
            .into_boxed();
        if current {
            query = query.filter(Fragment::new(CURRENT_SEAT));
        }
        if let Some(cursor) = after {
            query = query.filter(council_members::id.gt(cursor.id));
        }
        Ok(query
            .order(council_members::id.asc())
            .limit(limit + 1)
            .load(conn)
            .await?)
    }

    /// A page of the seats of every council the caller may read (`limit + 1` rows), in id order: the open-data
    /// package's council members.
    pub async fn list_readable(
        conn: &mut Conn,
        caller: &Caller,
        after: Option<Cursor>,
        limit: i64,
    ) -> ApiResult<Vec<Self>> {
        let readable =
            Fragment::new("council_members.council_id IN (SELECT id FROM councils WHERE ")
                .push(readable_sql(caller))
                .sql(")");
        let mut query = council_members::table
            .filter(readable)
            .select(Self::as_select())
            .into_boxed();
        if let Some(cursor) = after {
            query = query.filter(council_members::id.gt(cursor.id));
        }
        Ok(query
            .order(council_members::id.asc())
            .limit(limit + 1)
            .load(conn)
            .await?)
    }

    /// One seat of a council.
    pub async fn find(conn: &mut Conn, council_id: Uuid, id: Uuid) -> ApiResult<Self> {
        Ok(council_members::table
            .find(id)
            .filter(council_members::council_id.eq(council_id))
            .select(Self::as_select())
            .first(conn)
            .await?)
    }
}

/// Filters of `GET /stats/councils`: which councils, and the period their meetings are counted in.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CouncilStatsFilter {
    /// One council.
    pub council_id: Option<Uuid>,
    /// Hosted by this agency, or by one of its sub-agencies unless `include_subagencies=false`.
    pub host_agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// Kind.
    #[param(inline)]
    pub kind: Option<CouncilKind>,
    /// Level.
    #[param(inline)]
    pub level: Option<GovernmentLevel>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// Meetings on or after this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub from: Option<NaiveDate>,
    /// Meetings on or before this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub to: Option<NaiveDate>,
}

/// The councils the caller may read, filtered, as the statistics' derived table: columns `id`,
/// `host_agency_id`, `kind`, `level`, `region_code`.
pub fn stats_rows(
    caller: &Caller,
    filter: &CouncilStatsFilter,
) -> impl diesel::query_builder::QueryFragment<diesel::pg::Pg> + Send + 'static {
    use councils::dsl as c;
    let mut query = c::councils
        .filter(readable(caller))
        .select((c::id, c::host_agency_id, c::kind, c::level, c::region_code))
        .into_boxed();
    if let Some(id) = filter.council_id {
        query = query.filter(c::id.eq(id));
    }
    if let Some(host) = filter.host_agency_id {
        query = query.filter(sql::in_agency(
            "councils.host_agency_id",
            host,
            filter.include_subagencies.unwrap_or(true),
        ));
    }
    if let Some(kind) = filter.kind {
        query = query.filter(c::kind.eq(kind));
    }
    if let Some(level) = filter.level {
        query = query.filter(c::level.eq(level));
    }
    if let Some(code) = &filter.region_code {
        query = query.filter(sql::in_region("councils.region_code", code.clone()));
    }
    query
}
