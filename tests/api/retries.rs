//! Issue 9, "records people can trust", safe retries: writes to records several organisations edit must name
//! the version they change (`If-Match`, else 428), a retried POST or PUT with an `Idempotency-Key` is done
//! once, and concurrent submissions to one consultation all land with the parties derived from them all.

use serde_json::json;

use crate::support::TestApp;

/// The first record of a list, as the admin reads it: its path.
async fn first_of(app: &TestApp, admin: &str, collection: &str) -> String {
    let list = app.get(&format!("/api/v1/{collection}"), Some(admin)).await;
    let id = list.item_ids().into_iter().next().expect("a record");
    format!("/api/v1/{collection}/{id}")
}

#[actix_web::test]
async fn patch_and_delete_of_every_engagement_kind_and_of_recommendations_require_if_match() {
    let app = TestApp::new().await;
    hamkori::demo::load(app.pool()).await.expect("demo data");
    let admin = app.admin().await;
    for collection in [
        "meetings",
        "hearings",
        "consultations",
        "monitoring-visits",
        "grants",
        "recommendations",
    ] {
        let path = first_of(&app, &admin, collection).await;
        let etag = app.etag(&path, Some(&admin)).await.expect("an ETag");
        let before = app.snapshot().await;
        let missing = app.patch_if(&path, Some(&admin), None, &json!({})).await;
        missing.assert_problem(428);
        assert_eq!(missing.error_fields(), ["If-Match"], "{path}");
        if collection != "recommendations" {
            let missing = app.delete_if(&path, Some(&admin), None).await;
            missing.assert_problem(428);
            assert_eq!(missing.error_fields(), ["If-Match"], "{path}");
            app.delete_if(&path, Some(&admin), Some("\"999\""))
                .await
                .assert_problem(412);
        }
        app.patch_if(&path, Some(&admin), Some("\"999\""), &json!({}))
            .await
            .assert_problem(412);
        app.snapshot().await.assert_unchanged_from(&before);
        let saved = app
            .patch_if(&path, Some(&admin), Some(&etag), &json!({}))
            .await;
        saved.assert_status(200);
        assert_ne!(saved.header("etag"), Some(etag), "{path}: a new version");
    }
}

#[actix_web::test]
async fn a_delete_with_the_current_etag_goes_through_and_a_caller_who_may_not_see_gets_404_not_428()
{
    let app = TestApp::new().await;
    let w = app.world().await;
    let path = format!("/api/v1/meetings/{}", w.restricted);
    // Who may not see the record learns nothing more, and who may not change it is refused first.
    app.delete_if(&path, Some(&w.ngo_b), None)
        .await
        .assert_problem(404);
    app.delete_if(&path, Some(&w.secretary_b), None)
        .await
        .assert_problem(404);
    let meeting = format!("/api/v1/meetings/{}", w.meeting);
    app.patch_if(&meeting, Some(&w.ngo_b), None, &json!({}))
        .await
        .assert_problem(403);
    let etag = app.etag(&path, Some(&w.secretary_a)).await.expect("ETag");
    app.delete_if(&path, Some(&w.secretary_a), Some(&etag))
        .await
        .assert_status(204);
    app.get(&path, Some(&w.admin)).await.assert_problem(404);
    // A status change of a recommendation is not a PATCH: its lifecycle is checked against the status as it is.
    app.post(
        &format!("/api/v1/recommendations/{}/status", w.recommendation),
        Some(&w.officer_host),
        &json!({"status": "acknowledged"}),
    )
    .await
    .assert_status(200);
}

