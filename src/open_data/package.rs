//! The package's metadata: `datapackage.json` (Frictionless Data Package v1, a tabular resource per file) and
//! the README.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::collections::Collection;
pub use crate::config::OpenDataSettings;

/// Describes a column for the Table Schema: its type and format from the record's property of the same name
/// where the CSV cell holds that property as it is; otherwise a string (lists, names, counts of lists).
fn field(column: &str, property: Option<&Value>) -> Value {
    let types: Vec<&str> = match property.and_then(|p| p.get("type")) {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let format = property
        .and_then(|p| p.get("format"))
        .and_then(Value::as_str);
    let scalar: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    let (kind, format) = match (scalar.as_slice(), format) {
        (["string"], Some("date")) => ("date", None),
        (["string"], Some("date-time")) => ("datetime", None),
        (["string"], Some("uuid")) => ("string", Some("uuid")),
        (["integer"], _) => ("integer", None),
        (["boolean"], _) => ("boolean", None),
        _ => ("string", None),
    };
    let mut field = json!({"name": column, "type": kind});
    if let Some(format) = format {
        field["format"] = json!(format);
    }
    let description = property
        .and_then(|p| p.get("description"))
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| derived_description(column));
    field["description"] = json!(description);
    field
}

/// What a column that is not one of the record's own properties holds.
fn derived_description(column: &str) -> String {
    match column {
        "organization_ids" => {
            "The organisations involved, as `id:role`, separated by `;`.".to_owned()
        }
        "agency_ids" => "The agencies involved, as `id:role`, separated by `;`.".to_owned(),
        "organizations" => {
            "The organisations involved, as `Name (role)`, separated by `;`.".to_owned()
        }
        "agencies" => "The agencies involved, as `Name (role)`, separated by `;`.".to_owned(),
        other => format!("`{other}`: see the list's CSV export in the API documentation."),
    }
}

/// The Frictionless Data Package describing every file.
pub fn datapackage(
    collections: &[Collection],
    settings: &OpenDataSettings,
    exported_at: DateTime<Utc>,
) -> Value {
    let resources: Vec<Value> = collections
        .iter()
        .map(|c| {
            let properties = (c.properties)();
            let fields: Vec<Value> = c
                .columns
                .iter()
                .map(|column| {
                    // A column's property only where the CSV writes it unchanged (lists become counts or names).
                    let property = properties
                        .get(*column)
                        .filter(|p| p.get("type").and_then(Value::as_str) != Some("array"));
                    field(column, property)
                })
                .collect();
            json!({
                "name": c.name,
                "path": format!("{}.csv", c.name),
                "title": c.title,
                "profile": "tabular-data-resource",
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "schema": {"fields": fields, "primaryKey": ["id"]},
            })
        })
        .collect();
    json!({
        "profile": "tabular-data-package",
        "name": "hamkori-open-data",
        "title": "Hamkori: how NGOs and government agencies work together — every public record",
        "created": exported_at.to_rfc3339(),
        "licenses": [{"name": settings.license, "path": settings.license_url}],
        "resources": resources,
    })
}

/// The README: what the files are, the licence and when they were exported.
pub fn readme(
    collections: &[Collection],
    settings: &OpenDataSettings,
    exported_at: DateTime<Utc>,
) -> String {
    let mut text = format!(
        "# Hamkori open data\n\n\
         Every public record of Hamkori — public councils and their meetings, public hearings, consultations on \
         draft acts with the NGOs' submissions, monitoring visits, grants and recommendations, with the \
         organisations and agencies involved — as it stood at {exported}, read in one consistent snapshot.\n\n\
         Licence: {license} ({url}). Cite Hamkori and the export time.\n\n\
         Each file is UTF-8 CSV with a byte-order mark, one record per row, names beside ids. \
         `datapackage.json` describes every column (Frictionless Data Package).\n\n",
        exported = exported_at.to_rfc3339(),
        license = settings.license,
        url = settings.license_url,
    );
    for c in collections {
        text.push_str(&format!("- `{}.csv`: {}\n", c.name, c.title));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_configured_licence_is_stated_in_the_package_and_the_readme() {
        let settings = OpenDataSettings {
            license: "ODbL-1.0".to_owned(),
            license_url: "https://opendatacommons.org/licenses/odbl/1-0/".to_owned(),
        };
        let at = Utc::now();
        let package = datapackage(&[], &settings, at);
        assert_eq!(
            package["licenses"],
            json!([{"name": "ODbL-1.0", "path": "https://opendatacommons.org/licenses/odbl/1-0/"}])
        );
        assert_eq!(package["created"], json!(at.to_rfc3339()));
        let readme = readme(&[], &settings, at);
        assert!(
            readme.contains("Licence: ODbL-1.0 (https://opendatacommons.org/licenses/odbl/1-0/)")
        );
        assert!(readme.contains(&at.to_rfc3339()));
    }

    #[test]
    fn columns_take_their_type_from_the_records_property_or_stay_strings() {
        let date = json!({"type": "string", "format": "date", "description": "First day."});
        assert_eq!(
            field("starts_on", Some(&date)),
            json!({"name": "starts_on", "type": "date", "description": "First day."})
        );
        let nullable = json!({"type": ["integer", "null"], "description": "How many."});
        assert_eq!(
            field("participants_count", Some(&nullable))["type"],
            "integer"
        );
        let uuid = json!({"type": "string", "format": "uuid"});
        assert_eq!(field("id", Some(&uuid))["format"], "uuid");
        assert_eq!(field("organizations", None)["type"], "string");
        assert!(field("organizations", None)["description"].is_string());
    }
}
