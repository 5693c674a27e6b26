//! The engagement core every kind shares: rows, parties, documents, visibility, and the list query.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::deserialize;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize, Serializer};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use crate::auth::policy::{HiddenWhile, PLANNED_VISIT, RESTRICTED_READER_ROLES};
use crate::auth::{Caller, Role};
use crate::db::schema::{engagement_parties, engagements};
use crate::db::sql::{self, Fragment, KeyValue};
use crate::db::{Conn, JsonColumn};
use crate::domain::{ConsultationStatus, GrantStatus, HearingStatus, MeetingStatus, VisitStatus};
pub use crate::domain::{EngagementKind, PartyRole, Visibility};
use crate::http::export::{CsvRow, join, opt};
use crate::http::{ApiResult, Cursor, Keyed};

crate::text_enum! {
    /// What a linked document is.
    pub enum DocumentKind {
        /// An agenda.
        Agenda => "agenda",
        /// Minutes.
        Minutes => "minutes",
        /// A decision or resolution.
        Decision => "decision",
        /// A report.
        Report => "report",
        /// A draft act.
        Draft => "draft",
        /// A letter or official answer.
        Letter => "letter",
        /// Press coverage.
        Media => "media",
        /// Anything else.
        Other => "other",
    }
}

/// A document linked to an engagement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Document {
    /// Title.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// Where it is (absolute URL).
    #[validate(custom(function = "crate::http::extract::web_url"), length(max = 2000))]
    #[schema(format = "uri", max_length = 2000)]
    pub url: String,
    /// What it is.
    pub kind: DocumentKind,
}

// Why statuses are typed this way: every kind keeps its status in the shared core row (`engagements.status`,
// text), because the cross-kind list filters on it and the read rule looks at it (a planned visit is hidden).
// Its values depend on the kind, so the core row reads it together with the kind into an `EngagementStatus`
// whose variant carries the kind's own enum: kind code converts (`HearingStatus::try_from`), never parses
// text, and `Core` is written from the kind's enum (`body.status.into()`). A stored pair that is not valid all
// the same (written by hand) is corrupt data: reading it fails, a logged 500 naming kind and value,
// rather than a made-up status, and the `engagements_status_of_kind` constraint keeps such pairs out of the
// table in the first place. The cross-kind `?status=` filter accepts the status of any kind and answers any
// other value with a 422 naming `status`, where it used to return an empty list.
macro_rules! engagement_statuses {
    ($($kind:ident($status:ty)),+ $(,)?) => {
        /// The status of an engagement; the variant says whose kind's values it takes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, diesel::expression::AsExpression)]
        #[diesel(sql_type = Text)]
        pub enum EngagementStatus {
            $(
                #[doc = concat!("A status of the kind `", stringify!($kind), "`.")]
                $kind($status),
            )+
        }

        impl EngagementStatus {
            /// The kind whose status this is.
            pub fn kind(self) -> EngagementKind {
                match self {
                    $(Self::$kind(_) => EngagementKind::$kind,)+
                }
            }

            /// The stored and serialized name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$kind(status) => status.as_str(),)+
                }
            }

            /// Every status a kind may take, in declaration order.
            pub fn all_of(kind: EngagementKind) -> Vec<Self> {
                match kind {
                    $(EngagementKind::$kind => <$status>::ALL.iter().copied().map(Self::$kind).collect(),)+
                }
            }

            /// A stored status, read as a status of its kind.
            pub fn of_kind(kind: EngagementKind, text: &str) -> Result<Self, String> {
                match kind {
                    $(EngagementKind::$kind => text.parse::<$status>().map(Self::$kind),)+
                }
                .map_err(|_| format!("`{text}` is not a status of a {kind}"))
            }
        }

        $(
            impl From<$status> for EngagementStatus {
                fn from(status: $status) -> Self {
                    Self::$kind(status)
                }
            }

            impl TryFrom<EngagementStatus> for $status {
                type Error = anyhow::Error;

                /// Fails only when a row of another kind reached this kind's code: a bug, hence `anyhow`.
                fn try_from(status: EngagementStatus) -> anyhow::Result<Self> {
                    match status {
                        EngagementStatus::$kind(status) => Ok(status),
                        other => Err(anyhow::anyhow!(
                            "a {} status where a {} one belongs",
                            other.kind(),
                            EngagementKind::$kind
                        )),
                    }
                }
            }
        )+
    };
}

engagement_statuses! {
    Meeting(MeetingStatus),
    Hearing(HearingStatus),
    Consultation(ConsultationStatus),
    MonitoringVisit(VisitStatus),
    Grant(GrantStatus),
}

impl std::fmt::Display for EngagementStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for EngagementStatus {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl ToSql<Text, Pg> for EngagementStatus {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
    }
}

/// Read from `(engagements.kind, engagements.status)`: the kind decides which values are valid.
impl Queryable<(Text, Text), Pg> for EngagementStatus {
    type Row = (EngagementKind, String);

    fn build((kind, status): Self::Row) -> deserialize::Result<Self> {
        Self::of_kind(kind, &status).map_err(|e| format!("stored status: {e}").into())
    }
}

