//! Monitoring visits: confidential findings and planned visits, seen from every role.

use serde_json::{Value, json};

use crate::support::{TestApp, World, id_of};

async fn facility(app: &TestApp, w: &World) -> uuid::Uuid {
    let res = app
        .post("/api/v1/facilities", Some(&w.admin), &json!({"name": "ИВС ОВД района Сино", "facility_type": "temporary_detention",
              "operating_agency_id": w.host_agency, "region_code": "TJ-DU", "address": "Душанбе", "capacity": 40}))
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

const SECRET: &str = "Задержанный сообщил о побоях при доставлении";

async fn visit(
    app: &TestApp,
    w: &World,
    facility: uuid::Uuid,
    status: &str,
    visited_on: &str,
) -> uuid::Uuid {
    let res = app
        .post("/api/v1/monitoring-visits", Some(&w.ngo_a), &json!({
            "facility_id": facility, "visited_on": visited_on, "announced": false, "mandate_council_id": w.council_a,
            "monitor_organization_ids": [w.org_a], "summary": "Условия содержания удовлетворительные", "status": status,
            "access": "granted", "visibility": "public",
            "findings": [
                {"category": "conditions", "severity": "minor", "description": "Нет естественного освещения в камере №2"},
                {"category": "treatment", "severity": "critical", "description": SECRET, "confidential": true}
            ]
        }))
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

fn everyone(w: &World) -> Vec<(&'static str, Option<&str>)> {
    vec![
        ("anonymous", None),
        ("analyst", Some(w.analyst.as_str())),
        ("ngo_b", Some(w.ngo_b.as_str())),
        ("secretary_a", Some(w.secretary_a.as_str())),
        ("secretary_b", Some(w.secretary_b.as_str())),
        ("officer_host", Some(w.officer_host.as_str())),
        ("officer_other", Some(w.officer_other.as_str())),
    ]
}

#[actix_web::test]
async fn a_confidential_finding_reaches_only_the_monitors_and_admins_by_any_path() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    let v = visit(&app, &w, f, "completed", "2026-05-10").await;
    app.patch(
        &format!("/api/v1/monitoring-visits/{v}"),
        Some(&w.ngo_a),
        &json!({"summary": "Обновлено"}),
    )
    .await
    .assert_status(200);

    for token in [&w.ngo_a, &w.admin] {
        let res = app
            .get(&format!("/api/v1/monitoring-visits/{v}"), Some(token))
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["findings"][1]["description"], SECRET);
        assert_eq!(res.json()["findings"][1]["redacted"], false);
    }
    let paths = [
        format!("/api/v1/monitoring-visits/{v}"),
        "/api/v1/monitoring-visits".to_owned(),
        "/api/v1/monitoring-visits?format=ndjson".to_owned(),
        "/api/v1/monitoring-visits?format=csv".to_owned(),
        format!("/api/v1/facilities/{f}/visits"),
        format!("/api/v1/engagements/{v}"),
        "/api/v1/engagements?format=ndjson".to_owned(),
        "/api/v1/audit?entity_type=monitoring_visit".to_owned(),
        format!("/api/v1/monitoring-visits/{v}/history"),
    ];
    for (who, token) in everyone(&w) {
        for path in &paths {
            let res = app.get(path, token).await;
            assert!(
                !res.text().contains(SECRET),
                "{who} read the confidential finding through {path}"
            );
        }
        let one = app
            .get(&format!("/api/v1/monitoring-visits/{v}"), token)
            .await;
        one.assert_status(200);
        let finding = &one.json()["findings"][1];
        assert_eq!(
            (finding["description"].clone(), finding["redacted"].clone()),
            (Value::Null, json!(true)),
            "{who}"
        );
        assert_eq!(
            one.json()["findings"][0]["description"],
            "Нет естественного освещения в камере №2",
            "{who}"
        );
    }
    // Even admins find no confidential text in the audit log: it is written redacted.
    let audit = app
        .get(
            &format!("/api/v1/audit?entity_type=monitoring_visit&entity_id={v}"),
            Some(&w.admin),
        )
        .await;
    assert_eq!(audit.json()["items"].as_array().map(Vec::len), Some(2));
    assert!(!audit.text().contains(SECRET));
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM audit_log WHERE after::text LIKE '%{SECRET}%'"
        ))
        .await,
        0
    );
}

