//! The harness itself can fail: the "nothing changed" snapshot sees every table, and a change in any of them.

use diesel::QueryableByName;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde_json::json;

use crate::support::{NOT_IN_SNAPSHOT, TestApp, server_url};

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = diesel::sql_types::Text)]
    name: String,
}

#[actix_web::test]
async fn the_snapshot_covers_every_table_but_the_documented_exclusions() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let mut conn = app.pool().get().await.expect("conn");
    let catalog: Vec<Name> = diesel::sql_query(
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .load(&mut conn)
    .await
    .expect("catalog");
    drop(conn);
    let expected: Vec<&str> = catalog
        .iter()
        .map(|t| t.name.as_str())
        .filter(|t| !NOT_IN_SNAPSHOT.iter().any(|(name, _)| name == t))
        .collect();
    let snapshot = app.snapshot().await;
    assert_eq!(snapshot.tables(), expected);
    for table in [
        "engagements",
        "engagement_parties",
        "meetings",
        "recommendations",
        "recommendation_status_history",
        "submissions",
        "grants",
        "monitoring_visits",
        "visit_findings",
        "council_members",
        "audit_log",
    ] {
        assert!(snapshot.tables().contains(&table), "{table} is covered");
    }
    // A table made after the harness was written is covered too (named so no migration will take the name).
    let mut conn = app.pool().get().await.expect("conn");
    conn.batch_execute("CREATE TABLE harness_probe (id int PRIMARY KEY, url text)")
        .await
        .expect("a new table");
    drop(conn);
    let before = app.snapshot().await;
    assert!(before.tables().contains(&"harness_probe"));
    let mut conn = app.pool().get().await.expect("conn");
    conn.batch_execute("INSERT INTO harness_probe VALUES (1, 'https://example.tj/hook')")
        .await
        .expect("a row");
    drop(conn);
    let changes = app.snapshot().await.changes_from(&before);
    assert_eq!(changes, ["harness_probe: + (1,https://example.tj/hook)"]);
    // The order of the rows in storage does not matter; their content does.
    let before = app.snapshot().await;
    app.patch_read(
        &format!("/api/v1/meetings/{}", w.meeting),
        Some(&w.secretary_a),
        &json!({"location": "Хукумат"}),
    )
    .await
    .assert_status(200);
    let changes = app.snapshot().await.changes_from(&before);
    for table in ["engagements", "meetings", "audit_log"] {
        assert!(
            changes
                .iter()
                .any(|c| c.starts_with(&format!("{table}: +"))),
            "{table} changed: {changes:#?}"
        );
    }
}

#[actix_web::test]
async fn the_snapshot_sees_a_row_go_from_any_table() {
    let app = TestApp::new().await;
    hamkori::demo::load(app.pool()).await.expect("demo data");
    let login = app.login(&json!({"email": "secretary@demo.hamkori.tj", "password": hamkori::demo::DEMO_PASSWORD}),
        )
        .await;
    login.assert_status(200);
    // Foreign keys are triggers; a replica session skips them, so any one row can go on its own.
    let mut conn = AsyncPgConnection::establish(&format!("{}/{}", server_url(), app.db_name))
        .await
        .expect("conn");
    conn.batch_execute("SET session_replication_role = replica")
        .await
        .expect("replica");
    for table in app.snapshot().await.tables() {
        let before = app.snapshot().await;
        assert!(
            !before.rows(table).is_empty(),
            "{table} has a row to remove (add one to the demo data or this test)"
        );
        conn.batch_execute(&format!(
            "DELETE FROM {table} WHERE ctid = (SELECT ctid FROM {table} LIMIT 1)"
        ))
        .await
        .expect("delete a row");
        let changes = app.snapshot().await.changes_from(&before);
        assert_eq!(changes.len(), 1, "{table}: {changes:#?}");
        assert!(
            changes[0].starts_with(&format!("{table}: - ")),
            "{changes:#?}"
        );
    }
    // An edit inside a row is seen as well, down to a single field of a JSON document.
    let before = app.snapshot().await;
    conn.batch_execute(
        "UPDATE meetings SET agenda = jsonb_set(agenda, '{0,title}', '\"Разное\"') \
         WHERE id = (SELECT id FROM meetings WHERE agenda->0 ? 'title' LIMIT 1)",
    )
    .await
    .expect("edit");
    let changes = app.snapshot().await.changes_from(&before);
    assert_eq!(changes.len(), 2, "the old row and the new: {changes:#?}");
    assert!(changes.iter().all(|c| c.starts_with("meetings: ")));
}
