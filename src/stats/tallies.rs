//! Engagement statistics read from the tallies (`engagement_tally`, `engagement_agency_tally`), which the database
//! keeps exact in every write transaction: a few thousand rows added up instead of every engagement the caller may
//! read (docs/statistics.md, "Tallies").
//!
//! The tallies answer what they were shaped for: a caller whose read rule depends only on a record's visibility,
//! kind, status and council ([`core::tally_readable_sql`]); the filters `kind`, `status`, `visibility`, `region_code`,
//! `agency_id` and whole months of `from`/`to`; the dimensions `kind`, `year`, `month`, `region`, `status`,
//! `visibility` and `agency`. Anything else is counted from the rows themselves ([`super::engine::compute`]), with
//! the same result.
//!
//! Grants have three tallies of their own, each with the grants' count and exact sum per year, status, visibility,
//! form of support and currency: `grant_tally` also per region, `grant_funder_tally` per funder and
//! `grant_recipient_tally` per recipient. They answer the same callers ([`grants`]).

use chrono::{Datelike, Days, NaiveDate};
use uuid::Uuid;

use super::collections::{EngagementMeasures, GrantMeasures, GrantRow, Grants};
use super::engine::{self, Collection, Dimension, Label, Span, Stats, StatsParams, single};
use crate::auth::Caller;
use crate::db::Conn;
use crate::db::sql::{Fragment, Statement, agency_subtree_array, region_subtree};
use crate::domain::GrantStatus;
use crate::engagements::model::{self as core, EngagementFilter};
use crate::grants::model::GrantFilter;
use crate::http::ApiResult;

/// Engagements counted from the tallies: the dimensions of [`super::collections::Engagements`] that a tally holds.
struct EngagementTallies;

impl Collection for EngagementTallies {
    const NAME: &'static str = "engagement-stats";
    type Row = EngagementMeasures;
    type Measures = EngagementMeasures;
    const DIMENSIONS: &'static [Dimension] = &[
        Dimension::plain("kind", "base.kind", Label::None),
        Dimension::plain("year", "to_char(base.month, 'YYYY')", Label::None),
        Dimension::plain("month", "to_char(base.month, 'YYYY-MM')", Label::None),
        Dimension::plain("region", "base.region_code", Label::Region),
        Dimension::plain("status", "base.status", Label::None),
        Dimension::plain("visibility", "base.visibility", Label::None),
        Dimension::plain("agency", "base.agency_id", Label::Agency),
    ];
    const SELECT: &'static str = "coalesce(sum(base.engagements), 0)::bigint AS count, ";

    fn fold(rows: Vec<Self::Row>) -> Self::Measures {
        single(rows)
    }
}

/// Which tally rows a statistic adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rows {
    /// `engagement_tally`: each engagement once.
    All,
    /// `engagement_agency_tally`: one agency's engagements (its own, or with its sub-agencies').
    Agency { id: Uuid, subtree: bool },
    /// `engagement_agency_tally`: each agency's own engagements (an engagement once per agency in it).
    EachAgency,
}

impl Rows {
    /// The dimensions these rows can be grouped by.
    fn groups_by(self, name: &str) -> bool {
        let held = EngagementTallies::DIMENSIONS.iter().any(|d| d.name == name);
        held && match self {
            Self::All => name != "agency",
            Self::Agency { .. } => !matches!(name, "agency" | "region"),
            Self::EachAgency => name != "region",
        }
    }
}

/// The statistic of `GET /stats/engagements` from the tallies, or `None` where they cannot answer it exactly (the
/// caller's rule, a filter or a dimension they do not hold): then the rows are counted.
pub async fn engagements(
    conn: &mut Conn,
    caller: &Caller,
    params: &StatsParams,
    filter: &EngagementFilter,
) -> ApiResult<Option<Stats<EngagementMeasures>>> {
    let Some(plan) = plan(caller, params, filter) else {
        return Ok(None);
    };
    let span = Span {
        from: filter.from,
        to: filter.to,
    };
    let statement = |rows: Rows| {
        let statement = Statement::new("(").fragment(rows_sql(rows, caller, filter));
        Ok(statement.sql(") base"))
    };
    let totals = || statement(plan.totals);
    let groups = || statement(plan.groups);
    engine::compute_from::<EngagementTallies>(conn, caller, params, span, &totals, &groups)
        .await
        .map(Some)
}

