//! Public hearings: logged by the organising NGOs, with invited agencies, media and recommendations.

use serde_json::json;

use crate::support::{TestApp, id_of};

#[actix_web::test]
async fn an_ngo_logs_a_hearing_with_partners_and_issues_recommendations() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let res = app
        .post("/api/v1/hearings", Some(&w.ngo_a), &json!({
            "title": "Общественные слушания о реформе милиции", "status": "held", "starts_on": "2026-04-02",
            "location": "Душанбе", "region_code": "TJ-DU", "sphere_codes": ["public_order", "human_rights"],
            "organizer_ids": [w.org_a, w.org_b],
            "invited_agencies": [{"agency_id": w.host_agency, "attended": true}, {"agency_id": w.other_agency, "attended": false}],
            "media": [{"outlet": "Ахбори ҷамъиятӣ", "url": "https://example.tj/news/1"}],
            "participants_count": 85, "findings": "Задержанным не разъясняют права", "visibility": "public"
        }))
        .await;
    res.assert_status(201);
    let hearing = res.json();
    let id = id_of(&hearing);
    assert_eq!(hearing["owner_organization_id"], w.org_a.to_string());
    assert_eq!(hearing["invited_agencies"][0]["attended"], true);
    assert_eq!(hearing["parties"].as_array().map(Vec::len), Some(4));

    let all = app
        .get(
            &format!(
                "/api/v1/engagements?kind=hearing&agency_id={}",
                w.other_agency
            ),
            None,
        )
        .await;
    assert_eq!(
        all.item_ids(),
        [id.to_string()],
        "public hearings are in the anonymous engagement list"
    );
    let by_org = app
        .get(
            &format!("/api/v1/hearings?organization_id={}", w.org_b),
            None,
        )
        .await;
    assert_eq!(by_org.item_ids(), [id.to_string()]);
    let csv = app.get("/api/v1/hearings?format=csv", None).await;
    assert_eq!(csv.text().lines().count(), 2);

    // Being named co-organiser grants reading, not writing: only the owning NGO edits it and issues
    // recommendations from it.
    let before = app.snapshot().await;
    app.patch_read(
        &format!("/api/v1/hearings/{id}"),
        Some(&w.ngo_b),
        &json!({"participants_count": 90}),
    )
    .await
    .assert_problem(403);
    app.post(
        &format!("/api/v1/engagements/{id}/recommendations"),
        Some(&w.ngo_b),
        &json!({"text": "x", "addressed_to_agency_id": w.host_agency}),
    )
    .await
    .assert_problem(403);
    app.snapshot().await.assert_unchanged_from(&before);
    let edited = app
        .patch_read(
            &format!("/api/v1/hearings/{id}"),
            Some(&w.ngo_a),
            &json!({"participants_count": 90}),
        )
        .await;
    assert_eq!(edited.assert_record(id)["participants_count"], 90);
    let rec = app
        .post(&format!("/api/v1/engagements/{id}/recommendations"), Some(&w.ngo_a),
              &json!({"text": "Разъяснять права при задержании", "addressed_to_agency_id": w.host_agency, "due_on": "2027-01-01"}))
        .await;
    rec.assert_status(201);
    assert_eq!(rec.json()["engagement_kind"], "hearing");
    let history = app
        .get(&format!("/api/v1/hearings/{id}/history"), Some(&w.ngo_a))
        .await;
    assert_eq!(history.json()["items"].as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn a_co_organiser_withdraws_itself_and_nothing_else() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let res = app
        .post(
            "/api/v1/hearings",
            Some(&w.ngo_a),
            &json!({
            "title": "Слушания о доступе к правосудию", "starts_on": "2026-04-02",
            "organizer_ids": [w.org_a, w.org_b], "visibility": "restricted"}),
        )
        .await;
    res.assert_status(201);
    let id = id_of(&res.json());
    let path = |org: uuid::Uuid| format!("/api/v1/hearings/{id}/organizers/{org}");
    // A withdrawal names the version of the hearing the caller last read.
    let withdraw = async |org: uuid::Uuid, token: &str| {
        let etag = app
            .etag(&format!("/api/v1/hearings/{id}"), Some(token))
            .await;
        app.delete_if(&path(org), Some(token), etag.as_deref())
            .await
    };
    let before = app.snapshot().await;
    // Nobody removes another organisation, the owner cannot "withdraw" from its own record, and an outsider
    // cannot even see it.
    withdraw(w.org_a, &w.ngo_b).await.assert_problem(403);
    withdraw(w.org_a, &w.ngo_a).await.assert_problem(403);
    for token in [&w.analyst, &w.officer_host, &w.secretary_a] {
        app.delete(&path(w.org_b), Some(token))
            .await
            .assert_problem(404);
    }
    app.delete(&path(w.org_b), Some(&w.ngo_b))
        .await
        .assert_problem(428);
    app.snapshot().await.assert_unchanged_from(&before);
    // Organisation B leaves: the hearing no longer names it, in its organisers or its parties, and B can no
    // longer read the restricted hearing it left.
    withdraw(w.org_b, &w.ngo_b).await.assert_status(204);
    let body = app
        .get(&format!("/api/v1/hearings/{id}"), Some(&w.ngo_a))
        .await
        .assert_record(id);
    assert_eq!(body["organizer_ids"], json!([w.org_a]));
    assert!(
        !body["parties"].to_string().contains(&w.org_b.to_string()),
        "{body}"
    );
    app.get(&format!("/api/v1/hearings/{id}"), Some(&w.ngo_b))
        .await
        .assert_problem(404);
    let history = app
        .get(&format!("/api/v1/hearings/{id}/history"), Some(&w.ngo_a))
        .await;
    assert_eq!(history.json()["items"].as_array().map(Vec::len), Some(2));
    // Gone is gone: asking again is 404, and the last organiser cannot leave.
    withdraw(w.org_b, &w.admin).await.assert_problem(404);
    withdraw(w.org_a, &w.admin).await.assert_problem(409);
}

