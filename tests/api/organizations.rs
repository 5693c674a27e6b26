//! Organisations: CRUD, validation, access rules, concurrency, filters, exports, history.

use actix_web::test::TestRequest;
use hamkori::auth::Role;
use serde_json::{Value, json};

use crate::support::TestApp;

fn org(name: &str) -> Value {
    json!({"name": name, "kind": "ngo", "region_code": "TJ-DU", "sphere_codes": ["human_rights"]})
}

#[actix_web::test]
async fn admin_creates_an_organization_and_anyone_reads_it() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let res = app
        .post(
            "/api/v1/organizations",
            Some(&admin),
            &json!({"name": "Ҳуқуқ ва Адолат", "short_name": "ҲвА", "kind": "ngo", "registration_number": "R-1",
                    "registered_on": "2004-03-15", "region_code": "TJ-SU", "settlement": "urban",
                    "sphere_codes": ["human_rights", "gender"], "website": "https://example.tj", "email": "a@b.tj"}),
        )
        .await;
    res.assert_status(201);
    let body = res.json();
    let id = body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        res.header("location").as_deref(),
        Some(format!("/api/v1/organizations/{id}").as_str())
    );
    assert_eq!(res.header("etag").as_deref(), Some("\"1\""));
    assert_eq!(body["status"], "active");
    assert_eq!(body["version"], 1);

    let read = app.get(&format!("/api/v1/organizations/{id}"), None).await;
    read.assert_status(200);
    assert_eq!(read.json()["name"], "Ҳуқуқ ва Адолат");
    assert_eq!(
        read.json()["sphere_codes"],
        json!(["human_rights", "gender"])
    );
    assert_eq!(read.header("etag").as_deref(), Some("\"1\""));

    let audit = app.count(&format!("SELECT count(*) FROM audit_log WHERE entity_id = '{id}' AND action = 'create' AND request_id IS NOT NULL")).await;
    assert_eq!(audit, 1, "the create wrote its audit row");
}

#[actix_web::test]
async fn invalid_bodies_are_refused_naming_the_field_and_nothing_is_written() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let before = app.snapshot().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"name": "", "kind": "ngo"}), "name"),
        (json!({"kind": "ngo"}), "name"),
        (
            json!({"name": "X", "kind": "ngo", "colour": "red"}),
            "colour",
        ),
        (json!({"name": "X", "kind": "party"}), "kind"),
        (
            json!({"name": "X", "kind": "ngo", "registered_on": "2020-13-45"}),
            "registered_on",
        ),
        (
            json!({"name": "X", "kind": "ngo", "region_code": "TJ-XX"}),
            "region_code",
        ),
        (
            json!({"name": "X", "kind": "ngo", "sphere_codes": ["astrology"]}),
            "sphere_codes",
        ),
        (
            json!({"name": "X", "kind": "ngo", "email": "not-an-email"}),
            "email",
        ),
        (
            json!({"name": "X", "kind": "ngo", "website": "no url"}),
            "website",
        ),
        (json!({"name": "X".repeat(301), "kind": "ngo"}), "name"),
        (json!({"name": 5, "kind": "ngo"}), "name"),
        (json!({"name": "   ", "kind": "ngo"}), "name"),
        (
            json!({"name": "X", "kind": "ngo", "website": "javascript:alert(1)"}),
            "website",
        ),
        (
            json!({"name": "X", "kind": "ngo", "registered_on": "-5000-01-01"}),
            "registered_on",
        ),
    ];
    for (body, field) in cases {
        app.post("/api/v1/organizations", Some(&admin), &body)
            .await
            .assert_invalid(field);
    }
    app.snapshot().await.assert_unchanged_from(&before);
    // Each case broke one field of a body that is accepted as it is.
    app.create_organization(&admin, json!({"name": "X", "kind": "ngo"}))
        .await;
}