/// An organisation or agency involved in an engagement.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema, Queryable, Selectable,
)]
#[diesel(table_name = engagement_parties, check_for_backend(diesel::pg::Pg))]
pub struct Party {
    /// The organisation (or null when an agency).
    pub organization_id: Option<Uuid>,
    /// The agency (or null when an organisation).
    pub agency_id: Option<Uuid>,
    /// Its role.
    pub role: PartyRole,
}

/// A party as it is read: who, in which role, and the organisation's or agency's name beside its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NamedParty {
    /// Who and in which role.
    #[serde(flatten)]
    pub party: Party,
    /// The organisation's or agency's name.
    pub name: String,
}

impl NamedParty {
    /// `Name (role)`: how a CSV cell lists it.
    pub fn cell(&self) -> String {
        format!("{} ({})", self.name, self.party.role)
    }
}

impl Party {
    /// An organisation in a role.
    pub fn organization(id: Uuid, role: PartyRole) -> Self {
        Self {
            organization_id: Some(id),
            agency_id: None,
            role,
        }
    }

    /// An agency in a role.
    pub fn agency(id: Uuid, role: PartyRole) -> Self {
        Self {
            organization_id: None,
            agency_id: Some(id),
            role,
        }
    }
}

/// The stored core of an engagement.
#[derive(Debug, Clone, Queryable, Selectable, Serialize)]
#[diesel(table_name = engagements, check_for_backend(diesel::pg::Pg))]
pub struct EngagementRow {
    /// Id.
    pub id: Uuid,
    /// Kind.
    pub kind: EngagementKind,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Status, typed by the kind (read from the kind and status columns together).
    #[diesel(
        select_expression = (engagements::kind, engagements::status),
        select_expression_type = (engagements::kind, engagements::status)
    )]
    pub status: EngagementStatus,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: Option<NaiveDate>,
    /// Region.
    pub region_code: Option<String>,
    /// Spheres.
    pub sphere_codes: Vec<String>,
    /// Who may read it.
    pub visibility: Visibility,
    /// The organisation that owns the record.
    pub owner_organization_id: Option<Uuid>,
    /// The council it belongs to.
    pub council_id: Option<Uuid>,
    /// Linked documents.
    pub documents: JsonColumn<Vec<Document>>,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version.
    pub version: i32,
}

/// An engagement of any kind: the common core with its parties and documents.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Engagement {
    /// Id (shared with the kind-specific record).
    pub id: Uuid,
    /// Kind.
    pub kind: EngagementKind,
    /// Title.
    pub title: String,
    /// Summary.
    pub summary: Option<String>,
    /// Status; its values depend on the kind.
    #[schema(value_type = String)]
    pub status: EngagementStatus,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: Option<NaiveDate>,
    /// Region.
    pub region_code: Option<String>,
    /// Spheres.
    pub sphere_codes: Vec<String>,
    /// Who may read it.
    pub visibility: Visibility,
    /// The organisation that owns the record.
    pub owner_organization_id: Option<Uuid>,
    /// The council it belongs to.
    pub council_id: Option<Uuid>,
    /// Linked documents.
    pub documents: Vec<Document>,
    /// Organisations and agencies involved, with their roles and names (derived from the kind-specific fields).
    pub parties: Vec<NamedParty>,
    /// Who created it.
    pub created_by: Option<Uuid>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version, +1 on each change; also the `ETag`.
    pub version: i32,
}

impl Engagement {
    /// What the access policy needs to know of it.
    pub fn facts(&self) -> crate::auth::policy::EngagementFacts {
        super::write::facts(
            self.kind,
            self.owner_organization_id,
            self.council_id,
            self.parties.iter().map(|p| &p.party),
        )
    }

    /// Joins a core row with its parties.
    pub fn from_row(row: EngagementRow, parties: Vec<NamedParty>) -> Self {
        Self {
            id: row.id,
            kind: row.kind,
            title: row.title,
            summary: row.summary,
            status: row.status,
            starts_on: row.starts_on,
            ends_on: row.ends_on,
            region_code: row.region_code,
            sphere_codes: row.sphere_codes,
            visibility: row.visibility,
            owner_organization_id: row.owner_organization_id,
            council_id: row.council_id,
            documents: row.documents.into_inner(),
            parties,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
            version: row.version,
        }
    }
}

/// Sort order of engagements: newest `starts_on` first.
pub const NEWEST: &str = "-starts_on";

impl Keyed for Engagement {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, self.starts_on.to_string(), self.id)
    }
}

