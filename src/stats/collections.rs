//! What each statistic counts: its rows (the list's own filtered query as `base`), its dimensions and its
//! measures. The SQL here is ours alone; values reach it only as bound parameters of the lists' queries.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use validator::Validate;

use super::engine::{Collection, Dimension, Label, Measures, single};
use crate::measures;

/// Whose answers the measures of recommendations and submissions count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Answers {
    /// Every recorded answer, whoever recorded it (the default).
    #[default]
    Any,
    /// Only what the addressed (or responsible) agency recorded itself: an answer someone else reported counts as
    /// no answer.
    Agency,
}

/// Which answers the measures count.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnswersParam {
    /// `any` (default): every recorded answer; `agency`: only answers the agency recorded itself (provenance).
    #[param(inline)]
    pub answers: Option<Answers>,
}

// The `group_by` parameter of each statistic.
crate::group_by!(
    EngagementGroupBy,
    "^(kind|year|month|region|sphere|agency|organization|council|status|visibility)(,(kind|year|month|region|sphere|agency|organization|council|status|visibility))?$",
    sort = "^(key|-?(count))$"
);
crate::group_by!(
    RecommendationGroupBy,
    "^(agency|year|month|kind|status|priority|organization|region|source)(,(agency|year|month|kind|status|priority|organization|region|source))?$",
    sort = "^(key|-?(total|issued|acknowledged|in_progress|implemented|partially_implemented|rejected|no_response|unanswered|overdue|implementation_rate|response_rate|median_days_to_first_response))$"
);
crate::group_by!(
    ConsultationGroupBy,
    "^(agency|organization|year|month|consultation|act_type|level|status|source)(,(agency|organization|year|month|consultation|act_type|level|status|source))?$",
    sort = "^(key|-?(submissions|consultations|accepted|partially_accepted|rejected|not_considered|unanswered|late|acceptance_rate|response_rate|median_days_to_response))$"
);
crate::group_by!(
    GrantGroupBy,
    "^(funder|recipient|sphere|region|year|month|support_type|currency|status)(,(funder|recipient|sphere|region|year|month|support_type|currency|status))?$",
    sort = "^(key|-?(count))$"
);
crate::group_by!(
    MonitoringGroupBy,
    "^(facility|facility_type|agency|region|year|month|status|access|category|severity)(,(facility|facility_type|agency|region|year|month|status|access|category|severity))?$",
    sort = "^(key|-?(visits|findings|serious_findings|access_refused|facilities))$"
);
crate::group_by!(
    CouncilGroupBy,
    "^(council|agency|kind|level|region|year|member)(,(council|agency|kind|level|region|year|member))?$",
    sort = "^(key|-?(councils|meetings|meetings_held|meetings_cancelled|attendance_rate|seats|ngo_seats|agency_seats|ngo_to_agency_ratio|median_days_to_minutes))$"
);

const YEAR_OF_START: &str = "to_char(base.starts_on, 'YYYY')";
const MONTH_OF_START: &str = "to_char(base.starts_on, 'YYYY-MM')";
const SPHERES: &str = "CROSS JOIN LATERAL unnest(base.sphere_codes) AS sphere(code)";

// ---------------------------------------------------------------------------------------------------------
// Engagements

measures! {
    /// Measures of engagements.
    pub struct EngagementMeasures {
        /// Engagements.
        count: i64 as diesel::sql_types::BigInt = "count(*)",
    }
}

/// `GET /stats/engagements`: every kind.
pub struct Engagements;

