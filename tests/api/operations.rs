//! Health, readiness (including recovery without a restart), metrics and the docs page.

use diesel_async::RunQueryDsl;
use hamkori::AppState;

use crate::support::{SECRET, TestApp, server_url};

#[actix_web::test]
async fn health_and_readiness() {
    let app = TestApp::new().await;
    app.get("/healthz", None).await.assert_status(200);
    let ready = app.get("/readyz", None).await;
    ready.assert_status(200);
    assert_eq!(ready.json()["status"], "ready");
}

#[actix_web::test]
async fn readiness_is_503_while_the_database_is_missing_and_recovers_when_it_appears() {
    let app = TestApp::new().await;
    let name = format!("hamkori_late_{}", uuid::Uuid::now_v7().simple());
    let pool = hamkori::db::pool(&format!("{}/{name}", server_url()), 2).expect("pool");
    // One app for the whole test: readiness must recover in the running app, without a rebuild.
    let late = TestApp::around(AppState::new(pool, SECRET).expect("state"), name.clone()).await;
    late.get("/readyz", None).await.assert_problem(503);
    late.get("/api/v1/organizations", None)
        .await
        .assert_problem(503);

    let mut conn = app.pool().get().await.expect("conn");
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create");
    late.get("/readyz", None).await.assert_status(200);
}

#[actix_web::test]
async fn metrics_count_requests_by_route_and_report_the_pool() {
    let app = TestApp::new().await;
    app.get(
        &format!("/api/v1/organizations/{}", uuid::Uuid::now_v7()),
        None,
    )
    .await;
    let metrics = app.get("/metrics", None).await;
    metrics.assert_status(200);
    let text = metrics.text();
    assert!(text.contains("hamkori_http_requests_total"), "{text}");
    assert!(
        text.contains("endpoint=\"/api/v1/organizations/{id}\""),
        "{text}"
    );
    assert!(text.contains("status=\"404\""), "{text}");
    assert!(
        text.contains("hamkori_http_requests_duration_seconds_bucket"),
        "{text}"
    );
    assert!(text.contains("hamkori_db_pool_max_connections 4"), "{text}");
}

#[actix_web::test]
async fn the_docs_page_is_served_without_any_cdn() {
    let app = TestApp::new().await;
    let page = app.get("/docs/", None).await;
    page.assert_status(200);
    let html = page.text();
    assert!(html.contains("swagger"), "{html}");
    assert!(!html.contains("https://"), "no external asset: {html}");
    app.get("/docs/swagger-ui-bundle.js", None)
        .await
        .assert_status(200);
    let redirect = app.get("/docs", None).await;
    assert_eq!(redirect.header("location").as_deref(), Some("/docs/"));
}
