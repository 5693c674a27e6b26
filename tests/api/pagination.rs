//! Keyset pagination: every row once across pages, even with inserts between pages; bad parameters refused.

use std::collections::HashSet;

use serde_json::json;

use crate::support::TestApp;

async fn walk(app: &TestApp, base: &str, mut between: impl AsyncFnMut(usize)) -> Vec<String> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for page in 0.. {
        let uri = match &cursor {
            Some(c) => format!("{base}&cursor={c}"),
            None => base.to_owned(),
        };
        let res = app.get(&uri, None).await;
        res.assert_status(200);
        let body = res.json();
        for item in body["items"].as_array().into_iter().flatten() {
            seen.push(item["name"].as_str().unwrap_or_default().to_owned());
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
        between(page).await;
    }
    seen
}

#[actix_web::test]
async fn pages_cover_every_row_once_even_with_inserts_between_pages() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let originals: Vec<String> = (0..23).map(|i| format!("Org {i:02}")).collect();
    for name in &originals {
        app.create_organization(&admin, json!({"name": name, "kind": "ngo"}))
            .await;
    }
    for sort in ["name", "-name", "created_at", "-created_at"] {
        let mut inserted = 0;
        let seen = walk(
            &app,
            &format!("/api/v1/organizations?limit=5&sort={sort}"),
            async |page| {
                // Names that sort both before and after the cursor, created mid-walk.
                for prefix in ["Aaa", "Zzz"] {
                    app.create_organization(
                        &admin,
                        json!({"name": format!("{prefix} {sort} {page}"), "kind": "ngo"}),
                    )
                    .await;
                    inserted += 1;
                }
            },
        )
        .await;
        let unique: HashSet<&String> = seen.iter().collect();
        assert_eq!(unique.len(), seen.len(), "no row twice ({sort})");
        for name in &originals {
            assert!(seen.contains(name), "{name} lost ({sort})");
        }
        assert!(inserted > 0);
    }
}