#[actix_web::test]
async fn hearing_input_and_callers_are_checked() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let before = app.snapshot().await;
    let base = json!({"title": "Слушания", "starts_on": "2026-04-02", "organizer_ids": [w.org_a]});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    app.post("/api/v1/hearings", Some(&w.ngo_b), &base)
        .await
        .assert_problem(403);
    for token in [&w.analyst, &w.officer_host, &w.secretary_a] {
        app.post("/api/v1/hearings", Some(token), &base)
            .await
            .assert_problem(403);
    }
    app.post("/api/v1/hearings", None, &base)
        .await
        .assert_problem(401);
    app.post(
        "/api/v1/hearings",
        Some(&w.ngo_a),
        &with("organizer_ids", json!([])),
    )
    .await
    .assert_invalid("organizer_ids");
    app.post(
        "/api/v1/hearings",
        Some(&w.admin),
        &with("organizer_ids", json!([uuid::Uuid::now_v7()])),
    )
    .await
    .assert_invalid("organizer_ids[0]");
    app.post(
        "/api/v1/hearings",
        Some(&w.ngo_a),
        &with(
            "invited_agencies",
            json!([{"agency_id": uuid::Uuid::now_v7()}]),
        ),
    )
    .await
    .assert_invalid("invited_agencies[0].agency_id");
    // An agency's id is not an organisation, nor an organisation's an agency: both are refused, each named where it
    // stands.
    let crossed = app
        .post(
            "/api/v1/hearings",
            Some(&w.admin),
            &json!({"title": "Слушания", "starts_on": "2026-04-02", "organizer_ids": [w.host_agency],
                    "invited_agencies": [{"agency_id": w.org_b}]}),
        )
        .await;
    crossed.assert_status(422);
    let problem = crossed.json();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(
        fields,
        ["organizer_ids[0]", "invited_agencies[0].agency_id"],
        "{}",
        crossed.text()
    );
    app.post(
        "/api/v1/hearings",
        Some(&w.ngo_a),
        &with("status", json!("postponed")),
    )
    .await
    .assert_invalid("status");
    app.post(
        "/api/v1/hearings",
        Some(&w.ngo_a),
        &with("participants_count", json!(-3)),
    )
    .await
    .assert_invalid("participants_count");
    app.post(
        "/api/v1/hearings",
        Some(&w.ngo_a),
        &with("media", json!([{"outlet": ""}])),
    )
    .await
    .assert_invalid("media[0].outlet");
    app.post(
        "/api/v1/hearings",
        Some(&w.ngo_a),
        &with("starts_on", json!("02.04.2026")),
    )
    .await
    .assert_invalid("starts_on");
    app.snapshot().await.assert_unchanged_from(&before);

    let created = app.post("/api/v1/hearings", Some(&w.ngo_a), &base).await;
    created.assert_status(201);
    let path = format!("/api/v1/hearings/{}", id_of(&created.json()));
    let before = app.snapshot().await;
    app.patch_read(&path, Some(&w.ngo_b), &json!({"title": "Чужие слушания"}))
        .await
        .assert_problem(403);
    app.delete_read(&path, Some(&w.ngo_b))
        .await
        .assert_problem(403);
    app.patch_read(&path, Some(&w.analyst), &json!({"title": "x"}))
        .await
        .assert_problem(403);
    app.get(&path, None).await.assert_problem(404);
    app.snapshot().await.assert_unchanged_from(&before);
    // Internal, so signed-in readers see it; its organiser edits and deletes it.
    let id = id_of(&created.json());
    app.get(&path, Some(&w.analyst)).await.assert_record(id);
    let edited = app
        .patch_read(
            &path,
            Some(&w.ngo_a),
            &json!({"title": "Слушания о милиции"}),
        )
        .await;
    assert_eq!(edited.assert_record(id)["title"], "Слушания о милиции");
    app.delete_read(&path, Some(&w.ngo_a))
        .await
        .assert_status(204);
    app.get(&path, Some(&w.admin)).await.assert_problem(404);
}
