//! Meetings: recorded by a council's secretary, with agenda, attendance and derived parties.

use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::{TestApp, id_of};

#[actix_web::test]
async fn a_secretary_records_a_meeting_whose_parties_come_from_host_and_attendance() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let res = app
        .post(&format!("/api/v1/councils/{}/meetings", w.council_a), Some(&w.secretary_a), &json!({
            "title": "Очередное заседание", "starts_at": "2026-12-15T09:00:00Z", "format": "hybrid",
            "agenda": [{"title": "Отчёт МВД", "presenter": "МВД"}, {"title": "Разное"}],
            "attendance": [{"organization_id": w.org_a, "present": true}, {"organization_id": w.org_b, "present": false},
                           {"agency_id": w.other_agency, "present": true}],
            "documents": [{"title": "Повестка", "url": "https://example.tj/agenda.pdf", "kind": "agenda"}]
        }))
        .await;
    res.assert_status(201);
    let meeting = res.json();
    assert_eq!(meeting["status"], "planned");
    assert_eq!(
        meeting["visibility"], "internal",
        "new engagements default to internal"
    );
    assert_eq!(meeting["agenda"][1]["title"], "Разное");
    assert_eq!(
        meeting["region_code"], "TJ",
        "defaults to the council's region"
    );
    let parties = meeting["parties"].as_array().cloned().unwrap_or_default();
    let has = |key: &str, id: uuid::Uuid, role: &str| {
        parties
            .iter()
            .any(|p| p[key] == id.to_string() && p["role"] == role)
    };
    assert!(has("agency_id", w.host_agency, "host"));
    assert!(has("organization_id", w.org_a, "participant"));
    assert!(has("organization_id", w.org_b, "invited"));
    assert!(has("agency_id", w.other_agency, "participant"));

    let id = id_of(&meeting);
    let core = app
        .get(&format!("/api/v1/engagements/{id}"), Some(&w.analyst))
        .await;
    core.assert_status(200);
    assert_eq!(core.json()["kind"], "meeting");
    assert_eq!(core.json()["council_id"], w.council_a.to_string());
    assert_eq!(core.json()["parties"].as_array().map(Vec::len), Some(4));

    let list = app
        .get(
            &format!("/api/v1/councils/{}/meetings", w.council_a),
            Some(&w.analyst),
        )
        .await;
    assert_eq!(
        list.json()["items"].as_array().map(Vec::len),
        Some(2),
        "internal ones; the restricted one is hidden"
    );
    app.get(&format!("/api/v1/councils/{}/meetings", w.council_a), None)
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn bad_meetings_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let before = app.snapshot().await;
    let url = format!("/api/v1/councils/{}/meetings", w.council_a);
    let base = json!({"title": "T", "starts_at": "2026-12-15T09:00:00Z"});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    app.post(
        &format!("/api/v1/councils/{}/meetings", uuid::Uuid::now_v7()),
        Some(&w.admin),
        &base,
    )
    .await
    .assert_problem(404);
    app.post(
        &url,
        Some(&w.admin),
        &with(
            "agenda",
            json!([{"title": "ok"}, {"presenter": "no title"}]),
        ),
    )
    .await
    .assert_invalid("agenda[1].title");
    app.post(
        &url,
        Some(&w.admin),
        &with("agenda", json!([{"title": ""}])),
    )
    .await
    .assert_invalid("agenda[0].title");
    app.post(
        &url,
        Some(&w.admin),
        &with(
            "attendance",
            json!([{"organization_id": uuid::Uuid::now_v7()}]),
        ),
    )
    .await
    .assert_invalid("attendance[0].organization_id");
    app.post(
        &url,
        Some(&w.admin),
        &with(
            "attendance",
            json!([{"organization_id": w.org_a, "agency_id": w.host_agency}]),
        ),
    )
    .await
    .assert_invalid("attendance[0]");
    app.post(
        &url,
        Some(&w.admin),
        &with(
            "attendance",
            json!([{"organization_id": w.org_a}, {"organization_id": w.org_a}]),
        ),
    )
    .await
    .assert_invalid("attendance[1]");
    app.post(&url, Some(&w.admin), &with("status", json!("adjourned")))
        .await
        .assert_invalid("status");
    app.post(&url, Some(&w.admin), &with("starts_at", json!("tomorrow")))
        .await
        .assert_invalid("starts_at");
    app.post(
        &url,
        Some(&w.admin),
        &with(
            "documents",
            json!([{"title": "x", "url": "not a url", "kind": "minutes"}]),
        ),
    )
    .await
    .assert_invalid("documents[0].url");
    app.post(&url, Some(&w.admin), &with("region_code", json!("TJ-XX")))
        .await
        .assert_invalid("region_code");
    app.post(
        &url,
        Some(&w.admin),
        &json!({"starts_at": "2026-12-15T09:00:00Z"}),
    )
    .await
    .assert_invalid("title");
    app.snapshot().await.assert_unchanged_from(&before);
}

