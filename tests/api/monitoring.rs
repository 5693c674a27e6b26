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
const FINDING: &str = "Нет естественного освещения в камере №2";

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
                {"category": "conditions", "severity": "minor", "description": FINDING},
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
    app.patch_read(
        &format!("/api/v1/monitoring-visits/{v}"),
        Some(&w.ngo_a),
        &json!({"summary": "Обновлено"}),
    )
    .await
    .assert_status(200);

    let id = v.to_string();
    // Paths that show the visit to every reader, and whether they carry the findings' text.
    let readable = [
        (format!("/api/v1/monitoring-visits/{v}"), true),
        ("/api/v1/monitoring-visits".to_owned(), true),
        ("/api/v1/monitoring-visits?format=ndjson".to_owned(), true),
        ("/api/v1/monitoring-visits?format=csv".to_owned(), false),
        (format!("/api/v1/facilities/{f}/visits"), true),
        (format!("/api/v1/engagements/{v}"), false),
        ("/api/v1/engagements?format=ndjson".to_owned(), false),
    ];
    // The monitors and admins read the confidential text wherever findings are shown: so its absence below
    // is redaction, not a path that never carries findings.
    for token in [&w.ngo_a, &w.admin] {
        let one = app
            .get(&format!("/api/v1/monitoring-visits/{v}"), Some(token))
            .await
            .assert_record(v);
        assert_eq!(one["findings"][1]["description"], SECRET);
        assert_eq!(one["findings"][1]["redacted"], false);
        for (path, with_findings) in &readable {
            let res = app.get(path, Some(token)).await;
            res.assert_status(200);
            assert!(res.text().contains(&id), "{path}");
            assert_eq!(res.text().contains(SECRET), *with_findings, "{path}");
        }
    }
    let audit_of_visit = "/api/v1/audit?entity_type=monitoring_visit";
    let history = format!("/api/v1/monitoring-visits/{v}/history");
    for (who, token) in everyone(&w) {
        for (path, with_findings) in &readable {
            let res = app.get(path, token).await;
            res.assert_status(200);
            assert!(res.text().contains(&id), "{who} misses the visit in {path}");
            if *with_findings {
                assert!(res.text().contains(FINDING), "{who}: {path}");
            }
            assert!(
                !res.text().contains(SECRET),
                "{who} read the confidential finding through {path}"
            );
        }
        let one = app
            .get(&format!("/api/v1/monitoring-visits/{v}"), token)
            .await
            .assert_record(v);
        let finding = &one["findings"][1];
        assert_eq!(
            (
                finding["description"].clone(),
                finding["redacted"].clone(),
                finding["confidential"].clone(),
                finding["severity"].clone()
            ),
            (Value::Null, json!(true), json!(true), json!("critical")),
            "{who}"
        );
        assert_eq!(one["findings"][0]["description"], FINDING, "{who}");
        assert_eq!(one["findings"][0]["redacted"], false, "{who}");
        // The change log: analysts read a visit's history (redacted) but see only the directory in the audit
        // log; other roles are refused both.
        let (audit_status, history_status) = match who {
            "anonymous" => (401, 401),
            "analyst" => (200, 200),
            _ => (403, 403),
        };
        let audit = app.get(audit_of_visit, token).await;
        audit.assert_status(audit_status);
        assert!(!audit.text().contains(SECRET), "{who}: {audit_of_visit}");
        let res = app.get(&history, token).await;
        res.assert_status(history_status);
        if history_status == 200 {
            assert_eq!(res.item_ids().len(), 2, "{who}: create and update");
            assert!(res.text().contains(FINDING), "{who}: {history}");
        }
        assert!(!res.text().contains(SECRET), "{who}: {history}");
    }
    // Even admins find no confidential text in the audit log: it is written redacted, with the rest of the
    // findings in it.
    for path in [
        format!("/api/v1/audit?entity_type=monitoring_visit&entity_id={v}"),
        history,
    ] {
        let audit = app.get(&path, Some(&w.admin)).await;
        assert_eq!(audit.item_ids().len(), 2, "{path}");
        assert!(audit.text().contains(FINDING), "{path}");
        assert_eq!(
            audit.json()["items"][0]["after"]["findings"][1]["redacted"],
            true,
            "{path}"
        );
        assert!(!audit.text().contains(SECRET), "{path}");
    }
    let entries = |text: &str| {
        format!(
            "SELECT count(*) FROM audit_log WHERE entity_id = '{v}' AND after::text LIKE '%{text}%'"
        )
    };
    assert_eq!(app.count(&entries(FINDING)).await, 2);
    assert_eq!(app.count(&entries(SECRET)).await, 0);
}

