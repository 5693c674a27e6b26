//! The collections of the open-data package: each read through its own list, as an anonymous reader.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use utoipa::ToSchema;

use crate::auth::Caller;
use crate::db::Conn;
use crate::http::export::CsvRow;
use crate::http::{ApiResult, Cursor, Keyed};

/// A batch of records, each with the cursor that continues after it.
pub type Records = Vec<(Vec<String>, Cursor)>;

/// Reads up to `limit + 1` records after a cursor.
pub type FetchRecords = Box<
    dyn for<'c> Fn(
        &'c mut Conn,
        Option<Cursor>,
        i64,
    ) -> Pin<Box<dyn Future<Output = ApiResult<Records>> + 'c>>,
>;

/// One file of the package.
pub struct Collection {
    /// The file's name without `.csv`, and the resource's name.
    pub name: &'static str,
    /// What it holds.
    pub title: &'static str,
    /// The CSV header.
    pub columns: &'static [&'static str],
    /// The record's properties in the API's schema, by name (most columns are one).
    pub properties: fn() -> BTreeMap<String, serde_json::Value>,
    /// Its records, in keyset batches.
    pub fetch: FetchRecords,
}

/// Each property of `T`'s OpenAPI schema, as JSON: where the package takes a column's type and description.
fn properties<T: ToSchema>() -> BTreeMap<String, serde_json::Value> {
    match serde_json::to_value(T::schema()) {
        Ok(serde_json::Value::Object(mut schema)) => match schema.remove("properties") {
            Some(serde_json::Value::Object(properties)) => properties.into_iter().collect(),
            _ => BTreeMap::new(),
        },
        _ => BTreeMap::new(),
    }
}

/// A collection read by `list` (a list function's call on `conn`, `cursor` and `limit`) in `sort` order.
macro_rules! collection {
    ($name:literal, $title:literal, $ty:ty, $sort:expr, |$conn:ident, $cursor:ident, $limit:ident| $list:expr) => {
        Collection {
            name: $name,
            title: $title,
            columns: <$ty as CsvRow>::HEADER,
            properties: properties::<$ty>,
            fetch: Box::new(move |$conn, $cursor, $limit| {
                Box::pin(async move {
                    let sort: &str = $sort;
                    let rows: Vec<$ty> = $list.await?;
                    Ok(rows
                        .into_iter()
                        .map(|row| {
                            let cursor = row.cursor(sort);
                            (row.record(), cursor)
                        })
                        .collect())
                })
            }),
        }
    };
}

/// Every collection, in the order the package lists them: the directory first, then what happens in it.
pub fn all() -> Vec<Collection> {
    use crate::agencies::{Agency, AgencyFilter};
    use crate::consultations::model::{self as consultations, Consultation, ConsultationFilter};
    use crate::councils::model::{Council, CouncilFilter, MEMBER_ORDER, Member};
    use crate::facilities::model::{Facility, FacilityFilter};
    use crate::grants::model::{self as grants, Grant, GrantFilter};
    use crate::hearings::model::{self as hearings, Hearing, HearingFilter};
    use crate::meetings::model::{self as meetings, Meeting, MeetingFilter};
    use crate::monitoring::model::{self as monitoring, Visit, VisitFilter};
    use crate::organizations::{Organization, OrganizationFilter};
    use crate::recommendations::model::{
        self as recommendations, Recommendation, RecommendationFilter,
    };
    use crate::submissions::model::{self as submissions, Submission, SubmissionFilter};

    let public = || Caller { actor: None };
    vec![
        collection!(
            "organizations",
            "NGOs and other non-state actors",
            Organization,
            OrganizationFilter::default().sort().as_str(),
            |conn, cursor, limit| Organization::list(
                conn,
                &OrganizationFilter::default(),
                cursor,
                limit
            )
        ),
        collection!(
            "agencies",
            "Government bodies",
            Agency,
            AgencyFilter::default().sort().as_str(),
            |conn, cursor, limit| Agency::list(conn, &AgencyFilter::default(), cursor, limit)
        ),
        collection!(
            "facilities",
            "Places of detention open to monitoring",
            Facility,
            FacilityFilter::default().sort().as_str(),
            |conn, cursor, limit| Facility::list(conn, &FacilityFilter::default(), cursor, limit)
        ),
        collection!(
            "councils",
            "Public councils, their branches and commissions",
            Council,
            CouncilFilter::default().sort().as_str(),
            |conn, cursor, limit| Council::list(
                conn,
                &public(),
                &CouncilFilter::default(),
                cursor,
                limit
            )
        ),
        collection!(
            "council-members",
            "Seats on public councils, past and present",
            Member,
            MEMBER_ORDER,
            |conn, cursor, limit| Member::list_readable(conn, &public(), cursor, limit)
        ),
        collection!(
            "meetings",
            "Meetings of councils",
            Meeting,
            meetings::ORDER,
            |conn, cursor, limit| meetings::list(
                conn,
                &public(),
                &MeetingFilter::default(),
                cursor,
                limit
            )
        ),
        collection!(
            "hearings",
            "Public hearings",
            Hearing,
            crate::engagements::model::NEWEST,
            |conn, cursor, limit| hearings::list(
                conn,
                &public(),
                &HearingFilter::default(),
                cursor,
                limit
            )
        ),
        collection!(
            "consultations",
            "Public consultations on draft acts",
            Consultation,
            crate::engagements::model::NEWEST,
            |conn, cursor, limit| consultations::list(
                conn,
                &public(),
                &ConsultationFilter::default(),
                cursor,
                limit
            )
        ),
        collection!(
            "submissions",
            "NGOs' submissions to consultations and the agencies' answers",
            Submission,
            submissions::NEWEST,
            |conn, cursor, limit| submissions::list(
                conn,
                &public(),
                &SubmissionFilter::default(),
                cursor,
                limit
            )
        ),
        collection!(
            "monitoring-visits",
            "Monitoring visits to places of detention",
            Visit,
            monitoring::NEWEST,
            |conn, cursor, limit| monitoring::list(
                conn,
                &public(),
                &VisitFilter::default(),
                monitoring::NEWEST,
                cursor,
                limit
            )
        ),
        collection!(
            "grants",
            "Grants and other support to NGOs",
            Grant,
            grants::NEWEST,
            |conn, cursor, limit| grants::list(
                conn,
                &public(),
                &GrantFilter::default(),
                cursor,
                limit
            )
        ),
        collection!(
            "recommendations",
            "Recommendations and what became of them",
            Recommendation,
            recommendations::NEWEST,
            |conn, cursor, limit| recommendations::list(
                conn,
                &public(),
                &RecommendationFilter::default(),
                cursor,
                limit
            )
        ),
    ]
}