impl CsvRow for Engagement {
    const HEADER: &'static [&'static str] = &[
        "id",
        "kind",
        "title",
        "summary",
        "status",
        "starts_on",
        "ends_on",
        "region_code",
        "sphere_codes",
        "visibility",
        "owner_organization_id",
        "council_id",
        "organization_ids",
        "agency_ids",
        "organizations",
        "agencies",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        let [orgs, agencies, org_names, agency_names] = party_cells(&self.parties);
        vec![
            self.id.to_string(),
            self.kind.to_string(),
            self.title.clone(),
            opt(&self.summary),
            self.status.to_string(),
            self.starts_on.to_string(),
            opt(&self.ends_on),
            opt(&self.region_code),
            join(&self.sphere_codes),
            self.visibility.to_string(),
            opt(&self.owner_organization_id),
            opt(&self.council_id),
            orgs,
            agencies,
            org_names,
            agency_names,
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

/// The CSV cells of a record's parties: organisations' and agencies' `id:role` lists, then their `Name (role)`
/// lists, each joined with `;`.
pub fn party_cells(parties: &[NamedParty]) -> [String; 4] {
    let cells = |organizations: bool, cell: &dyn Fn(&NamedParty, Uuid) -> String| {
        let listed: Vec<String> = parties
            .iter()
            .filter_map(|p| {
                let id = if organizations {
                    p.party.organization_id
                } else {
                    p.party.agency_id
                };
                id.map(|id| cell(p, id))
            })
            .collect();
        join(&listed)
    };
    let ids = |p: &NamedParty, id: Uuid| format!("{id}:{}", p.party.role);
    let names = |p: &NamedParty, _| p.cell();
    [
        cells(true, &ids),
        cells(false, &ids),
        cells(true, &names),
        cells(false, &names),
    ]
}

/// Filters of `GET /engagements` (and the base of the kinds' lists).
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EngagementFilter {
    /// Kinds (repeatable: `kind=meeting&kind=hearing`).
    #[serde(default)]
    #[validate(length(max = 5))]
    #[param(inline, max_items = 5)]
    pub kind: Vec<EngagementKind>,
    /// An organisation in any party role.
    pub organization_id: Option<Uuid>,
    /// An agency in any party role, or one of its sub-agencies unless `include_subagencies=false`.
    pub agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// The council.
    pub council_id: Option<Uuid>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// A sphere.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub sphere_code: Option<String>,
    /// Status (values depend on the kind).
    #[validate(length(min = 1, max = 40))]
    #[param(min_length = 1, max_length = 40)]
    pub status: Option<String>,
    /// Starting on or after this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub from: Option<NaiveDate>,
    /// Starting on or before this day.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub to: Option<NaiveDate>,
    /// Full-text search in title and summary (Russian stemming).
    #[validate(length(min = 1, max = 200))]
    #[param(min_length = 1, max_length = 200)]
    pub q: Option<String>,
    /// Visibility.
    #[param(inline)]
    pub visibility: Option<Visibility>,
}

/// SQL that is true when the caller may read a record whose visibility is `visibility_column`, judged by the
/// engagement `engagement` (its owner, parties and council). The one place DESIGN.md §5's read rule lives.
///
/// The caller's ids are bound parameters, never text: the SQL depends only on the caller's role (and whether
/// they have an organisation or councils), so diesel's statement cache prepares each list's statement once per
/// connection, whoever asks. Only our own constants (column names, enum values) are formatted into the text.
pub fn readable_sql(caller: &Caller, visibility_column: &str, engagement: &str) -> Fragment {
    let open = format!(
        "{visibility_column} IN ({})",
        sql_list(open_visibilities(caller))
    );
    let Some(actor) = &caller.actor else {
        return Fragment::new(format!(
            "({open} AND {} AND ",
            not_planned_visit_hidden(engagement)
        ))
        .push(council_readable(caller, engagement))
        .sql(")");
    };
    let rule = match actor.role {
        Role::Admin => return Fragment::new("TRUE"),
        Role::Analyst | Role::AgencyOfficer => Fragment::new(open),
        Role::NgoMember => match actor.organization_id {
            Some(org) => Fragment::new(format!(
                "({open} OR {engagement}.owner_organization_id = "
            ))
            .uuid(org)
            .sql(&format!(
                " OR EXISTS (SELECT 1 FROM engagement_parties ep WHERE ep.engagement_id = {engagement}.id \
                 AND ep.organization_id = "
            ))
            .uuid(org)
            .sql(&format!(
                " AND ep.role IN ({}) {NOT_HASHED}))",
                sql_list(RESTRICTED_READER_ROLES)
            )),
            None => Fragment::new(open),
        },
        Role::Secretary if !actor.council_ids.is_empty() => {
            Fragment::new(format!("({open} OR {engagement}.council_id = ANY("))
                .uuids(actor.council_ids.clone())
                .sql("))")
        }
        Role::Secretary => Fragment::new(open),
    };
    let org = actor
        .organization_id
        .filter(|_| actor.role == Role::NgoMember);
    Fragment::new("(")
        .push(rule)
        .sql(" AND ")
        .push(not_planned_visit(engagement, org))
        .sql(" AND ")
        .push(council_readable(caller, engagement))
        .sql(")")
}

/// The visibilities the read rule lets the caller read whatever the record's parties: public for anyone, internal
/// too once signed in. Beyond them a caller reads only records the rule ties to them (see [`may_ever_read`]).
fn open_visibilities(caller: &Caller) -> &'static [Visibility] {
    match caller.actor {
        None => &[Visibility::Public],
        Some(_) => &[Visibility::Public, Visibility::Internal],
    }
}

/// Whether the read rule can let the caller read any record of this visibility: besides the open ones, an admin reads
/// all, and an organisation's member or a council's secretary their own records of any visibility.
///
/// A list filtered by a visibility the caller can never read is empty without asking Postgres: it cannot tell that
/// `visibility IN ('public', 'internal') AND visibility = 'restricted'` holds for no row, and walked all of a
/// million engagements to find none (680 ms, docs/benchmarks.md, "List SQL, every filter and caller").
pub fn may_ever_read(caller: &Caller, visibility: Visibility) -> bool {
    let reads_own = caller.actor.as_ref().is_some_and(|actor| match actor.role {
        Role::Admin => true,
        Role::NgoMember => actor.organization_id.is_some(),
        Role::Secretary => !actor.council_ids.is_empty(),
        Role::Analyst | Role::AgencyOfficer => false,
    });
    reads_own || open_visibilities(caller).contains(&visibility)
}

/// How [`readable_sql`] treats a caller whose rule depends on a record's visibility alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenReader {
    /// Not signed in: public records.
    Anonymous,
    /// Signed in with no records of its own (an analyst, an agency officer, a member or secretary without an
    /// organisation or councils): public and internal records.
    SignedIn,
    /// An administrator: everything.
    Admin,
}