#[actix_web::test]
async fn a_planned_visit_is_invisible_to_everyone_but_its_monitors_and_admins() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    let v = visit(&app, &w, f, "planned", "2026-12-20").await;
    let id = v.to_string();
    for (who, token) in everyone(&w) {
        app.get(&format!("/api/v1/monitoring-visits/{v}"), token)
            .await
            .assert_problem(404);
        app.get(&format!("/api/v1/engagements/{v}"), token)
            .await
            .assert_problem(404);
        for path in [
            "/api/v1/audit?entity_type=monitoring_visit",
            "/api/v1/recommendations",
            "/api/v1/monitoring-visits",
            "/api/v1/engagements",
            "/api/v1/engagements?format=csv",
            &format!("/api/v1/facilities/{f}/visits"),
        ] {
            let res = app.get(path, token).await;
            if !path.contains("/audit") {
                res.assert_status(200);
            }
            assert!(
                !res.text().contains(&id),
                "{who} saw the planned visit in {path}"
            );
        }
    }
    for token in [&w.ngo_a, &w.admin] {
        app.get(&format!("/api/v1/monitoring-visits/{v}"), Some(token))
            .await
            .assert_status(200);
    }
    // Once done, it appears.
    app.patch(
        &format!("/api/v1/monitoring-visits/{v}"),
        Some(&w.ngo_a),
        &json!({"status": "completed"}),
    )
    .await
    .assert_status(200);
    app.get(&format!("/api/v1/monitoring-visits/{v}"), None)
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn bad_visits_and_foreign_editors_are_refused() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    let v = visit(&app, &w, f, "completed", "2026-05-10").await;
    let before = app.snapshot().await;
    let base = json!({"facility_id": f, "visited_on": "2026-06-01", "monitor_organization_ids": [w.org_a]});
    let with = |k: &str, val: Value| {
        let mut b = base.clone();
        b[k] = val;
        b
    };
    app.post(
        "/api/v1/monitoring-visits",
        Some(&w.ngo_a),
        &with("facility_id", json!(uuid::Uuid::now_v7())),
    )
    .await
    .assert_invalid("facility_id");
    app.post(
        "/api/v1/monitoring-visits",
        Some(&w.ngo_a),
        &with(
            "findings",
            json!([{"category": "conditions", "description": "x"}]),
        ),
    )
    .await
    .assert_invalid("findings[0].severity");
    app.post(
        "/api/v1/monitoring-visits",
        Some(&w.ngo_a),
        &with(
            "findings",
            json!([{"category": "weather", "severity": "minor"}]),
        ),
    )
    .await
    .assert_invalid("findings[0].category");
    app.post(
        "/api/v1/monitoring-visits",
        Some(&w.ngo_a),
        &with("monitor_organization_ids", json!([])),
    )
    .await
    .assert_invalid("monitor_organization_ids");
    app.post(
        "/api/v1/monitoring-visits",
        Some(&w.ngo_a),
        &with("mandate_council_id", json!(uuid::Uuid::now_v7())),
    )
    .await
    .assert_invalid("mandate_council_id");
    app.post("/api/v1/monitoring-visits", Some(&w.ngo_b), &base)
        .await
        .assert_problem(403);
    app.post("/api/v1/monitoring-visits", Some(&w.officer_host), &base)
        .await
        .assert_problem(403);
    app.patch(
        &format!("/api/v1/monitoring-visits/{v}"),
        Some(&w.ngo_b),
        &json!({"summary": "Всё отлично"}),
    )
    .await
    .assert_problem(403);
    app.patch(
        &format!("/api/v1/monitoring-visits/{v}"),
        Some(&w.officer_host),
        &json!({"summary": "Всё отлично"}),
    )
    .await
    .assert_problem(403);
    app.delete(&format!("/api/v1/monitoring-visits/{v}"), Some(&w.ngo_b))
        .await
        .assert_problem(403);
    app.patch(
        &format!("/api/v1/monitoring-visits/{v}"),
        Some(&w.ngo_a),
        &json!({"monitor_organization_ids": [w.org_b]}),
    )
    .await
    .assert_invalid("monitor_organization_ids");
    app.post(
        "/api/v1/facilities",
        Some(&w.ngo_a),
        &json!({"name": "X", "facility_type": "prison", "operating_agency_id": w.host_agency}),
    )
    .await
    .assert_problem(403);
    app.post("/api/v1/facilities", Some(&w.admin), &json!({"name": "X", "facility_type": "prison", "operating_agency_id": w.host_agency, "capacity": -1})).await.assert_invalid("capacity");
    app.delete(&format!("/api/v1/facilities/{f}"), Some(&w.admin))
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
}

