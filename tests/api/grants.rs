//! Grants: exact money, one funder, filters, access, and the 360Giving export validated against the standard.

use serde_json::{Value, json};

use crate::support::{TestApp, World, id_of};

/// A grant's body: a public TJS grant of the host agency to organisation A, with `extra` over it.
pub fn grant(w: &World, extra: Value) -> Value {
    let mut body = json!({"title": "Правовая помощь жертвам насилия", "support_type": "grant", "funder_agency_id": w.host_agency,
                          "recipient_organization_id": w.org_a, "program": "Государственные гранты НПО", "amount": "125000",
                          "currency": "TJS", "awarded_on": "2026-02-01", "starts_on": "2026-03-01", "ends_on": "2026-12-31",
                          "region_code": "TJ-DU", "sphere_codes": ["access_to_justice"], "visibility": "public"});
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    body
}

#[actix_web::test]
async fn grants_keep_exact_amounts_and_filter_every_way() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let res = app
        .post("/api/v1/grants", Some(&w.ngo_a), &grant(&w, json!({})))
        .await;
    res.assert_status(201);
    assert_eq!(
        res.json()["amount"],
        "125000.00",
        "an exact decimal string with the currency's decimals"
    );
    assert_eq!(res.json()["owner_organization_id"], w.org_a.to_string());
    let usd = app
        .post("/api/v1/grants", Some(&w.admin), &grant(&w, json!({"support_type": "subsidy", "funder_agency_id": null, "funder_organization_id": w.org_b,
            "amount": "9999.99", "currency": "USD", "starts_on": "2025-05-01", "awarded_on": null, "region_code": "TJ-SU", "sphere_codes": ["gender"],
            "reports": [{"due_on": "2025-09-01"}, {"due_on": "2025-12-01", "submitted_on": "2025-11-20"}]})))
        .await;
    usd.assert_status(201);
    assert_eq!(usd.json()["reports"][0]["overdue"], true);
    assert_eq!(usd.json()["reports"][1]["overdue"], false);
    let premises = app
        .post("/api/v1/grants", Some(&w.admin), &grant(&w, json!({"support_type": "premises", "amount": "0", "currency": "EUR", "status": "applied"})))
        .await;
    premises.assert_status(201);

    let count = |res: crate::support::Response| -> usize {
        res.assert_status(200);
        res.json()["items"].as_array().map(Vec::len).unwrap_or(0)
    };
    assert_eq!(
        count(
            app.get(
                &format!("/api/v1/grants?funder_agency_id={}", w.host_agency),
                None
            )
            .await
        ),
        2
    );
    assert_eq!(
        count(
            app.get(
                &format!("/api/v1/grants?funder_organization_id={}", w.org_b),
                None
            )
            .await
        ),
        1
    );
    assert_eq!(
        count(
            app.get(
                &format!("/api/v1/grants?recipient_organization_id={}", w.org_a),
                None
            )
            .await
        ),
        3
    );
    assert_eq!(
        count(app.get("/api/v1/grants?support_type=subsidy", None).await),
        1
    );
    assert_eq!(
        count(app.get("/api/v1/grants?status=applied", None).await),
        1
    );
    assert_eq!(
        count(app.get("/api/v1/grants?sphere_code=gender", None).await),
        1
    );
    assert_eq!(
        count(app.get("/api/v1/grants?region_code=TJ-SU", None).await),
        1
    );
    assert_eq!(count(app.get("/api/v1/grants?year=2025", None).await), 1);
    assert_eq!(count(app.get("/api/v1/grants?currency=USD", None).await), 1);
    assert_eq!(
        count(
            app.get("/api/v1/grants?amount_min=10000&amount_max=200000", None)
                .await
        ),
        1
    );
    assert_eq!(
        count(app.get("/api/v1/grants?amount_max=9999.99", None).await),
        2
    );
    app.get("/api/v1/grants?currency=usd", None)
        .await
        .assert_invalid("currency");
    app.get("/api/v1/grants?amount_min=-1", None)
        .await
        .assert_invalid("amount_min");
    let engagement = app
        .get(&format!("/api/v1/engagements/{}", id_of(&usd.json())), None)
        .await
        .json();
    let roles: Vec<&str> = engagement["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["role"].as_str())
        .collect();
    assert_eq!(roles, ["funder", "recipient"]);
    let csv = app
        .get("/api/v1/grants?format=csv&currency=USD", None)
        .await;
    assert!(csv.text().contains("9999.99"));
}

