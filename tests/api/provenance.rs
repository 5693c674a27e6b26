//! Provenance of answers: who recorded a recommendation's status or a submission's response, on whose authority,
//! the day it took effect; and the terms an answer responds to, fixed once it exists.

use actix_web::test::TestRequest;
use chrono::{Days, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Response, TestApp, World, id_of};

fn today() -> chrono::NaiveDate {
    Utc::now().date_naive()
}

fn day(offset: i64) -> String {
    let today = today();
    let moved = if offset >= 0 {
        today.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    };
    moved.unwrap_or(today).to_string()
}

/// A recommendation organisation A issues from its own hearing to the other agency.
async fn issued_by_a(app: &TestApp, w: &World, body: Value) -> Uuid {
    let hearing = app
        .insert_engagement(
            "hearing",
            Some(w.org_a),
            "internal",
            &[(w.org_a, "organizer")],
        )
        .await;
    let mut body = body;
    body["text"] = json!("Обеспечить доступ адвоката с момента задержания");
    body["addressed_to_agency_id"] = json!(w.other_agency);
    let res = app
        .post(
            &format!("/api/v1/engagements/{hearing}/recommendations"),
            Some(&w.ngo_a),
            &body,
        )
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

async fn answer(app: &TestApp, id: Uuid, token: &str, body: Value) -> Response {
    app.post(
        &format!("/api/v1/recommendations/{id}/status"),
        Some(token),
        &body,
    )
    .await
}

/// A PATCH carrying the version last read, as a client that guards against lost updates sends it.
async fn patch_current(app: &TestApp, path: &str, token: &str, body: Value) -> Response {
    let version = app.get(path, Some(token)).await.json()["version"].clone();
    app.call(
        TestRequest::patch()
            .uri(path)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("If-Match", format!("\"{version}\"")))
            .set_json(body),
    )
    .await
}

fn last_change(recommendation: &Value) -> Value {
    recommendation["status_history"]
        .as_array()
        .and_then(|h| h.last())
        .cloned()
        .unwrap_or(Value::Null)
}

#[actix_web::test]
async fn only_the_addressed_agency_speaks_as_the_agency() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let reported = issued_by_a(&app, &w, json!({})).await;
    let answered = issued_by_a(&app, &w, json!({})).await;

    // The issuing NGO reports the answer it received: kept, but as the NGO's word.
    let res = answer(
        &app,
        reported,
        &w.ngo_a,
        json!({
        "status": "implemented", "note": "Министерство сообщило письмом", "effective_on": day(0),
        "evidence_url": "https://example.tj/letters/17.pdf"}),
    )
    .await;
    let body = res.assert_record(reported);
    assert_eq!(body["status_source"], "ngo");
    assert_eq!(body["issuer_organization_id"], w.org_a.to_string());
    let change = last_change(&body);
    assert_eq!(change["source"], "ngo");
    assert_eq!(change["recorder_role"], "ngo_member");
    assert_eq!(change["recorder_organization_id"], w.org_a.to_string());
    assert_eq!(change["evidence_url"], "https://example.tj/letters/17.pdf");
    assert_eq!(change["effective_on"], day(0));

    // The addressed agency's officer answers itself: the agency's word.
    let res = answer(
        &app,
        answered,
        &w.officer_other,
        json!({"status": "acknowledged"}),
    )
    .await;
    let body = res.assert_record(answered);
    assert_eq!(body["status_source"], "agency");
    let change = last_change(&body);
    assert_eq!(change["source"], "agency");
    assert_eq!(change["recorder_role"], "agency_officer");
    assert_eq!(change["recorder_agency_id"], w.other_agency.to_string());
    assert_eq!(
        change["effective_on"],
        day(0),
        "defaults to the day recorded"
    );

    // Lists tell them apart, and find an organisation's own recommendations.
    let ids = async |query: &str| {
        app.get(
            &format!("/api/v1/recommendations?{query}"),
            Some(&w.analyst),
        )
        .await
        .item_ids()
    };
    assert_eq!(ids("status_source=agency").await, [answered.to_string()]);
    assert_eq!(ids("status_source=ngo").await, [reported.to_string()]);
    let mut issued = ids(&format!("issuer_organization_id={}", w.org_a)).await;
    issued.sort();
    let mut expected = vec![reported.to_string(), answered.to_string()];
    expected.sort();
    assert_eq!(issued, expected);
    assert!(
        ids(&format!("issuer_organization_id={}", w.org_b))
            .await
            .is_empty()
    );
    let csv = app
        .get(
            "/api/v1/recommendations?format=csv&status_source=agency",
            Some(&w.analyst),
        )
        .await
        .text();
    assert!(
        csv.lines()
            .next()
            .is_some_and(|h| h.contains("status_source"))
    );
    assert!(csv.contains(&answered.to_string()) && !csv.contains(&reported.to_string()));
}