#[actix_web::test]
async fn malformed_json_is_400_wrong_type_415_and_oversized_413() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let before = app.snapshot().await;
    let auth = ("Authorization", format!("Bearer {admin}"));
    let res = app
        .call(
            TestRequest::post()
                .uri("/api/v1/organizations")
                .insert_header(auth.clone())
                .insert_header(("Content-Type", "application/json"))
                .set_payload("{\"name\": "),
        )
        .await;
    res.assert_problem(400);
    let res = app
        .call(
            TestRequest::post()
                .uri("/api/v1/organizations")
                .insert_header(auth.clone())
                .insert_header(("Content-Type", "text/plain"))
                .set_payload("{}"),
        )
        .await;
    res.assert_problem(415);
    let huge = json!({"name": "X", "kind": "ngo", "description": "я".repeat(700_000)});
    let res = app
        .call(
            TestRequest::post()
                .uri("/api/v1/organizations")
                .insert_header(auth)
                .set_json(&huge),
        )
        .await;
    res.assert_problem(413);
    app.snapshot().await.assert_unchanged_from(&before);
    // Well-formed JSON of an accepted size, declared as JSON, is created.
    let res = app
        .call(
            TestRequest::post()
                .uri("/api/v1/organizations")
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("Content-Type", "application/json"))
                .set_payload(r#"{"name": "X", "kind": "ngo", "description": "я"}"#),
        )
        .await;
    res.assert_status(201);
    assert_eq!(res.json()["description"], "я");
}

#[actix_web::test]
async fn writes_need_a_valid_token_and_the_right_role() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let existing = app.create_organization(&admin, org("Existing")).await;
    let analyst = app.analyst().await;
    let agency = app
        .create_agency(
            &admin,
            json!({"name": "МВД", "level": "national", "kind": "ministry"}),
        )
        .await;
    let officer = app
        .officer(
            agency["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("id"),
        )
        .await;
    let member = app
        .ngo_member(
            existing["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("id"),
        )
        .await;
    let before = app.snapshot().await;

    let res = app.post("/api/v1/organizations", None, &org("Anon")).await;
    res.assert_problem(401);
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    app.post("/api/v1/organizations", Some("not.a.jwt"), &org("Bad"))
        .await
        .assert_problem(401);
    for token in [&analyst, &officer, &member] {
        app.post("/api/v1/organizations", Some(token), &org("Nope"))
            .await
            .assert_problem(403);
    }
    let id = existing["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/organizations/{id}");
    app.patch(&path, Some(&analyst), &json!({"name": "Renamed"}))
        .await
        .assert_problem(403);
    app.delete(&path, Some(&analyst)).await.assert_problem(403);
    app.delete(&path, Some(&member)).await.assert_problem(403);
    app.delete(&path, None).await.assert_problem(401);
    app.snapshot().await.assert_unchanged_from(&before);
    // An admin may do each of these (the member's account holds `existing`, so another one is deleted).
    let yes = app.create_organization(&admin, org("Yes")).await;
    let renamed = app
        .patch(&path, Some(&admin), &json!({"name": "Renamed"}))
        .await;
    assert_eq!(renamed.assert_record(&id)["name"], "Renamed");
    app.delete(
        &format!("/api/v1/organizations/{}", yes["id"].as_str().expect("id")),
        Some(&admin),
    )
    .await
    .assert_status(204);
}

#[actix_web::test]
async fn a_member_edits_their_own_organization_but_not_another() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let own = app.create_organization(&admin, org("Own")).await;
    let other = app.create_organization(&admin, org("Other")).await;
    let member = app
        .ngo_member(own["id"].as_str().and_then(|s| s.parse().ok()).expect("id"))
        .await;

    let res = app
        .patch(
            &format!("/api/v1/organizations/{}", own["id"].as_str().expect("id")),
            Some(&member),
            &json!({"description": "Мы защищаем права"}),
        )
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["description"], "Мы защищаем права");
    assert_eq!(res.json()["version"], 2);

    let before = app.snapshot().await;
    app.patch(
        &format!(
            "/api/v1/organizations/{}",
            other["id"].as_str().expect("id")
        ),
        Some(&member),
        &json!({"name": "Taken over"}),
    )
    .await
    .assert_problem(403);
    app.snapshot().await.assert_unchanged_from(&before);
}