#[test]
fn the_document_declares_if_match_required_and_428_where_the_server_requires_it() {
    let doc = serde_json::to_value(hamkori::openapi::document()).expect("serialise");
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        let kind = [
            "/meetings/",
            "/hearings/",
            "/consultations/",
            "/monitoring-visits/",
            "/grants/",
            "/recommendations/",
        ]
        .iter()
        .any(|k| path.starts_with(&format!("/api/v1{k}")) && path.matches('/').count() == 4);
        for (method, op) in item.as_object().into_iter().flatten() {
            let if_match = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == "If-Match");
            let withdrawal = path.contains("/organizers/") || path.contains("/monitors/");
            let required = (kind && (method == "patch" || method == "delete"))
                || (withdrawal && method == "delete");
            if required {
                seen += 1;
                assert_eq!(
                    if_match.map(|p| p["required"].clone()),
                    Some(json!(true)),
                    "{method} {path}"
                );
                assert!(op["responses"].get("428").is_some(), "{method} {path}");
            } else {
                assert!(op["responses"].get("428").is_none(), "{method} {path}");
            }
        }
    }
    assert_eq!(
        seen, 13,
        "PATCH and DELETE of five kinds; PATCH of recommendations; two withdrawals"
    );
}

/// A public consultation owned by `owner`'s organisation, answered by `agency`: its id.
async fn consultation(app: &TestApp, owner: &str, agency: uuid::Uuid) -> uuid::Uuid {
    let res = app
        .post(
            "/api/v1/consultations",
            Some(owner),
            &json!({"title": "Проект Закона «О волонтёрской деятельности»", "act_type": "law",
                    "responsible_agency_id": agency, "level": "national",
                    "opens_on": "2026-02-01", "closes_on": "2026-03-01", "visibility": "public"}),
        )
        .await;
    res.assert_status(201);
    crate::support::id_of(&res.json())
}

/// The consultation's parties as `(organisation or agency id, role)`, sorted.
async fn parties(app: &TestApp, token: &str, consultation: uuid::Uuid) -> Vec<(String, String)> {
    let res = app
        .get(
            &format!("/api/v1/consultations/{consultation}"),
            Some(token),
        )
        .await;
    res.assert_status(200);
    let mut parties: Vec<(String, String)> = res.json()["parties"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let id = p["organization_id"].as_str().or(p["agency_id"].as_str());
            (
                id.expect("an actor").to_owned(),
                p["role"].as_str().expect("a role").to_owned(),
            )
        })
        .collect();
    parties.sort();
    parties
}

#[actix_web::test]
async fn concurrent_submissions_to_one_consultation_all_land_and_all_submitters_are_parties() {
    const NGOS: usize = 8;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agency = crate::support::id_of(
        &app.create_agency(
            &admin,
            json!({"name": "Минюст", "level": "national", "kind": "ministry"}),
        )
        .await,
    );
    let mut ngos = Vec::new();
    for i in 0..NGOS {
        let org = crate::support::id_of(
            &app.create_organization(&admin, json!({"name": format!("НКО {i}"), "kind": "ngo"}))
                .await,
        );
        ngos.push((org, app.ngo_member(org).await));
    }
    let c = consultation(&app, &ngos[0].1, agency).await;
    let path = format!("/api/v1/consultations/{c}/submissions");
    let answers = futures_util::future::join_all(ngos.iter().map(|(org, token)| {
        let (app, path) = (&app, &path);
        async move {
            let body = json!({"organization_ids": [org], "proposal": "Упростить регистрацию"});
            app.post(path, Some(token), &body).await
        }
    }))
    .await;
    for res in &answers {
        res.assert_status(201);
    }
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM submissions WHERE consultation_id = '{c}'"
        ))
        .await,
        i64::try_from(NGOS).expect("count")
    );
    let mut expected: Vec<(String, String)> = ngos
        .iter()
        .map(|(org, _)| (org.to_string(), "submitter".to_owned()))
        .collect();
    expected.push((agency.to_string(), "responsible".to_owned()));
    expected.sort();
    assert_eq!(parties(&app, &admin, c).await, expected);
}

