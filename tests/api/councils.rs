//! Councils: the directory of councils, their branches and commissions, and their members.

use serde_json::json;

use crate::support::{TestApp, id_of};

#[actix_web::test]
async fn a_council_page_shows_host_parent_children_and_current_members() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let branch = app
        .post("/api/v1/councils", Some(&w.admin), &json!({"name": "Региональный совет в Согдийской области", "kind": "public_council", "level": "regional", "parent_id": w.council_a, "region_code": "TJ-SU"}))
        .await;
    branch.assert_status(201);
    let commission = app
        .post("/api/v1/councils", Some(&w.admin), &json!({"name": "Комиссия по мониторингу", "kind": "commission", "level": "national", "parent_id": w.council_a}))
        .await;
    commission.assert_status(201);
    app.post(&format!("/api/v1/councils/{}/members", w.council_a), Some(&w.secretary_a), &json!({"organization_id": w.org_a, "role": "member", "representative_name": "Мадина", "since": "2024-01-01"}))
        .await
        .assert_status(201);
    app.post(&format!("/api/v1/councils/{}/members", w.council_a), Some(&w.secretary_a), &json!({"organization_id": w.org_b, "role": "observer", "since": "2020-01-01", "until": "2021-12-31"}))
        .await
        .assert_status(201);

    let children = app
        .get(&format!("/api/v1/councils?parent_id={}", w.council_a), None)
        .await;
    children.assert_status(200);
    assert_eq!(children.json()["items"].as_array().map(Vec::len), Some(2));

    let page = app
        .get(&format!("/api/v1/councils/{}", w.council_a), None)
        .await;
    page.assert_status(200);
    let body = page.json();
    assert_eq!(body["host_agency"]["id"], w.host_agency.to_string());
    assert_eq!(body["children"].as_array().map(Vec::len), Some(2));
    assert_eq!(
        body["members"].as_array().map(Vec::len),
        Some(1),
        "the expired seat is not current: {body}"
    );
    assert_eq!(body["members"][0]["organization_id"], w.org_a.to_string());
    let branch_page = app
        .get(&format!("/api/v1/councils/{}", id_of(&branch.json())), None)
        .await;
    assert_eq!(branch_page.json()["parent"]["id"], w.council_a.to_string());

    let all = app
        .get(
            &format!("/api/v1/councils/{}/members?current=false", w.council_a),
            None,
        )
        .await;
    assert_eq!(all.json()["items"].as_array().map(Vec::len), Some(2));
}

#[actix_web::test]
async fn council_input_is_validated_and_nothing_half_written_remains() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let before = app.snapshot().await;
    let base = json!({"name": "X", "kind": "expert_council", "level": "national"});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    app.post("/api/v1/councils", Some(&w.admin), &json!({"name": "X", "kind": "expert_council", "level": "national", "established_on": "2020-05-01", "dissolved_on": "2019-01-01"}))
        .await
        .assert_invalid("dissolved_on");
    app.post(
        "/api/v1/councils",
        Some(&w.admin),
        &with("host_agency_id", json!(uuid::Uuid::now_v7())),
    )
    .await
    .assert_invalid("host_agency_id");
    app.post(
        "/api/v1/councils",
        Some(&w.admin),
        &with("parent_id", json!(uuid::Uuid::now_v7())),
    )
    .await
    .assert_invalid("parent_id");
    app.post(
        "/api/v1/councils",
        Some(&w.admin),
        &with("kind", json!("party_cell")),
    )
    .await
    .assert_invalid("kind");
    app.post("/api/v1/councils", Some(&w.admin), &with("name", json!("")))
        .await
        .assert_invalid("name");
    app.patch(
        &format!("/api/v1/councils/{}", w.council_a),
        Some(&w.admin),
        &json!({"parent_id": w.council_a}),
    )
    .await
    .assert_invalid("parent_id");
    let members = format!("/api/v1/councils/{}/members", w.council_a);
    app.post(&members, Some(&w.admin), &json!({"role": "member"}))
        .await
        .assert_invalid("organization_id");
    app.post(
        &members,
        Some(&w.admin),
        &json!({"organization_id": w.org_a, "agency_id": w.host_agency, "role": "member"}),
    )
    .await
    .assert_invalid("organization_id");
    app.post(
        &members,
        Some(&w.admin),
        &json!({"organization_id": uuid::Uuid::now_v7(), "role": "member"}),
    )
    .await
    .assert_invalid("organization_id");
    app.post(&members, Some(&w.admin), &json!({"organization_id": w.org_a, "role": "member", "since": "2024-02-01", "until": "2024-01-01"})).await.assert_invalid("until");
    app.post(
        &members,
        Some(&w.admin),
        &json!({"organization_id": w.org_a, "role": "emperor"}),
    )
    .await
    .assert_invalid("role");
    app.post(
        &format!("/api/v1/councils/{}/members", uuid::Uuid::now_v7()),
        Some(&w.admin),
        &json!({"organization_id": w.org_a, "role": "member"}),
    )
    .await
    .assert_problem(404);
    app.snapshot().await.assert_unchanged_from(&before);
    // Each case broke one field of a body that is itself accepted.
    app.post("/api/v1/councils", Some(&w.admin), &base)
        .await
        .assert_status(201);
    let seat = app
        .post(
            &members,
            Some(&w.admin),
            &json!({"organization_id": w.org_a, "role": "member"}),
        )
        .await;
    seat.assert_status(201);
    assert_eq!(seat.json()["organization_id"], w.org_a.to_string());
}