#[actix_web::test]
async fn page_size_and_cursor_are_validated() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for i in 0..3 {
        app.create_organization(&admin, json!({"name": format!("O{i}"), "kind": "ngo"}))
            .await;
    }
    app.get("/api/v1/organizations?limit=201", None)
        .await
        .assert_invalid("limit");
    app.get("/api/v1/organizations?limit=0", None)
        .await
        .assert_invalid("limit");
    app.get("/api/v1/organizations?limit=", None)
        .await
        .assert_invalid("limit");
    app.get("/api/v1/organizations?limit=abc", None)
        .await
        .assert_invalid("limit");
    app.get("/api/v1/organizations?cursor=garbage!!", None)
        .await
        .assert_invalid("cursor");
    app.get("/api/v1/agencies?cursor=eyJzIjoibmFtZSJ9", None)
        .await
        .assert_invalid("cursor");

    let first = app
        .get("/api/v1/organizations?limit=2&sort=name", None)
        .await;
    let cursor = first.json()["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    app.get(
        &format!("/api/v1/organizations?limit=2&sort=-created_at&cursor={cursor}"),
        None,
    )
    .await
    .assert_invalid("cursor");
    let last = app
        .get(
            &format!("/api/v1/organizations?limit=2&sort=name&cursor={cursor}"),
            None,
        )
        .await;
    last.assert_status(200);
    assert_eq!(last.json()["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(last.json()["next_cursor"], serde_json::Value::Null);
    let full = app.get("/api/v1/organizations?limit=200", None).await;
    full.assert_status(200);
}

#[actix_web::test]
async fn the_keyset_pages_the_app_builds_use_their_indexes() {
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    use hamkori::db::sql::{DirectorySort, Explain};
    use hamkori::organizations::{Organization, OrganizationFilter};

    let app = TestApp::new().await;
    let mut conn = app.pool().get().await.expect("conn");
    conn.batch_execute(
        "INSERT INTO organizations (id, name, kind, region_code, created_at) \
         SELECT gen_random_uuid(), 'Org ' || g, CASE WHEN g % 7 = 0 THEN 'media' ELSE 'ngo' END, 'TJ-DU', now() - make_interval(secs => g) \
         FROM generate_series(1, 20000) g; ANALYZE organizations;",
    )
    .await
    .expect("rows");
    let cursor = hamkori::http::Cursor::new("name", "Org 2500", uuid::Uuid::nil());
    let cases = [
        (
            OrganizationFilter::default(),
            Some(cursor.clone()),
            "organizations_name_idx",
        ),
        (
            OrganizationFilter {
                kind: Some(hamkori::organizations::model::OrganizationKind::Media),
                ..Default::default()
            },
            Some(cursor),
            "organizations_kind_idx",
        ),
        (
            OrganizationFilter {
                sort: Some(DirectorySort::CreatedAtDesc),
                ..Default::default()
            },
            None,
            "organizations_created_at_idx",
        ),
    ];
    for (filter, cursor, index) in cases {
        let query = Organization::query(&filter, cursor, 50).expect("query");
        let plan: Vec<String> = Explain(query).load(&mut conn).await.expect("explain");
        let plan = plan.join("\n");
        assert!(plan.contains(index), "{index} expected in:\n{plan}");
        assert!(!plan.contains("Sort"), "the index gives the order:\n{plan}");
    }
}

#[actix_web::test]
async fn tampered_cursors_are_refused_not_failed() {
    use base64::Engine;
    let app = TestApp::new().await;
    let encode = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    for raw in [
        r#"{"s":"name","k":"a\u0000b","i":"00000000-0000-0000-0000-000000000000"}"#,
        r#"{"s":"created_at","k":"yesterday","i":"00000000-0000-0000-0000-000000000000"}"#,
        r#"{"s":"name","k":"x","i":"not-a-uuid"}"#,
        r#"[1,2,3]"#,
    ] {
        app.get(
            &format!(
                "/api/v1/organizations?sort={}&cursor={}",
                if raw.contains("created_at") {
                    "created_at"
                } else {
                    "name"
                },
                encode(raw)
            ),
            None,
        )
        .await
        .assert_invalid("cursor");
    }
}

/// Every visit is planned before it is held, and planned visits are hidden from all but their monitors and admins,
/// so the newest part of the engagements' date index is planned visits and everything planned after them. The
/// visits' list must not walk through them: it reads the index of visits that may be shown, for anonymous callers
/// and signed-in ones alike, and takes its page from the first rows it reads.
#[actix_web::test]
async fn the_visits_list_skips_the_planned_visits_by_its_index() {
    use diesel_async::{RunQueryDsl, SimpleAsyncConnection};
    use hamkori::auth::{Actor, Caller, Role};
    use hamkori::db::sql::Explain;
    use hamkori::engagements::model::{EngagementKind, of_kind, paged};

    let app = TestApp::new().await;
    let mut conn = app.pool().get().await.expect("conn");
    conn.batch_execute(
        "INSERT INTO engagements (id, kind, title, status, starts_on, visibility) \
         SELECT gen_random_uuid(), 'monitoring_visit', 'Визит ' || g, 'planned', date '2027-01-01' + g % 300, 'public' \
         FROM generate_series(1, 3000) g; \
         INSERT INTO engagements (id, kind, title, status, starts_on, visibility) \
         SELECT gen_random_uuid(), (ARRAY['hearing', 'monitoring_visit'])[1 + g % 2], 'Запись ' || g, \
         (ARRAY['held', 'completed'])[1 + g % 2], date '2016-01-01' + g % 3600, 'public' \
         FROM generate_series(1, 20000) g; ANALYZE engagements;",
    )
    .await
    .expect("rows");
    let analyst = Caller {
        actor: Some(Actor {
            id: uuid::Uuid::now_v7(),
            role: Role::Analyst,
            organization_id: None,
            agency_id: None,
            council_ids: Vec::new(),
            request_id: String::new(),
            client_request_id: None,
        }),
    };
    for caller in [Caller { actor: None }, analyst] {
        let query = paged(
            of_kind(EngagementKind::MonitoringVisit, &caller),
            None,
            50,
            false,
        )
        .expect("query");
        let plan: Vec<String> = Explain(query).load(&mut conn).await.expect("explain");
        let plan = plan.join("\n");
        assert!(plan.contains("engagements_visits_shown_idx"), "{plan}");
        assert!(!plan.contains("Sort"), "the index gives the order:\n{plan}");
    }
}
