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

    let mut listed = app
        .get(
            &format!("/api/v1/councils/{}/meetings", w.council_a),
            Some(&w.analyst),
        )
        .await
        .item_ids();
    listed.sort();
    let mut internal = vec![w.meeting.to_string(), id.to_string()];
    internal.sort();
    assert_eq!(
        listed, internal,
        "internal ones; the restricted one is hidden"
    );
    let mut all = app
        .get(
            &format!("/api/v1/councils/{}/meetings", w.council_a),
            Some(&w.secretary_a),
        )
        .await
        .item_ids();
    all.sort();
    let mut expected = [internal, vec![w.restricted.to_string()]].concat();
    expected.sort();
    assert_eq!(all, expected, "the council's secretary sees them all");
    assert_eq!(
        app.get(&format!("/api/v1/councils/{}/meetings", w.council_a), None)
            .await
            .item_ids(),
        Vec::<String>::new(),
        "none is public"
    );
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
    // The body every case above broke in one field is itself fine.
    let res = app.post(&url, Some(&w.admin), &base).await;
    res.assert_status(201);
    assert_eq!(res.json()["title"], "T");
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
    app.patch_read(
        &format!("/api/v1/meetings/{}", w.meeting),
        Some(&w.secretary_b),
        &json!({"minutes": "forged"}),
    )
    .await
    .assert_problem(403);
    app.patch_read(
        &format!("/api/v1/meetings/{}", w.restricted),
        Some(&w.secretary_b),
        &json!({"minutes": "forged"}),
    )
    .await
    .assert_problem(404);
    app.delete_read(
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
    // The council's own secretary may do each of these.
    app.post(
        &format!("/api/v1/councils/{}/meetings", w.council_a),
        Some(&w.secretary_a),
        &body,
    )
    .await
    .assert_status(201);
    for meeting in [w.meeting, w.restricted] {
        let res = app
            .patch_read(
                &format!("/api/v1/meetings/{meeting}"),
                Some(&w.secretary_a),
                &json!({"minutes": "Протокол"}),
            )
            .await;
        assert_eq!(res.assert_record(meeting)["minutes"], "Протокол");
    }
    app.delete_read(
        &format!("/api/v1/meetings/{}", w.restricted),
        Some(&w.secretary_a),
    )
    .await
    .assert_status(204);
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
    app.patch_read(
        &path,
        Some(&w.secretary_a),
        &json!({"agenda": [{"title": " "}]}),
    )
    .await
    .assert_invalid("agenda[0].title");
    app.patch_read(&path, Some(&w.secretary_a), &json!({"title": null}))
        .await
        .assert_invalid("title");
    app.snapshot().await.assert_unchanged_from(&before);
    let current = app
        .call(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {}", w.secretary_a)))
                .insert_header(("If-Match", "\"2\""))
                .set_json(json!({"agenda": [{"title": "Отчёт"}]})),
        )
        .await;
    assert_eq!(
        current.assert_record(w.meeting)["version"],
        3,
        "the current version is accepted"
    );

    let history = app
        .get(&format!("{path}/history"), Some(&w.secretary_a))
        .await;
    history.assert_status(200);
    assert_eq!(
        history.json()["items"][1]["after"]["minutes"],
        "Решили обратиться в МВД"
    );
    // Another kind's history route does not know a meeting's id, as its other routes do not.
    let admin = app.admin().await;
    for kind in ["hearings", "grants"] {
        let uri = format!("/api/v1/{kind}/{}/history", w.meeting);
        app.get(&uri, Some(&admin)).await.assert_problem(404);
        app.get(&uri.replace("/history", ""), Some(&admin))
            .await
            .assert_problem(404);
    }
}

#[actix_web::test]
async fn a_meeting_with_recommendations_cannot_be_deleted_but_one_without_can() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let parties = format!(
        "SELECT count(*) FROM engagement_parties WHERE engagement_id = '{}'",
        w.restricted
    );
    assert!(app.count(&parties).await > 0);
    app.get(
        &format!("/api/v1/meetings/{}", w.restricted),
        Some(&w.admin),
    )
    .await
    .assert_record(w.restricted);
    let before = app.snapshot().await;
    app.delete_read(
        &format!("/api/v1/meetings/{}", w.meeting),
        Some(&w.secretary_a),
    )
    .await
    .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
    app.delete_read(
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
    assert_eq!(app.count(&parties).await, 0);
    app.get(&format!("/api/v1/meetings/{}", w.meeting), Some(&w.admin))
        .await
        .assert_record(w.meeting);
}