#[actix_web::test]
async fn a_planned_visit_is_invisible_to_everyone_but_its_monitors_and_admins() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    let v = visit(&app, &w, f, "planned", "2026-12-20").await;
    // A completed visit to the same facility, with the same audience, shows that every path below does list
    // visits (and their recommendations): the planned one is missing because it is planned.
    let done = visit(&app, &w, f, "completed", "2026-05-10").await;
    let recommend = async |visit: uuid::Uuid| {
        let res = app
            .post(&format!("/api/v1/engagements/{visit}/recommendations"), Some(&w.ngo_a),
                  &json!({"text": "Обеспечить доступ к адвокату", "addressed_to_agency_id": w.host_agency, "visibility": "public"}))
            .await;
        res.assert_status(201);
        id_of(&res.json())
    };
    let (planned_rec, done_rec) = (recommend(v).await, recommend(done).await);
    let id = v.to_string();
    let lists = [
        ("/api/v1/monitoring-visits".to_owned(), done),
        ("/api/v1/engagements".to_owned(), done),
        ("/api/v1/engagements?format=csv".to_owned(), done),
        (format!("/api/v1/facilities/{f}/visits"), done),
        ("/api/v1/recommendations".to_owned(), done_rec),
    ];
    for (who, token) in everyone(&w) {
        for (path, shown) in [
            ("/api/v1/monitoring-visits", done),
            ("/api/v1/engagements", done),
            ("/api/v1/recommendations", done_rec),
        ] {
            app.get(&format!("{path}/{shown}"), token)
                .await
                .assert_record(shown);
        }
        for path in ["/api/v1/monitoring-visits", "/api/v1/engagements"] {
            app.get(&format!("{path}/{v}"), token)
                .await
                .assert_problem(404);
        }
        app.get(&format!("/api/v1/recommendations/{planned_rec}"), token)
            .await
            .assert_problem(404);
        for (path, shown) in &lists {
            let res = app.get(path, token).await;
            res.assert_status(200);
            assert!(
                res.text().contains(&shown.to_string()),
                "{who} misses {shown} in {path}"
            );
            assert!(
                !res.text().contains(&id),
                "{who} saw the planned visit in {path}"
            );
        }
        let audit = app
            .get("/api/v1/audit?entity_type=monitoring_visit", token)
            .await;
        audit.assert_status(match who {
            "anonymous" => 401,
            "analyst" => 200,
            _ => 403,
        });
        assert!(!audit.text().contains(&id), "{who} saw it in the audit log");
    }
    for token in [&w.ngo_a, &w.admin] {
        app.get(&format!("/api/v1/monitoring-visits/{v}"), Some(token))
            .await
            .assert_record(v);
        app.get(
            &format!("/api/v1/recommendations/{planned_rec}"),
            Some(token),
        )
        .await
        .assert_record(planned_rec);
        for (path, _) in &lists {
            let res = app.get(path, Some(token)).await;
            res.assert_status(200);
            assert!(res.text().contains(&id), "{path}");
        }
    }
    assert!(
        app.get("/api/v1/audit?entity_type=monitoring_visit", Some(&w.admin))
            .await
            .text()
            .contains(&id)
    );
    // Once done, it appears.
    app.patch_read(
        &format!("/api/v1/monitoring-visits/{v}"),
        Some(&w.ngo_a),
        &json!({"status": "completed"}),
    )
    .await
    .assert_status(200);
    app.get(&format!("/api/v1/monitoring-visits/{v}"), None)
        .await
        .assert_record(v);
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
    app.patch_read(
        &format!("/api/v1/monitoring-visits/{v}"),
        Some(&w.ngo_b),
        &json!({"summary": "Всё отлично"}),
    )
    .await
    .assert_problem(403);
    app.patch_read(
        &format!("/api/v1/monitoring-visits/{v}"),
        Some(&w.officer_host),
        &json!({"summary": "Всё отлично"}),
    )
    .await
    .assert_problem(403);
    app.delete_read(&format!("/api/v1/monitoring-visits/{v}"), Some(&w.ngo_b))
        .await
        .assert_problem(403);
    app.patch_read(
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
    // The same requests from those entitled succeed: the refusals above were about the caller or the field.
    let created = app
        .post("/api/v1/monitoring-visits", Some(&w.ngo_a), &base)
        .await;
    created.assert_status(201);
    assert_eq!(created.json()["monitor_organization_ids"], json!([w.org_a]));
    let edited = app
        .patch_read(
            &format!("/api/v1/monitoring-visits/{v}"),
            Some(&w.ngo_a),
            &json!({"summary": "Всё отлично"}),
        )
        .await;
    assert_eq!(edited.assert_record(v)["summary"], "Всё отлично");
    let other = app
        .post(
            "/api/v1/facilities",
            Some(&w.admin),
            &json!({"name": "X", "facility_type": "prison", "operating_agency_id": w.host_agency, "capacity": 1}),
        )
        .await;
    other.assert_status(201);
    app.delete(
        &format!("/api/v1/facilities/{}", id_of(&other.json())),
        Some(&w.admin),
    )
    .await
    .assert_status(204);
    app.delete_read(&format!("/api/v1/monitoring-visits/{v}"), Some(&w.ngo_a))
        .await
        .assert_status(204);
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
    app.restrict_council(&w.admin, w.council_b).await;
    let before = app.snapshot().await;
    let mandated = |council: uuid::Uuid| {
        json!({"facility_id": f, "visited_on": "2026-06-01",
               "monitor_organization_ids": [w.org_a], "mandate_council_id": council})
    };
    app.post(
        "/api/v1/monitoring-visits",
        Some(&w.ngo_a),
        &mandated(w.council_b),
    )
    .await
    .assert_invalid("mandate_council_id");
    app.snapshot().await.assert_unchanged_from(&before);
    // Under a council the author can read, the same visit is accepted.
    let accepted = app
        .post(
            "/api/v1/monitoring-visits",
            Some(&w.ngo_a),
            &mandated(w.council_a),
        )
        .await;
    accepted.assert_status(201);
    assert_eq!(
        accepted.json()["mandate_council_id"],
        w.council_a.to_string()
    );
    let v = visit(&app, &w, f, "completed", "2026-05-10").await;
    // Admins see the visits in the audit log; analysts, only the directory.
    let everything = app.get("/api/v1/audit?limit=200", Some(&w.admin)).await;
    everything.assert_status(200);
    assert!(everything.text().contains(&v.to_string()));
    let audit = app.get("/api/v1/audit?limit=200", Some(&w.analyst)).await;
    audit.assert_status(200);
    assert!(!audit.text().contains(&v.to_string()));
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
    assert!(types.contains(&"facility".to_owned()));
    // The restricted council's entries are the admins' alone; the other council's are there for analysts.
    assert!(everything.text().contains(&w.council_b.to_string()));
    assert!(audit.text().contains(&w.council_a.to_string()));
    assert!(!audit.text().contains(&w.council_b.to_string()));
}

