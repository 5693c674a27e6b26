//! Agencies: CRUD, hierarchy, conflicts, access.

use hamkori::auth::Role;
use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn admin_manages_agencies_with_a_hierarchy() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let mvd = app.create_agency(&admin, json!({"name": "Министерство внутренних дел", "short_name": "МВД", "level": "national", "kind": "ministry", "region_code": "TJ"})).await;
    let mvd_id = mvd["id"].as_str().expect("id");
    let sughd = app.create_agency(&admin, json!({"name": "УМВД по Согдийской области", "level": "regional", "kind": "law_enforcement", "parent_id": mvd_id, "region_code": "TJ-SU"})).await;
    let sughd_id = sughd["id"].as_str().expect("id");

    let children = app
        .get(&format!("/api/v1/agencies?parent_id={mvd_id}"), None)
        .await;
    assert_eq!(children.item_ids(), [sughd_id]);
    let in_sughd = app.get("/api/v1/agencies?region_code=TJ-SU&level=regional&kind=law_enforcement&q=%D1%81%D0%BE%D0%B3%D0%B4", None).await;
    assert_eq!(in_sughd.item_ids(), [sughd_id]);

    let before = app.snapshot().await;
    app.patch(
        &format!("/api/v1/agencies/{mvd_id}"),
        Some(&admin),
        &json!({"parent_id": sughd_id}),
    )
    .await
    .assert_invalid("parent_id");
    app.patch(
        &format!("/api/v1/agencies/{mvd_id}"),
        Some(&admin),
        &json!({"parent_id": mvd_id}),
    )
    .await
    .assert_invalid("parent_id");
    app.post("/api/v1/agencies", Some(&admin), &json!({"name": "X", "level": "national", "kind": "ministry", "parent_id": uuid::Uuid::now_v7()}))
        .await
        .assert_invalid("parent_id");
    app.post(
        "/api/v1/agencies",
        Some(&admin),
        &json!({"name": "X", "level": "galactic", "kind": "ministry"}),
    )
    .await
    .assert_invalid("level");
    app.post(
        "/api/v1/agencies",
        Some(&admin),
        &json!({"name": "", "level": "national", "kind": "ministry"}),
    )
    .await
    .assert_invalid("name");
    // A parent with a sub-agency is referenced: deleting it is a conflict.
    app.delete(&format!("/api/v1/agencies/{mvd_id}"), Some(&admin))
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);

    let res = app
        .patch(
            &format!("/api/v1/agencies/{sughd_id}"),
            Some(&admin),
            &json!({"parent_id": null, "website": "https://mvd.tj"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["parent_id"], serde_json::Value::Null);
    app.delete(&format!("/api/v1/agencies/{sughd_id}"), Some(&admin))
        .await
        .assert_status(204);
    app.delete(&format!("/api/v1/agencies/{mvd_id}"), Some(&admin))
        .await
        .assert_status(204);
    app.get(&format!("/api/v1/agencies/{mvd_id}"), None)
        .await
        .assert_problem(404);
    let history = app
        .get(&format!("/api/v1/agencies/{mvd_id}/history"), Some(&admin))
        .await;
    assert_eq!(history.item_ids().len(), 2, "create and delete");
    assert_eq!(history.json()["items"][0]["action"], "delete");
}

#[actix_web::test]
async fn an_agency_referenced_by_an_officer_cannot_be_deleted() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agency = app
        .create_agency(
            &admin,
            json!({"name": "Минюст", "level": "national", "kind": "ministry"}),
        )
        .await;
    let id: uuid::Uuid = agency["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    app.officer(id).await;
    let before = app.snapshot().await;
    app.delete(&format!("/api/v1/agencies/{id}"), Some(&admin))
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
}

#[actix_web::test]
async fn only_admins_write_agencies() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agency = app
        .create_agency(
            &admin,
            json!({"name": "Хукумат", "level": "city", "kind": "local_executive"}),
        )
        .await;
    let id: uuid::Uuid = agency["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("id");
    let officer = app.officer(id).await;
    let analyst = app.analyst().await;
    let org = app
        .create_organization(&admin, json!({"name": "NGO", "kind": "ngo"}))
        .await;
    let member = app
        .ngo_member(org["id"].as_str().and_then(|s| s.parse().ok()).expect("id"))
        .await;
    let (_, secretary) = app.user(Role::Secretary, None, None, &[]).await;
    let before = app.snapshot().await;
    for token in [&officer, &analyst, &member, &secretary] {
        app.post(
            "/api/v1/agencies",
            Some(token),
            &json!({"name": "X", "level": "city", "kind": "other"}),
        )
        .await
        .assert_problem(403);
        app.patch(
            &format!("/api/v1/agencies/{id}"),
            Some(token),
            &json!({"name": "Y"}),
        )
        .await
        .assert_problem(403);
        app.delete(&format!("/api/v1/agencies/{id}"), Some(token))
            .await
            .assert_problem(403);
    }
    app.post(
        "/api/v1/agencies",
        None,
        &json!({"name": "X", "level": "city", "kind": "other"}),
    )
    .await
    .assert_problem(401);
    app.snapshot().await.assert_unchanged_from(&before);
    // An admin may create and edit (the officer's account holds this agency, so it stays).
    app.create_agency(
        &admin,
        json!({"name": "X", "level": "city", "kind": "other"}),
    )
    .await;
    let renamed = app
        .patch(
            &format!("/api/v1/agencies/{id}"),
            Some(&admin),
            &json!({"name": "Y"}),
        )
        .await;
    assert_eq!(renamed.assert_record(id)["name"], "Y");
    app.get(&format!("/api/v1/agencies/{id}"), None)
        .await
        .assert_record(id);
    let csv = app.get("/api/v1/agencies?format=csv", None).await;
    assert_eq!(csv.text().lines().count(), 3);
}

#[actix_web::test]
async fn agency_writes_check_regions_and_versions() {
    use actix_web::test::TestRequest;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agency = app
        .create_agency(
            &admin,
            json!({"name": "Минздрав", "level": "national", "kind": "ministry"}),
        )
        .await;
    let path = format!("/api/v1/agencies/{}", agency["id"].as_str().expect("id"));
    let before = app.snapshot().await;
    app.post(
        "/api/v1/agencies",
        Some(&admin),
        &json!({"name": "X", "level": "national", "kind": "ministry", "region_code": "XX-YY"}),
    )
    .await
    .assert_invalid("region_code");
    app.patch(&path, Some(&admin), &json!({"region_code": "TJ-NOPE"}))
        .await
        .assert_invalid("region_code");
    app.patch(&path, Some(&admin), &json!({"website": "ftp://files"}))
        .await
        .assert_invalid("website");
    let stale = app
        .call(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("If-Match", "\"7\""))
                .set_json(json!({"name": "Y"})),
        )
        .await;
    stale.assert_problem(412);
    app.snapshot().await.assert_unchanged_from(&before);
    let star = app
        .call(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("If-Match", "*"))
                .set_json(json!({"name": "Y"})),
        )
        .await;
    star.assert_status(200);
}

#[actix_web::test]
async fn a_weak_if_match_never_matches() {
    use actix_web::test::TestRequest;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agency = app
        .create_agency(
            &admin,
            json!({"name": "Агентство", "level": "national", "kind": "agency"}),
        )
        .await;
    let id = agency["id"].as_str().expect("id");
    let patch = |etag: &str| {
        TestRequest::patch()
            .uri(&format!("/api/v1/agencies/{id}"))
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .insert_header(("If-Match", etag.to_owned()))
            .set_json(json!({"name": "Новое"}))
    };
    let before = app.snapshot().await;
    app.call(patch("W/\"1\"")).await.assert_problem(412);
    app.snapshot().await.assert_unchanged_from(&before);
    // The same version as a strong tag matches.
    let res = app.call(patch("\"1\"")).await;
    assert_eq!(res.assert_record(id)["name"], "Новое");
}