#[actix_web::test]
async fn a_submission_deleted_while_others_are_made_leaves_the_parties_derived_from_what_exists() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agency = crate::support::id_of(
        &app.create_agency(
            &admin,
            json!({"name": "Минтруд", "level": "national", "kind": "ministry"}),
        )
        .await,
    );
    let mut ngos = Vec::new();
    for i in 0..4 {
        let org = crate::support::id_of(
            &app.create_organization(&admin, json!({"name": format!("НКО {i}"), "kind": "ngo"}))
                .await,
        );
        ngos.push((org, app.ngo_member(org).await));
    }
    let c = consultation(&app, &ngos[0].1, agency).await;
    let path = format!("/api/v1/consultations/{c}/submissions");
    let first = app
        .post(
            &path,
            Some(&ngos[0].1),
            &json!({"organization_ids": [ngos[0].0], "proposal": "Первое"}),
        )
        .await;
    first.assert_status(201);
    let first = format!(
        "/api/v1/submissions/{}",
        crate::support::id_of(&first.json())
    );
    let delete = app.delete(&first, Some(&ngos[0].1));
    let creates = futures_util::future::join_all(ngos[1..].iter().map(|(org, token)| {
        let (app, path) = (&app, &path);
        async move {
            let body = json!({"organization_ids": [org], "proposal": "Ещё одно"});
            app.post(path, Some(token), &body).await
        }
    }));
    let (deleted, created) = tokio::join!(delete, creates);
    deleted.assert_status(204);
    for res in &created {
        res.assert_status(201);
    }
    let mut expected: Vec<(String, String)> = ngos[1..]
        .iter()
        .map(|(org, _)| (org.to_string(), "submitter".to_owned()))
        .collect();
    expected.push((agency.to_string(), "responsible".to_owned()));
    expected.sort();
    assert_eq!(parties(&app, &admin, c).await, expected);
}

/// POST with an `Idempotency-Key`.
async fn post_with_key(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
    key: &str,
    body: &serde_json::Value,
) -> crate::support::Response {
    let mut req = actix_web::test::TestRequest::post()
        .uri(path)
        .set_json(body)
        .insert_header(("Idempotency-Key", key));
    if let Some(token) = token {
        req = req.insert_header(("Authorization", format!("Bearer {token}")));
    }
    app.call(req).await
}

async fn organizations(app: &TestApp) -> i64 {
    app.count("SELECT count(*) FROM organizations").await
}

#[actix_web::test]
async fn a_retried_create_with_the_same_key_makes_one_record_and_replays_the_first_answer() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let body = json!({"name": "Ҳамкорӣ барои рушд", "kind": "ngo"});
    let first = post_with_key(
        &app,
        "/api/v1/organizations",
        Some(&admin),
        "create-1",
        &body,
    )
    .await;
    first.assert_status(201);
    assert_eq!(first.header("idempotent-replayed"), None);
    let retry = post_with_key(
        &app,
        "/api/v1/organizations",
        Some(&admin),
        "create-1",
        &body,
    )
    .await;
    retry.assert_status(201);
    assert_eq!(retry.json(), first.json(), "the same record, the same body");
    for header in ["location", "etag", "content-type"] {
        assert!(first.header(header).is_some(), "{header}");
        assert_eq!(retry.header(header), first.header(header), "{header}");
    }
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(organizations(&app).await, 1);
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE action = 'create'")
            .await,
        1,
        "the work was done once"
    );
}

#[actix_web::test]
async fn a_retried_status_change_is_recorded_once() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let path = format!("/api/v1/recommendations/{}/status", w.recommendation);
    let body = json!({"status": "acknowledged", "note": "Получено"});
    let first = post_with_key(&app, &path, Some(&w.officer_host), "ack", &body).await;
    first.assert_status(200);
    let retry = post_with_key(&app, &path, Some(&w.officer_host), "ack", &body).await;
    retry.assert_status(200);
    assert_eq!(retry.json(), first.json());
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM recommendation_status_history WHERE recommendation_id = '{}'",
            w.recommendation
        ))
        .await,
        2,
        "issued, then acknowledged once"
    );
}