#[actix_web::test]
async fn monitors_keep_their_visit_under_a_restricted_councils_mandate() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    let v = visit(&app, &w, f, "completed", "2026-05-10").await;
    app.restrict_council(&w.admin, w.council_a).await;
    let res = app
        .get(&format!("/api/v1/monitoring-visits/{v}"), Some(&w.ngo_a))
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["findings"][1]["description"], SECRET);
}

#[actix_web::test]
async fn a_co_monitor_reads_the_confidential_findings_until_it_withdraws() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    let res = app
        .post("/api/v1/monitoring-visits", Some(&w.ngo_a), &json!({
            "facility_id": f, "visited_on": "2026-05-14", "monitor_organization_ids": [w.org_a, w.org_b],
            "status": "completed", "visibility": "public",
            "findings": [{"category": "treatment", "severity": "critical", "description": SECRET, "confidential": true}]
        }))
        .await;
    res.assert_status(201);
    let v = id_of(&res.json());
    let path = format!("/api/v1/monitoring-visits/{v}");
    let seen_by_b = app.get(&path, Some(&w.ngo_b)).await;
    assert!(seen_by_b.text().contains(SECRET), "a co-monitor reads them");
    // Named by A, B may not change the visit.
    let before = app.snapshot().await;
    app.patch_read(&path, Some(&w.ngo_b), &json!({"summary": "Всё отлично"}))
        .await
        .assert_problem(403);
    app.snapshot().await.assert_unchanged_from(&before);
    // B leaves: 204, and the confidential text is no longer B's to read.
    let etag = app.etag(&path, Some(&w.ngo_b)).await;
    app.delete_if(
        &format!("{path}/monitors/{}", w.org_b),
        Some(&w.ngo_b),
        etag.as_deref(),
    )
    .await
    .assert_status(204);
    let after = app.get(&path, Some(&w.ngo_b)).await;
    let body = after.assert_record(v);
    assert_eq!(body["monitor_organization_ids"], json!([w.org_a]));
    assert!(!after.text().contains(SECRET), "{body}");
    assert!(app.get(&path, Some(&w.ngo_a)).await.text().contains(SECRET));
}
