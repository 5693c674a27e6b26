//! Grants and other support: an engagement of kind `grant` plus support type, funder, recipient, exact amount
//! and currency, dates and reports.

use anyhow::Context;
use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::money::{self, Amount, Currency};
use crate::auth::Caller;
use crate::db::batch::Batch;
use crate::db::schema::{engagements, grants};
use crate::db::{Conn, JsonColumn};
use crate::engagements::model as core;
use crate::engagements::{
    Document, Engagement, EngagementKind, NamedParty, Party, PartyRole, Visibility,
};
use crate::http::export::{CsvRow, join, opt};
use crate::http::{ApiError, ApiResult, Cursor, Keyed};

crate::text_enum! {
    /// The form of support.
    pub enum SupportType {
        /// A grant.
        Grant => "grant",
        /// A subsidy.
        Subsidy => "subsidy",
        /// A state social order (contract).
        StateSocialOrder => "state_social_order",
        /// Free or cheap premises.
        Premises => "premises",
        /// A tax benefit.
        TaxBenefit => "tax_benefit",
        /// Support in kind.
        InKind => "in_kind",
        /// Anything else.
        Other => "other",
    }
}

pub use crate::domain::GrantStatus;

impl GrantStatus {
    /// Whether money was awarded (what a 360Giving file reports).
    pub fn is_awarded(self) -> bool {
        matches!(
            self,
            Self::Awarded | Self::Active | Self::Completed | Self::Terminated
        )
    }
}

/// A report the recipient owes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// When it is due.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub due_on: NaiveDate,
    /// When it came in.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    pub submitted_on: Option<NaiveDate>,
    /// Past due and not submitted (computed; ignored on input).
    #[serde(default)]
    pub overdue: bool,
}

/// Support given to an NGO.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Grant {
    /// Id (also the engagement's id).
    pub id: Uuid,
    /// Title.
    pub title: String,
    /// Form of support.
    pub support_type: SupportType,
    /// The funding agency (or null when an organisation funds).
    pub funder_agency_id: Option<Uuid>,
    /// The funding organisation (or null when an agency funds).
    pub funder_organization_id: Option<Uuid>,
    /// The recipient.
    pub recipient_organization_id: Uuid,
    /// The programme it belongs to.
    pub program: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Exact amount as a decimal string, with the currency's number of decimals.
    #[schema(value_type = String, example = "125000.00")]
    pub amount: Amount,
    /// ISO 4217 currency.
    #[schema(value_type = String, example = "TJS")]
    pub currency: Currency,
    /// When it was awarded.
    pub awarded_on: Option<NaiveDate>,
    /// First day of the funded activity.
    pub starts_on: NaiveDate,
    /// Last day of the funded activity.
    pub ends_on: Option<NaiveDate>,
    /// Status.
    pub status: GrantStatus,
    /// Region.
    pub region_code: Option<String>,
    /// Spheres.
    pub sphere_codes: Vec<String>,
    /// Reports owed, with overdue ones flagged.
    pub reports: Vec<Report>,
    /// The organisation that owns the record.
    pub owner_organization_id: Option<Uuid>,
    /// Who may read it.
    pub visibility: Visibility,
    /// Linked documents.
    pub documents: Vec<Document>,
    /// Derived parties: the funder (`funder`) and the recipient (`recipient`).
    pub parties: Vec<NamedParty>,
    /// Created at.
    pub created_at: DateTime<Utc>,
    /// Last changed at.
    pub updated_at: DateTime<Utc>,
    /// Version; also the `ETag`.
    pub version: i32,
}

crate::engagement_record!(Grant, Grant, "grant", |g| (g.owner_organization_id, None));

impl Keyed for Grant {
    fn cursor(&self, sort: &str) -> Cursor {
        Cursor::new(sort, self.starts_on.to_string(), self.id)
    }
}

impl CsvRow for Grant {
    const HEADER: &'static [&'static str] = &[
        "id",
        "title",
        "support_type",
        "funder_agency_id",
        "funder_organization_id",
        "recipient_organization_id",
        "program",
        "amount",
        "currency",
        "awarded_on",
        "starts_on",
        "ends_on",
        "status",
        "region_code",
        "sphere_codes",
        "overdue_reports",
        "organizations",
        "agencies",
        "visibility",
        "created_at",
        "updated_at",
        "version",
    ];

    fn record(&self) -> Vec<String> {
        let [.., organizations, agencies] = crate::engagements::model::party_cells(&self.parties);
        vec![
            self.id.to_string(),
            self.title.clone(),
            self.support_type.to_string(),
            opt(&self.funder_agency_id),
            opt(&self.funder_organization_id),
            self.recipient_organization_id.to_string(),
            opt(&self.program),
            self.amount.to_string(),
            self.currency.to_string(),
            opt(&self.awarded_on),
            self.starts_on.to_string(),
            opt(&self.ends_on),
            self.status.to_string(),
            opt(&self.region_code),
            join(&self.sphere_codes),
            self.reports
                .iter()
                .filter(|r| r.overdue)
                .count()
                .to_string(),
            organizations,
            agencies,
            self.visibility.to_string(),
            self.created_at.to_rfc3339(),
            self.updated_at.to_rfc3339(),
            self.version.to_string(),
        ]
    }
}