#[actix_web::test]
async fn a_secretary_of_one_council_cannot_write_to_another() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let before = app.snapshot().await;
    let body = json!({"title": "Чужое заседание", "starts_at": "2026-12-15T09:00:00Z"});
    app.post(
        &format!("/api/v1/councils/{}/meetings", w.council_a),
        Some(&w.secretary_b),
        &body,
    )
    .await
    .assert_problem(403);
    app.patch(
        &format!("/api/v1/meetings/{}", w.meeting),
        Some(&w.secretary_b),
        &json!({"minutes": "forged"}),
    )
    .await
    .assert_problem(403);
    app.patch(
        &format!("/api/v1/meetings/{}", w.restricted),
        Some(&w.secretary_b),
        &json!({"minutes": "forged"}),
    )
    .await
    .assert_problem(404);
    app.delete(
        &format!("/api/v1/meetings/{}", w.meeting),
        Some(&w.secretary_b),
    )
    .await
    .assert_problem(403);
    app.post(
        &format!("/api/v1/councils/{}/meetings", w.council_a),
        Some(&w.ngo_a),
        &body,
    )
    .await
    .assert_problem(403);
    app.post(
        &format!("/api/v1/councils/{}/meetings", w.council_a),
        None,
        &body,
    )
    .await
    .assert_problem(401);
    app.snapshot().await.assert_unchanged_from(&before);
}

#[actix_web::test]
async fn updates_replace_lists_rederive_parties_and_respect_if_match() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let path = format!("/api/v1/meetings/{}", w.meeting);
    let res = app
        .call(TestRequest::patch().uri(&path).insert_header(("Authorization", format!("Bearer {}", w.secretary_a))).insert_header(("If-Match", "\"1\""))
            .set_json(json!({"minutes": "Решили обратиться в МВД", "attendance": [{"organization_id": w.org_b, "present": true}], "status": "held"})))
        .await;
    res.assert_status(200);
    let body = res.json();
    assert_eq!(body["version"], 2);
    assert_eq!(body["minutes"], "Решили обратиться в МВД");
    assert_eq!(
        body["agenda"][0]["title"], "Мониторинг ИВС",
        "absent lists stay"
    );
    let orgs: Vec<&str> = body["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["organization_id"].as_str())
        .collect();
    assert_eq!(orgs, vec![w.org_b.to_string().as_str()]);

    let before = app.snapshot().await;
    let stale = app
        .call(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {}", w.secretary_a)))
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"minutes": "lost update"})),
        )
        .await;
    stale.assert_problem(412);
    app.patch(
        &path,
        Some(&w.secretary_a),
        &json!({"agenda": [{"title": " "}]}),
    )
    .await
    .assert_invalid("agenda[0].title");
    app.patch(&path, Some(&w.secretary_a), &json!({"title": null}))
        .await
        .assert_invalid("title");
    app.snapshot().await.assert_unchanged_from(&before);

    let history = app
        .get(&format!("{path}/history"), Some(&w.secretary_a))
        .await;
    history.assert_status(200);
    assert_eq!(
        history.json()["items"][0]["after"]["minutes"],
        "Решили обратиться в МВД"
    );
}

#[actix_web::test]
async fn a_meeting_with_recommendations_cannot_be_deleted_but_one_without_can() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let before = app.snapshot().await;
    app.delete(
        &format!("/api/v1/meetings/{}", w.meeting),
        Some(&w.secretary_a),
    )
    .await
    .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
    app.delete(
        &format!("/api/v1/meetings/{}", w.restricted),
        Some(&w.secretary_a),
    )
    .await
    .assert_status(204);
    app.get(
        &format!("/api/v1/meetings/{}", w.restricted),
        Some(&w.admin),
    )
    .await
    .assert_problem(404);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM engagement_parties WHERE engagement_id = '{}'",
            w.restricted
        ))
        .await,
        0
    );
}

#[actix_web::test]
async fn a_restricted_meeting_never_shows_outside_its_council() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let id = w.restricted.to_string();
    let outsiders = [
        None,
        Some(w.analyst.as_str()),
        Some(w.ngo_a.as_str()),
        Some(w.ngo_b.as_str()),
        Some(w.secretary_b.as_str()),
        Some(w.officer_host.as_str()),
    ];
    for token in outsiders {
        app.get(&format!("/api/v1/meetings/{id}"), token)
            .await
            .assert_problem(404);
        app.get(&format!("/api/v1/engagements/{id}"), token)
            .await
            .assert_problem(404);
        for list in [
            "/api/v1/meetings",
            "/api/v1/engagements",
            "/api/v1/engagements?format=csv",
            "/api/v1/engagements?format=ndjson",
            "/api/v1/engagements?visibility=restricted",
        ] {
            let res = app.get(list, token).await;
            res.assert_status(200);
            assert!(
                !res.text().contains(&id),
                "{list} leaks the restricted meeting"
            );
        }
        let council_list = app
            .get(&format!("/api/v1/councils/{}/meetings", w.council_a), token)
            .await;
        assert!(!council_list.text().contains(&id));
    }
    for token in [&w.secretary_a, &w.admin] {
        app.get(&format!("/api/v1/meetings/{id}"), Some(token))
            .await
            .assert_status(200);
        assert!(
            app.get("/api/v1/engagements", Some(token))
                .await
                .text()
                .contains(&id)
        );
    }
}