/// The caller as an [`OpenReader`], or `None` for a rule that names the caller's own records (an organisation's
/// member, a council's secretary), which only the rows themselves can answer.
pub fn open_reader(caller: &Caller) -> Option<OpenReader> {
    let Some(actor) = &caller.actor else {
        return Some(OpenReader::Anonymous);
    };
    match actor.role {
        Role::Admin => Some(OpenReader::Admin),
        Role::Analyst | Role::AgencyOfficer => Some(OpenReader::SignedIn),
        Role::NgoMember if actor.organization_id.is_none() => Some(OpenReader::SignedIn),
        Role::Secretary if actor.council_ids.is_empty() => Some(OpenReader::SignedIn),
        Role::NgoMember | Role::Secretary => None,
    }
}

/// [`readable_sql`] over the rows of an engagement tally (`table` with the engagements' `visibility`, `kind` and
/// `status`, and `council_visibility`: a meeting's council's visibility, null for other kinds), for the callers
/// whose rule depends on nothing else ([`open_reader`]).
pub fn tally_readable_sql(caller: &Caller, table: &str) -> Option<Fragment> {
    let hidden = not_planned_visit_hidden(table);
    Some(Fragment::new(match open_reader(caller)? {
        OpenReader::Anonymous => format!(
            "({table}.visibility = 'public' AND {hidden} \
             AND coalesce({table}.council_visibility, 'public') = 'public')"
        ),
        OpenReader::SignedIn => format!(
            "({table}.visibility IN ('public', 'internal') AND {hidden} \
             AND coalesce({table}.council_visibility, 'public') <> 'restricted')"
        ),
        OpenReader::Admin => "TRUE".to_owned(),
    }))
}

/// [`readable_sql`] over a kept `audience` column (0: anyone may read the record, 1: anyone signed in, 2: neither;
/// `recommendation_facts`, `submission_facts`), for the callers whose rule depends on nothing else
/// ([`open_reader`]).
pub fn audience_readable(caller: &Caller, audience: &str) -> Option<Fragment> {
    Some(Fragment::new(match open_reader(caller)? {
        OpenReader::Anonymous => format!("{audience} = 0"),
        OpenReader::SignedIn => format!("{audience} <= 1"),
        OpenReader::Admin => "TRUE".to_owned(),
    }))
}

/// Ends the read rule's `EXISTS` over the caller's own party rows. Postgres may answer a correlated `EXISTS` by
/// hashing every row the subquery could return, chosen by the rows the outer scan would read without its `LIMIT`:
/// for a busy organisation's member that was all of its 80,000 party rows, 150-280 ms before the first row of a
/// page of 50 (docs/benchmarks.md, "An NGO member's lists"). `OFFSET 0` keeps the subquery as it is written: one
/// index probe per row the rule still has to decide (the other arms of its `OR` settle most rows before it).
const NOT_HASHED: &str = "OFFSET 0";

/// A list of enum values as SQL literals (`'a', 'b'`); the values are our own constants, never client input.
fn sql_list<T: std::fmt::Display>(values: &[T]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
    quoted.join(", ")
}

/// A council's meetings are hidden from those who may not read the council itself: anonymous readers see only
/// public councils' meetings, signed-in users all but restricted councils' other than their own.
fn council_readable(caller: &Caller, engagement: &str) -> Fragment {
    let column = format!("{engagement}.council_id");
    // Only a council's own meetings follow its visibility; a visit under its mandate keeps its monitors' access.
    let meeting_free = format!("({engagement}.kind <> 'meeting' OR {column} IS NULL)");
    match &caller.actor {
        None => Fragment::new(format!(
            "({meeting_free} OR {column} IN (SELECT id FROM councils WHERE visibility = 'public'))"
        )),
        Some(actor) if actor.role == Role::Secretary && !actor.council_ids.is_empty() => {
            Fragment::new(format!(
                "({meeting_free} OR {column} NOT IN (SELECT id FROM councils WHERE visibility = 'restricted' \
                 AND id <> ALL("
            ))
            .uuids(actor.council_ids.clone())
            .sql(")))")
        }
        Some(_) => Fragment::new(format!(
            "({meeting_free} OR {column} NOT IN (SELECT id FROM councils WHERE visibility = 'restricted'))"
        )),
    }
}

/// `NOT (a planned visit)`: true for every record but a planned monitoring visit.
fn not_planned_visit_hidden(engagement: &str) -> String {
    let HiddenWhile { kind, status, .. } = PLANNED_VISIT;
    format!("NOT ({engagement}.kind = '{kind}' AND {engagement}.status = '{status}')")
}

