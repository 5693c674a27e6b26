//! `GET /stats/overlaps`: organisations that sit on a council hosted by an agency that also funds them — the
//! case where an NGO's voice in a council may not be independent of its funder.

use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use diesel::sql_types::{BigInt, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;
use validator::Validate;

use super::collections::CurrencySum;
use crate::auth::Caller;
use crate::db::sql::{Fragment, Statement};
use crate::http::Delimiter;
use crate::http::export::write_record;
use crate::http::{ApiResult, ProblemResponses, Query};
use crate::state::AppState;

/// Filters of `GET /stats/overlaps`.
#[derive(Debug, Clone, Default, Deserialize, Validate, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OverlapFilter {
    /// The agency that hosts the council and funds the organisation, or one of its sub-agencies unless
    /// `include_subagencies=false`.
    pub agency_id: Option<Uuid>,
    /// With an agency filter: also its sub-agencies, at any depth (default true).
    #[param(default = json!(true))]
    pub include_subagencies: Option<bool>,
    /// The organisation.
    pub organization_id: Option<Uuid>,
    /// The council.
    pub council_id: Option<Uuid>,
    /// `json` (default) or `csv` (UTF-8 with BOM).
    #[param(inline)]
    pub format: Option<super::engine::StatsFormat>,
    /// CSV separator: `comma` (default) or `semicolon`.
    #[param(inline)]
    pub delimiter: Option<Delimiter>,
}

/// An organisation seated on a council whose host agency funds it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overlap {
    /// The organisation.
    pub organization_id: Uuid,
    /// Its name.
    pub organization_name: String,
    /// The council it sits on today.
    pub council_id: Uuid,
    /// The council's name.
    pub council_name: String,
    /// Its seat's role.
    pub role: String,
    /// The agency hosting the council and funding the organisation.
    pub agency_id: Uuid,
    /// The agency's name.
    pub agency_name: String,
    /// The grants from that agency to the organisation the caller may read.
    pub grants: i64,
    /// Their exact sums per currency.
    pub sums: Vec<CurrencySum>,
}

/// The overlaps.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Overlaps {
    /// By organisation name, then council name.
    pub items: Vec<Overlap>,
}

#[derive(Debug, diesel::QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    organization_id: Uuid,
    #[diesel(sql_type = Text)]
    organization_name: String,
    #[diesel(sql_type = SqlUuid)]
    council_id: Uuid,
    #[diesel(sql_type = Text)]
    council_name: String,
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = SqlUuid)]
    agency_id: Uuid,
    #[diesel(sql_type = Text)]
    agency_name: String,
    #[diesel(sql_type = Text)]
    currency: String,
    #[diesel(sql_type = BigInt)]
    grants: i64,
    #[diesel(sql_type = Nullable<Text>)]
    amount: Option<String>,
}

/// Lists the organisations that sit today on a council hosted by an agency that also funds them (grants of any
/// status the caller may read), with the grants' count and exact sums per currency. Only councils and grants the
/// caller may read count.
#[utoipa::path(tag = "statistics", params(OverlapFilter),
    responses((status = 200, description = "The overlaps", content(
        (Overlaps = "application/json"), (String = "text/csv"))),
        ProblemResponses))]
#[get("/stats/overlaps")]
pub async fn overlaps(
    state: Data<AppState>,
    caller: Caller,
    filter: Query<OverlapFilter>,
) -> ApiResult<HttpResponse> {
    let mut conditions = Fragment::new("");
    if let Some(id) = filter.agency_id {
        conditions = conditions.sql(" AND ").push(crate::db::sql::agency_subtree(
            "councils.host_agency_id",
            id,
            filter.include_subagencies.unwrap_or(true),
        ));
    }
    if let Some(id) = filter.organization_id {
        conditions = conditions
            .sql(" AND council_members.organization_id = ")
            .uuid(id);
    }
    if let Some(id) = filter.council_id {
        conditions = conditions.sql(" AND councils.id = ").uuid(id);
    }
    let statement = Statement::new(
        "SELECT council_members.organization_id, organizations.name AS organization_name, \
         councils.id AS council_id, councils.name AS council_name, council_members.role, \
         agencies.id AS agency_id, agencies.name AS agency_name, g.currency, count(*) AS grants, \
         sum(g.amount)::text AS amount \
         FROM council_members \
         JOIN councils ON councils.id = council_members.council_id \
         JOIN grants g ON g.funder_agency_id = councils.host_agency_id \
         AND g.recipient_organization_id = council_members.organization_id \
         JOIN engagements ON engagements.id = g.id \
         JOIN organizations ON organizations.id = council_members.organization_id \
         JOIN agencies ON agencies.id = councils.host_agency_id \
         WHERE ",
    )
    .sql(crate::councils::model::CURRENT_SEAT)
    .sql(" AND ")
    .fragment(crate::councils::model::readable_sql(&caller))
    .sql(" AND ")
    .fragment(crate::engagements::model::readable_sql(
        &caller,
        "engagements.visibility",
        "engagements",
    ))
    .fragment(conditions)
    .sql(
        " GROUP BY council_members.organization_id, organizations.name, councils.id, councils.name, \
         council_members.role, agencies.id, agencies.name, g.currency \
         ORDER BY organizations.name, council_members.organization_id, councils.name, councils.id, \
         council_members.role, g.currency",
    );
    let mut conn = state.db().await?;
    let rows: Vec<Row> = statement.load(&mut conn).await?;
    let mut items: Vec<Overlap> = Vec::new();
    for row in rows {
        let sum = CurrencySum {
            currency: row.currency,
            count: row.grants,
            amount: row.amount.unwrap_or_else(|| "0".to_owned()),
        };
        match items.last_mut() {
            Some(last)
                if last.organization_id == row.organization_id
                    && last.council_id == row.council_id
                    && last.role == row.role =>
            {
                last.grants += sum.count;
                last.sums.push(sum);
            }
            _ => items.push(Overlap {
                organization_id: row.organization_id,
                organization_name: row.organization_name,
                council_id: row.council_id,
                council_name: row.council_name,
                role: row.role,
                agency_id: row.agency_id,
                agency_name: row.agency_name,
                grants: sum.count,
                sums: vec![sum],
            }),
        }
    }
    Ok(match filter.format.unwrap_or_default() {
        super::engine::StatsFormat::Json => HttpResponse::Ok().json(Overlaps { items }),
        super::engine::StatsFormat::Csv => {
            let delimiter = filter.delimiter.unwrap_or_default().byte();
            let mut out = "\u{feff}".as_bytes().to_vec();
            let header = [
                "organization_id",
                "organization_name",
                "council_id",
                "council_name",
                "role",
                "agency_id",
                "agency_name",
                "grants",
                "sums",
            ];
            write_record(&mut out, header, delimiter);
            for o in items {
                let sums: Vec<String> = o
                    .sums
                    .iter()
                    .map(|s| format!("{} {}", s.amount, s.currency))
                    .collect();
                write_record(
                    &mut out,
                    vec![
                        o.organization_id.to_string(),
                        o.organization_name,
                        o.council_id.to_string(),
                        o.council_name,
                        o.role,
                        o.agency_id.to_string(),
                        o.agency_name,
                        o.grants.to_string(),
                        sums.join("; "),
                    ],
                    delimiter,
                );
            }
            HttpResponse::Ok()
                .content_type("text/csv; charset=utf-8")
                .insert_header((
                    "Content-Disposition",
                    "attachment; filename=\"overlaps.csv\"",
                ))
                .body(out)
        }
    })
}