/// The stored grant-specific part. A page loads the rows of all its grants at once; one grant reads its row in the
/// statement of its core, as [`OWN_JSON`].
#[derive(Debug, Clone, Queryable, Selectable, Deserialize)]
#[diesel(table_name = grants, check_for_backend(diesel::pg::Pg))]
struct GrantRow {
    id: Uuid,
    support_type: SupportType,
    funder_agency_id: Option<Uuid>,
    funder_organization_id: Option<Uuid>,
    recipient_organization_id: Uuid,
    program: Option<String>,
    #[serde(deserialize_with = "Amount::deserialize_stored")]
    amount: Amount,
    currency: Currency,
    awarded_on: Option<NaiveDate>,
    reports: JsonColumn<Vec<Report>>,
}

/// Filters of the grant list.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GrantFilter {
    /// Funded by this agency, or by one of its sub-agencies unless `include_subagencies=false`.
    pub funder_agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// Funded by this organisation.
    pub funder_organization_id: Option<Uuid>,
    /// Received by this organisation.
    pub recipient_organization_id: Option<Uuid>,
    /// Form of support.
    #[param(inline)]
    pub support_type: Option<SupportType>,
    /// Status.
    #[param(inline)]
    pub status: Option<GrantStatus>,
    /// A sphere.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub sphere_code: Option<String>,
    /// Region, including its sub-regions.
    #[validate(length(min = 2, max = 40))]
    #[param(min_length = 2, max_length = 40)]
    pub region_code: Option<String>,
    /// Starting in this year.
    #[validate(range(min = 1900, max = 2200))]
    #[param(minimum = 1900, maximum = 2200)]
    pub year: Option<i32>,
    /// ISO 4217 currency.
    #[validate(length(equal = 3))]
    #[param(min_length = 3, max_length = 3, pattern = "^[A-Z]{3}$")]
    pub currency: Option<String>,
    /// Amount at least (decimal string).
    #[validate(length(min = 1, max = 30))]
    #[param(min_length = 1, max_length = 30, pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub amount_min: Option<String>,
    /// Amount at most (decimal string).
    #[validate(length(min = 1, max = 30))]
    #[param(min_length = 1, max_length = 30, pattern = r"^[0-9]+(\.[0-9]+)?$")]
    pub amount_max: Option<String>,
    /// Only grants where money was awarded (the 360Giving export); not a query parameter.
    #[serde(skip)]
    #[param(ignore)]
    pub awarded_only: bool,
}

/// Newest first.
pub const NEWEST: &str = "-starts_on";

/// [`GrantRow`] of the grant `engagements.id`; the amount as its decimal text, never a JSON number.
const OWN_JSON: &str = "(SELECT to_jsonb(g) || jsonb_build_object('amount', g.amount::text) \
     FROM grants g WHERE g.id = engagements.id)";

/// A grant from its core and its own row, its reports' `overdue` as of `today`.
fn build(e: Engagement, own: GrantRow, today: NaiveDate) -> ApiResult<Grant> {
    let status = GrantStatus::try_from(e.status).with_context(|| format!("grant {}", e.id))?;
    let mut reports = own.reports.into_inner();
    for r in &mut reports {
        r.overdue = r.submitted_on.is_none() && r.due_on < today;
    }
    Ok(crate::with_core!(
        Grant,
        e {
            support_type: own.support_type,
            funder_agency_id: own.funder_agency_id,
            funder_organization_id: own.funder_organization_id,
            recipient_organization_id: own.recipient_organization_id,
            program: own.program,
            amount: own.amount.in_currency(own.currency),
            currency: own.currency,
            awarded_on: own.awarded_on,
            reports,
            description: e.summary,
            starts_on: e.starts_on,
            ends_on: e.ends_on,
            status,
        }
    ))
}