#[actix_web::test]
async fn a_duplicate_registration_number_is_a_conflict() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.create_organization(
        &admin,
        json!({"name": "A", "kind": "ngo", "registration_number": "0101"}),
    )
    .await;
    let before = app.snapshot().await;
    let res = app
        .post(
            "/api/v1/organizations",
            Some(&admin),
            &json!({"name": "B", "kind": "ngo", "registration_number": "0101"}),
        )
        .await;
    res.assert_problem(409);
    assert!(
        res.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("registration_number")
    );
    app.snapshot().await.assert_unchanged_from(&before);
}

#[actix_web::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let created = app.create_organization(&admin, org("Versioned")).await;
    let path = format!(
        "/api/v1/organizations/{}",
        created["id"].as_str().expect("id")
    );

    let first = app
        .call(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"name": "First"})),
        )
        .await;
    first.assert_status(200);
    assert_eq!(first.header("etag").as_deref(), Some("\"2\""));

    let before = app.snapshot().await;
    let stale = app
        .call(
            TestRequest::patch()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("If-Match", "\"1\""))
                .set_json(json!({"name": "Second"})),
        )
        .await;
    stale.assert_problem(412);
    let stale_delete = app
        .call(
            TestRequest::delete()
                .uri(&path)
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("If-Match", "\"1\"")),
        )
        .await;
    stale_delete.assert_problem(412);
    app.snapshot().await.assert_unchanged_from(&before);
    assert_eq!(app.get(&path, None).await.json()["name"], "First");
}

#[actix_web::test]
async fn patch_distinguishes_absent_null_and_values() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let created = app
        .create_organization(
            &admin,
            json!({"name": "N", "short_name": "S", "kind": "ngo", "phone": "+992 37 000"}),
        )
        .await;
    let path = format!(
        "/api/v1/organizations/{}",
        created["id"].as_str().expect("id")
    );
    let res = app
        .patch(&path, Some(&admin), &json!({"short_name": null}))
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["short_name"], Value::Null);
    assert_eq!(
        res.json()["phone"],
        "+992 37 000",
        "absent fields are unchanged"
    );
    let before = app.snapshot().await;
    app.patch(&path, Some(&admin), &json!({"name": null}))
        .await
        .assert_invalid("name");
    app.patch(&path, Some(&admin), &json!({"name": ""}))
        .await
        .assert_invalid("name");
    app.patch(&path, Some(&admin), &json!({"status": "sleeping"}))
        .await
        .assert_invalid("status");
    app.snapshot().await.assert_unchanged_from(&before);
    let valid = app
        .patch(
            &path,
            Some(&admin),
            &json!({"name": "M", "status": "inactive"}),
        )
        .await;
    valid.assert_status(200);
    assert_eq!(
        (valid.json()["name"].clone(), valid.json()["status"].clone()),
        (json!("M"), json!("inactive"))
    );
    let empty = app.patch(&path, Some(&admin), &json!({})).await;
    empty.assert_status(200);
    assert_eq!(empty.json()["name"], "M", "an empty patch changes no field");
}

#[actix_web::test]
async fn delete_removes_and_a_referenced_organization_is_a_conflict() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let lone = app.create_organization(&admin, org("Lone")).await;
    let path = format!("/api/v1/organizations/{}", lone["id"].as_str().expect("id"));
    app.get(&path, None)
        .await
        .assert_record(lone["id"].as_str().expect("id"));
    app.delete(&path, Some(&admin)).await.assert_status(204);
    app.get(&path, None).await.assert_problem(404);
    let before = app.snapshot().await;
    app.delete(&path, Some(&admin)).await.assert_problem(404);
    app.snapshot().await.assert_unchanged_from(&before);

    let referenced = app.create_organization(&admin, org("Referenced")).await;
    let id = referenced["id"].as_str().expect("id");
    app.ngo_member(id.parse().expect("uuid")).await;
    let before = app.snapshot().await;
    app.delete(&format!("/api/v1/organizations/{id}"), Some(&admin))
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
    app.get(&format!("/api/v1/organizations/{id}"), None)
        .await
        .assert_record(id);
}