impl Collection for Engagements {
    const NAME: &'static str = "engagement-stats";
    type Row = EngagementMeasures;
    type Measures = EngagementMeasures;
    const DIMENSIONS: &'static [Dimension] = &[
        Dimension::plain("kind", "base.kind", Label::None),
        Dimension::plain("year", YEAR_OF_START, Label::None),
        Dimension::plain("month", MONTH_OF_START, Label::None),
        Dimension::plain("region", "base.region_code", Label::Region),
        Dimension::joined("sphere", "sphere.code", SPHERES, Label::Sphere),
        Dimension::joined(
            "agency",
            "agency.actor_id",
            "JOIN engagement_timeline agency ON agency.engagement_id = base.id \
             AND agency.actor_id IN (SELECT id FROM agencies)",
            Label::Agency,
        ),
        Dimension::joined(
            "organization",
            "organization.actor_id",
            "JOIN engagement_timeline organization ON organization.engagement_id = base.id \
             AND organization.actor_id IN (SELECT id FROM organizations)",
            Label::Organization,
        ),
        Dimension::plain("council", "base.council_id", Label::Council),
        Dimension::plain("status", "base.status", Label::None),
        Dimension::plain("visibility", "base.visibility", Label::None),
    ];
    const SELECT: &'static str = EngagementMeasures::SELECT;

    fn fold(rows: Vec<Self::Row>) -> Self::Measures {
        single(rows)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Recommendations

measures! {
    /// Measures of recommendations, by their current status (or, with `answers=agency`, by the last status the
    /// agency recorded itself).
    pub struct RecommendationMeasures {
        /// Recommendations.
        total: i64 as diesel::sql_types::BigInt = "count(*)",
        /// Issued, not yet answered.
        issued: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'issued')",
        /// Acknowledged.
        acknowledged: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'acknowledged')",
        /// Being worked on.
        in_progress: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'in_progress')",
        /// Implemented.
        implemented: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'implemented')",
        /// Partly implemented.
        partially_implemented: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'partially_implemented')",
        /// Rejected.
        rejected: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'rejected')",
        /// Recorded as never answered.
        no_response: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'no_response')",
        /// Without an answer: `issued` or `no_response`.
        unanswered: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status IN ('issued', 'no_response'))",
        /// Past their due date and not closed (implemented, partly implemented or rejected).
        overdue: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE base.due_on < current_date AND answer.status NOT IN ('implemented', 'partially_implemented', 'rejected'))",
        /// (implemented + partially implemented) / total; null when there are none.
        implementation_rate: Option<f64> as diesel::sql_types::Nullable<diesel::sql_types::Double> = "round(count(*) FILTER (WHERE answer.status IN ('implemented', 'partially_implemented'))::numeric / nullif(count(*), 0), 4)::float8",
        /// Answered (anything but `issued` and `no_response`) / total; null when there are none.
        response_rate: Option<f64> as diesel::sql_types::Nullable<diesel::sql_types::Double> = "round(count(*) FILTER (WHERE answer.status NOT IN ('issued', 'no_response'))::numeric / nullif(count(*), 0), 4)::float8",
        /// Median days from issue to the first answer (its `effective_on`), over the answered ones; null when none.
        median_days_to_first_response: Option<f64> as diesel::sql_types::Nullable<diesel::sql_types::Double> = "(percentile_cont(0.5) WITHIN GROUP (ORDER BY answer.first_answer_on - base.issued_on))::float8",
    }
}

/// `GET /stats/recommendations`.
pub struct Recommendations;

/// The `FROM` items after `base` for recommendations: the status and first answer the measures count, from what
/// each recommendation's status history says (kept in `recommendation_facts`, read by `stats_rows`).
pub fn recommendation_answers(answers: Answers) -> &'static str {
    match answers {
        Answers::Any => {
            " base CROSS JOIN LATERAL (SELECT base.status, base.first_answered_on AS first_answer_on) answer"
        }
        Answers::Agency => {
            " base CROSS JOIN LATERAL (SELECT coalesce(base.agency_status, 'issued') AS status, \
             base.agency_first_answered_on AS first_answer_on) answer"
        }
    }
}