/// A page's grants from their core rows: parties and own rows, the two statements sent together (pipelined, as
/// for hearings).
async fn assemble_all(conn: &Conn, rows: Vec<core::EngagementRow>) -> ApiResult<Vec<Grant>> {
    let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
    let (engagements, mut specific) = futures_util::try_join!(
        core::with_parties(conn, rows),
        crate::load_by_id!(conn, grants, GrantRow, &ids),
    )?;
    let today = Utc::now().date_naive();
    engagements
        .into_iter()
        .map(|e: Engagement| {
            let own = specific
                .remove(&e.id)
                .ok_or_else(|| anyhow::anyhow!("grant {} lacks its row", e.id))?;
            build(e, own, today)
        })
        .collect()
}

/// One grant the caller may read: one statement.
pub async fn find(conn: &mut Conn, caller: &Caller, id: Uuid) -> ApiResult<Grant> {
    let (engagement, own) =
        core::find_of_kind(conn, caller, id, EngagementKind::Grant, OWN_JSON).await?;
    build(engagement, own, Utc::now().date_naive())
}

/// A keyset page (`limit + 1` rows) of the grants the caller may read, newest first.
pub async fn list(
    conn: &mut Conn,
    caller: &Caller,
    filter: &GrantFilter,
    after: Option<Cursor>,
    limit: i64,
) -> ApiResult<Vec<Grant>> {
    let query = filtered(core::of_kind(EngagementKind::Grant, caller), filter)?;
    let rows = core::paged(query, after, limit, false)?.load(conn).await?;
    assemble_all(conn, rows).await
}

/// The grant list's filters on a query over the core rows (the list and the statistics share them).
pub fn filtered<ST: 'static>(
    mut query: core::Boxed<ST>,
    filter: &GrantFilter,
) -> ApiResult<core::Boxed<ST>> {
    use engagements::dsl as e;
    let specific_filtered = filter.funder_agency_id.is_some()
        || filter.funder_organization_id.is_some()
        || filter.recipient_organization_id.is_some()
        || filter.support_type.is_some()
        || filter.currency.is_some()
        || filter.amount_min.is_some()
        || filter.amount_max.is_some();
    if specific_filtered {
        let mut specific = grants::table.select(grants::id).into_boxed();
        if let Some(id) = filter.funder_agency_id {
            specific = specific.filter(crate::db::sql::in_agency(
                "grants.funder_agency_id",
                id,
                filter.include_subagencies.unwrap_or(true),
            ));
        }
        if let Some(id) = filter.funder_organization_id {
            specific = specific.filter(grants::funder_organization_id.eq(id));
        }
        if let Some(id) = filter.recipient_organization_id {
            specific = specific.filter(grants::recipient_organization_id.eq(id));
        }
        if let Some(t) = filter.support_type {
            specific = specific.filter(grants::support_type.eq(t));
        }
        // Any three capitals, as before: a code that is not ISO 4217 simply matches no grant.
        if let Some(c) = &filter.currency {
            specific = specific.filter(grants::currency.eq(c.clone()));
        }
        if let Some(min) = &filter.amount_min {
            specific = specific.filter(grants::amount.ge(money::filter_amount(min, "amount_min")?));
        }
        if let Some(max) = &filter.amount_max {
            specific = specific.filter(grants::amount.le(money::filter_amount(max, "amount_max")?));
        }
        query = query.filter(e::id.eq_any(specific));
    }
    if let Some(status) = filter.status {
        query = query.filter(e::status.eq(status));
    }
    if filter.awarded_only {
        let awarded: Vec<GrantStatus> = GrantStatus::ALL
            .iter()
            .copied()
            .filter(|s| s.is_awarded())
            .collect();
        query = query.filter(e::status.eq_any(awarded));
    }
    if let Some(sphere) = &filter.sphere_code {
        query = query.filter(e::sphere_codes.contains(vec![sphere.clone()]));
    }
    if let Some(year) = filter.year {
        let first = NaiveDate::from_ymd_opt(year, 1, 1)
            .ok_or_else(|| ApiError::field("year", "is out of range"))?;
        let last = NaiveDate::from_ymd_opt(year, 12, 31)
            .ok_or_else(|| ApiError::field("year", "is out of range"))?;
        query = query.filter(e::starts_on.between(first, last));
    }
    Ok(core::CommonFilter {
        region_code: filter.region_code.as_deref(),
        from: None,
        to: None,
    }
    .apply(query))
}