#[actix_web::test]
async fn bad_grants_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let before = app.snapshot().await;
    let cases = [
        (
            json!({"funder_organization_id": w.org_b}),
            "funder_agency_id",
        ),
        (json!({"funder_agency_id": null}), "funder_agency_id"),
        (json!({"amount": "-5"}), "amount"),
        (json!({"amount": "lots"}), "amount"),
        (json!({"amount": 125000}), "amount"),
        (json!({"amount": "100.123"}), "amount"),
        (json!({"currency": "XYZ"}), "currency"),
        (json!({"currency": "tjs"}), "currency"),
        (json!({"ends_on": "2026-01-01"}), "ends_on"),
        (json!({"starts_on": null, "awarded_on": null}), "starts_on"),
        (json!({"support_type": "bribe"}), "support_type"),
        (
            json!({"recipient_organization_id": uuid::Uuid::now_v7()}),
            "recipient_organization_id",
        ),
        (
            json!({"funder_agency_id": uuid::Uuid::now_v7()}),
            "funder_agency_id",
        ),
    ];
    for (extra, field) in cases {
        app.post("/api/v1/grants", Some(&w.admin), &grant(&w, extra))
            .await
            .assert_invalid(field);
    }
    app.post("/api/v1/grants", Some(&w.ngo_b), &grant(&w, json!({})))
        .await
        .assert_problem(403);
    app.post("/api/v1/grants", Some(&w.analyst), &grant(&w, json!({})))
        .await
        .assert_problem(403);
    app.post(
        "/api/v1/grants",
        Some(&w.officer_host),
        &grant(&w, json!({})),
    )
    .await
    .assert_problem(403);
    app.post("/api/v1/grants", None, &grant(&w, json!({})))
        .await
        .assert_problem(401);
    app.snapshot().await.assert_unchanged_from(&before);
    // The body each case broke is accepted from the recipient's member.
    let base = app
        .post("/api/v1/grants", Some(&w.ngo_a), &grant(&w, json!({})))
        .await;
    base.assert_status(201);
    assert_eq!(base.json()["amount"], "125000.00");
    let created = app
        .post(
            "/api/v1/grants",
            Some(&w.ngo_a),
            &grant(&w, json!({"amount": "125000.50"})),
        )
        .await;
    created.assert_status(201);
    let path = format!("/api/v1/grants/{}", id_of(&created.json()));
    let before = app.snapshot().await;
    app.patch_read(&path, Some(&w.ngo_b), &json!({"amount": "1"}))
        .await
        .assert_problem(403);
    app.patch_read(&path, Some(&w.ngo_a), &json!({"currency": "JPY"}))
        .await
        .assert_invalid("amount");
    app.patch_read(&path, Some(&w.ngo_a), &json!({"amount": null}))
        .await
        .assert_invalid("amount");
    app.snapshot().await.assert_unchanged_from(&before);
    let edited = app
        .patch_read(&path, Some(&w.ngo_a), &json!({"amount": "1"}))
        .await;
    assert_eq!(
        edited.assert_record(id_of(&created.json()))["amount"],
        "1.00"
    );
    let yen = app
        .patch_read(
            &path,
            Some(&w.ngo_a),
            &json!({"currency": "JPY", "amount": "1500000"}),
        )
        .await;
    yen.assert_status(200);
    assert_eq!(yen.json()["amount"], "1500000");
}

struct LocalSchemas(Value);

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        match uri.as_str() {
            "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.2/schema/360-giving-schema.json"
            | "https://raw.githubusercontent.com/ThreeSixtyGiving/standard/1.4.3/schema/360-giving-schema.json" => {
                Ok(self.0.clone())
            }
            other => Err(format!("no network: {other}").into()),
        }
    }
}

fn schema(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/360giving")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).expect("schema file")).expect("schema json")
}

#[actix_web::test]
async fn the_360giving_export_validates_against_the_published_schema() {
    let app = TestApp::new().await;
    let w = app.world().await;
    for extra in [
        json!({}),
        json!({"support_type": "state_social_order", "amount": "50000.5", "currency": "USD", "region_code": null, "program": null, "ends_on": null}),
        json!({"funder_agency_id": null, "funder_organization_id": w.org_b, "currency": "EUR", "amount": "7000"}),
        json!({"status": "applied", "title": "Не присуждён"}),
        json!({"visibility": "internal", "title": "Внутренний"}),
    ] {
        app.post("/api/v1/grants", Some(&w.admin), &grant(&w, extra))
            .await
            .assert_status(201);
    }
    let res = app.get("/api/v1/grants/export/360giving", None).await;
    res.assert_status(200);
    let package = res.json();
    let grants = package["grants"].as_array().cloned().unwrap_or_default();
    assert_eq!(grants.len(), 3, "awarded, public grants only: {package}");
    assert!(grants.iter().all(|g| {
        g["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("360G-hamkori-"))
    }));
    assert_eq!(
        grants
            .iter()
            .filter(|g| g["amountAwarded"] == json!(50000.5))
            .count(),
        1
    );

    let validator = jsonschema::options()
        .should_validate_formats(true)
        .with_retriever(LocalSchemas(schema("360-giving-schema.json")))
        .build(&schema("360-giving-package-schema.json"))
        .expect("the 360Giving schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&package)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "360Giving validation failed: {errors:#?}"
    );
    // A package that breaks the standard is caught: the validation can fail.
    let mut broken = package.clone();
    broken["grants"][0]["amountAwarded"] = json!("a lot");
    assert!(!validator.is_valid(&broken));

    let analyst = app
        .get("/api/v1/grants/export/360giving", Some(&w.analyst))
        .await;
    assert_eq!(
        analyst.json()["grants"].as_array().map(Vec::len),
        Some(4),
        "internal grants too for analysts"
    );
}