/// What a statistic reads: its totals and its groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Plan {
    totals: Rows,
    groups: Rows,
}

/// The tally rows answering the statistic, if they can.
fn plan(caller: &Caller, params: &StatsParams, filter: &EngagementFilter) -> Option<Plan> {
    let _rule = core::tally_readable_sql(caller, "tally")?;
    let EngagementFilter {
        kind: _,
        organization_id: None,
        agency_id,
        include_subagencies,
        council_id: None,
        region_code,
        sphere_code: None,
        status: _,
        from,
        to,
        q: None,
        visibility: _,
    } = filter
    else {
        return None;
    };
    if from.is_some_and(|from| from.day() != 1) || to.is_some_and(|to| !last_of_month(to)) {
        return None;
    }
    let dims: Vec<&str> = params
        .group_by
        .as_deref()
        .map(|g| g.split(',').collect())
        .unwrap_or_default();
    let plan = match agency_id {
        Some(id) => {
            let rows = Rows::Agency {
                id: *id,
                subtree: include_subagencies.unwrap_or(true),
            };
            Plan {
                totals: rows,
                groups: rows,
            }
        }
        None if dims.contains(&"agency") => Plan {
            totals: Rows::All,
            groups: Rows::EachAgency,
        },
        None => Plan {
            totals: Rows::All,
            groups: Rows::All,
        },
    };
    let region_held = region_code.is_none() || plan.groups == Rows::All;
    (region_held && dims.iter().all(|d| plan.groups.groups_by(d))).then_some(plan)
}

/// Whether `day` is the last day of its month.
fn last_of_month(day: NaiveDate) -> bool {
    day.checked_add_days(Days::new(1))
        .is_none_or(|next| next.day() == 1)
}

/// The tally rows of `rows` the caller may read, filtered.
fn rows_sql(rows: Rows, caller: &Caller, filter: &EngagementFilter) -> Fragment {
    let mut sql = match rows {
        Rows::All => Fragment::new(
            "SELECT kind, month, region_code, status, visibility, council_visibility, engagements \
             FROM engagement_tally tally WHERE ",
        ),
        Rows::Agency { .. } | Rows::EachAgency => Fragment::new(
            "SELECT agency_id, kind, month, status, visibility, council_visibility, engagements \
             FROM engagement_agency_tally tally WHERE ",
        ),
    };
    sql = match rows {
        Rows::All => sql.sql("tally.engagements > 0"),
        Rows::Agency { id, subtree } => sql
            .sql(if subtree {
                "tally.scope = 'subtree'"
            } else {
                "tally.scope = 'party'"
            })
            .sql(" AND tally.agency_id = ")
            .uuid(id)
            .sql(" AND tally.engagements > 0"),
        Rows::EachAgency => sql.sql("tally.scope = 'party' AND tally.engagements > 0"),
    };
    if let Some(rule) = core::tally_readable_sql(caller, "tally") {
        sql = sql.sql(" AND ").push(rule);
    }
    if !filter.kind.is_empty() {
        let kinds = filter.kind.iter().map(|k| k.as_str().to_owned()).collect();
        sql = sql.sql(" AND tally.kind = ANY(").texts(kinds).sql(")");
    }
    if let Some(status) = &filter.status {
        sql = sql.sql(" AND tally.status = ").text(status.clone());
    }
    if let Some(visibility) = filter.visibility {
        sql = sql
            .sql(" AND tally.visibility = ")
            .text(visibility.as_str().to_owned());
    }
    if let Some(code) = &filter.region_code {
        sql = sql
            .sql(" AND ")
            .push(region_subtree("tally.region_code", code.clone()));
    }
    if let Some(from) = filter.from {
        sql = sql.sql(" AND tally.month >= ").date(from);
    }
    if let Some(to) = filter.to {
        sql = sql.sql(" AND tally.month <= ").date(to);
    }
    sql
}