#[actix_web::test]
async fn a_restricted_meeting_never_shows_outside_its_council() {
    let app = TestApp::new().await;
    let w = app.world().await;
    // A public meeting of the same council, which every list must show, beside the restricted one.
    let public = app
        .post(&format!("/api/v1/councils/{}/meetings", w.council_a), Some(&w.secretary_a),
              &json!({"title": "Открытое заседание", "starts_at": "2026-03-12T10:00:00Z", "visibility": "public"}))
        .await;
    public.assert_status(201);
    let public = id_of(&public.json()).to_string();
    let id = w.restricted.to_string();
    let lists = [
        "/api/v1/meetings".to_owned(),
        "/api/v1/engagements".to_owned(),
        "/api/v1/engagements?format=csv".to_owned(),
        "/api/v1/engagements?format=ndjson".to_owned(),
        format!("/api/v1/councils/{}/meetings", w.council_a),
    ];
    let outsiders = [
        None,
        Some(w.analyst.as_str()),
        Some(w.ngo_a.as_str()),
        Some(w.ngo_b.as_str()),
        Some(w.secretary_b.as_str()),
        Some(w.officer_host.as_str()),
    ];
    for token in outsiders {
        app.get(&format!("/api/v1/meetings/{public}"), token)
            .await
            .assert_record(&public);
        app.get(&format!("/api/v1/meetings/{id}"), token)
            .await
            .assert_problem(404);
        app.get(&format!("/api/v1/engagements/{id}"), token)
            .await
            .assert_problem(404);
        for list in &lists {
            let res = app.get(list, token).await;
            res.assert_status(200);
            assert!(res.text().contains(&public), "{list} misses the public one");
            assert!(
                !res.text().contains(&id),
                "{list} leaks the restricted meeting"
            );
        }
        let res = app
            .get("/api/v1/engagements?visibility=restricted", token)
            .await;
        assert_eq!(res.item_ids(), Vec::<String>::new());
    }
    for token in [&w.secretary_a, &w.admin] {
        app.get(&format!("/api/v1/meetings/{id}"), Some(token))
            .await
            .assert_record(&id);
        app.get(&format!("/api/v1/engagements/{id}"), Some(token))
            .await
            .assert_record(&id);
        for list in &lists {
            let res = app.get(list, Some(token)).await;
            res.assert_status(200);
            assert!(res.text().contains(&id), "{list}");
        }
        assert_eq!(
            app.get("/api/v1/engagements?visibility=restricted", Some(token))
                .await
                .item_ids(),
            [id.as_str()]
        );
    }
}

/// A meeting of a council the caller may not read is 404, before anything is said of their rights; of one they may
/// read but do not keep, 403; nothing is written for either. The council is read, as the caller may, and locked in
/// the create's transaction, before the rule is asked.
#[actix_web::test]
async fn a_meeting_of_a_council_one_cannot_read_is_404_and_of_one_not_ones_own_403() {
    let app = TestApp::new().await;
    let w = app.world().await;
    app.restrict_council(&w.admin, w.council_b).await;
    let body = json!({"title": "Заседание", "starts_at": "2026-12-15T09:00:00Z"});
    let to = |council: uuid::Uuid| format!("/api/v1/councils/{council}/meetings");
    let before = app.snapshot().await;
    for token in [&w.ngo_a, &w.secretary_a, &w.officer_other] {
        app.post(&to(w.council_b), Some(token), &body)
            .await
            .assert_problem(404);
    }
    app.post(&to(w.council_a), Some(&w.ngo_a), &body)
        .await
        .assert_problem(403);
    app.post(&to(w.council_a), Some(&w.secretary_b), &body)
        .await
        .assert_problem(403);
    assert_eq!(app.snapshot().await, before, "nothing written");
    // Its own secretary records it, in the restricted council too.
    app.post(&to(w.council_b), Some(&w.secretary_b), &body)
        .await
        .assert_status(201);
}
