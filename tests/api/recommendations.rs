//! Recommendations: issued from engagements, answered by the agency, their lifecycle and history.

use actix_web::test::TestRequest;
use serde_json::{Value, json};

use crate::support::{TestApp, id_of};

async fn status(
    app: &TestApp,
    id: uuid::Uuid,
    token: &str,
    body: Value,
) -> crate::support::Response {
    app.post(
        &format!("/api/v1/recommendations/{id}/status"),
        Some(token),
        &body,
    )
    .await
}

#[actix_web::test]
async fn the_agency_answers_and_the_history_keeps_every_step() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let r = w.recommendation;
    let created = app
        .get(&format!("/api/v1/recommendations/{r}"), Some(&w.analyst))
        .await;
    created.assert_status(200);
    assert_eq!(created.json()["status"], "issued");
    assert_eq!(created.json()["engagement_kind"], "meeting");
    assert_eq!(
        created.json()["status_history"].as_array().map(Vec::len),
        Some(1)
    );

    status(
        &app,
        r,
        &w.officer_host,
        json!({"status": "acknowledged", "note": "Получено"}),
    )
    .await
    .assert_status(200);
    status(
        &app,
        r,
        &w.officer_host,
        json!({"status": "implemented", "note": "Адвокаты допущены"}),
    )
    .await
    .assert_status(200);
    let done = app
        .get(&format!("/api/v1/recommendations/{r}"), Some(&w.analyst))
        .await
        .json();
    let history = done["status_history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let steps: Vec<&str> = history
        .iter()
        .filter_map(|h| h["status"].as_str())
        .collect();
    assert_eq!(steps, ["issued", "acknowledged", "implemented"]);
    assert_eq!(history[2]["note"], "Адвокаты допущены");
    assert!(history[2]["changed_by"].is_string() && history[2]["changed_at"].is_string());
    assert_eq!(done["version"], 3);

    let before = app.snapshot().await;
    status(&app, r, &w.officer_host, json!({"status": "acknowledged"}))
        .await
        .assert_invalid("status");
    status(
        &app,
        r,
        &w.officer_host,
        json!({"status": "in_progress", "note": "reopen"}),
    )
    .await
    .assert_invalid("status");
    status(&app, r, &w.admin, json!({"status": "in_progress"}))
        .await
        .assert_invalid("note");
    status(
        &app,
        r,
        &w.admin,
        json!({"status": "issued", "note": "again"}),
    )
    .await
    .assert_invalid("status");
    status(&app, r, &w.admin, json!({"status": "finished"}))
        .await
        .assert_invalid("status");
    app.snapshot().await.assert_unchanged_from(&before);
    let reopened = status(
        &app,
        r,
        &w.admin,
        json!({"status": "in_progress", "note": "Проверка показала, что доступа нет"}),
    )
    .await;
    reopened.assert_status(200);
    assert_eq!(
        reopened.json()["status_history"].as_array().map(Vec::len),
        Some(4)
    );
}

#[actix_web::test]
async fn only_the_addressed_agency_the_issuer_and_admins_answer() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let before = app.snapshot().await;
    for token in [
        &w.officer_other,
        &w.analyst,
        &w.secretary_b,
        &w.ngo_a,
        &w.ngo_b,
    ] {
        status(
            &app,
            w.recommendation,
            token,
            json!({"status": "acknowledged"}),
        )
        .await
        .assert_problem(403);
    }
    let res = app
        .call(
            TestRequest::post()
                .uri(&format!(
                    "/api/v1/recommendations/{}/status",
                    w.recommendation
                ))
                .set_json(json!({"status": "acknowledged"})),
        )
        .await;
    res.assert_problem(401);
    app.snapshot().await.assert_unchanged_from(&before);
    // The addressed agency's officer may send the same answer.
    let answered = status(
        &app,
        w.recommendation,
        &w.officer_host,
        json!({"status": "acknowledged"}),
    )
    .await;
    assert_eq!(
        answered.assert_record(w.recommendation)["status"],
        "acknowledged"
    );
}