#[actix_web::test]
async fn an_answer_takes_effect_between_the_issue_and_today() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let r = issued_by_a(&app, &w, json!({"issued_on": day(-30)})).await;
    let before = app.snapshot().await;
    for effective_on in [day(1), day(-31)] {
        answer(
            &app,
            r,
            &w.officer_other,
            json!({"status": "acknowledged", "effective_on": effective_on}),
        )
        .await
        .assert_invalid("effective_on");
    }
    answer(
        &app,
        r,
        &w.officer_other,
        json!({"status": "acknowledged", "evidence_url": "javascript:alert(1)"}),
    )
    .await
    .assert_invalid("evidence_url");
    app.snapshot().await.assert_unchanged_from(&before);
    let res = answer(
        &app,
        r,
        &w.officer_other,
        json!({"status": "acknowledged", "effective_on": day(-30)}),
    )
    .await;
    assert_eq!(last_change(&res.assert_record(r))["effective_on"], day(-30));
}

#[actix_web::test]
async fn the_terms_of_an_answered_recommendation_are_fixed() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let r = issued_by_a(&app, &w, json!({"issued_on": day(-10), "due_on": day(20)})).await;
    let path = format!("/api/v1/recommendations/{r}");

    // Before an answer, the deadline may move, but not into the past (which would make it overdue at once).
    let before = app.snapshot().await;
    patch_current(&app, &path, &w.ngo_a, json!({"due_on": day(-1)}))
        .await
        .assert_invalid("due_on");
    answer(&app, r, &w.ngo_a, json!({"status": "no_response"}))
        .await
        .assert_invalid("status");
    app.snapshot().await.assert_unchanged_from(&before);
    let moved = patch_current(&app, &path, &w.ngo_a, json!({"due_on": day(30)})).await;
    assert_eq!(moved.assert_record(r)["due_on"], day(30));

    answer(&app, r, &w.officer_other, json!({"status": "acknowledged"}))
        .await
        .assert_status(200);
    // Now the issuer can neither re-address it (moving the agency's answer) nor shift its dates.
    let before = app.snapshot().await;
    for (field, value) in [
        ("addressed_to_agency_id", json!(w.host_agency)),
        ("issued_on", json!(day(-100))),
        ("due_on", json!(day(-5))),
        ("due_on", json!(null)),
    ] {
        patch_current(&app, &path, &w.ngo_a, json!({ field: value }))
            .await
            .assert_invalid(field);
    }
    app.snapshot().await.assert_unchanged_from(&before);
    // Nor rewrite what the agency answered; its priority may still change, and an admin may correct the terms
    // (the audit log keeps it).
    patch_current(&app, &path, &w.ngo_a, json!({"text": "Уточнённый текст"}))
        .await
        .assert_invalid("text");
    let edited = patch_current(&app, &path, &w.ngo_a, json!({"priority": "high"})).await;
    assert_eq!(edited.assert_record(r)["priority"], "high");
    let corrected = patch_current(&app, &path, &w.admin, json!({"due_on": day(40)})).await;
    assert_eq!(corrected.assert_record(r)["due_on"], day(40));
    let audited = app
        .count(&format!(
            "SELECT count(*) FROM audit_log WHERE entity_id = '{r}' AND action = 'update' \
             AND after->>'due_on' = '{}'",
            day(40)
        ))
        .await;
    assert_eq!(audited, 1);
}

#[actix_web::test]
async fn no_response_needs_a_deadline_the_agency_could_see_pass() {
    let app = TestApp::new().await;
    let w = app.world().await;
    // An NGO may log an old recommendation, deadline long past, but not call it unanswered at once: the agency
    // never had the chance to answer it here. Nor issue one in the future, which no answer could follow.
    let old = issued_by_a(
        &app,
        &w,
        json!({"issued_on": day(-400), "due_on": day(-300)}),
    )
    .await;
    let before = app.snapshot().await;
    answer(&app, old, &w.ngo_a, json!({"status": "no_response"}))
        .await
        .assert_invalid("status");
    app.snapshot().await.assert_unchanged_from(&before);
    let hearing = app
        .insert_engagement(
            "hearing",
            Some(w.org_a),
            "internal",
            &[(w.org_a, "organizer")],
        )
        .await;
    let before = app.snapshot().await;
    app.post(
        &format!("/api/v1/engagements/{hearing}/recommendations"),
        Some(&w.ngo_a),
        &json!({"text": "x", "addressed_to_agency_id": w.other_agency, "issued_on": day(1)}),
    )
    .await
    .assert_invalid("issued_on");
    app.snapshot().await.assert_unchanged_from(&before);
    // An admin may record it for an old one, dated after the deadline, and it is the admin's word.
    answer(
        &app,
        old,
        &w.admin,
        json!({"status": "no_response", "effective_on": day(-300)}),
    )
    .await
    .assert_invalid("effective_on");
    let recorded = answer(
        &app,
        old,
        &w.admin,
        json!({"status": "no_response", "effective_on": day(-299)}),
    )
    .await;
    let body = recorded.assert_record(old);
    assert_eq!(body["status"], "no_response");
    assert_eq!(last_change(&body)["source"], "admin");
}