impl Collection for Recommendations {
    const NAME: &'static str = "recommendation-stats";
    type Row = RecommendationMeasures;
    type Measures = RecommendationMeasures;
    const DIMENSIONS: &'static [Dimension] = &[
        Dimension::plain("agency", "base.addressed_to_agency_id", Label::Agency),
        Dimension::plain("year", "to_char(base.issued_on, 'YYYY')", Label::None),
        Dimension::plain("month", "to_char(base.issued_on, 'YYYY-MM')", Label::None),
        Dimension::plain("kind", "base.kind", Label::None),
        Dimension::plain("status", "answer.status", Label::None),
        Dimension::plain("priority", "base.priority", Label::None),
        Dimension::plain(
            "organization",
            "base.issuer_organization_id",
            Label::Organization,
        ),
        Dimension::plain("region", "base.region_code", Label::Region),
        Dimension::plain("source", "base.status_source", Label::None),
    ];
    const SELECT: &'static str = RecommendationMeasures::SELECT;

    fn fold(rows: Vec<Self::Row>) -> Self::Measures {
        single(rows)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Consultations: the submissions and their fate

measures! {
    /// Measures of submissions to consultations, by their response (or, with `answers=agency`, counting only
    /// responses the agency recorded itself).
    pub struct ConsultationMeasures {
        /// Submissions.
        submissions: i64 as diesel::sql_types::BigInt = "count(*)",
        /// Consultations they were made to.
        consultations: i64 as diesel::sql_types::BigInt = "count(DISTINCT base.consultation_id)",
        /// Accepted.
        accepted: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'accepted')",
        /// Partly accepted.
        partially_accepted: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'partially_accepted')",
        /// Rejected.
        rejected: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'rejected')",
        /// Not considered.
        not_considered: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'not_considered')",
        /// Never answered (`pending`).
        unanswered: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE answer.status = 'pending')",
        /// Submitted after the comment period closed.
        late: i64 as diesel::sql_types::BigInt = "count(*) FILTER (WHERE base.submitted_on > base.closes_on)",
        /// (accepted + partially accepted) / submissions; null when there are none.
        acceptance_rate: Option<f64> as diesel::sql_types::Nullable<diesel::sql_types::Double> = "round(count(*) FILTER (WHERE answer.status IN ('accepted', 'partially_accepted'))::numeric / nullif(count(*), 0), 4)::float8",
        /// Answered / submissions; null when there are none.
        response_rate: Option<f64> as diesel::sql_types::Nullable<diesel::sql_types::Double> = "round(count(*) FILTER (WHERE answer.status <> 'pending')::numeric / nullif(count(*), 0), 4)::float8",
        /// Median days from submission to the answer, over the answered ones with a date; null when none.
        median_days_to_response: Option<f64> as diesel::sql_types::Nullable<diesel::sql_types::Double> = "(percentile_cont(0.5) WITHIN GROUP (ORDER BY answer.responded_on - base.submitted_on))::float8",
    }
}

/// `GET /stats/consultations`.
pub struct Consultations;

/// The `FROM` items after `base` for submissions: the response the measures count.
pub fn submission_answers(answers: Answers) -> &'static str {
    match answers {
        Answers::Any => {
            " base CROSS JOIN LATERAL (SELECT base.response_status AS status, \
             CASE WHEN base.response_status <> 'pending' THEN base.responded_on END AS responded_on) answer"
        }
        Answers::Agency => {
            " base CROSS JOIN LATERAL (SELECT CASE WHEN base.response_source = 'agency' \
             THEN base.response_status ELSE 'pending' END AS status, \
             CASE WHEN base.response_source = 'agency' AND base.response_status <> 'pending' \
             THEN base.responded_on END AS responded_on) answer"
        }
    }
}

