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