#[actix_web::test]
async fn the_same_key_for_another_request_is_422_naming_the_header_and_writes_nothing() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    post_with_key(
        &app,
        "/api/v1/organizations",
        Some(&admin),
        "k",
        &json!({"name": "Первая", "kind": "ngo"}),
    )
    .await
    .assert_status(201);
    let before = app.snapshot().await;
    let kept = app.count("SELECT count(*) FROM idempotency_keys").await;
    let other_body = post_with_key(
        &app,
        "/api/v1/organizations",
        Some(&admin),
        "k",
        &json!({"name": "Вторая", "kind": "ngo"}),
    )
    .await;
    other_body.assert_invalid("Idempotency-Key");
    let other_path = post_with_key(
        &app,
        "/api/v1/agencies",
        Some(&admin),
        "k",
        &json!({"name": "Первая", "level": "national", "kind": "ministry"}),
    )
    .await;
    other_path.assert_invalid("Idempotency-Key");
    app.snapshot().await.assert_unchanged_from(&before);
    assert_eq!(
        app.count("SELECT count(*) FROM idempotency_keys").await,
        kept
    );
    assert_eq!(organizations(&app).await, 1);
}

#[actix_web::test]
async fn two_concurrent_requests_with_one_key_make_one_record() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let body = json!({"name": "Одновременно", "kind": "ngo"});
    let (a, b) = tokio::join!(
        post_with_key(&app, "/api/v1/organizations", Some(&admin), "twice", &body),
        post_with_key(&app, "/api/v1/organizations", Some(&admin), "twice", &body),
    );
    let mut statuses = [a.status.as_u16(), b.status.as_u16()];
    statuses.sort_unstable();
    assert!(
        statuses == [201, 201] || statuses == [201, 409],
        "{statuses:?}: {} / {}",
        a.text(),
        b.text()
    );
    for res in [&a, &b] {
        if res.status == 409 {
            res.assert_problem(409);
            assert!(
                res.json()["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("Idempotency-Key"))
            );
        } else {
            assert_eq!(res.json()["name"], "Одновременно");
        }
    }
    if statuses == [201, 201] {
        assert_eq!(a.json(), b.json(), "the second is a replay");
    }
    assert_eq!(organizations(&app).await, 1);
}

#[actix_web::test]
async fn a_request_while_the_first_with_its_key_runs_is_409_and_an_abandoned_or_expired_key_runs_afresh()
 {
    use sha2::{Digest, Sha256};
    let app = TestApp::new().await;
    let (user, admin) = app.user(hamkori::auth::Role::Admin, None, None, &[]).await;
    let body = json!({"name": "Ждущая", "kind": "ngo"});
    // A claim without an answer, as the first request leaves it while it runs.
    let mut hasher = Sha256::new();
    hasher.update(b"POST\n/api/v1/organizations?\n");
    hasher.update(serde_json::to_vec(&body).expect("json"));
    let print = hex::encode(hasher.finalize());
    let claim = |age: &str| {
        format!(
            "INSERT INTO idempotency_keys (user_id, key, fingerprint, created_at) \
             VALUES ('{user}', 'running', '\\x{print}', now() - interval '{age}')"
        )
    };
    let mut conn = app.pool().get().await.expect("conn");
    diesel_async::SimpleAsyncConnection::batch_execute(&mut conn, &claim("1 second"))
        .await
        .expect("claim");
    drop(conn);
    let busy = post_with_key(
        &app,
        "/api/v1/organizations",
        Some(&admin),
        "running",
        &body,
    )
    .await;
    busy.assert_problem(409);
    assert_eq!(organizations(&app).await, 0);
    // A claim the process never finished (it stopped) frees itself after a while.
    let mut conn = app.pool().get().await.expect("conn");
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut conn,
        &format!("DELETE FROM idempotency_keys; {}", claim("11 minutes")),
    )
    .await
    .expect("an abandoned claim");
    drop(conn);
    post_with_key(
        &app,
        "/api/v1/organizations",
        Some(&admin),
        "running",
        &body,
    )
    .await
    .assert_status(201);
    // An answer older than a day is forgotten: the key makes a new record.
    let mut conn = app.pool().get().await.expect("conn");
    diesel_async::SimpleAsyncConnection::batch_execute(
        &mut conn,
        "UPDATE idempotency_keys SET created_at = now() - interval '25 hours'",
    )
    .await
    .expect("age");
    drop(conn);
    let again = post_with_key(
        &app,
        "/api/v1/organizations",
        Some(&admin),
        "running",
        &body,
    )
    .await;
    again.assert_status(201);
    assert_eq!(again.header("idempotent-replayed"), None);
    assert_eq!(organizations(&app).await, 2);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM idempotency_keys WHERE created_at < now() - interval '1 hour'"
        )
        .await,
        0,
        "the expired answer is gone"
    );
}