#[actix_web::test]
async fn history_shows_who_changed_what() {
    let app = TestApp::new().await;
    let (admin_id, admin) = app.user(Role::Admin, None, None, &[]).await;
    let created = app.create_organization(&admin, org("Tracked")).await;
    let id = created["id"].as_str().expect("id");
    app.patch(
        &format!("/api/v1/organizations/{id}"),
        Some(&admin),
        &json!({"name": "Tracked 2"}),
    )
    .await
    .assert_status(200);

    let res = app
        .call(
            TestRequest::get()
                .uri(&format!("/api/v1/organizations/{id}/history"))
                .insert_header(("Authorization", format!("Bearer {admin}"))),
        )
        .await;
    res.assert_status(200);
    let items = res.json()["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["action"], "update");
    assert_eq!(items[0]["before"]["name"], "Tracked");
    assert_eq!(items[0]["after"]["name"], "Tracked 2");
    assert_eq!(items[0]["actor_id"], admin_id.to_string());
    assert_eq!(items[1]["action"], "create");

    let analyst = app.analyst().await;
    let read = app
        .get(
            &format!("/api/v1/organizations/{id}/history"),
            Some(&analyst),
        )
        .await;
    assert_eq!(read.item_ids(), res.item_ids(), "analysts read it whole");
    let elsewhere = app.create_organization(&admin, org("Elsewhere")).await;
    let stranger = app
        .ngo_member(
            elsewhere["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("id"),
        )
        .await;
    app.get(
        &format!("/api/v1/organizations/{id}/history"),
        Some(&stranger),
    )
    .await
    .assert_problem(403);
    app.get(&format!("/api/v1/organizations/{id}/history"), None)
        .await
        .assert_problem(401);

    let audit = app
        .get(
            &format!("/api/v1/audit?entity_type=organization&entity_id={id}"),
            Some(&analyst),
        )
        .await;
    audit.assert_status(200);
    assert_eq!(audit.json()["items"].as_array().map(Vec::len), Some(2));
    app.get("/api/v1/audit", Some(&stranger))
        .await
        .assert_problem(403);
}

#[actix_web::test]
async fn filters_narrow_the_list_and_a_region_includes_its_districts() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.post("/api/v1/regions", Some(&admin), &json!({"code": "TJ-SU-KHJ", "parent_code": "TJ-SU", "level": "district", "name_ru": "Худжанд", "name_en": "Khujand"}))
        .await
        .assert_status(201);
    app.create_organization(&admin, json!({"name": "Khujand Women", "kind": "ngo", "region_code": "TJ-SU-KHJ", "sphere_codes": ["gender"], "settlement": "urban"})).await;
    app.create_organization(&admin, json!({"name": "Sughd Lawyers", "kind": "ngo", "region_code": "TJ-SU", "sphere_codes": ["access_to_justice"], "settlement": "rural"})).await;
    app.create_organization(&admin, json!({"name": "Dushanbe Media", "kind": "media", "region_code": "TJ-DU", "status": "inactive"})).await;

    let names = |res: crate::support::Response| -> Vec<String> {
        res.assert_status(200);
        res.json()["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["name"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        names(
            app.get("/api/v1/organizations?region_code=TJ-SU", None)
                .await
        ),
        ["Khujand Women", "Sughd Lawyers"]
    );
    assert_eq!(
        names(
            app.get("/api/v1/organizations?region_code=TJ-SU-KHJ", None)
                .await
        ),
        ["Khujand Women"]
    );
    assert_eq!(
        names(app.get("/api/v1/organizations?kind=media", None).await),
        ["Dushanbe Media"]
    );
    assert_eq!(
        names(
            app.get("/api/v1/organizations?sphere_code=gender", None)
                .await
        ),
        ["Khujand Women"]
    );
    assert_eq!(
        names(app.get("/api/v1/organizations?status=inactive", None).await),
        ["Dushanbe Media"]
    );
    assert_eq!(
        names(
            app.get("/api/v1/organizations?settlement=rural", None)
                .await
        ),
        ["Sughd Lawyers"]
    );
    assert_eq!(
        names(app.get("/api/v1/organizations?q=lawy", None).await),
        ["Sughd Lawyers"]
    );
    assert_eq!(
        names(app.get("/api/v1/organizations?q=100%25", None).await),
        Vec::<String>::new()
    );
    assert_eq!(
        names(
            app.get("/api/v1/organizations?sort=-name&kind=ngo", None)
                .await
        ),
        ["Sughd Lawyers", "Khujand Women"]
    );

    app.get("/api/v1/organizations?region_code=TJ-ZZ", None)
        .await
        .assert_invalid("region_code");
    app.get("/api/v1/organizations?sphere_code=astrology", None)
        .await
        .assert_invalid("sphere_code");
    app.get("/api/v1/organizations?kind=party", None)
        .await
        .assert_invalid("kind");
    app.get("/api/v1/organizations?sort=size", None)
        .await
        .assert_invalid("sort");
}

#[actix_web::test]
async fn exports_stream_the_whole_filtered_list_as_csv_and_ndjson() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for i in 0..7 {
        app.create_organization(&admin, json!({"name": format!("Организация №{i}, «кавычки»"), "kind": "ngo", "sphere_codes": ["health", "education"]})).await;
    }
    app.create_organization(&admin, json!({"name": "Media", "kind": "media"}))
        .await;

    let csv = app
        .get("/api/v1/organizations?format=csv&kind=ngo&limit=2", None)
        .await;
    csv.assert_status(200);
    assert!(
        csv.header("content-type")
            .unwrap_or_default()
            .starts_with("text/csv")
    );
    let text = csv.text();
    assert!(
        text.starts_with('\u{feff}'),
        "UTF-8 BOM for spreadsheet programs"
    );
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header = reader.headers().expect("header").clone();
    assert_eq!(&header[0], "id");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 7, "the whole list, not one page");
    assert!(rows.iter().all(|r| &r[3] == "ngo"));
    assert!(rows.iter().any(|r| &r[1] == "Организация №3, «кавычки»"));
    assert_eq!(&rows[0][8], "health;education");

    let nd = app.get("/api/v1/organizations?format=ndjson", None).await;
    nd.assert_status(200);
    let lines: Vec<Value> = nd
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(lines.len(), 8);
    app.get("/api/v1/organizations?format=xml", None)
        .await
        .assert_invalid("format");
}

