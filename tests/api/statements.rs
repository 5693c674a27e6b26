//! The read rule's SQL is the same for every caller of one role shape: their ids are bound parameters, so diesel
//! keeps each list's and get's statement prepared per connection instead of parsing and planning it per request.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;

use crate::support::{self, TestApp};

#[derive(QueryableByName)]
struct Prepared {
    #[diesel(sql_type = Text)]
    statement: String,
    #[diesel(sql_type = BigInt)]
    runs: i64,
}

#[actix_web::test]
async fn the_read_rule_binds_the_callers_ids_and_its_statements_stay_prepared() {
    support::record_statements();
    let app = TestApp::new().await;
    let w = app.world().await;
    // A sub-agency, so that the agency filters below take in a subtree.
    let sub_agency = crate::support::id_of(
        &app.create_agency(
            &w.admin,
            serde_json::json!({"name": "УМВД по Согдийской области", "level": "regional", "kind": "law_enforcement", "parent_id": w.host_agency}),
        )
        .await,
    );
    let ids = [
        w.org_a,
        w.org_b,
        w.council_a,
        w.council_b,
        w.host_agency,
        w.other_agency,
        sub_agency,
    ]
    .map(|id| id.to_string());
    let paths = [
        "/api/v1/engagements?limit=5".to_owned(),
        format!("/api/v1/engagements?limit=5&agency_id={}", w.host_agency),
        format!(
            "/api/v1/engagements?limit=5&agency_id={}&include_subagencies=false",
            w.host_agency
        ),
        format!("/api/v1/hearings?limit=5&agency_id={}", w.host_agency),
        format!(
            "/api/v1/recommendations?limit=5&addressed_to_agency_id={}",
            w.host_agency
        ),
        "/api/v1/meetings?limit=5".to_owned(),
        "/api/v1/hearings?limit=5".to_owned(),
        "/api/v1/consultations?limit=5".to_owned(),
        "/api/v1/monitoring-visits?limit=5".to_owned(),
        "/api/v1/grants?limit=5".to_owned(),
        "/api/v1/recommendations?limit=5".to_owned(),
        "/api/v1/submissions?limit=5".to_owned(),
        "/api/v1/councils?limit=5".to_owned(),
        format!("/api/v1/engagements/{}", w.meeting),
        format!("/api/v1/councils/{}", w.council_a),
    ];
    // Two callers of each role shape whose ids differ, and the first one again.
    let shapes = [
        ("ngo members", [&w.ngo_a, &w.ngo_b, &w.ngo_a]),
        (
            "secretaries",
            [&w.secretary_a, &w.secretary_b, &w.secretary_a],
        ),
        (
            "officers",
            [&w.officer_host, &w.officer_other, &w.officer_host],
        ),
    ];
    let mut runs_of_main = 0;
    let mut main_statement = None;
    let mut every_statement = std::collections::BTreeSet::new();
    for path in &paths {
        for (shape, tokens) in &shapes {
            let mut texts = Vec::new();
            for token in tokens {
                support::take_statements();
                let res = app.get(path, Some(token)).await;
                assert!(
                    res.status.as_u16() == 200 || res.status.as_u16() == 404,
                    "{path}: {}",
                    res.text()
                );
                // The session check is cached per process for a few seconds, so whether it runs depends on
                // what came before; it binds its ids too, and is not what this test is about.
                let mut statements = support::take_statements();
                statements.retain(|t| !t.contains("\"session_version\""));
                texts.push(statements);
            }
            assert!(!texts[0].is_empty(), "{path}: no statement recorded");
            assert_eq!(texts[0], texts[1], "{path} as two {shape}");
            assert_eq!(texts[0], texts[2], "{path} twice as one of the {shape}");
            for text in texts.iter().flatten() {
                for id in &ids {
                    assert!(
                        !text.contains(id.as_str()),
                        "{path}: an id in the SQL: {text}"
                    );
                }
            }
            every_statement.extend(texts.iter().flatten().cloned());
            if path == "/api/v1/engagements?limit=5" && *shape == "ngo members" {
                main_statement = Some(texts[0][0].clone());
                runs_of_main += 3;
            }
        }
    }
    let main_statement = main_statement.expect("the list's statement");
    assert!(
        main_statement.contains("ep.organization_id = $"),
        "the NGO member's read rule: {main_statement}"
    );
    // Statements diesel does not cache are closed after each use; cached ones stay in the session. Hold every
    // connection of the pool at once and look at what each has prepared.
    let pool = app.pool();
    let mut conns = Vec::new();
    for _ in 0..pool.status().max_size {
        conns.push(pool.get().await.expect("conn"));
    }
    let mut copies = 0;
    let mut runs = 0;
    let mut kept = std::collections::BTreeSet::new();
    for conn in &mut conns {
        let prepared: Vec<Prepared> = diesel::sql_query(
            "SELECT statement, generic_plans + custom_plans AS runs FROM pg_prepared_statements",
        )
        .load(&mut **conn)
        .await
        .expect("prepared statements");
        for p in prepared.iter().filter(|p| p.statement == main_statement) {
            copies += 1;
            runs += p.runs;
        }
        kept.extend(prepared.into_iter().map(|p| p.statement));
    }
    // Not only the main statement: each one these reads issued (the parties with their names, a kind's own
    // rows, …) is kept, so that none is parsed and planned per request.
    let dropped: Vec<&String> = every_statement.difference(&kept).collect();
    assert!(
        dropped.is_empty(),
        "statements not kept prepared: {dropped:#?}"
    );
    assert!(
        (1..=conns.len()).contains(&copies),
        "prepared once per connection at most, found {copies}"
    );
    assert_eq!(runs, runs_of_main, "every run used the prepared statement");
}