#[actix_web::test]
async fn an_ngo_member_cannot_touch_recommendations_of_another_organisations_hearing() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let hearing = app
        .insert_engagement(
            "hearing",
            Some(w.org_a),
            "internal",
            &[(w.org_a, "organizer")],
        )
        .await;
    let created = app
        .post(&format!("/api/v1/engagements/{hearing}/recommendations"), Some(&w.ngo_a),
              &json!({"text": "Принять закон о профилактике насилия в семье", "addressed_to_agency_id": w.other_agency}))
        .await;
    created.assert_status(201);
    let r = id_of(&created.json());
    let restricted = app
        .insert_engagement(
            "hearing",
            Some(w.org_a),
            "restricted",
            &[(w.org_a, "organizer")],
        )
        .await;
    let before = app.snapshot().await;
    status(
        &app,
        r,
        &w.ngo_b,
        json!({"status": "rejected", "note": "sabotage"}),
    )
    .await
    .assert_problem(403);
    app.patch_read(
        &format!("/api/v1/recommendations/{r}"),
        Some(&w.ngo_b),
        &json!({"text": "changed"}),
    )
    .await
    .assert_problem(403);
    app.post(
        &format!("/api/v1/engagements/{hearing}/recommendations"),
        Some(&w.ngo_b),
        &json!({"text": "x", "addressed_to_agency_id": w.other_agency}),
    )
    .await
    .assert_problem(403);
    app.post(
        &format!("/api/v1/engagements/{restricted}/recommendations"),
        Some(&w.ngo_b),
        &json!({"text": "x", "addressed_to_agency_id": w.other_agency}),
    )
    .await
    .assert_problem(404);
    app.snapshot().await.assert_unchanged_from(&before);
    // The issuing organisation may do each of these: edit, issue (also from the restricted hearing), and
    // record the answer it received.
    let edited = app
        .patch_read(
            &format!("/api/v1/recommendations/{r}"),
            Some(&w.ngo_a),
            &json!({"text": "changed"}),
        )
        .await;
    assert_eq!(edited.assert_record(r)["text"], "changed");
    for engagement in [hearing, restricted] {
        let res = app
            .post(
                &format!("/api/v1/engagements/{engagement}/recommendations"),
                Some(&w.ngo_a),
                &json!({"text": "x", "addressed_to_agency_id": w.other_agency}),
            )
            .await;
        res.assert_status(201);
        assert_eq!(res.json()["engagement_id"], engagement.to_string());
    }
    let answered = status(
        &app,
        r,
        &w.ngo_a,
        json!({"status": "rejected", "note": "Министерство отказало письмом"}),
    )
    .await;
    assert_eq!(answered.assert_record(r)["status"], "rejected");
}

#[actix_web::test]
async fn rejection_needs_a_reason_and_no_response_waits_for_the_due_date() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let new = |due: &str| json!({"text": "Опубликовать статистику", "addressed_to_agency_id": w.host_agency, "issued_on": "2025-01-10", "due_on": due});
    let late = id_of(
        &app.post(
            &format!("/api/v1/engagements/{}/recommendations", w.meeting),
            Some(&w.secretary_a),
            &new("2025-03-01"),
        )
        .await
        .json(),
    );
    let future = id_of(
        &app.post(
            &format!("/api/v1/engagements/{}/recommendations", w.meeting),
            Some(&w.secretary_a),
            &new("2099-01-01"),
        )
        .await
        .json(),
    );
    let before = app.snapshot().await;
    status(&app, future, &w.officer_host, json!({"status": "rejected"}))
        .await
        .assert_invalid("note");
    status(&app, future, &w.admin, json!({"status": "no_response"}))
        .await
        .assert_invalid("status");
    app.post(
        &format!("/api/v1/engagements/{}/recommendations", w.meeting),
        Some(&w.secretary_a),
        &new("2024-01-01"),
    )
    .await
    .assert_invalid("due_on");
    app.snapshot().await.assert_unchanged_from(&before);
    let rejected = status(
        &app,
        future,
        &w.officer_host,
        json!({"status": "rejected", "note": "Нет средств"}),
    )
    .await;
    assert_eq!(rejected.assert_record(future)["status"], "rejected");
    status(
        &app,
        late,
        &w.admin,
        json!({"status": "no_response", "note": "Ответа нет"}),
    )
    .await
    .assert_status(200);
    status(
        &app,
        late,
        &w.officer_host,
        json!({"status": "in_progress", "note": "Ответили с опозданием"}),
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn overdue_is_computed_and_filters_narrow_the_list() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let post = |text: &str, due: &str| json!({"text": text, "addressed_to_agency_id": w.other_agency, "issued_on": "2025-01-10", "due_on": due, "priority": "high"});
    let overdue = id_of(
        &app.post(
            &format!("/api/v1/engagements/{}/recommendations", w.meeting),
            Some(&w.secretary_a),
            &post("Просрочено", "2025-02-01"),
        )
        .await
        .json(),
    );
    let done = id_of(
        &app.post(
            &format!("/api/v1/engagements/{}/recommendations", w.meeting),
            Some(&w.secretary_a),
            &post("Выполнено", "2025-02-01"),
        )
        .await
        .json(),
    );
    status(&app, done, &w.admin, json!({"status": "implemented"}))
        .await
        .assert_status(200);

    let ids = |res: crate::support::Response| -> Vec<String> {
        res.assert_status(200);
        res.json()["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["id"].as_str().map(str::to_owned))
            .collect()
    };
    let overdue_ids = ids(app
        .get("/api/v1/recommendations?overdue=true", Some(&w.analyst))
        .await);
    assert!(
        overdue_ids.contains(&overdue.to_string()) && !overdue_ids.contains(&done.to_string()),
        "{overdue_ids:?}"
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/recommendations/{overdue}"),
            Some(&w.analyst)
        )
        .await
        .json()["overdue"],
        true
    );
    assert_eq!(
        app.get(&format!("/api/v1/recommendations/{done}"), Some(&w.analyst))
            .await
            .json()["overdue"],
        false
    );
    assert_eq!(
        ids(app
            .get(
                &format!(
                    "/api/v1/recommendations?addressed_to_agency_id={}",
                    w.other_agency
                ),
                Some(&w.analyst)
            )
            .await)
        .len(),
        2
    );
    assert_eq!(
        ids(app
            .get(
                "/api/v1/recommendations?status=implemented",
                Some(&w.analyst)
            )
            .await),
        [done.to_string()]
    );
    assert_eq!(
        ids(app
            .get(
                &format!(
                    "/api/v1/recommendations?engagement_id={}&kind=meeting",
                    w.meeting
                ),
                Some(&w.analyst)
            )
            .await)
        .len(),
        3
    );
    assert_eq!(
        ids(app
            .get("/api/v1/recommendations?kind=hearing", Some(&w.analyst))
            .await)
        .len(),
        0
    );
    assert_eq!(
        ids(app
            .get(
                "/api/v1/recommendations?from=2025-01-01&to=2025-12-31",
                Some(&w.analyst)
            )
            .await)
        .len(),
        2
    );
    app.get("/api/v1/recommendations?overdue=maybe", Some(&w.analyst))
        .await
        .assert_invalid("overdue");
    app.get(
        "/api/v1/recommendations?from=2025-05-01&to=2025-01-01",
        Some(&w.analyst),
    )
    .await
    .assert_invalid("to");
    let csv = app
        .get(
            "/api/v1/recommendations?format=csv&overdue=false",
            Some(&w.analyst),
        )
        .await;
    assert_eq!(
        csv.text().lines().count(),
        2,
        "the header and the implemented one"
    );
    // Internal recommendations are not public: signed-in readers get all three.
    assert_eq!(ids(app.get("/api/v1/recommendations", None).await).len(), 0);
    assert_eq!(
        ids(app.get("/api/v1/recommendations", Some(&w.analyst)).await).len(),
        3
    );
}

