//! The demo data set loads twice without duplicates and is what the API itself would have written.

use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn demo_data_loads_idempotently_and_matches_the_api() {
    let app = TestApp::new().await;
    let tables = [
        "organizations",
        "agencies",
        "councils",
        "council_members",
        "users",
        "engagements",
        "engagement_parties",
        "recommendations",
        "recommendation_status_history",
    ];
    hamkori::demo::load(app.pool()).await.expect("first load");
    let mut first = Vec::new();
    for t in tables {
        first.push(app.count(&format!("SELECT count(*) FROM {t}")).await);
    }
    hamkori::demo::load(app.pool()).await.expect("second load");
    for (t, n) in tables.iter().zip(&first) {
        assert_eq!(
            app.count(&format!("SELECT count(*) FROM {t}")).await,
            *n,
            "{t} grew on the second load"
        );
    }
    let statuses = app
        .count("SELECT count(DISTINCT status) FROM recommendations")
        .await;
    assert_eq!(statuses, 7, "recommendations in every status");

    let admin = app.admin().await;
    let meetings = app.get("/api/v1/meetings", Some(&admin)).await;
    meetings.assert_status(200);
    for meeting in meetings.json()["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let id = meeting["id"].as_str().expect("id");
        // Saving a meeting unchanged re-derives its parties: the demo's must be the same.
        let saved = app
            .patch_read(&format!("/api/v1/meetings/{id}"), Some(&admin), &json!({}))
            .await;
        saved.assert_status(200);
        let mut before: Vec<String> = meeting["parties"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p.to_string())
            .collect();
        let mut after: Vec<String> = saved.json()["parties"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p.to_string())
            .collect();
        before.sort();
        after.sort();
        assert_eq!(before, after, "parties of demo meeting {id}");
    }
    let answers = app
        .count("SELECT count(DISTINCT response_status) FROM submissions")
        .await;
    assert_eq!(answers, 5, "submissions in every response status");
    for kind in ["hearings", "consultations", "monitoring-visits", "grants"] {
        let list = app.get(&format!("/api/v1/{kind}"), Some(&admin)).await;
        list.assert_status(200);
        for item in list.json()["items"].as_array().cloned().unwrap_or_default() {
            let id = item["id"].as_str().expect("id");
            let saved = app
                .patch_read(&format!("/api/v1/{kind}/{id}"), Some(&admin), &json!({}))
                .await;
            saved.assert_status(200);
            let mut before: Vec<String> = item["parties"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p.to_string())
                .collect();
            let mut after: Vec<String> = saved.json()["parties"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| p.to_string())
                .collect();
            before.sort();
            after.sort();
            assert_eq!(before, after, "parties of demo {kind} {id}");
        }
    }
    let currencies = app
        .count("SELECT count(DISTINCT currency) FROM grants")
        .await;
    assert!(currencies >= 3);
    let confidential = app
        .count("SELECT count(*) FROM visit_findings WHERE confidential")
        .await;
    assert!(confidential >= 1);
    let login = app.login(&json!({"email": "secretary@demo.hamkori.tj", "password": hamkori::demo::DEMO_PASSWORD})).await;
    login.assert_status(200);
}

#[actix_web::test]
async fn starting_without_demo_mode_disables_the_demo_accounts() {
    // No session cache: the server that disables the accounts is a new process, which has read nothing yet.
    let app = TestApp::with_settings(hamkori::config::AuthSettings {
        session_cache_seconds: 0,
        ..Default::default()
    })
    .await;
    hamkori::demo::load(app.pool()).await.expect("demo data");
    let login = async || {
        app.login(
            &json!({"email": "admin@demo.hamkori.tj", "password": hamkori::demo::DEMO_PASSWORD}),
        )
        .await
    };
    let res = login().await;
    res.assert_status(200);
    let token = res.json()["access_token"]
        .as_str()
        .expect("token")
        .to_owned();
    app.get("/api/v1/users", Some(&token))
        .await
        .assert_status(200);
    // What `serve` does when started without demo mode.
    let disabled = hamkori::demo::disable_accounts(app.pool())
        .await
        .expect("disable");
    assert_eq!(disabled.len(), 6, "{disabled:?}");
    login().await.assert_problem(401);
    app.get("/api/v1/users", Some(&token))
        .await
        .assert_problem(401);
    assert_eq!(
        app.count(
            "SELECT count(*) FROM users WHERE email LIKE '%@demo.hamkori.tj' AND NOT disabled"
        )
        .await,
        0
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE entity_type = 'user' AND action = 'update' AND actor_id = '00000000-0000-0000-0000-000000000000'")
            .await,
        6,
        "each is audited as the server's own change"
    );
    // A second start without demo mode changes nothing; a start in demo mode enables them again.
    assert!(
        hamkori::demo::disable_accounts(app.pool())
            .await
            .expect("disable")
            .is_empty()
    );
    hamkori::demo::load(app.pool()).await.expect("demo again");
    login().await.assert_status(200);
}