#[actix_web::test]
async fn keys_are_each_callers_own() {
    let app = TestApp::new().await;
    let a = app.admin().await;
    let b = app.admin().await;
    let body = json!({"name": "Общая", "kind": "ngo"});
    let first = post_with_key(&app, "/api/v1/organizations", Some(&a), "shared", &body).await;
    first.assert_status(201);
    let second = post_with_key(&app, "/api/v1/organizations", Some(&b), "shared", &body).await;
    second.assert_status(201);
    assert_eq!(second.header("idempotent-replayed"), None);
    assert_ne!(first.json()["id"], second.json()["id"]);
    assert_eq!(organizations(&app).await, 2);
}

#[actix_web::test]
async fn without_a_key_or_a_token_requests_behave_as_before() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let body = json!({"name": "Без ключа", "kind": "ngo"});
    for _ in 0..2 {
        app.post("/api/v1/organizations", Some(&admin), &body)
            .await
            .assert_status(201);
    }
    assert_eq!(organizations(&app).await, 2);
    post_with_key(&app, "/api/v1/organizations", None, "anon", &body)
        .await
        .assert_problem(401);
    // Sign-in is not keyed: it is done again (the header is not part of its contract).
    post_with_key(
        &app,
        "/api/v1/auth/login",
        None,
        "login",
        &json!({"email": "nobody@example.tj", "password": "x"}),
    )
    .await
    .assert_problem(401);
    assert_eq!(app.count("SELECT count(*) FROM idempotency_keys").await, 0);
}

#[actix_web::test]
async fn a_refused_request_is_kept_and_replayed_and_bad_keys_are_422() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let bad = json!({"name": "", "kind": "ngo"});
    let first = post_with_key(&app, "/api/v1/organizations", Some(&admin), "bad", &bad).await;
    first.assert_invalid("name");
    let retry = post_with_key(&app, "/api/v1/organizations", Some(&admin), "bad", &bad).await;
    retry.assert_invalid("name");
    assert_eq!(retry.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(
        retry.header("content-type").as_deref(),
        Some("application/problem+json")
    );
    let before = app.snapshot().await;
    let body = json!({"name": "Хорошая", "kind": "ngo"});
    for key in [
        "".to_owned(),
        "x".repeat(256),
        "has space".to_owned(),
        "кириллица".to_owned(),
    ] {
        let req = actix_web::test::TestRequest::post()
            .uri("/api/v1/organizations")
            .set_json(&body)
            .insert_header(("Authorization", format!("Bearer {admin}")))
            .insert_header((
                "Idempotency-Key",
                actix_web::http::header::HeaderValue::from_bytes(key.as_bytes()).expect("value"),
            ));
        app.call(req).await.assert_invalid("Idempotency-Key");
    }
    app.snapshot().await.assert_unchanged_from(&before);
    assert_eq!(organizations(&app).await, 0);
    let longest = "x".repeat(255);
    post_with_key(&app, "/api/v1/organizations", Some(&admin), &longest, &body)
        .await
        .assert_status(201);
}

#[test]
fn the_document_declares_idempotency_key_on_every_post_and_put_that_takes_a_token() {
    let doc = serde_json::to_value(hamkori::openapi::document()).expect("serialise");
    let mut keyed = 0;
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let declared = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["name"] == "Idempotency-Key");
            let expected =
                (method == "post" || method == "put") && !path.starts_with("/api/v1/auth/");
            assert_eq!(declared.is_some(), expected, "{method} {path}");
            if let Some(parameter) = declared {
                keyed += 1;
                assert_eq!(parameter["in"], "header");
                assert_eq!(parameter["schema"]["maxLength"], 255);
                for status in ["409", "422"] {
                    assert!(
                        op["responses"].get(status).is_some(),
                        "{method} {path} {status}"
                    );
                }
            }
        }
    }
    assert!(
        keyed >= 16,
        "every create, the status change and the answer: {keyed}"
    );
}
