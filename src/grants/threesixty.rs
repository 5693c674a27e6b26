//! The 360Giving Data Standard (1.4) view of grants: `{"grants": [...]}` with stable identifiers.

use std::collections::HashMap;
use std::fmt::Display;
use std::hash::Hash;

use anyhow::Context;
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use serde::Serialize;
use serde_json::value::RawValue;
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
    /// The amount as a JSON number with exactly the grant's digits: a `Value` would hold it as a float.
    #[serde(rename = "amountAwarded")]
    amount_awarded: Box<RawValue>,
    #[serde(skip)]
    cursor: Cursor,
}

/// The name of a record the grant refers to. Foreign keys guarantee it exists, so a missing one is a bug to
/// report, not a blank to publish.
fn name_of<K: Eq + Hash + Display>(
    names: &HashMap<K, String>,
    key: &K,
    what: &str,
) -> anyhow::Result<String> {
    names
        .get(key)
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("no name for {what} {key}"))
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
    let records: anyhow::Result<Vec<GiftRecord>> = grants
        .into_iter()
        .map(|g| {
            let cursor = g.cursor(sort);
            let org = |id: Uuid| -> anyhow::Result<Value> {
                Ok(json!({"id": format!("{PREFIX}-org-{id}"), "name": name_of(&orgs, &id, "organisation")?}))
            };
            let funder = match (g.funder_agency_id, g.funder_organization_id) {
                (Some(a), _) => json!({"id": format!("{PREFIX}-agency-{a}"), "name": name_of(&agencies, &a, "agency")?}),
                (None, Some(o)) => org(o)?,
                (None, None) => json!({"id": format!("{PREFIX}-unknown"), "name": "Unknown"}),
            };
            let mut planned = json!({"startDate": g.starts_on.to_string()});
            if let Some(end) = g.ends_on {
                planned["endDate"] = json!(end.to_string());
            }
            let amount_awarded = g
                .amount
                .to_json_number()
                .with_context(|| format!("the amount of grant {}", g.id))?;
            let mut body = json!({
                "id": format!("{PREFIX}-{}", g.id),
                "title": g.title,
                "description": g.description.clone().or_else(|| g.program.clone()).unwrap_or_else(|| g.title.clone()),
                "currency": g.currency,
                "awardDate": g.awarded_on.unwrap_or(g.starts_on).to_string(),
                "recipientOrganization": [org(g.recipient_organization_id)?],
                "fundingOrganization": [funder],
                "plannedDates": [planned],
                "dateModified": g.updated_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
            if let Some(code) = &g.region_code {
                body["beneficiaryLocation"] = json!([{
                    "name": name_of(&regions, code, "region")?,
                    "geoCode": code,
                    "geoCodeType": "ISO 3166-2",
                    "countryCode": "TJ",
                }]);
            }
            if let Some(program) = &g.program {
                body["grantProgramme"] = json!([{"title": program}]);
            }
            Ok(GiftRecord {
                body,
                amount_awarded,
                cursor,
            })
        })
        .collect();
    Ok(records?)
}