/// A planned monitoring visit is seen only by its monitors (and admins): announcing it would defeat it.
pub fn not_planned_visit(engagement: &str, monitor: Option<Uuid>) -> Fragment {
    let hidden = not_planned_visit_hidden(engagement);
    match monitor {
        Some(org) => Fragment::new(format!(
            "({hidden} OR EXISTS (SELECT 1 FROM engagement_parties mp WHERE mp.engagement_id = {engagement}.id \
             AND mp.organization_id = "
        ))
        .uuid(org)
        .sql(&format!(
            " AND mp.role = '{}' {NOT_HASHED}))",
            PLANNED_VISIT.seen_by
        )),
        None => Fragment::new(hidden),
    }
}

/// The engagement read rule as a diesel condition on `engagements`.
pub fn readable<QS: 'static>(caller: &Caller) -> sql::BoxedCondition<QS> {
    readable_sql(caller, "engagements.visibility", "engagements").boxed()
}

impl EngagementRow {
    /// One core row locked for an update (no read check: callers check access themselves).
    pub async fn find_for_update(conn: &mut Conn, id: Uuid) -> ApiResult<Self> {
        Ok(engagements::table
            .find(id)
            .select(Self::as_select())
            .for_update()
            .first(conn)
            .await?)
    }
}

/// The parties of each engagement with their names, in one query.
///
/// The names are scalar subqueries, one primary-key lookup per party, rather than joins: for a join Postgres hashed
/// the whole directory on every call, which cost a get by id more than all the rest of its SQL (docs/benchmarks.md,
/// "A get by id in one statement").
pub async fn parties_of(
    mut conn: &Conn,
    ids: &[Uuid],
) -> ApiResult<HashMap<Uuid, Vec<NamedParty>>> {
    use diesel::sql_types::Nullable;
    let rows: Vec<(Uuid, Party, Option<String>, Option<String>)> = engagement_parties::table
        .order(engagement_parties::id.asc())
        .select((
            engagement_parties::engagement_id,
            Party::as_select(),
            sql::static_sql::<Nullable<Text>>(
                "(SELECT name FROM organizations WHERE organizations.id = engagement_parties.organization_id)",
            ),
            sql::static_sql::<Nullable<Text>>(
                "(SELECT name FROM agencies WHERE agencies.id = engagement_parties.agency_id)",
            ),
        ))
        .filter(engagement_parties::engagement_id.eq_any(ids))
        .load(&mut conn)
        .await?;
    Ok(crate::db::page::group_by_parent(rows.into_iter().map(
        |(engagement, party, organization, agency)| {
            let name = organization.or(agency).unwrap_or_default();
            (engagement, NamedParty { party, name })
        },
    )))
}

/// Attaches parties to core rows: one query whatever the number of rows. It takes the connection shared, so that a
/// page can send it together with the loads of its kind's own rows (pipelined: one round trip for all).
pub async fn with_parties(conn: &Conn, rows: Vec<EngagementRow>) -> ApiResult<Vec<Engagement>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let mut parties = parties_of(conn, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let p = parties.remove(&r.id).unwrap_or_default();
            Engagement::from_row(r, p)
        })
        .collect())
}

/// What the access policy needs to know of an engagement, read without the read rule: for the rules of records
/// that hang off it (a recommendation an agency's officer may answer although its engagement is hidden from them).
pub async fn facts_of(
    conn: &mut Conn,
    id: Uuid,
) -> ApiResult<crate::auth::policy::EngagementFacts> {
    let (row, parties): (EngagementRow, JsonColumn<Vec<NamedParty>>) = engagements::table
        .find(id)
        .select((
            EngagementRow::as_select(),
            sql::static_sql::<diesel::sql_types::Jsonb>(PARTIES_JSON),
        ))
        .first(conn)
        .await?;
    Ok(Engagement::from_row(row, parties.into_inner()).facts())
}

/// An engagement's parties with their names as one `jsonb` array, in the order they were added: for reading one
/// engagement with its parties in one statement.
const PARTIES_JSON: &str = "(SELECT COALESCE(jsonb_agg(jsonb_build_object(\
     'organization_id', p.organization_id, 'agency_id', p.agency_id, 'role', p.role, 'name', COALESCE(\
     (SELECT o.name FROM organizations o WHERE o.id = p.organization_id), \
     (SELECT a.name FROM agencies a WHERE a.id = p.agency_id), '')) ORDER BY p.id), '[]') \
     FROM engagement_parties p WHERE p.engagement_id = engagements.id)";