/// Grants added up from the grant tallies: the dimensions of [`Grants`] that one of them holds, with the same
/// measures.
struct GrantTallies;

impl Collection for GrantTallies {
    const NAME: &'static str = Grants::NAME;
    type Row = GrantRow;
    type Measures = GrantMeasures;
    const DIMENSIONS: &'static [Dimension] = &[
        Dimension::plain(
            "funder",
            "coalesce(base.funder_agency_id, base.funder_organization_id)",
            Label::Actor,
        ),
        Dimension::plain(
            "recipient",
            "base.recipient_organization_id",
            Label::Organization,
        ),
        Dimension::plain("region", "base.region_code", Label::Region),
        Dimension::plain("year", "to_char(base.year, 'YYYY')", Label::None),
        Dimension::plain("support_type", "base.support_type", Label::None),
        Dimension::plain("currency", "base.currency", Label::None),
        Dimension::plain("status", "base.status", Label::None),
    ];
    const SELECT: &'static str =
        "coalesce(sum(base.grants), 0)::bigint AS count, sum(base.amount)::text AS amount";
    const SPLIT: Option<&'static str> = Some("base.currency");

    fn fold(rows: Vec<Self::Row>) -> Self::Measures {
        Grants::fold(rows)
    }
}

/// Which grant tally a statistic adds up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum GrantRows {
    /// `grant_tally`: by region, no funder.
    All,
    /// `grant_funder_tally`: by funder, no region.
    Funder,
    /// `grant_recipient_tally`: by recipient, no region.
    Recipient,
}

/// The statistic of `GET /stats/grants` (and the grants of a scorecard) from a grant tally, or `None` where neither
/// answers it exactly: the caller's rule names its own records, or a filter or dimension is one they do not hold
/// (a sphere, an amount range, a month; two of the funder, the recipient and the region).
pub async fn grants(
    conn: &mut Conn,
    caller: &Caller,
    params: &StatsParams,
    filter: &GrantFilter,
) -> ApiResult<Option<Stats<GrantMeasures>>> {
    let Some(groups) = grant_plan(caller, params, filter) else {
        return Ok(None);
    };
    // Grouped by a party but not filtered by one, the totals are every grant's: the smallest tally holds them.
    let by_party = filter.funder_agency_id.is_some()
        || filter.funder_organization_id.is_some()
        || filter.recipient_organization_id.is_some();
    let totals = if by_party { groups } else { GrantRows::All };
    let statement = |rows: GrantRows| {
        Ok(Statement::new("(")
            .fragment(grant_rows_sql(rows, caller, filter)?)
            .sql(") base"))
    };
    let (totals, groups) = (|| statement(totals), || statement(groups));
    engine::compute_from::<GrantTallies>(conn, caller, params, Span::default(), &totals, &groups)
        .await
        .map(Some)
}

/// The grant tally answering this statistic exactly, if one does.
fn grant_plan(caller: &Caller, params: &StatsParams, filter: &GrantFilter) -> Option<GrantRows> {
    let _rule = core::tally_readable_sql(caller, "tally")?;
    let GrantFilter {
        funder_agency_id,
        include_subagencies: _,
        funder_organization_id,
        recipient_organization_id,
        support_type: _,
        status: _,
        sphere_code: None,
        region_code,
        year: _,
        currency: _,
        amount_min: None,
        amount_max: None,
        awarded_only: _,
    } = filter
    else {
        return None;
    };
    let dims: Vec<&str> = params
        .group_by
        .as_deref()
        .map(|g| g.split(',').collect())
        .unwrap_or_default();
    let by_funder =
        funder_agency_id.is_some() || funder_organization_id.is_some() || dims.contains(&"funder");
    let by_recipient = recipient_organization_id.is_some() || dims.contains(&"recipient");
    let by_region = region_code.is_some() || dims.contains(&"region");
    let held = |name: &&str| GrantTallies::DIMENSIONS.iter().any(|d| d.name == *name);
    if !dims.iter().all(held) {
        return None;
    }
    match (by_funder, by_recipient, by_region) {
        (false, false, _) => Some(GrantRows::All),
        (true, false, false) => Some(GrantRows::Funder),
        (false, true, false) => Some(GrantRows::Recipient),
        _ => None,
    }
}