async fn consultation(app: &TestApp, w: &World) -> Uuid {
    let res = app
        .post(
            "/api/v1/consultations",
            Some(&w.ngo_a),
            &json!({
            "title": "Проект Закона «О профилактике насилия в семье»", "act_type": "law",
            "responsible_agency_id": w.host_agency, "level": "national",
            "opens_on": day(-20), "closes_on": day(-5), "visibility": "public"}),
        )
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

#[actix_web::test]
async fn submissions_are_dated_within_reason_and_answers_keep_their_provenance() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let c = consultation(&app, &w).await;
    let submit = async |submitted_on: String| {
        app.post(&format!("/api/v1/consultations/{c}/submissions"), Some(&w.ngo_a), &json!({
            "organization_ids": [w.org_a], "proposal": "Закрепить охранные ордера", "submitted_on": submitted_on}))
        .await
    };
    let before = app.snapshot().await;
    submit(day(-21)).await.assert_invalid("submitted_on");
    submit(day(1)).await.assert_invalid("submitted_on");
    app.snapshot().await.assert_unchanged_from(&before);
    let on_time = submit(day(-10)).await;
    on_time.assert_status(201);
    assert_eq!(on_time.json()["late"], false);
    assert_eq!(on_time.json()["response"]["source"], Value::Null);
    let late = submit(day(-1)).await;
    assert_eq!(late.json()["late"], true);
    let (on_time, late) = (id_of(&on_time.json()), id_of(&late.json()));
    let path = format!("/api/v1/submissions/{on_time}");
    patch_current(&app, &path, &w.ngo_a, json!({"submitted_on": day(-25)}))
        .await
        .assert_invalid("submitted_on");

    let respond = async |id: Uuid, token: &str, body: Value| {
        app.put(
            &format!("/api/v1/submissions/{id}/response"),
            Some(token),
            &body,
        )
        .await
    };
    respond(
        on_time,
        &w.officer_host,
        json!({"status": "accepted", "responded_on": day(1)}),
    )
    .await
    .assert_invalid("responded_on");
    let by_agency = respond(
        on_time,
        &w.officer_host,
        json!({
        "status": "accepted", "text": "Учтено", "responded_on": day(-2),
        "evidence_url": "https://example.tj/table-of-comments.pdf"}),
    )
    .await;
    let response = by_agency.assert_record(on_time)["response"].clone();
    assert_eq!(response["source"], "agency");
    assert_eq!(response["recorder_role"], "agency_officer");
    assert_eq!(response["recorder_agency_id"], w.host_agency.to_string());
    assert_eq!(response["responded_on"], day(-2));
    assert_eq!(
        response["evidence_url"],
        "https://example.tj/table-of-comments.pdf"
    );
    assert!(response["recorded_at"].is_string());
    // What the agency answered stays as it was answered: the text and date are fixed for the submitter, and its
    // own answer cannot be replaced by an NGO's report (an admin may correct both).
    let before = app.snapshot().await;
    for (field, value) in [
        ("proposal", json!("Иное")),
        ("submitted_on", json!(day(-3))),
    ] {
        patch_current(&app, &path, &w.ngo_a, json!({ field: value }))
            .await
            .assert_invalid(field);
    }
    respond(on_time, &w.ngo_a, json!({"status": "pending"}))
        .await
        .assert_problem(403);
    app.snapshot().await.assert_unchanged_from(&before);
    let corrected = patch_current(&app, &path, &w.admin, json!({"submitted_on": day(-3)})).await;
    assert_eq!(corrected.assert_record(on_time)["submitted_on"], day(-3));
    // The NGO's report of the answer it got is the NGO's word, not the agency's.
    let reported = respond(late, &w.ngo_a, json!({"status": "accepted"})).await;
    let response = reported.assert_record(late)["response"].clone();
    assert_eq!(response["source"], "ngo");
    assert_eq!(response["recorder_organization_id"], w.org_a.to_string());
    let by_source = app
        .get(
            &format!("/api/v1/consultations/{c}/submissions?response_source=agency"),
            None,
        )
        .await
        .item_ids();
    assert_eq!(by_source, [on_time.to_string()]);
}