#[actix_web::test]
async fn patch_needs_a_token_and_keeps_registration_numbers_unique() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.create_organization(
        &admin,
        json!({"name": "A", "kind": "ngo", "registration_number": "111"}),
    )
    .await;
    let b = app
        .create_organization(
            &admin,
            json!({"name": "B", "kind": "ngo", "registration_number": "222"}),
        )
        .await;
    let path = format!("/api/v1/organizations/{}", b["id"].as_str().expect("id"));
    let before = app.snapshot().await;
    app.patch(&path, None, &json!({"name": "Anonymous edit"}))
        .await
        .assert_problem(401);
    app.patch(&path, Some("garbage"), &json!({"name": "Bad token"}))
        .await
        .assert_problem(401);
    app.patch(&path, Some(&admin), &json!({"registration_number": "111"}))
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
    let free = app
        .patch(&path, Some(&admin), &json!({"registration_number": "333"}))
        .await;
    free.assert_status(200);
    assert_eq!(free.json()["registration_number"], "333");
}

#[actix_web::test]
async fn large_exports_cross_batches_and_defuse_formulas() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::new().await;
    let mut conn = app.pool().get().await.expect("conn");
    conn.batch_execute(
        "INSERT INTO organizations (id, name, kind) SELECT gen_random_uuid(), 'Org ' || lpad(g::text, 5, '0'), 'ngo' FROM generate_series(1, 1234) g;
         INSERT INTO organizations (id, name, kind, description) VALUES (gen_random_uuid(), 'Formula', 'media', '=HYPERLINK(\"http://evil\")');",
    )
    .await
    .expect("rows");
    let csv = app
        .get("/api/v1/organizations?format=csv&kind=ngo", None)
        .await;
    csv.assert_status(200);
    let text = csv.text();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let names: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[1].to_owned())
        .collect();
    assert_eq!(names.len(), 1234, "every batch of 500 is streamed");
    let unique: std::collections::HashSet<&String> = names.iter().collect();
    assert_eq!(unique.len(), 1234);
    let nd = app.get("/api/v1/organizations?format=ndjson", None).await;
    assert_eq!(nd.text().lines().count(), 1235);
    let media = app
        .get("/api/v1/organizations?format=csv&kind=media", None)
        .await;
    assert!(media.text().contains("'=HYPERLINK"), "{}", media.text());
}