#[actix_web::test]
async fn a_facility_shows_its_visits_oldest_first_and_visits_lead_to_recommendations() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    let later = visit(&app, &w, f, "completed", "2026-08-01").await;
    let earlier = visit(&app, &w, f, "completed", "2025-08-01").await;
    let res = app
        .get(&format!("/api/v1/facilities/{f}/visits"), Some(&w.analyst))
        .await;
    res.assert_status(200);
    let ids: Vec<&str> = res.json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v["id"].as_str())
        .map(|s| s.to_owned().leak() as &str)
        .collect();
    assert_eq!(ids, [earlier.to_string(), later.to_string()]);
    let parties = app
        .get(&format!("/api/v1/engagements/{later}"), None)
        .await
        .json()["parties"]
        .clone();
    assert!(
        parties
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["role"] == "operator" && p["agency_id"] == w.host_agency.to_string())
    );
    assert!(
        parties
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["role"] == "monitor" && p["organization_id"] == w.org_a.to_string())
    );
    let rec = app
        .post(&format!("/api/v1/engagements/{later}/recommendations"), Some(&w.ngo_a),
              &json!({"text": "Обеспечить естественное освещение в камерах", "addressed_to_agency_id": w.host_agency}))
        .await;
    rec.assert_status(201);
    assert_eq!(rec.json()["engagement_kind"], "monitoring_visit");
}

#[actix_web::test]
async fn a_mandate_must_be_a_council_the_author_can_read_and_analysts_audit_only_the_directory() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    app.patch(
        &format!("/api/v1/councils/{}", w.council_b),
        Some(&w.admin),
        &json!({"visibility": "restricted"}),
    )
    .await
    .assert_status(200);
    app.post(
        "/api/v1/monitoring-visits",
        Some(&w.ngo_a),
        &json!({"facility_id": f, "visited_on": "2026-06-01",
        "monitor_organization_ids": [w.org_a], "mandate_council_id": w.council_b}),
    )
    .await
    .assert_invalid("mandate_council_id");
    visit(&app, &w, f, "completed", "2026-05-10").await;
    let audit = app.get("/api/v1/audit?limit=200", Some(&w.analyst)).await;
    audit.assert_status(200);
    let types: Vec<String> = audit.json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["entity_type"].as_str().map(str::to_owned))
        .collect();
    assert!(
        types.iter().all(|t| [
            "organization",
            "agency",
            "region",
            "facility",
            "council",
            "council_member"
        ]
        .contains(&t.as_str())),
        "{types:?}"
    );
    assert!(
        !types
            .iter()
            .any(|t| t == "council" && audit.text().contains(&w.council_b.to_string()))
    );
    assert!(types.contains(&"facility".to_owned()));
}

#[actix_web::test]
async fn monitors_keep_their_visit_under_a_restricted_councils_mandate() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    let v = visit(&app, &w, f, "completed", "2026-05-10").await;
    app.patch(
        &format!("/api/v1/councils/{}", w.council_a),
        Some(&w.admin),
        &json!({"visibility": "restricted"}),
    )
    .await
    .assert_status(200);
    let res = app
        .get(&format!("/api/v1/monitoring-visits/{v}"), Some(&w.ngo_a))
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["findings"][1]["description"], SECRET);
}
