//! HTTP conventions that hold for every endpoint: problem+json everywhere, 405 with Allow, request ids, headers.

use actix_web::test::TestRequest;

use crate::support::TestApp;

#[actix_web::test]
async fn unknown_routes_bad_path_ids_and_wrong_methods_are_problems() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let org = app
        .create_organization(&admin, serde_json::json!({"name": "A", "kind": "ngo"}))
        .await;
    let org = org["id"].as_str().expect("id");
    let before = app.snapshot().await;
    app.get("/api/v1/no-such-thing", None)
        .await
        .assert_problem(404);
    app.get("/nowhere", None).await.assert_problem(404);
    app.get("/api/v1/organizations/not-a-uuid", None)
        .await
        .assert_invalid("id");
    app.get(
        &format!("/api/v1/organizations/{}", uuid::Uuid::now_v7()),
        None,
    )
    .await
    .assert_problem(404);

    let res = app
        .call(
            TestRequest::put()
                .uri("/api/v1/organizations")
                .insert_header(("Authorization", format!("Bearer {admin}"))),
        )
        .await;
    res.assert_problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("GET, POST"));
    let res = app
        .call(
            TestRequest::post()
                .uri(&format!("/api/v1/organizations/{org}"))
                .insert_header(("Authorization", format!("Bearer {admin}"))),
        )
        .await;
    res.assert_problem(405);
    assert_eq!(res.header("allow").as_deref(), Some("DELETE, GET, PATCH"));
    app.snapshot().await.assert_unchanged_from(&before);
    // The same paths answer the methods they allow, and the record is there.
    assert!(
        app.get("/api/v1/organizations", None)
            .await
            .item_ids()
            .contains(&org.to_owned())
    );
    app.get(&format!("/api/v1/organizations/{org}"), None)
        .await
        .assert_record(org);
}

#[actix_web::test]
async fn request_ids_are_made_by_the_server_and_headers_are_set() {
    let app = TestApp::new().await;
    let res = app
        .call(
            TestRequest::get()
                .uri("/api/v1/spheres")
                .insert_header(("X-Request-Id", "trace-42")),
        )
        .await;
    res.assert_status(200);
    // The answer carries the server's own id, the one its logs, problems and audit rows quote.
    let made = res.header("x-request-id").expect("an id");
    assert!(
        uuid::Uuid::parse_str(&made).is_ok(),
        "the server's id, not the client's: {made}"
    );
    assert_eq!(
        res.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(res.header("cache-control").as_deref(), Some("no-cache"));

    let hostile = app
        .call(
            TestRequest::get()
                .uri("/api/v1/spheres")
                .insert_header(("X-Request-Id", "not allowed; has spaces")),
        )
        .await;
    let other = hostile.header("x-request-id").expect("an id");
    assert!(uuid::Uuid::parse_str(&other).is_ok(), "{other}");
    assert_ne!(made, other, "each request its own id");

    let admin = app.admin().await;
    let authed = app.get("/api/v1/spheres", Some(&admin)).await;
    assert_eq!(authed.header("cache-control").as_deref(), Some("no-store"));
    let problem = app.get("/api/v1/nothing", None).await;
    assert_eq!(
        problem.json()["request_id"].as_str(),
        problem.header("x-request-id").as_deref()
    );
}

#[actix_web::test]
async fn reference_data_is_public_and_regions_are_admin_managed() {
    let app = TestApp::new().await;
    let spheres = app.get("/api/v1/spheres", None).await;
    spheres.assert_status(200);
    assert_eq!(spheres.json()["items"].as_array().map(Vec::len), Some(15));
    let regions = app.get("/api/v1/regions", None).await;
    assert_eq!(regions.json()["items"].as_array().map(Vec::len), Some(6));

    let admin = app.admin().await;
    let analyst = app.analyst().await;
    let district = serde_json::json!({"code": "TJ-KT-BKH", "parent_code": "TJ-KT", "level": "district", "name_ru": "Бохтар", "name_en": "Bokhtar"});
    let before = app.snapshot().await;
    app.post("/api/v1/regions", Some(&analyst), &district)
        .await
        .assert_problem(403);
    app.post("/api/v1/regions", Some(&admin), &serde_json::json!({"code": "TJ-SU-X", "parent_code": "TJ-KT", "level": "district", "name_ru": "X", "name_en": "X"}))
        .await
        .assert_invalid("code");
    app.post("/api/v1/regions", Some(&admin), &serde_json::json!({"code": "TJ-QQ-X", "parent_code": "TJ-QQ", "level": "district", "name_ru": "X", "name_en": "X"}))
        .await
        .assert_invalid("parent_code");
    app.post("/api/v1/regions", Some(&admin), &serde_json::json!({"code": "tj-lower", "level": "district", "name_ru": "X", "name_en": "X"}))
        .await
        .assert_invalid("code");
    app.snapshot().await.assert_unchanged_from(&before);
    app.post("/api/v1/regions", Some(&admin), &district)
        .await
        .assert_status(201);
    let before = app.snapshot().await;
    app.post("/api/v1/regions", Some(&admin), &district)
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
    let regions = app.get("/api/v1/regions", None).await;
    assert_eq!(regions.json()["items"].as_array().map(Vec::len), Some(7));
    assert!(regions.text().contains("TJ-KT-BKH"));
}

#[actix_web::test]
async fn nul_characters_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let before = app.snapshot().await;
    app.post(
        "/api/v1/organizations",
        Some(&admin),
        &serde_json::json!({"name": "A\u{0}B", "kind": "ngo"}),
    )
    .await
    .assert_invalid("name");
    app.post(
        "/api/v1/organizations",
        Some(&admin),
        &serde_json::json!({"name": "A", "kind": "ngo", "sphere_codes": ["x\u{0}"]}),
    )
    .await
    .assert_invalid("sphere_codes[0]");
    app.get("/api/v1/organizations?q=a%00b", None)
        .await
        .assert_invalid("q");
    app.snapshot().await.assert_unchanged_from(&before);
    // Without the NUL, the same values are fine.
    let created = app
        .create_organization(
            &admin,
            serde_json::json!({"name": "AB", "kind": "ngo", "sphere_codes": ["health"]}),
        )
        .await;
    assert_eq!(
        app.get("/api/v1/organizations?q=ab", None).await.item_ids(),
        [created["id"].as_str().expect("id")]
    );
}

#[actix_web::test]
async fn an_undeclared_query_parameter_is_named_not_ignored() {
    let app = TestApp::new().await;
    app.get("/api/v1/organizations?regoin_code=TJ-SU", None)
        .await
        .assert_invalid("regoin_code");
    app.get("/api/v1/engagements?kind=meeting&=0.0", None)
        .await
        .assert_invalid("");
    app.get("/api/v1/organizations?region_code=TJ-SU&limit=5", None)
        .await
        .assert_status(200);
    app.get("/healthz?probe=1", None).await.assert_status(200);
}
