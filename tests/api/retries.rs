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
            let required = kind && (method == "patch" || method == "delete");
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
        seen, 11,
        "PATCH and DELETE of five kinds; PATCH of recommendations"
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