/// The rows of a grant tally the caller may read, filtered. A grant is never a meeting or a planned visit, so the
/// engagement tallies' rule reads its row with those inputs fixed.
fn grant_rows_sql(rows: GrantRows, caller: &Caller, filter: &GrantFilter) -> ApiResult<Fragment> {
    let from = match rows {
        GrantRows::All => {
            "NULL::uuid AS funder_agency_id, NULL::uuid AS funder_organization_id, \
             NULL::uuid AS recipient_organization_id, region_code FROM grant_tally"
        }
        GrantRows::Funder => {
            "funder_agency_id, funder_organization_id, NULL::uuid AS recipient_organization_id, \
             NULL::text AS region_code FROM grant_funder_tally"
        }
        GrantRows::Recipient => {
            "NULL::uuid AS funder_agency_id, NULL::uuid AS funder_organization_id, recipient_organization_id, \
             NULL::text AS region_code FROM grant_recipient_tally"
        }
    };
    let mut sql = Fragment::new(format!(
        "SELECT * FROM (SELECT year, status, visibility, support_type, currency, grants, amount, \
         'grant'::text AS kind, NULL::text AS council_visibility, {from}) tally WHERE tally.grants > 0"
    ));
    if let Some(rule) = core::tally_readable_sql(caller, "tally") {
        sql = sql.sql(" AND ").push(rule);
    }
    if let Some(id) = filter.funder_agency_id {
        let subtree = filter.include_subagencies.unwrap_or(true);
        sql = sql
            .sql(" AND ")
            .push(agency_subtree_array("tally.funder_agency_id", id, subtree));
    }
    if let Some(id) = filter.funder_organization_id {
        sql = sql.sql(" AND tally.funder_organization_id = ").uuid(id);
    }
    if let Some(id) = filter.recipient_organization_id {
        sql = sql.sql(" AND tally.recipient_organization_id = ").uuid(id);
    }
    if let Some(support_type) = filter.support_type {
        sql = sql
            .sql(" AND tally.support_type = ")
            .text(support_type.as_str().to_owned());
    }
    if let Some(status) = filter.status {
        sql = sql
            .sql(" AND tally.status = ")
            .text(status.as_str().to_owned());
    }
    if filter.awarded_only {
        let awarded = GrantStatus::ALL
            .iter()
            .filter(|s| s.is_awarded())
            .map(|s| s.as_str().to_owned())
            .collect();
        sql = sql.sql(" AND tally.status = ANY(").texts(awarded).sql(")");
    }
    if let Some(code) = &filter.region_code {
        sql = sql
            .sql(" AND ")
            .push(region_subtree("tally.region_code", code.clone()));
    }
    if let Some(year) = filter.year {
        let first = NaiveDate::from_ymd_opt(year, 1, 1)
            .ok_or_else(|| crate::http::ApiError::field("year", "is out of range"))?;
        sql = sql.sql(" AND tally.year = ").date(first);
    }
    if let Some(currency) = &filter.currency {
        sql = sql.sql(" AND tally.currency = ").text(currency.clone());
    }
    Ok(sql)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Statistic parameters grouping by `group_by`.
    fn params(group_by: &str) -> StatsParams {
        StatsParams {
            group_by: Some(group_by.to_owned()),
            ..StatsParams::default()
        }
    }

    #[test]
    fn only_whole_months_are_answered_from_the_tallies() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert!(last_of_month(day(2024, 2, 29)));
        assert!(!last_of_month(day(2023, 2, 27)));
        assert!(last_of_month(day(2023, 12, 31)));
        let anonymous = Caller { actor: None };
        let months = EngagementFilter {
            from: Some(day(2024, 1, 1)),
            to: Some(day(2024, 3, 31)),
            ..EngagementFilter::default()
        };
        assert!(plan(&anonymous, &params("kind"), &months).is_some());
        let days = EngagementFilter {
            to: Some(day(2024, 3, 30)),
            ..months.clone()
        };
        assert_eq!(plan(&anonymous, &params("kind"), &days), None);
    }

    #[test]
    fn a_dimension_or_filter_the_tallies_do_not_hold_counts_the_rows() {
        let anonymous = Caller { actor: None };
        let none = EngagementFilter::default();
        let agency = EngagementFilter {
            agency_id: Some(Uuid::nil()),
            ..EngagementFilter::default()
        };
        assert!(plan(&anonymous, &params("region,kind"), &none).is_some());
        assert!(plan(&anonymous, &params("agency,year"), &none).is_some());
        assert_eq!(plan(&anonymous, &params("sphere"), &none), None);
        assert_eq!(plan(&anonymous, &params("council"), &none), None);
        assert_eq!(plan(&anonymous, &params("organization"), &none), None);
        assert!(plan(&anonymous, &params("year"), &agency).is_some());
        assert_eq!(plan(&anonymous, &params("region"), &agency), None);
        assert_eq!(plan(&anonymous, &params("agency"), &agency), None);
        let region_and_agency = EngagementFilter {
            region_code: Some("RRP".into()),
            ..agency.clone()
        };
        assert_eq!(plan(&anonymous, &params("year"), &region_and_agency), None);
        let organization = EngagementFilter {
            organization_id: Some(Uuid::nil()),
            ..EngagementFilter::default()
        };
        assert_eq!(plan(&anonymous, &params("kind"), &organization), None);
    }

    #[test]
    fn a_grant_statistic_reads_the_tally_holding_its_dimensions_or_counts_the_rows() {
        let anonymous = Caller { actor: None };
        let none = GrantFilter::default();
        let plan = |group_by: &str, filter: &GrantFilter| {
            grant_plan(&anonymous, &params(group_by), filter)
        };
        assert_eq!(plan("currency", &none), Some(GrantRows::All));
        assert_eq!(plan("region,year", &none), Some(GrantRows::All));
        assert_eq!(plan("funder,year", &none), Some(GrantRows::Funder));
        assert_eq!(plan("funder,region", &none), None);
        assert_eq!(plan("month", &none), None);
        assert_eq!(plan("recipient", &none), Some(GrantRows::Recipient));
        assert_eq!(plan("recipient,funder", &none), None);
        assert_eq!(plan("recipient,region", &none), None);
        assert_eq!(plan("sphere", &none), None);
        let funder = GrantFilter {
            funder_agency_id: Some(Uuid::nil()),
            ..GrantFilter::default()
        };
        assert_eq!(plan("year", &funder), Some(GrantRows::Funder));
        assert_eq!(plan("region", &funder), None);
        let region = GrantFilter {
            region_code: Some("TJ-DU".into()),
            ..GrantFilter::default()
        };
        assert_eq!(plan("status", &region), Some(GrantRows::All));
        let organization = GrantFilter {
            funder_organization_id: Some(Uuid::nil()),
            ..region.clone()
        };
        assert_eq!(plan("status", &organization), None);
        let recipient = GrantFilter {
            recipient_organization_id: Some(Uuid::nil()),
            ..GrantFilter::default()
        };
        assert_eq!(plan("year", &recipient), Some(GrantRows::Recipient));
        assert_eq!(plan("funder", &recipient), None);
        for unheld in [
            GrantFilter {
                sphere_code: Some("gender".into()),
                ..GrantFilter::default()
            },
            GrantFilter {
                amount_min: Some("0".into()),
                ..GrantFilter::default()
            },
        ] {
            assert_eq!(plan("currency", &unheld), None, "{unheld:?}");
        }
    }
}