/// One engagement with its parties, if the caller may read it: one statement, one round trip.
pub async fn find(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Engagement> {
    let (row, parties): (EngagementRow, JsonColumn<Vec<NamedParty>>) = engagements::table
        .find(id)
        .filter(readable::<engagements::table>(caller))
        .select((
            EngagementRow::as_select(),
            sql::static_sql::<diesel::sql_types::Jsonb>(PARTIES_JSON),
        ))
        .first(conn)
        .await?;
    Ok(Engagement::from_row(row, parties.into_inner()))
}

/// The filters of [`EngagementFilter`] on the engagement's own columns, applied to a boxed query over
/// `engagements` or over `engagement_timeline` joined with it.
macro_rules! filter_engagements {
    ($query:ident, $filter:expr, $agency:expr, $organization:expr) => {{
        use engagements::dsl as e;
        let filter: &EngagementFilter = $filter;
        // One kind as `=`: Postgres walks `(kind, starts_on, id)` in order for it, but not for `= ANY` of one.
        match filter.kind.as_slice() {
            [] => {}
            [kind] => $query = $query.filter(e::kind.eq(*kind)),
            kinds => $query = $query.filter(e::kind.eq_any(kinds.to_vec())),
        }
        if let Some(org) = $organization {
            // The party timeline holds the owner and every party: one index range instead of a party lookup `OR`
            // the owner, which Postgres could only answer by scanning every engagement.
            $query = $query.filter(
                Fragment::new(
                    "engagements.id IN (SELECT engagement_id FROM engagement_timeline WHERE actor_id = ",
                )
                .uuid(org)
                .sql(")")
                .boxed(),
            );
        }
        if let Some(agency) = $agency {
            let ids = engagement_parties::table
                .filter(sql::in_agency(
                    "engagement_parties.agency_id",
                    agency,
                    filter.include_subagencies.unwrap_or(true),
                ))
                .select(engagement_parties::engagement_id);
            $query = $query.filter(e::id.eq_any(ids));
        }
        if let Some(council) = filter.council_id {
            $query = $query.filter(e::council_id.eq(council));
        }
        if let Some(code) = &filter.region_code {
            $query = $query.filter(sql::in_region("engagements.region_code", code.clone()));
        }
        if let Some(sphere) = &filter.sphere_code {
            $query = $query.filter(e::sphere_codes.contains(vec![sphere.clone()]));
        }
        if let Some(status) = &filter.status {
            $query = $query.filter(e::status.eq(status.clone()));
        }
        if let Some(q) = &filter.q {
            $query = $query.filter(
                Fragment::new("engagements.search @@ websearch_to_tsquery('russian', ")
                    .text(q.clone())
                    .sql(")"),
            );
        }
        if let Some(visibility) = filter.visibility {
            $query = $query.filter(e::visibility.eq(visibility));
        }
    }};
}

/// The sort key of a cursor of an engagement list.
fn cursor_key(cursor: &Cursor) -> ApiResult<NaiveDate> {
    cursor.key.parse::<NaiveDate>().map_err(|_| {
        crate::http::ApiError::field("cursor", "is not a cursor returned by this list")
    })
}

/// Applies the list's filters, dates and cursor to a boxed walk of `engagement_timeline` joined with `engagements`,
/// newest first; `$agency` and `$organization` are the filters the walked actor does not already answer.
macro_rules! walk_timeline {
    ($query:ident, $filter:expr, $agency:expr, $organization:expr, $after:expr) => {{
        use crate::db::schema::engagement_timeline as t;
        let filter: &EngagementFilter = $filter;
        filter_engagements!($query, filter, $agency, $organization);
        if let Some(from) = filter.from {
            $query = $query.filter(t::starts_on.ge(from));
        }
        if let Some(to) = filter.to {
            $query = $query.filter(t::starts_on.le(to));
        }
        if let Some(cursor) = $after {
            $query = $query.filter(sql::after(
                "engagement_timeline.starts_on",
                "engagement_timeline.engagement_id",
                true,
                KeyValue::Date(cursor_key(cursor)?),
                cursor.id,
            ));
        }
        $query.order((t::starts_on.desc(), t::engagement_id.desc()))
    }};
}

/// A keyset page (`limit + 1` rows) of the engagements the caller may read, newest first: two queries (three
/// with an agency filter that takes in sub-agencies).
///
/// Filtered by an agency or an organisation, the page walks that actor's rows of `engagement_timeline` (one per
/// engagement it takes part in or owns, carrying `starts_on`) newest first and stops after `limit + 1` readable
/// ones, instead of gathering and sorting all of the actor's engagements.
///
/// An agency with sub-agencies (unless `include_subagencies=false`) is several actors, and one engagement may have
/// a timeline row for each of them (the agency and its sub-agency both invited): walking their rows together would
/// repeat it on a page. So a first query reads the subtree's ids. One id (no sub-agency): the single walk above.
/// Several: one walk per agency, through the same filters, read rule and cursor, merged in their common order with
/// repeats dropped ([`sql::MergedWalks`]): Postgres reads each agency's rows only as far as the page's newest
/// `limit + 1` distinct engagements reach, so a page costs about `limit + 1` rows in all, not per agency
/// (docs/benchmarks.md, "An agency with sub-agencies"). With `organization_id` too, the organisation's walk is the
/// one taken and the subtree a condition on it. Every path orders and bounds on `(starts_on, id)`, so a cursor of
/// one is valid on another.
#[tracing::instrument(skip(conn, caller))]
pub async fn list(
    conn: &mut Conn,
    caller: &Caller,
    filter: &EngagementFilter,
    after: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<Engagement>> {
    use crate::db::schema::engagement_timeline as t;
    use engagements::dsl as e;
    if filter
        .visibility
        .is_some_and(|visibility| !may_ever_read(caller, visibility))
    {
        // Still a 400 for a cursor this list never gave, as it would be with rows to page through.
        after.as_ref().map(cursor_key).transpose()?;
        return Ok(Vec::new());
    }
    let subtree = match filter.agency_id {
        Some(agency) if filter.include_subagencies.unwrap_or(true) => {
            crate::agencies::Agency::subtree(conn, agency).await?
        }
        _ => Vec::new(),
    };
    let several = subtree.len() > 1;
    let rows: Vec<EngagementRow> = match (filter.agency_id, filter.organization_id) {
        (Some(_), None) if several => {
            let walks = subtree
                .iter()
                .map(|&agency| -> ApiResult<_> {
                    let mut walk = t::table
                        .inner_join(e::engagements)
                        .filter(t::actor_id.eq(agency))
                        .filter(readable(caller))
                        .select((t::starts_on, t::engagement_id))
                        .into_boxed();
                    Ok(
                        walk_timeline!(walk, filter, None::<Uuid>, None::<Uuid>, after.as_ref())
                            .limit(limit + 1),
                    )
                })
                .collect::<ApiResult<Vec<_>>>()?;
            e::engagements
                .filter(sql::MergedWalks::new("engagements.id", walks, limit + 1))
                .filter(readable(caller))
                .select(EngagementRow::as_select())
                .order((e::starts_on.desc(), e::id.desc()))
                .limit(limit + 1)
                .load(conn)
                .await?
        }
        (agency, organization) => {
            // The timeline answers for the agency (or else the organisation); the other, if also given, filters.
            let (actor, agency, organization) = match (agency, organization) {
                (Some(agency), org) if several => (org, Some(agency), None),
                (Some(agency), org) => (Some(agency), None, org),
                (None, org) => (org, None, None),
            };
            if let Some(actor) = actor {
                let mut query = t::table
                    .inner_join(e::engagements)
                    .filter(t::actor_id.eq(actor))
                    .filter(readable(caller))
                    .select(EngagementRow::as_select())
                    .into_boxed();
                walk_timeline!(query, filter, agency, organization, after.as_ref())
                    .limit(limit + 1)
                    .load(conn)
                    .await?
            } else {
                let mut query = e::engagements
                    .select(EngagementRow::as_select())
                    .filter(readable(caller))
                    .into_boxed();
                filter_engagements!(query, filter, None::<Uuid>, None::<Uuid>);
                if let Some(from) = filter.from {
                    query = query.filter(e::starts_on.ge(from));
                }
                if let Some(to) = filter.to {
                    query = query.filter(e::starts_on.le(to));
                }
                if let Some(cursor) = after {
                    query = query.filter(sql::after(
                        "engagements.starts_on",
                        "engagements.id",
                        true,
                        KeyValue::Date(cursor_key(&cursor)?),
                        cursor.id,
                    ));
                }
                query
                    .order((e::starts_on.desc(), e::id.desc()))
                    .limit(limit + 1)
                    .load(conn)
                    .await?
            }
        }
    };
    with_parties(conn, rows).await
}

/// The columns of the core rows the statistics group by, in this order: `id`, `kind`, `status`, `starts_on`,
/// `region_code`, `sphere_codes`, `council_id`, `visibility`.
pub type StatsColumns = (
    diesel::sql_types::Uuid,
    Text,
    Text,
    diesel::sql_types::Date,
    diesel::sql_types::Nullable<Text>,
    diesel::sql_types::Array<Text>,
    diesel::sql_types::Nullable<diesel::sql_types::Uuid>,
    Text,
);

/// The core rows the caller may read (of one kind, if given), selecting [`StatsColumns`]: the statistics' base,
/// to which each list's own filter function applies its filters.
pub fn stats_rows(caller: &Caller, kind: Option<EngagementKind>) -> Boxed<StatsColumns> {
    use engagements::dsl as e;
    let query = e::engagements
        .filter(readable(caller))
        .select((
            e::id,
            e::kind,
            e::status,
            e::starts_on,
            e::region_code,
            e::sphere_codes,
            e::council_id,
            e::visibility,
        ))
        .into_boxed();
    match kind {
        Some(kind) => query.filter(e::kind.eq(kind)),
        None => query,
    }
}

/// The filters of `GET /engagements` (without the page) on a query over the core rows: what the statistics
/// count is what the list returns.
pub fn filtered<ST: 'static>(mut query: Boxed<ST>, filter: &EngagementFilter) -> Boxed<ST> {
    filter_engagements!(query, filter, filter.agency_id, filter.organization_id);
    CommonFilter {
        region_code: None,
        from: filter.from,
        to: filter.to,
    }
    .apply(query)
}

/// A boxed query over the core rows.
pub type CoreQuery = Boxed<diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<EngagementRow, Pg>>>;

/// The engagements of one kind the caller may read: the base of every kind's list.
///
/// The kind is written into the text (one of our own five values), not bound: Postgres can then use an index whose
/// predicate names the kind (`engagements_visits_shown_idx`) in the plan it keeps for the statement, which it cannot
/// for a bound value.
pub fn of_kind(kind: EngagementKind, caller: &Caller) -> CoreQuery {
    engagements::table
        .select(EngagementRow::as_select())
        .filter(Fragment::new(format!("engagements.kind = '{kind}'")))
        .filter(readable(caller))
        .into_boxed()
}

/// A boxed query over the core rows selecting `ST`: the lists select [`EngagementRow`], the statistics the
/// columns they group by. Filters are applied to it whatever it selects, so both count the same rows.
pub type Boxed<ST> = engagements::BoxedQuery<'static, Pg, ST>;

/// The filters every kind's list shares.
pub struct CommonFilter<'a> {
    /// Region, including its sub-regions.
    pub region_code: Option<&'a str>,
    /// Starting on or after.
    pub from: Option<NaiveDate>,
    /// Starting on or before.
    pub to: Option<NaiveDate>,
}