impl Collection for Consultations {
    const NAME: &'static str = "consultation-stats";
    type Row = ConsultationMeasures;
    type Measures = ConsultationMeasures;
    const DIMENSIONS: &'static [Dimension] = &[
        Dimension::plain("agency", "base.responsible_agency_id", Label::Agency),
        Dimension::joined(
            "organization",
            "submitter.organization_id",
            "JOIN submission_organizations submitter ON submitter.submission_id = base.id",
            Label::Organization,
        ),
        Dimension::plain("year", "to_char(base.submitted_on, 'YYYY')", Label::None),
        Dimension::plain(
            "month",
            "to_char(base.submitted_on, 'YYYY-MM')",
            Label::None,
        ),
        Dimension::plain("consultation", "base.consultation_id", Label::Engagement),
        Dimension::plain("act_type", "base.act_type", Label::None),
        Dimension::plain("level", "base.level", Label::None),
        Dimension::plain("status", "answer.status", Label::None),
        Dimension::plain("source", "base.response_source", Label::None),
    ];
    const SELECT: &'static str = ConsultationMeasures::SELECT;

    fn fold(rows: Vec<Self::Row>) -> Self::Measures {
        single(rows)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Grants

/// One currency's grants in a group (or in total).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct CurrencySum {
    /// ISO 4217 code.
    pub currency: String,
    /// Grants in this currency.
    pub count: i64,
    /// Their exact sum (decimal string).
    pub amount: String,
}

/// Measures of grants: sums are per currency, never added across currencies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct GrantMeasures {
    /// Grants.
    pub count: i64,
    /// Per currency: the grants and their exact sum, by currency code.
    pub sums: Vec<CurrencySum>,
}

/// The grants of one group in one currency, as read.
#[derive(Debug, Clone, diesel::QueryableByName)]
pub struct GrantRow {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    k3: Option<String>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    count: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    amount: Option<String>,
}

impl Measures for GrantMeasures {
    const COLUMNS: &'static [&'static str] = &["count", "sums"];

    fn cells(&self) -> Vec<String> {
        let sums: Vec<String> = self
            .sums
            .iter()
            .map(|s| format!("{} {}", s.amount, s.currency))
            .collect();
        vec![self.count.to_string(), sums.join("; ")]
    }

    fn value(&self, name: &str) -> Option<f64> {
        (name == "count").then_some(self.count as f64)
    }

    fn sortable(name: &str) -> bool {
        name == "count"
    }
}

/// `GET /stats/grants`.
pub struct Grants;

/// The `FROM` items after `base` for grants.
pub const GRANT_JOINS: &str = " base JOIN grants g ON g.id = base.id";

