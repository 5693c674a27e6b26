//! The 360Giving Data Standard (1.4) view of grants: `{"grants": [...]}` with stable identifiers.

use std::collections::HashMap;

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::model::Grant;
use crate::db::Conn;
use crate::db::schema::{agencies, organizations, regions};
use crate::http::{ApiResult, Cursor, Keyed};

/// The prefix of every identifier Hamkori publishes in 360Giving data.
pub const PREFIX: &str = "360G-hamkori";

/// One grant in 360Giving form, with the cursor of the grant it came from.
#[derive(Debug, Serialize)]
pub struct GiftRecord {
    #[serde(flatten)]
    body: Value,
    #[serde(skip)]
    cursor: Cursor,
}

impl Keyed for GiftRecord {
    fn cursor(&self, _: &str) -> Cursor {
        self.cursor.clone()
    }
}

/// Converts a batch of grants, looking up every name they need in three queries.
pub async fn convert(
    conn: &mut Conn,
    grants: Vec<Grant>,
    sort: &str,
) -> ApiResult<Vec<GiftRecord>> {
    let org_ids: Vec<Uuid> = grants
        .iter()
        .flat_map(|g| std::iter::once(g.recipient_organization_id).chain(g.funder_organization_id))
        .collect();
    let agency_ids: Vec<Uuid> = grants.iter().filter_map(|g| g.funder_agency_id).collect();
    let region_codes: Vec<String> = grants
        .iter()
        .filter_map(|g| g.region_code.clone())
        .collect();
    let orgs: HashMap<Uuid, String> = organizations::table
        .filter(organizations::id.eq_any(&org_ids))
        .select((organizations::id, organizations::name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let agencies: HashMap<Uuid, String> = agencies::table
        .filter(agencies::id.eq_any(&agency_ids))
        .select((agencies::id, agencies::name))
        .load::<(Uuid, String)>(conn)
        .await?
        .into_iter()
        .collect();
    let regions: HashMap<String, String> = regions::table
        .filter(regions::code.eq_any(&region_codes))
        .select((regions::code, regions::name_en))
        .load::<(String, String)>(conn)
        .await?
        .into_iter()
        .collect();
    Ok(grants
        .into_iter()
        .map(|g| {
            let cursor = g.cursor(sort);
            let org = |id: Uuid| json!({"id": format!("{PREFIX}-org-{id}"), "name": orgs.get(&id).cloned().unwrap_or_default()});
            let funder = match (g.funder_agency_id, g.funder_organization_id) {
                (Some(a), _) => json!({"id": format!("{PREFIX}-agency-{a}"), "name": agencies.get(&a).cloned().unwrap_or_default()}),
                (None, Some(o)) => org(o),
                (None, None) => json!({"id": format!("{PREFIX}-unknown"), "name": "Unknown"}),
            };
            let mut planned = json!({"startDate": g.starts_on.to_string()});
            if let Some(end) = g.ends_on {
                planned["endDate"] = json!(end.to_string());
            }
            let amount: f64 = g.amount.parse().unwrap_or(0.0);
            let mut body = json!({
                "id": format!("{PREFIX}-{}", g.id),
                "title": g.title,
                "description": g.description.clone().or_else(|| g.program.clone()).unwrap_or_else(|| g.title.clone()),
                "currency": g.currency,
                "amountAwarded": amount,
                "awardDate": g.awarded_on.unwrap_or(g.starts_on).to_string(),
                "recipientOrganization": [org(g.recipient_organization_id)],
                "fundingOrganization": [funder],
                "plannedDates": [planned],
                "dateModified": g.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
            if let Some(code) = &g.region_code {
                body["beneficiaryLocation"] = json!([{
                    "name": regions.get(code).cloned().unwrap_or_else(|| code.clone()),
                    "geoCode": code,
                    "geoCodeType": "ISO 3166-2",
                    "countryCode": "TJ",
                }]);
            }
            if let Some(program) = &g.program {
                body["grantProgramme"] = json!([{"title": program}]);
            }
            GiftRecord { body, cursor }
        })
        .collect())
}