impl CommonFilter<'_> {
    /// Applies the shared filters.
    pub fn apply<ST: 'static>(self, mut query: Boxed<ST>) -> Boxed<ST> {
        use engagements::dsl as e;
        if let Some(code) = self.region_code {
            query = query.filter(sql::in_region("engagements.region_code", code.to_owned()));
        }
        if let Some(from) = self.from {
            query = query.filter(e::starts_on.ge(from));
        }
        if let Some(to) = self.to {
            query = query.filter(e::starts_on.le(to));
        }
        query
    }
}

/// The keyset page (`limit + 1` rows) on `(starts_on, id)` of a filtered query, newest first unless
/// `oldest_first`.
pub fn paged(
    mut query: CoreQuery,
    after: Option<Cursor>,
    limit: i64,
    oldest_first: bool,
) -> ApiResult<CoreQuery> {
    use engagements::dsl as e;
    if let Some(cursor) = after {
        query = query.filter(sql::after(
            "engagements.starts_on",
            "engagements.id",
            !oldest_first,
            KeyValue::Date(cursor_key(&cursor)?),
            cursor.id,
        ));
    }
    query = if oldest_first {
        query.order((e::starts_on.asc(), e::id.asc()))
    } else {
        query.order((e::starts_on.desc(), e::id.desc()))
    };
    Ok(query.limit(limit + 1))
}