#[actix_web::test]
async fn concurrent_status_changes_with_a_stale_if_match_leave_only_the_winner() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let uri = format!("/api/v1/recommendations/{}/status", w.recommendation);
    let send = |token: &str, body: Value| {
        TestRequest::post()
            .uri(&uri)
            .insert_header(("Authorization", format!("Bearer {token}")))
            .insert_header(("If-Match", "\"1\""))
            .set_json(body)
    };
    let (a, b) = tokio::join!(
        app.call(send(&w.officer_host, json!({"status": "acknowledged"}))),
        app.call(send(
            &w.admin,
            json!({"status": "rejected", "note": "дубль"})
        ))
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412]);
    let history = app
        .count(&format!(
            "SELECT count(*) FROM recommendation_status_history WHERE recommendation_id = '{}'",
            w.recommendation
        ))
        .await;
    assert_eq!(history, 2, "issued + the winner only");
    let current = app
        .get(
            &format!("/api/v1/recommendations/{}", w.recommendation),
            Some(&w.admin),
        )
        .await
        .json();
    assert_eq!(current["version"], 2);
}

#[actix_web::test]
async fn recommendation_edits_are_checked() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let path = format!("/api/v1/recommendations/{}", w.recommendation);
    let before = app.snapshot().await;
    app.patch_read(
        &path,
        Some(&w.secretary_a),
        &json!({"addressed_to_agency_id": uuid::Uuid::now_v7()}),
    )
    .await
    .assert_invalid("addressed_to_agency_id");
    app.patch_read(
        &path,
        Some(&w.secretary_a),
        &json!({"due_on": "2026-01-01"}),
    )
    .await
    .assert_invalid("due_on");
    app.patch_read(
        &path,
        Some(&w.secretary_a),
        &json!({"status": "implemented"}),
    )
    .await
    .assert_invalid("status");
    app.patch_read(&path, Some(&w.officer_host), &json!({"priority": "low"}))
        .await
        .assert_problem(403);
    app.post(
        &format!(
            "/api/v1/engagements/{}/recommendations",
            uuid::Uuid::now_v7()
        ),
        Some(&w.admin),
        &json!({"text": "x", "addressed_to_agency_id": w.host_agency}),
    )
    .await
    .assert_problem(404);
    app.post(
        &format!("/api/v1/engagements/{}/recommendations", w.meeting),
        Some(&w.admin),
        &json!({"text": "", "addressed_to_agency_id": w.host_agency}),
    )
    .await
    .assert_invalid("text");
    app.snapshot().await.assert_unchanged_from(&before);
    let issued = app
        .post(
            &format!("/api/v1/engagements/{}/recommendations", w.meeting),
            Some(&w.admin),
            &json!({"text": "x", "addressed_to_agency_id": w.host_agency}),
        )
        .await;
    issued.assert_status(201);
    assert_eq!(issued.json()["engagement_id"], w.meeting.to_string());
    let res = app
        .patch_read(
            &path,
            Some(&w.secretary_a),
            &json!({"priority": "high", "due_on": null}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["due_on"], Value::Null);
}