crate::body_types! {
    /// A new grant: exactly one of `funder_agency_id` and `funder_organization_id`.
    create CreateGrant;
    /// Changes to a grant.
    update UpdateGrant from Grant;
    shared title,
    /// Form of support.
    support_type: SupportType = required,
    /// The funding agency.
    funder_agency_id: Uuid = optional,
    /// The funding organisation.
    funder_organization_id: Uuid = optional,
    /// The recipient.
    recipient_organization_id: Uuid = required,
    /// The programme.
    #[validate(length(min = 1, max = 500))]
    #[schema(min_length = 1, max_length = 500)]
    program: String = optional,
    /// Description.
    #[validate(length(max = 20000))]
    #[schema(max_length = 20000)]
    description: String = optional,
    /// Exact non-negative amount as a decimal string, at most the currency's number of decimals.
    #[validate(length(min = 1, max = 30))]
    #[schema(min_length = 1, max_length = 30, pattern = r"^[0-9]+(\.[0-9]+)?$", example = "125000.00" )]
    // Kept as the client wrote it: its rule depends on the currency, so `check_rules` turns it into an `Amount`
    // together with the other cross-field rules and reports every bad field at once.
    amount: String = required,
    /// ISO 4217 currency code.
    #[schema(value_type = String, min_length = 3, max_length = 3, pattern = "^[A-Z]{3}$", example = "TJS" )]
    currency: Currency = required,
    /// When it was awarded.
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    awarded_on: NaiveDate = optional,
    /// First day of the funded activity (default `awarded_on`; one of the two is required).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    starts_on: NaiveDate = derived,
    /// Last day of the funded activity (not before the first).
    #[validate(custom(function = "crate::http::extract::rfc3339_date"))]
    ends_on: NaiveDate = optional,
    /// Status (default `awarded`).
    status: GrantStatus = default,
    shared region_code,
    shared sphere_codes,
    /// Reports owed.
    #[validate(length(max = 50), nested)]
    #[schema(max_items = 50)]
    reports: Vec<Report> = default,
    shared visibility,
    shared documents,
}

impl CreateGrant {
    /// Cross-field rules; returns the amount in its currency and the first day.
    pub fn check_rules(&self) -> ApiResult<(Amount, NaiveDate)> {
        let mut errors = Vec::new();
        if self.funder_agency_id.is_some() == self.funder_organization_id.is_some() {
            errors.push(crate::http::FieldError::new(
                "funder_agency_id",
                "give exactly one of funder_agency_id and funder_organization_id",
            ));
        }
        let amount = Amount::parse(&self.amount, self.currency, "amount")
            .map_err(|e| errors.push(e))
            .ok();
        let starts_on = self.starts_on.or(self.awarded_on);
        if starts_on.is_none() {
            errors.push(crate::http::FieldError::new(
                "starts_on",
                "give starts_on or awarded_on",
            ));
        }
        if let (Some(start), Some(end)) = (starts_on, self.ends_on)
            && end < start
        {
            errors.push(crate::http::FieldError::new(
                "ends_on",
                "must not be before the start",
            ));
        }
        match (amount, starts_on) {
            (Some(amount), Some(start)) if errors.is_empty() => Ok((amount, start)),
            _ => Err(ApiError::Validation(errors)),
        }
    }

    /// The parties a grant implies.
    pub fn parties(&self) -> Vec<Party> {
        let funder = match (self.funder_agency_id, self.funder_organization_id) {
            (Some(a), _) => Party::agency(a, PartyRole::Funder),
            (None, Some(o)) => Party::organization(o, PartyRole::Funder),
            (None, None) => {
                return vec![Party::organization(
                    self.recipient_organization_id,
                    PartyRole::Recipient,
                )];
            }
        };
        vec![
            funder,
            Party::organization(self.recipient_organization_id, PartyRole::Recipient),
        ]
    }
}

/// Writes the grant-specific row (the core is written by the caller).
pub async fn write_specific(
    batch: &mut Batch<'_>,
    id: Uuid,
    body: &CreateGrant,
    amount: &Amount,
) -> ApiResult<()> {
    let reports: Vec<Report> = body
        .reports
        .iter()
        .map(|r| Report {
            overdue: false,
            ..r.clone()
        })
        .collect();
    let values = (
        grants::support_type.eq(body.support_type),
        grants::funder_agency_id.eq(body.funder_agency_id),
        grants::funder_organization_id.eq(body.funder_organization_id),
        grants::recipient_organization_id.eq(body.recipient_organization_id),
        grants::program.eq(body.program.clone()),
        grants::amount.eq(amount.clone()),
        grants::currency.eq(body.currency),
        grants::awarded_on.eq(body.awarded_on),
        grants::reports.eq(JsonColumn(reports)),
    );
    crate::save_row!(batch, grants, id, values);
    Ok(())
}