/// One engagement of a kind with its parties and the kind's own part, if the caller may read it (404 otherwise, also
/// for another kind): one statement. `own` is a correlated subquery of the kind (trusted SQL, a constant of its
/// module) giving its row and lists as one `jsonb` value that reads as a `T`.
pub async fn find_of_kind<T: serde::de::DeserializeOwned + Send + 'static>(
    conn: &mut Conn,
    caller: &Caller,
    id: Uuid,
    kind: EngagementKind,
    own: &'static str,
) -> ApiResult<(Engagement, T)> {
    use diesel::sql_types::{Jsonb, Nullable};
    let (row, parties, own): (
        EngagementRow,
        JsonColumn<Vec<NamedParty>>,
        Option<JsonColumn<T>>,
    ) = engagements::table
        .find(id)
        .filter(readable::<engagements::table>(caller))
        .select((
            EngagementRow::as_select(),
            sql::static_sql::<Jsonb>(PARTIES_JSON),
            sql::static_sql::<Nullable<Jsonb>>(own),
        ))
        .first(conn)
        .await?;
    let engagement = Engagement::from_row(row, parties.into_inner());
    if engagement.kind != kind {
        return Err(crate::http::ApiError::NotFound);
    }
    let own = own.ok_or_else(|| anyhow::anyhow!("{kind} {id} lacks its own row"))?;
    Ok((engagement, own.into_inner()))
}

/// Builds a kind's record from its core `e` (an [`Engagement`]) and the kind's own fields: the fields every kind
/// takes from the core unchanged (id, title, region, spheres, owner, visibility, documents, parties, timestamps,
/// version) are filled in, the kind lists the rest: `with_core!(Hearing, e { status, location: h.location })`.
#[macro_export]
macro_rules! with_core {
    ($kind:ident, $e:ident { $($field:ident $(: $value:expr)?),* $(,)? }) => {
        $kind {
            $($field $(: $value)?,)*
            id: $e.id,
            title: $e.title,
            region_code: $e.region_code,
            sphere_codes: $e.sphere_codes,
            owner_organization_id: $e.owner_organization_id,
            visibility: $e.visibility,
            documents: $e.documents,
            parties: $e.parties,
            created_at: $e.created_at,
            updated_at: $e.updated_at,
            version: $e.version,
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_typed_by_their_kind() {
        assert_eq!(
            EngagementStatus::of_kind(EngagementKind::Grant, "awarded"),
            Ok(EngagementStatus::Grant(GrantStatus::Awarded))
        );
        assert!(EngagementStatus::of_kind(EngagementKind::Grant, "held").is_err());
        assert!(EngagementStatus::of_kind(EngagementKind::Hearing, "postponed").is_err());
        let held = EngagementStatus::from(HearingStatus::Held);
        assert_eq!(
            (held.kind(), held.as_str()),
            (EngagementKind::Hearing, "held")
        );
        assert_eq!(
            serde_json::to_value(held).ok(),
            Some(serde_json::json!("held"))
        );
        assert_eq!(
            HearingStatus::try_from(held).ok(),
            Some(HearingStatus::Held)
        );
        assert!(GrantStatus::try_from(held).is_err());
    }

    #[test]
    fn the_database_allows_exactly_each_kinds_statuses() {
        let sql =
            include_str!("../../migrations/2026-12-03-000001_engagement_status_of_kind/up.sql");
        for kind in EngagementKind::ALL {
            let when = format!("WHEN '{kind}' THEN status IN (");
            let listed: Vec<&str> = sql
                .lines()
                .find_map(|line| line.trim_start().strip_prefix(when.as_str()))
                .and_then(|rest| rest.strip_suffix(')'))
                .map(|list| list.split(", ").map(|s| s.trim_matches('\'')).collect())
                .unwrap_or_default();
            let declared: Vec<&str> = EngagementStatus::all_of(*kind)
                .into_iter()
                .map(EngagementStatus::as_str)
                .collect();
            assert_eq!(listed, declared, "{kind}");
        }
    }
}