#[actix_web::test]
async fn an_organisation_holds_one_seat_per_council_at_a_time() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let members = format!("/api/v1/councils/{}/members", w.council_a);
    app.post(
        &members,
        Some(&w.admin),
        &json!({"organization_id": w.org_a, "role": "member", "since": "2023-01-01"}),
    )
    .await
    .assert_status(201);
    let before = app.snapshot().await;
    app.post(
        &members,
        Some(&w.admin),
        &json!({"organization_id": w.org_a, "role": "chair", "since": "2025-01-01"}),
    )
    .await
    .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
    // A seat in another council, an earlier closed term, and agencies are fine.
    app.post(
        &format!("/api/v1/councils/{}/members", w.council_b),
        Some(&w.admin),
        &json!({"organization_id": w.org_a, "role": "member"}),
    )
    .await
    .assert_status(201);
    app.post(&members, Some(&w.admin), &json!({"organization_id": w.org_a, "role": "member", "since": "2019-01-01", "until": "2022-12-31"})).await.assert_status(201);
    app.post(
        &members,
        Some(&w.admin),
        &json!({"agency_id": w.host_agency, "role": "chair"}),
    )
    .await
    .assert_status(201);
}

#[actix_web::test]
async fn secretaries_edit_only_their_own_councils() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let path = format!("/api/v1/councils/{}", w.council_a);
    let res = app
        .patch(
            &path,
            Some(&w.secretary_a),
            &json!({"description": "Заседания раз в квартал"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["version"], 2);
    let before = app.snapshot().await;
    app.patch(
        &path,
        Some(&w.secretary_b),
        &json!({"description": "hijack"}),
    )
    .await
    .assert_problem(403);
    app.post(
        &format!("{path}/members"),
        Some(&w.secretary_b),
        &json!({"organization_id": w.org_b, "role": "member"}),
    )
    .await
    .assert_problem(403);
    app.delete(&path, Some(&w.secretary_a))
        .await
        .assert_problem(403);
    app.delete(&format!("/api/v1/councils/{}", w.council_b), Some(&w.admin))
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
    // Council B's own secretary may edit it and seat members; an admin deletes an unreferenced council.
    let b = format!("/api/v1/councils/{}", w.council_b);
    let res = app
        .patch(
            &b,
            Some(&w.secretary_b),
            &json!({"description": "Наш совет"}),
        )
        .await;
    assert_eq!(res.assert_record(w.council_b)["description"], "Наш совет");
    app.post(
        &format!("{b}/members"),
        Some(&w.secretary_b),
        &json!({"organization_id": w.org_b, "role": "member"}),
    )
    .await
    .assert_status(201);
    let lone = app
        .post(
            "/api/v1/councils",
            Some(&w.admin),
            &json!({"name": "Временная группа", "kind": "working_group", "level": "national"}),
        )
        .await;
    lone.assert_status(201);
    let lone = format!("/api/v1/councils/{}", id_of(&lone.json()));
    app.delete(&lone, Some(&w.admin)).await.assert_status(204);
    app.get(&lone, None).await.assert_problem(404);
}

#[actix_web::test]
async fn a_restricted_council_is_seen_only_by_its_secretaries_and_admins() {
    let app = TestApp::new().await;
    let w = app.world().await;
    app.restrict_council(&w.admin, w.council_b).await;
    let path = format!("/api/v1/councils/{}", w.council_b);
    let (a, b) = (w.council_a.to_string(), w.council_b.to_string());
    for token in [
        None,
        Some(w.analyst.as_str()),
        Some(w.secretary_a.as_str()),
        Some(w.ngo_a.as_str()),
    ] {
        app.get(&path, token).await.assert_problem(404);
        let list = app
            .get("/api/v1/councils?limit=200", token)
            .await
            .item_ids();
        assert!(list.contains(&a) && !list.contains(&b), "{list:?}");
    }
    for token in [&w.secretary_b, &w.admin] {
        app.get(&path, Some(token)).await.assert_record(w.council_b);
        let list = app
            .get("/api/v1/councils?limit=200", Some(token))
            .await
            .item_ids();
        assert!(list.contains(&a) && list.contains(&b), "{list:?}");
    }
}

#[actix_web::test]
async fn a_new_host_agency_becomes_the_host_party_of_the_councils_meetings() {
    let app = TestApp::new().await;
    let w = app.world().await;
    app.patch(
        &format!("/api/v1/councils/{}", w.council_a),
        Some(&w.admin),
        &json!({"host_agency_id": w.other_agency}),
    )
    .await
    .assert_status(200);
    let mut by_new = app
        .get(
            &format!("/api/v1/engagements?agency_id={}", w.other_agency),
            Some(&w.admin),
        )
        .await
        .item_ids();
    by_new.sort();
    let mut meetings = vec![w.meeting.to_string(), w.restricted.to_string()];
    meetings.sort();
    assert_eq!(by_new, meetings);
    let by_old = app
        .get(
            &format!("/api/v1/engagements?agency_id={}", w.host_agency),
            Some(&w.admin),
        )
        .await
        .item_ids();
    assert_eq!(by_old, Vec::<String>::new());
    let parties = app
        .get(
            &format!("/api/v1/engagements/{}", w.meeting),
            Some(&w.admin),
        )
        .await
        .assert_record(w.meeting)["parties"]
        .clone();
    assert!(
        parties
            .as_array()
            .into_iter()
            .flatten()
            .any(|p| p["role"] == "host" && p["agency_id"] == w.other_agency.to_string()),
        "{parties}"
    );
}

#[actix_web::test]
async fn meetings_of_a_restricted_council_are_hidden_with_it() {
    let app = TestApp::new().await;
    let w = app.world().await;
    app.restrict_council(&w.admin, w.council_a).await;
    // An engagement outside the council, which every list below must still show.
    let hearing = app
        .insert_engagement(
            "hearing",
            Some(w.org_b),
            "internal",
            &[(w.org_b, "organizer")],
        )
        .await
        .to_string();
    let meeting = w.meeting.to_string();
    for token in [&w.analyst, &w.secretary_b, &w.ngo_a] {
        app.get(&format!("/api/v1/meetings/{meeting}"), Some(token))
            .await
            .assert_problem(404);
        let listed = app.get("/api/v1/engagements", Some(token)).await.item_ids();
        assert!(
            listed.contains(&hearing) && !listed.contains(&meeting),
            "{listed:?}"
        );
    }
    for token in [&w.secretary_a, &w.admin] {
        app.get(&format!("/api/v1/meetings/{meeting}"), Some(token))
            .await
            .assert_record(&meeting);
        let listed = app.get("/api/v1/engagements", Some(token)).await.item_ids();
        assert!(
            listed.contains(&hearing) && listed.contains(&meeting),
            "{listed:?}"
        );
    }
}

#[actix_web::test]
async fn a_parent_the_caller_cannot_read_is_refused_like_one_that_does_not_exist() {
    let app = TestApp::new().await;
    let w = app.world().await;
    app.restrict_council(&w.admin, w.council_b).await;
    let path = format!("/api/v1/councils/{}", w.council_a);
    let before = app.snapshot().await;
    let hidden = app
        .patch(
            &path,
            Some(&w.secretary_a),
            &json!({"parent_id": w.council_b}),
        )
        .await;
    let unknown = uuid::Uuid::now_v7();
    let missing = app
        .patch(&path, Some(&w.secretary_a), &json!({"parent_id": unknown}))
        .await;
    hidden.assert_invalid("parent_id");
    missing.assert_invalid("parent_id");
    let message = |res: &crate::support::Response, id: &str| {
        res.json()["errors"][0]["message"]
            .as_str()
            .map(|m| m.replace(id, "…"))
    };
    assert_eq!(
        message(&hidden, &w.council_b.to_string()),
        message(&missing, &unknown.to_string()),
        "the two refusals must read alike"
    );
    app.snapshot().await.assert_unchanged_from(&before);
    // The secretary may still edit their council, and an admin (who reads the hidden council) may set it.
    app.patch(
        &path,
        Some(&w.secretary_a),
        &json!({"description": "Филиал"}),
    )
    .await
    .assert_record(w.council_a);
    let moved = app
        .patch(&path, Some(&w.admin), &json!({"parent_id": w.council_b}))
        .await
        .assert_record(w.council_a);
    assert_eq!(moved["parent_id"], w.council_b.to_string());
}