impl Collection for Grants {
    const NAME: &'static str = "grant-stats";
    type Row = GrantRow;
    type Measures = GrantMeasures;
    const DIMENSIONS: &'static [Dimension] = &[
        Dimension::plain(
            "funder",
            "coalesce(g.funder_agency_id, g.funder_organization_id)",
            Label::Actor,
        ),
        Dimension::plain(
            "recipient",
            "g.recipient_organization_id",
            Label::Organization,
        ),
        Dimension::joined("sphere", "sphere.code", SPHERES, Label::Sphere),
        Dimension::plain("region", "base.region_code", Label::Region),
        Dimension::plain("year", YEAR_OF_START, Label::None),
        Dimension::plain("month", MONTH_OF_START, Label::None),
        Dimension::plain("support_type", "g.support_type", Label::None),
        Dimension::plain("currency", "g.currency", Label::None),
        Dimension::plain("status", "base.status", Label::None),
    ];
    const SELECT: &'static str = "count(*) AS count, sum(g.amount)::text AS amount";
    const SPLIT: Option<&'static str> = Some("g.currency");

    fn fold(rows: Vec<Self::Row>) -> Self::Measures {
        let mut sums: Vec<CurrencySum> = rows
            .into_iter()
            .filter(|r| r.count > 0)
            .map(|r| {
                let currency = r.k3.unwrap_or_default();
                let amount = r.amount.unwrap_or_else(|| "0".to_owned());
                CurrencySum {
                    amount: crate::grants::money::sum_in_currency(&amount, &currency),
                    currency,
                    count: r.count,
                }
            })
            .collect();
        sums.sort_by(|a, b| a.currency.cmp(&b.currency));
        GrantMeasures {
            count: sums.iter().map(|s| s.count).sum(),
            sums,
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Monitoring

measures! {
    /// Measures of monitoring visits and their findings. A confidential finding counts by its category and
    /// severity, which every reader of the visit sees; its text never reaches statistics.
    pub struct MonitoringMeasures {
        /// Visits.
        visits: i64 as diesel::sql_types::BigInt = "count(DISTINCT base.id)",
        /// Findings.
        findings: i64 as diesel::sql_types::BigInt = "count(finding.visit_id)",
        /// Serious or critical findings.
        serious_findings: i64 as diesel::sql_types::BigInt = "count(finding.visit_id) FILTER (WHERE finding.severity IN ('serious', 'critical'))",
        /// Visits where access was refused.
        access_refused: i64 as diesel::sql_types::BigInt = "count(DISTINCT base.id) FILTER (WHERE visit.access = 'refused')",
        /// Facilities visited.
        facilities: i64 as diesel::sql_types::BigInt = "count(DISTINCT visit.facility_id)",
    }
}

/// `GET /stats/monitoring`.
pub struct Monitoring;

/// The `FROM` items after `base` for visits: the visit, its facility and its findings.
pub const VISIT_JOINS: &str = " base JOIN monitoring_visits visit ON visit.id = base.id \
    JOIN facilities facility ON facility.id = visit.facility_id \
    LEFT JOIN visit_findings finding ON finding.visit_id = base.id";

impl Collection for Monitoring {
    const NAME: &'static str = "monitoring-stats";
    type Row = MonitoringMeasures;
    type Measures = MonitoringMeasures;
    const DIMENSIONS: &'static [Dimension] = &[
        Dimension::plain("facility", "visit.facility_id", Label::Facility),
        Dimension::plain("facility_type", "facility.facility_type", Label::None),
        Dimension::plain("agency", "facility.operating_agency_id", Label::Agency),
        Dimension::plain("region", "base.region_code", Label::Region),
        Dimension::plain("year", YEAR_OF_START, Label::None),
        Dimension::plain("month", MONTH_OF_START, Label::None),
        Dimension::plain("status", "base.status", Label::None),
        Dimension::plain("access", "visit.access", Label::None),
        Dimension::plain("category", "finding.category", Label::None),
        Dimension::plain("severity", "finding.severity", Label::None),
    ];
    const SELECT: &'static str = MonitoringMeasures::SELECT;

    fn fold(rows: Vec<Self::Row>) -> Self::Measures {
        single(rows)
    }
}

// ---------------------------------------------------------------------------------------------------------
// Councils

measures! {
    /// Measures of councils' health: their meetings in the period, attendance at the held ones, current seats,
    /// and how soon minutes follow a meeting.
    pub struct CouncilMeasures {
        /// Councils.
        councils: i64 as diesel::sql_types::BigInt = "count(DISTINCT base.id)",
        /// Meetings.
        meetings: i64 as diesel::sql_types::BigInt = "count(DISTINCT meeting.id)",
        /// Meetings held.
        meetings_held: i64 as diesel::sql_types::BigInt = "count(DISTINCT meeting.id) FILTER (WHERE meeting.status = 'held')",
        /// Meetings cancelled.
        meetings_cancelled: i64 as diesel::sql_types::BigInt = "count(DISTINCT meeting.id) FILTER (WHERE meeting.status = 'cancelled')",
        /// Present / expected over the attendance lists of held meetings; null when none was kept.
        attendance_rate: Option<f64> as diesel::sql_types::Nullable<diesel::sql_types::Double> = "round(count(*) FILTER (WHERE meeting.status = 'held' AND attendance.present)::numeric / nullif(count(attendance.meeting_id) FILTER (WHERE meeting.status = 'held'), 0), 4)::float8",
        /// Seats held today (members whose term covers today).
        seats: i64 as diesel::sql_types::BigInt = "(SELECT count(*) FROM council_members WHERE council_members.council_id = ANY(array_agg(DISTINCT base.id)) AND (council_members.since IS NULL OR council_members.since <= current_date) AND (council_members.until IS NULL OR council_members.until >= current_date))",
        /// Seats held today by organisations.
        ngo_seats: i64 as diesel::sql_types::BigInt = "(SELECT count(*) FROM council_members WHERE council_members.council_id = ANY(array_agg(DISTINCT base.id)) AND council_members.organization_id IS NOT NULL AND (council_members.since IS NULL OR council_members.since <= current_date) AND (council_members.until IS NULL OR council_members.until >= current_date))",
        /// Seats held today by agencies.
        agency_seats: i64 as diesel::sql_types::BigInt = "(SELECT count(*) FROM council_members WHERE council_members.council_id = ANY(array_agg(DISTINCT base.id)) AND council_members.agency_id IS NOT NULL AND (council_members.since IS NULL OR council_members.since <= current_date) AND (council_members.until IS NULL OR council_members.until >= current_date))",
        /// Organisations' seats per agency seat; null without agency seats.
        ngo_to_agency_ratio: Option<f64> as diesel::sql_types::Nullable<diesel::sql_types::Double> = "round((SELECT count(*) FILTER (WHERE council_members.organization_id IS NOT NULL)::numeric / nullif(count(*) FILTER (WHERE council_members.agency_id IS NOT NULL), 0) FROM council_members WHERE council_members.council_id = ANY(array_agg(DISTINCT base.id)) AND (council_members.since IS NULL OR council_members.since <= current_date) AND (council_members.until IS NULL OR council_members.until >= current_date)), 4)::float8",
        /// Median days from a meeting to the day (in Tajikistan, as the meeting's own date) its minutes were first
        /// recorded (kept on the meeting by the write that recorded them), each meeting once; null when no minutes
        /// were recorded.
        median_days_to_minutes: Option<f64> as diesel::sql_types::Nullable<diesel::sql_types::Double> = "(SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY once.days) FROM (SELECT DISTINCT ON (per_meeting.id) per_meeting.days FROM unnest(array_agg(meeting.id), array_agg(minutes.minutes_recorded_on - meeting.starts_on)) AS per_meeting(id, days) WHERE per_meeting.days IS NOT NULL) once)::float8",
    }
}

/// `GET /stats/councils`.
pub struct Councils;

/// The `FROM` items after the meetings for councils: each meeting's own row (the day its minutes were first
/// recorded) and its attendance.
pub const COUNCIL_JOINS: &str = " LEFT JOIN meetings minutes ON minutes.id = meeting.id \
    LEFT JOIN meeting_attendance attendance ON attendance.meeting_id = meeting.id";

impl Collection for Councils {
    const NAME: &'static str = "council-stats";
    // Every council's meetings with their attendance, read whole: at the session's `random_page_cost = 1.1`
    // Postgres merged councils with their meetings along the council index, past 293,000 records of other kinds,
    // 30-40% slower at a million engagements than the hash joins it plans at the default 4 (docs/benchmarks.md,
    // "List SQL, every filter and caller"). Grouped by the council itself (a key grouped as it is, not as text),
    // Postgres merged them along that index even so, to have the rows in the groups' order: 2.6 s against 1.1 s
    // with hash joins and a sort ("recommendation and submission facts").
    const PLANNER: Option<&'static str> =
        Some("SET LOCAL random_page_cost = 4; SET LOCAL enable_mergejoin = off");
    type Row = CouncilMeasures;
    type Measures = CouncilMeasures;
    const DIMENSIONS: &'static [Dimension] = &[
        Dimension::plain("council", "base.id", Label::Council),
        Dimension::plain("agency", "base.host_agency_id", Label::Agency),
        Dimension::plain("kind", "base.kind", Label::None),
        Dimension::plain("level", "base.level", Label::None),
        Dimension::plain("region", "base.region_code", Label::Region),
        Dimension::plain("year", "to_char(meeting.starts_on, 'YYYY')", Label::None),
        Dimension::plain(
            "member",
            "coalesce(attendance.organization_id, attendance.agency_id)",
            Label::Actor,
        ),
    ];
    const SELECT: &'static str = CouncilMeasures::SELECT;

    fn fold(rows: Vec<Self::Row>) -> Self::Measures {
        single(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::engine::Collection;

    /// The dimensions a `group_by` pattern names (its first group's alternatives).
    fn named(pattern: &str) -> Vec<&str> {
        pattern
            .strip_prefix("^(")
            .and_then(|rest| rest.split(')').next())
            .map(|alternatives| alternatives.split('|').collect())
            .unwrap_or_default()
    }

    #[test]
    fn each_group_by_pattern_names_exactly_its_collections_dimensions() {
        fn dims<C: Collection>() -> Vec<&'static str> {
            C::DIMENSIONS.iter().map(|d| d.name).collect()
        }
        for (pattern, dimensions) in [
            (EngagementGroupBy::PATTERN, dims::<Engagements>()),
            (RecommendationGroupBy::PATTERN, dims::<Recommendations>()),
            (ConsultationGroupBy::PATTERN, dims::<Consultations>()),
            (GrantGroupBy::PATTERN, dims::<Grants>()),
            (MonitoringGroupBy::PATTERN, dims::<Monitoring>()),
            (CouncilGroupBy::PATTERN, dims::<Councils>()),
        ] {
            assert_eq!(named(pattern), dimensions, "{pattern}");
            let alternatives = named(pattern).join("|");
            assert_eq!(
                pattern,
                format!("^({alternatives})(,({alternatives}))?$"),
                "both halves name the same dimensions"
            );
        }
    }

    /// The statistics' one statement tells its totals from its groups by `grouping(k1)`: a dimension whose key is
    /// the split itself must take the two statements (the engine compares the keys' text), so no other spelling of
    /// the split may appear among the dimensions.
    #[test]
    fn only_the_currency_dimension_keys_on_the_split() {
        let split = Grants::SPLIT.expect("grants split by currency");
        for dimension in Grants::DIMENSIONS {
            let names_currency = dimension.key.contains("currency");
            assert_eq!(
                names_currency,
                dimension.key == split,
                "{}: `{}`",
                dimension.name,
                dimension.key
            );
        }
        for dimensions in [
            Engagements::DIMENSIONS,
            Recommendations::DIMENSIONS,
            Consultations::DIMENSIONS,
            Monitoring::DIMENSIONS,
            Councils::DIMENSIONS,
        ] {
            assert!(dimensions.iter().all(|d| !d.key.contains("currency")));
        }
    }

    #[test]
    fn each_sort_pattern_names_exactly_its_collections_sortable_measures() {
        use crate::stats::engine::Measures;
        fn sortable<C: Collection>() -> String {
            let names: Vec<&str> = C::Measures::COLUMNS
                .iter()
                .copied()
                .filter(|m| C::Measures::sortable(m))
                .collect();
            format!("^(key|-?({}))$", names.join("|"))
        }
        for (pattern, expected) in [
            (EngagementGroupBy::SORT_PATTERN, sortable::<Engagements>()),
            (
                RecommendationGroupBy::SORT_PATTERN,
                sortable::<Recommendations>(),
            ),
            (
                ConsultationGroupBy::SORT_PATTERN,
                sortable::<Consultations>(),
            ),
            (GrantGroupBy::SORT_PATTERN, sortable::<Grants>()),
            (MonitoringGroupBy::SORT_PATTERN, sortable::<Monitoring>()),
            (CouncilGroupBy::SORT_PATTERN, sortable::<Councils>()),
        ] {
            assert_eq!(pattern, expected);
        }
    }
}
