//! Issue 9, "records people can trust": exports that spreadsheets cannot turn into formulas, exports and
//! metrics whose memory stays bounded, and sign-in floods that cannot exhaust memory.

use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn csv_exports_defuse_formulas_behind_blanks_and_wide_signs_and_quote_semicolons() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let names = ["x;=1+1;y", " =1+1", "\u{ff1d}1+1", "a,b", "Plain name"];
    for name in names {
        app.create_organization(&admin, json!({"name": name, "kind": "ngo"}))
            .await;
    }
    let csv = app.get("/api/v1/organizations?format=csv", None).await;
    csv.assert_status(200);
    let text = csv.text();
    let body = text.trim_start_matches('\u{feff}');
    for quoted in ["\"x;=1+1;y\"", "' =1+1", "'\u{ff1d}1+1", "\"a,b\""] {
        assert!(body.contains(quoted), "{quoted} missing from {body}");
    }
    // Split on `;` as a Russian-locale spreadsheet does: no field outside quotes may start a formula.
    for line in body.lines() {
        let mut in_quotes = false;
        let mut field_start = true;
        for c in line.chars() {
            if field_start && !in_quotes {
                assert!(!"=+-@\u{ff1d}".contains(c), "a bare formula in {line}");
            }
            field_start = false;
            match c {
                '"' => in_quotes = !in_quotes,
                ',' | ';' if !in_quotes => field_start = true,
                _ => {}
            }
        }
    }
    // A comma-splitting reader still gets the names back, with the apostrophe where one was needed.
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let read: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[1].to_owned())
        .collect();
    for expected in ["x;=1+1;y", "' =1+1", "'\u{ff1d}1+1", "a,b", "Plain name"] {
        assert!(
            read.iter().any(|n| n == expected),
            "{expected} not in {read:?}"
        );
    }
}
