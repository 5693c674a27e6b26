//! Consultations on draft acts, the NGOs' submissions and the agencies' answers.

use serde_json::{Value, json};

use crate::support::{TestApp, World, id_of};

async fn consultation(app: &TestApp, w: &World, visibility: &str) -> uuid::Uuid {
    let res = app
        .post("/api/v1/consultations", Some(&w.ngo_a), &json!({
            "title": "Проект Закона «Об общественных объединениях»", "act_type": "law",
            "responsible_agency_id": w.host_agency, "level": "national",
            "opens_on": "2026-02-01", "closes_on": "2026-03-01", "draft_url": "https://example.tj/draft.pdf",
            "sphere_codes": ["human_rights"], "visibility": visibility
        }))
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

#[actix_web::test]
async fn submissions_are_answered_and_late_ones_are_marked() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let c = consultation(&app, &w, "public").await;
    let open_on = async |day: &str| {
        app.get(&format!("/api/v1/consultations?open_on={day}"), None)
            .await
            .item_ids()
    };
    assert_eq!(open_on("2026-02-15").await, [c.to_string()]);
    assert_eq!(open_on("2026-03-01").await, [c.to_string()], "the last day");
    assert_eq!(open_on("2026-03-02").await, Vec::<String>::new());

    let coalition = app
        .post(&format!("/api/v1/consultations/{c}/submissions"), Some(&w.ngo_b), &json!({
            "organization_ids": [w.org_a, w.org_b], "provision": "Статья 12, часть 3",
            "proposal": "Исключить требование ежегодной перерегистрации", "rationale": "Избыточная нагрузка", "submitted_on": "2026-02-20"
        }))
        .await;
    coalition.assert_status(201);
    assert_eq!(coalition.json()["late"], false);
    assert_eq!(coalition.json()["response"]["status"], "pending");
    let late = app
        .post(&format!("/api/v1/consultations/{c}/submissions"), Some(&w.ngo_a), &json!({
            "organization_ids": [w.org_a], "proposal": "Упростить отчётность", "submitted_on": "2026-03-05"}))
        .await;
    late.assert_status(201);
    assert_eq!(late.json()["late"], true, "kept, but marked late");

    let parties = app
        .get(&format!("/api/v1/engagements/{c}"), None)
        .await
        .json()["parties"]
        .clone();
    let roles: Vec<String> = parties
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| p["role"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(roles.iter().filter(|r| *r == "submitter").count(), 2);
    assert_eq!(roles.iter().filter(|r| *r == "responsible").count(), 1);

    let sid = id_of(&coalition.json());
    let answer = app
        .call(actix_web::test::TestRequest::put().uri(&format!("/api/v1/submissions/{sid}/response"))
            .insert_header(("Authorization", format!("Bearer {}", w.officer_host)))
            .set_json(json!({"status": "partially_accepted", "text": "Учтено частично", "responded_on": "2026-03-20"})))
        .await;
    answer.assert_status(200);
    assert_eq!(answer.json()["response"]["status"], "partially_accepted");
    let reported = app
        .call(
            actix_web::test::TestRequest::put()
                .uri(&format!(
                    "/api/v1/submissions/{}/response",
                    id_of(&late.json())
                ))
                .insert_header(("Authorization", format!("Bearer {}", w.ngo_a)))
                .set_json(json!({"status": "not_considered"})),
        )
        .await;
    reported.assert_status(200);
    assert!(reported.json()["response"]["responded_on"].is_string());

    let by_status = app
        .get(
            "/api/v1/submissions?response_status=partially_accepted",
            None,
        )
        .await;
    assert_eq!(by_status.json()["items"].as_array().map(Vec::len), Some(1));
    let by_org = app
        .get(
            &format!("/api/v1/submissions?organization_id={}", w.org_b),
            None,
        )
        .await;
    assert_eq!(by_org.json()["items"].as_array().map(Vec::len), Some(1));
    let by_agency = app
        .get(
            &format!(
                "/api/v1/submissions?responsible_agency_id={}",
                w.host_agency
            ),
            None,
        )
        .await;
    assert_eq!(by_agency.json()["items"].as_array().map(Vec::len), Some(2));
    let of_consultation = app
        .get(
            &format!("/api/v1/consultations/{c}/submissions?format=csv"),
            None,
        )
        .await;
    assert_eq!(of_consultation.text().lines().count(), 3);
}

#[actix_web::test]
async fn bad_consultations_and_submissions_are_refused_and_nothing_is_written() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let c = consultation(&app, &w, "internal").await;
    let before = app.snapshot().await;
    let base = json!({"title": "Проект", "act_type": "law", "responsible_agency_id": w.host_agency, "level": "national", "opens_on": "2026-02-01", "closes_on": "2026-03-01"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    app.post(
        "/api/v1/consultations",
        Some(&w.ngo_a),
        &with("closes_on", json!("2026-01-01")),
    )
    .await
    .assert_invalid("closes_on");
    app.post(
        "/api/v1/consultations",
        Some(&w.ngo_a),
        &with("act_type", json!("ukase")),
    )
    .await
    .assert_invalid("act_type");
    app.post(
        "/api/v1/consultations",
        Some(&w.ngo_a),
        &with("responsible_agency_id", json!(uuid::Uuid::now_v7())),
    )
    .await
    .assert_invalid("responsible_agency_id");
    app.post(
        "/api/v1/consultations",
        Some(&w.ngo_a),
        &with(
            "adopted_act",
            json!({"title": "Закон", "adopted_on": "2026-05-01"}),
        ),
    )
    .await
    .assert_invalid("adopted_act");
    app.post("/api/v1/consultations", Some(&w.officer_host), &base)
        .await
        .assert_problem(403);
    app.post("/api/v1/consultations", Some(&w.analyst), &base)
        .await
        .assert_problem(403);

    let subs = format!("/api/v1/consultations/{c}/submissions");
    app.post(
        &subs,
        Some(&w.ngo_a),
        &json!({"organization_ids": [], "proposal": "x"}),
    )
    .await
    .assert_invalid("organization_ids");
    app.post(&subs, Some(&w.ngo_a), &json!({"proposal": "x"}))
        .await
        .assert_invalid("organization_ids");
    app.post(
        &subs,
        Some(&w.ngo_a),
        &json!({"organization_ids": [w.org_b], "proposal": "not mine"}),
    )
    .await
    .assert_problem(403);
    app.post(
        &subs,
        Some(&w.officer_host),
        &json!({"organization_ids": [w.org_a], "proposal": "x"}),
    )
    .await
    .assert_problem(403);
    app.post(
        &subs,
        Some(&w.admin),
        &json!({"organization_ids": [uuid::Uuid::now_v7()], "proposal": "x"}),
    )
    .await
    .assert_invalid("organization_ids[0]");
    app.post(
        &subs,
        Some(&w.ngo_a),
        &json!({"organization_ids": [w.org_a], "proposal": "  "}),
    )
    .await
    .assert_invalid("proposal");
    app.post(
        &format!("/api/v1/consultations/{}/submissions", w.meeting),
        Some(&w.admin),
        &json!({"organization_ids": [w.org_a], "proposal": "x"}),
    )
    .await
    .assert_problem(404);
    app.snapshot().await.assert_unchanged_from(&before);
    // Each case broke one field (or the caller) of a consultation an NGO member may open.
    let accepted = app
        .post("/api/v1/consultations", Some(&w.ngo_a), &base)
        .await;
    accepted.assert_status(201);
    assert_eq!(
        accepted.json()["owner_organization_id"],
        w.org_a.to_string()
    );

    let sub = app
        .post(
            &subs,
            Some(&w.ngo_a),
            &json!({"organization_ids": [w.org_a], "proposal": "Предложение"}),
        )
        .await;
    sub.assert_status(201);
    let answer_url = format!("/api/v1/submissions/{}/response", id_of(&sub.json()));
    let put = |token: &str, body: Value| {
        actix_web::test::TestRequest::put()
            .uri(&answer_url)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .set_json(body)
    };
    let before = app.snapshot().await;
    app.call(put(&w.officer_other, json!({"status": "accepted"})))
        .await
        .assert_problem(403);
    app.call(put(&w.ngo_b, json!({"status": "accepted"})))
        .await
        .assert_problem(403);
    app.call(put(&w.analyst, json!({"status": "accepted"})))
        .await
        .assert_problem(403);
    app.call(put(&w.officer_host, json!({"status": "ignored"})))
        .await
        .assert_invalid("status");
    app.call(put(
        &w.officer_host,
        json!({"status": "accepted", "responded_on": "2000-01-01"}),
    ))
    .await
    .assert_invalid("responded_on");
    app.patch(
        &format!("/api/v1/submissions/{}", id_of(&sub.json())),
        Some(&w.ngo_b),
        &json!({"proposal": "hijack"}),
    )
    .await
    .assert_problem(403);
    app.snapshot().await.assert_unchanged_from(&before);
    // The submitting organisation edits, then the responsible agency's officer answers (what it answered is
    // then fixed, see `provenance`).
    let sid = id_of(&sub.json());
    let edited = app
        .patch(
            &format!("/api/v1/submissions/{sid}"),
            Some(&w.ngo_a),
            &json!({"proposal": "Уточнённое предложение"}),
        )
        .await;
    assert_eq!(
        edited.assert_record(sid)["proposal"],
        "Уточнённое предложение"
    );
    let answer = app
        .call(put(
            &w.officer_host,
            json!({"status": "accepted", "text": "Принято"}),
        ))
        .await;
    assert_eq!(answer.assert_record(sid)["response"]["status"], "accepted");
    // A consultation with submissions cannot be deleted; one without can.
    let before = app.snapshot().await;
    app.delete_read(&format!("/api/v1/consultations/{c}"), Some(&w.admin))
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
    let empty = format!("/api/v1/consultations/{}", id_of(&accepted.json()));
    app.delete_read(&empty, Some(&w.admin))
        .await
        .assert_status(204);
    app.get(&empty, Some(&w.admin)).await.assert_problem(404);
}

#[actix_web::test]
async fn internal_consultations_and_their_submissions_are_hidden_from_the_public() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let c = consultation(&app, &w, "internal").await;
    let sub = app
        .post(
            &format!("/api/v1/consultations/{c}/submissions"),
            Some(&w.ngo_a),
            &json!({"organization_ids": [w.org_a], "proposal": "x"}),
        )
        .await;
    sub.assert_status(201);
    let sid = id_of(&sub.json());
    app.get(&format!("/api/v1/consultations/{c}"), None)
        .await
        .assert_problem(404);
    app.get(&format!("/api/v1/submissions/{sid}"), None)
        .await
        .assert_problem(404);
    for list in ["/api/v1/consultations", "/api/v1/submissions"] {
        assert_eq!(
            app.get(list, None).await.item_ids(),
            Vec::<String>::new(),
            "{list}"
        );
    }
    // Signed-in readers get what the public does not.
    app.get(&format!("/api/v1/consultations/{c}"), Some(&w.analyst))
        .await
        .assert_record(c);
    app.get(&format!("/api/v1/submissions/{sid}"), Some(&w.analyst))
        .await
        .assert_record(sid);
    assert_eq!(
        app.get("/api/v1/consultations", Some(&w.analyst))
            .await
            .item_ids(),
        [c.to_string()]
    );
    assert_eq!(
        app.get("/api/v1/submissions", Some(&w.analyst))
            .await
            .item_ids(),
        [sid.to_string()]
    );
    let restricted = consultation(&app, &w, "restricted").await;
    app.get(
        &format!("/api/v1/consultations/{restricted}"),
        Some(&w.analyst),
    )
    .await
    .assert_problem(404);
    app.get(
        &format!("/api/v1/consultations/{restricted}"),
        Some(&w.ngo_a),
    )
    .await
    .assert_record(restricted);
}

#[actix_web::test]
async fn a_co_submitter_reads_and_may_withdraw_but_only_the_maker_changes_a_submission() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let c = consultation(&app, &w, "public").await;
    let made = app
        .post(&format!("/api/v1/consultations/{c}/submissions"), Some(&w.ngo_b), &json!({
            "organization_ids": [w.org_b, w.org_a], "proposal": "Сократить сроки регистрации", "submitted_on": "2026-02-20"}))
        .await;
    made.assert_status(201);
    assert_eq!(made.json()["owner_organization_id"], w.org_b.to_string());
    let s = id_of(&made.json());
    let path = format!("/api/v1/submissions/{s}");
    let before = app.snapshot().await;
    // Named by B, A changes nothing: not the text, not the answer, not B's place in it.
    app.patch(&path, Some(&w.ngo_a), &json!({"proposal": "Иное"}))
        .await
        .assert_problem(403);
    app.patch(
        &path,
        Some(&w.ngo_a),
        &json!({"organization_ids": [w.org_a]}),
    )
    .await
    .assert_problem(403);
    app.put(
        &format!("{path}/response"),
        Some(&w.ngo_a),
        &json!({"status": "accepted"}),
    )
    .await
    .assert_problem(403);
    app.delete(&path, Some(&w.ngo_a)).await.assert_problem(403);
    app.delete(&format!("{path}/organizations/{}", w.org_b), Some(&w.ngo_a))
        .await
        .assert_problem(403);
    // The maker cannot "withdraw" from its own submission (it deletes it), nor drop itself from it.
    app.delete(&format!("{path}/organizations/{}", w.org_b), Some(&w.ngo_b))
        .await
        .assert_problem(403);
    app.patch(
        &path,
        Some(&w.ngo_b),
        &json!({"organization_ids": [w.org_a]}),
    )
    .await
    .assert_invalid("organization_ids");
    app.snapshot().await.assert_unchanged_from(&before);
    // A reads it, and leaves it.
    assert_eq!(
        app.get(&path, Some(&w.ngo_a)).await.assert_record(s)["organization_ids"],
        json!([w.org_b, w.org_a])
    );
    app.delete(&format!("{path}/organizations/{}", w.org_a), Some(&w.ngo_a))
        .await
        .assert_status(204);
    let after = app.get(&path, Some(&w.ngo_b)).await;
    assert_eq!(after.assert_record(s)["organization_ids"], json!([w.org_b]));
    let parties = app
        .get(&format!("/api/v1/engagements/{c}"), None)
        .await
        .json()["parties"]
        .clone();
    let submits = |org: uuid::Uuid| {
        parties
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["organization_id"] == org.to_string() && p["role"] == "submitter")
    };
    assert!(submits(w.org_b) && !submits(w.org_a), "{parties}");
    // The maker edits; the last submitter cannot leave.
    let edited = app
        .patch(
            &path,
            Some(&w.ngo_b),
            &json!({"proposal": "Сократить сроки до 15 дней"}),
        )
        .await;
    assert_eq!(
        edited.assert_record(s)["proposal"],
        "Сократить сроки до 15 дней"
    );
    app.delete(&format!("{path}/organizations/{}", w.org_b), Some(&w.admin))
        .await
        .assert_problem(409);
}

#[actix_web::test]
async fn a_co_submitter_leaves_a_submission_to_a_restricted_consultation_it_can_then_no_longer_read()
 {
    let app = TestApp::new().await;
    let w = app.world().await;
    let c = consultation(&app, &w, "restricted").await;
    let made = app
        .post(&format!("/api/v1/consultations/{c}/submissions"), Some(&w.ngo_a), &json!({
            "organization_ids": [w.org_a, w.org_b], "proposal": "Закрепить право на адвоката", "submitted_on": "2026-02-20"}))
        .await;
    made.assert_status(201);
    let s = id_of(&made.json());
    let path = format!("/api/v1/submissions/{s}");
    app.get(&path, Some(&w.ngo_b)).await.assert_record(s);
    app.delete(&format!("{path}/organizations/{}", w.org_b), Some(&w.ngo_b))
        .await
        .assert_status(204);
    app.get(&path, Some(&w.ngo_b)).await.assert_problem(404);
    let kept = app.get(&path, Some(&w.ngo_a)).await;
    assert_eq!(kept.assert_record(s)["organization_ids"], json!([w.org_a]));
}
