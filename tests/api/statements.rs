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

/// What every connection of the pool keeps prepared, and how many connections there are. Statements diesel does not
/// cache are closed after each use; cached ones stay in the session. Every connection is held at once, so that each
/// is asked.
async fn prepared_on_every_connection(app: &TestApp) -> (usize, Vec<Prepared>) {
    let pool = app.pool();
    let mut conns = Vec::new();
    for _ in 0..pool.status().max_size {
        conns.push(pool.get().await.expect("conn"));
    }
    let mut all = Vec::new();
    for conn in &mut conns {
        let prepared: Vec<Prepared> = diesel::sql_query(
            "SELECT statement, generic_plans + custom_plans AS runs FROM pg_prepared_statements",
        )
        .load(&mut **conn)
        .await
        .expect("prepared statements");
        all.extend(prepared);
    }
    (conns.len(), all)
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
    let (connections, prepared) = prepared_on_every_connection(&app).await;
    let mut copies = 0;
    let mut runs = 0;
    for p in prepared.iter().filter(|p| p.statement == main_statement) {
        copies += 1;
        runs += p.runs;
    }
    let kept: std::collections::BTreeSet<String> =
        prepared.into_iter().map(|p| p.statement).collect();
    // Not only the main statement: each one these reads issued (the parties with their names, a kind's own
    // rows, …) is kept, so that none is parsed and planned per request.
    let dropped: Vec<&String> = every_statement.difference(&kept).collect();
    assert!(
        dropped.is_empty(),
        "statements not kept prepared: {dropped:#?}"
    );
    assert!(
        (1..=connections).contains(&copies),
        "prepared once per connection at most, found {copies}"
    );
    assert_eq!(runs, runs_of_main, "every run used the prepared statement");
}

/// Whether a JSON plan node, or any node below it, reads `relation`.
fn reads(node: &serde_json::Value, relation: &str) -> bool {
    node["Relation Name"] == relation
        || node["Plans"]
            .as_array()
            .is_some_and(|plans| plans.iter().any(|p| reads(p, relation)))
}

/// The names of the subplans under `node` that read `relation` (`SubPlan 2`, …).
fn subplans_reading(node: &serde_json::Value, relation: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some(name) = node["Subplan Name"].as_str()
        && reads(node, relation)
    {
        found.push(name.to_owned());
    }
    for plan in node["Plans"].as_array().into_iter().flatten() {
        found.extend(subplans_reading(plan, relation));
    }
    found
}

/// Whether the plan's text uses the subplan `name` hashed (`hashed SubPlan 2`, not `SubPlan 21`).
fn hashed(plan: &str, name: &str) -> bool {
    let needle = format!("hashed {name}");
    plan.match_indices(&needle).any(|(at, _)| {
        !plan[at + needle.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit())
    })
}

/// An NGO member's read rule looks at the caller's own party rows. Postgres may answer its `EXISTS` by hashing every
/// party row of the organisation before the first row of the page, which for a busy organisation cost more than the
/// whole rest of the list (150-280 ms at a million engagements); it must probe per row instead. Checked on the plan
/// Postgres keeps for the statement the app issued, with an organisation that is a party to 5,000 engagements.
#[actix_web::test]
async fn an_ngo_members_list_never_hashes_the_organisations_party_rows() {
    support::record_statements();
    let app = TestApp::new().await;
    let w = app.world().await;
    TestApp::execute(
        &app,
        &format!(
        "INSERT INTO engagements (id, kind, title, status, starts_on, visibility) \
         SELECT gen_random_uuid(), 'hearing', 'Слушания ' || g, 'held', date '2016-01-01' + g % 3000, \
         CASE WHEN g % 20 = 0 THEN 'restricted' ELSE 'public' END FROM generate_series(1, 20000) g; \
         INSERT INTO engagement_parties (engagement_id, organization_id, role) \
         SELECT id, '{}', 'organizer' FROM engagements WHERE title LIKE 'Слушания %' \
         ORDER BY id LIMIT 5000; ANALYZE;",
        w.org_a
    ),
    )
    .await;

    support::take_statements();
    let res = app
        .get("/api/v1/engagements?limit=50", Some(&w.ngo_a))
        .await;
    res.assert_status(200);
    let items = res.json()["items"].as_array().map(Vec::len);
    assert_eq!(items, Some(50), "a full page: {}", res.text());
    let statements = support::take_statements();
    let list = statements
        .iter()
        .find(|s| s.contains("ep.organization_id = $"))
        .expect("the list's statement with the NGO member's rule");
    let plan = generic_plan(&app, list).await;
    let root = &plan[0]["Plan"];
    assert!(
        reads(root, "engagement_parties"),
        "the rule reads the party rows: {plan:#}"
    );
    let subplans = subplans_reading(root, "engagement_parties");
    assert!(!subplans.is_empty(), "the rule's subplans: {plan:#}");
    let text = plan.to_string();
    let hashed: Vec<&String> = subplans.iter().filter(|name| hashed(&text, name)).collect();
    assert!(hashed.is_empty(), "{hashed:?} hashed in {plan:#}");
}

#[derive(QueryableByName)]
struct ExplainLine {
    #[diesel(sql_type = Text, column_name = "QUERY PLAN")]
    plan: String,
}

/// The generic plan Postgres keeps for `statement` (a statement the app issued, with its `$n` parameters), as JSON.
async fn generic_plan(app: &TestApp, statement: &str) -> serde_json::Value {
    use diesel_async::SimpleAsyncConnection;
    let params = (1..=40)
        .filter(|n| {
            statement.match_indices(&format!("${n}")).any(|(at, m)| {
                !statement[at + m.len()..]
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_digit())
            })
        })
        .count();
    let nulls = vec!["NULL"; params].join(", ");
    let mut conn = app.pool().get().await.expect("conn");
    conn.batch_execute(&format!(
        "SET plan_cache_mode = force_generic_plan; PREPARE planned AS {statement}"
    ))
    .await
    .expect("prepare the statement");
    let lines: Vec<ExplainLine> = diesel::sql_query(if params == 0 {
        "EXPLAIN (FORMAT JSON) EXECUTE planned".to_owned()
    } else {
        format!("EXPLAIN (FORMAT JSON) EXECUTE planned({nulls})")
    })
    .load(&mut *conn)
    .await
    .expect("explain");
    conn.batch_execute("DEALLOCATE planned; RESET plan_cache_mode")
        .await
        .expect("deallocate");
    let lines: Vec<String> = lines.into_iter().map(|line| line.plan).collect();
    serde_json::from_str(&lines.join("\n")).expect("json plan")
}

/// What in a plan reads or sorts more than `most` rows (by the planner's estimates): a scan of a whole large table,
/// or a sort of more than `most` rows.
fn over(node: &serde_json::Value, most: f64, found: &mut Vec<String>) {
    const LARGE: [&str; 5] = [
        "engagements",
        "engagement_parties",
        "engagement_timeline",
        "recommendations",
        "submissions",
    ];
    let kind = node["Node Type"].as_str().unwrap_or_default();
    let relation = node["Relation Name"].as_str().unwrap_or_default();
    if kind == "Seq Scan" && LARGE.contains(&relation) {
        found.push(format!("a sequential scan of {relation}"));
    }
    if kind == "Sort" {
        let sorted: f64 = node["Plans"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| p["Plan Rows"].as_f64().unwrap_or_default())
            .sum();
        if sorted > most {
            found.push(format!("a sort of {sorted} rows"));
        }
    }
    for plan in node["Plans"].as_array().into_iter().flatten() {
        over(plan, most, found);
    }
}

/// Every list, as the app builds it for anonymous readers and for each kind of signed-in reader, first page and a
/// deep page, unfiltered and filtered by agency, organisation, council, kind, region, status and dates: on 20,000
/// generated engagements, the plan Postgres keeps for its page reads no large table from end to end and sorts no
/// more than a few pages of rows.
#[actix_web::test]
async fn no_list_page_scans_a_large_table_or_sorts_more_than_a_few_pages() {
    use hamkori::demo::{Generate, generate};
    support::record_statements();
    let app = TestApp::new().await;
    let spec = Generate {
        organizations: 200,
        agencies: 30,
        engagements: 20_000,
        seed: 7,
    };
    generate(app.pool(), spec).await.expect("generate");
    TestApp::execute(&app, "ANALYZE").await;
    let mut conn = app.pool().get().await.expect("conn");
    #[derive(QueryableByName)]
    struct Ids {
        #[diesel(sql_type = Text)]
        agency: String,
        #[diesel(sql_type = Text)]
        organization: String,
        #[diesel(sql_type = Text)]
        council: String,
        #[diesel(sql_type = Text)]
        region: String,
    }
    let ids: Ids = diesel::sql_query(
        "SELECT (SELECT agency_id::text FROM engagement_parties WHERE agency_id IS NOT NULL \
                 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) AS agency, \
                (SELECT organization_id::text FROM engagement_parties WHERE organization_id IS NOT NULL \
                 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) AS organization, \
                (SELECT council_id::text FROM engagements WHERE council_id IS NOT NULL \
                 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) AS council, \
                (SELECT region_code FROM engagements WHERE region_code IS NOT NULL \
                 GROUP BY 1 ORDER BY count(*) DESC LIMIT 1) AS region",
    )
    .get_result(&mut conn)
    .await
    .expect("the busiest");
    drop(conn);
    let organization = ids.organization.parse().expect("uuid");
    let agency = ids.agency.parse().expect("uuid");
    let callers: Vec<(&str, Option<String>)> = vec![
        ("anonymous", None),
        ("analyst", Some(app.analyst().await)),
        (
            "member of the busiest organisation",
            Some(app.ngo_member(organization).await),
        ),
        (
            "officer of the busiest agency",
            Some(app.officer(agency).await),
        ),
        ("admin", Some(app.admin().await)),
    ];
    let lists = [
        "/api/v1/engagements?limit=50".to_owned(),
        format!("/api/v1/engagements?limit=50&agency_id={}", ids.agency),
        format!(
            "/api/v1/engagements?limit=50&organization_id={}",
            ids.organization
        ),
        format!("/api/v1/engagements?limit=50&council_id={}", ids.council),
        "/api/v1/engagements?limit=50&kind=hearing".to_owned(),
        format!("/api/v1/engagements?limit=50&region_code={}", ids.region),
        "/api/v1/engagements?limit=50&status=held".to_owned(),
        "/api/v1/engagements?limit=50&from=2020-01-01&to=2021-12-31".to_owned(),
        "/api/v1/hearings?limit=50".to_owned(),
        "/api/v1/meetings?limit=50".to_owned(),
        "/api/v1/consultations?limit=50".to_owned(),
        "/api/v1/monitoring-visits?limit=50".to_owned(),
        "/api/v1/grants?limit=50".to_owned(),
        "/api/v1/recommendations?limit=50".to_owned(),
        "/api/v1/submissions?limit=50".to_owned(),
    ];
    let mut broken = Vec::new();
    for (who, token) in &callers {
        for first in &lists {
            // The first page, then the page after it: the cursor's keyset bound is part of the statement.
            let mut path = first.clone();
            for page in ["first", "next"] {
                support::take_statements();
                let res = app.get(&path, token.as_deref()).await;
                res.assert_status(200);
                let statements = support::take_statements();
                let main = statements
                    .iter()
                    .filter(|s| s.contains("LIMIT"))
                    .max_by_key(|s| s.len())
                    .unwrap_or_else(|| panic!("{who} {path}: no page statement in {statements:?}"));
                let plan = generic_plan(&app, main).await;
                let mut found = Vec::new();
                over(&plan[0]["Plan"], 1_000.0, &mut found);
                if !found.is_empty() {
                    broken.push(format!(
                        "{who}, {page} page of {first}: {}",
                        found.join(", ")
                    ));
                }
                match res.json()["next_cursor"].as_str() {
                    Some(cursor) => path = format!("{first}&cursor={cursor}"),
                    None => break,
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

/// A new engagement of any kind — with its lists filled, a region and spheres — is checked, written and read back in
/// at most 8 statements (`BEGIN` and `COMMIT` counted), whatever the length of its lists: what it names is checked in
/// one statement, its own rows and parties are written in one, and it is read back in one.
#[actix_web::test]
async fn a_new_engagement_takes_at_most_eight_statements() {
    use serde_json::json;
    support::record_statements();
    let app = TestApp::new().await;
    let w = app.world().await;
    let facility = app.create_facility(&w.admin, w.host_agency).await;
    let creates = [
        (
            "/api/v1/hearings".to_owned(),
            &w.ngo_a,
            json!({
            "title": "Общественные слушания по проекту закона о НКО", "status": "held", "starts_on": "2026-03-10",
            "region_code": "TJ-SU", "sphere_codes": ["human_rights"], "organizer_ids": [w.org_a, w.org_b],
            "invited_agencies": [{"agency_id": w.host_agency, "attended": true}, {"agency_id": w.other_agency}]}),
        ),
        (
            "/api/v1/monitoring-visits".to_owned(),
            &w.ngo_a,
            json!({
            "facility_id": facility, "visited_on": "2026-05-10", "status": "completed", "mandate_council_id": w.council_a,
            "monitor_organization_ids": [w.org_a, w.org_b], "sphere_codes": ["human_rights"],
            "findings": [{"category": "conditions", "severity": "minor", "description": "Сыро"},
                         {"category": "treatment", "severity": "critical", "description": "Тайна", "confidential": true}]}),
        ),
        (
            format!("/api/v1/councils/{}/meetings", w.council_a),
            &w.secretary_a,
            json!({
            "title": "Заседание", "status": "held", "starts_at": "2026-06-01T10:00:00Z", "region_code": "TJ-SU",
            "sphere_codes": ["human_rights"],
            "attendance": [{"organization_id": w.org_a, "representative_name": "Мадина"}, {"agency_id": w.host_agency}]}),
        ),
        (
            "/api/v1/consultations".to_owned(),
            &w.ngo_a,
            json!({
            "title": "Проект закона", "act_type": "law", "responsible_agency_id": w.host_agency, "level": "national",
            "opens_on": "2026-11-01", "closes_on": "2026-11-20", "region_code": "TJ-SU", "sphere_codes": ["human_rights"]}),
        ),
        (
            "/api/v1/grants".to_owned(),
            &w.ngo_a,
            json!({
            "title": "Грант", "support_type": "grant", "funder_agency_id": w.host_agency,
            "recipient_organization_id": w.org_a, "amount": "100.00", "currency": "TJS", "starts_on": "2026-03-01",
            "region_code": "TJ-SU", "sphere_codes": ["human_rights"]}),
        ),
    ];
    let mut issued = std::collections::BTreeSet::new();
    for (path, token, body) in &creates {
        // The first create of each kind prepares its statements; the second is what every later one costs.
        for _ in 0..2 {
            support::take_statements();
            app.post(path, Some(token), body).await.assert_status(201);
        }
        let statements = support::take_statements();
        assert!(
            statements.len() <= 8,
            "{path}: {} statements:\n{}",
            statements.len(),
            statements.join("\n")
        );
        issued.extend(
            statements
                .into_iter()
                .filter(|s| s != "BEGIN" && s != "COMMIT"),
        );
    }
    let kept: std::collections::BTreeSet<String> = prepared_on_every_connection(&app)
        .await
        .1
        .into_iter()
        .map(|p| p.statement)
        .collect();
    let parsed: Vec<&String> = issued.iter().filter(|s| !kept.contains(*s)).collect();
    assert!(parsed.is_empty(), "parsed on every create: {parsed:#?}");
}

/// The server's sessions plan for page walks (`random_page_cost = 1.1`, no `Memoize`: docs/benchmarks.md, "List SQL,
/// every filter and caller"), and the councils statistic, which reads whole collections, plans its one statement
/// with the default cost, set for its own transaction only: the connection goes back to the pool as it was.
#[actix_web::test]
async fn sessions_plan_for_pages_and_the_councils_statistic_for_its_scan() {
    #[derive(QueryableByName)]
    struct Settings {
        #[diesel(sql_type = Text)]
        cost: String,
        #[diesel(sql_type = Text)]
        memoize: String,
    }
    async fn settings(app: &TestApp) -> (String, String) {
        let mut conn = app.pool().get().await.expect("conn");
        let s: Settings = diesel::sql_query(
            "SELECT current_setting('random_page_cost') AS cost, \
             current_setting('enable_memoize') AS memoize",
        )
        .get_result(&mut conn)
        .await
        .expect("settings");
        (s.cost, s.memoize)
    }
    support::record_statements();
    let app = TestApp::new().await;
    let pages = ("1.1".to_owned(), "off".to_owned());
    assert_eq!(settings(&app).await, pages);

    support::take_statements();
    app.get("/api/v1/stats/councils?group_by=council", None)
        .await
        .assert_status(200);
    let statements = support::take_statements();
    let set = statements
        .iter()
        .position(|s| s.contains("random_page_cost = 4"))
        .unwrap_or_else(|| panic!("no planner setting in {statements:?}"));
    assert!(
        statements[..set].iter().any(|s| s == "BEGIN"),
        "{statements:?}"
    );
    let statistic = statements[set..]
        .iter()
        .position(|s| s.contains("GROUP BY GROUPING SETS"))
        .unwrap_or_else(|| panic!("no statistic after the setting: {statements:?}"));
    assert!(
        statements[set..set + statistic]
            .iter()
            .all(|s| s != "COMMIT")
            && statements[set + statistic..].iter().any(|s| s == "COMMIT"),
        "the statistic runs in the setting's transaction: {statements:?}"
    );
    // Requests one at a time reuse the pool's one idle connection: the setting ended with its transaction.
    assert_eq!(settings(&app).await, pages);

    support::take_statements();
    app.get("/api/v1/stats/recommendations?group_by=agency", None)
        .await
        .assert_status(200);
    let statements = support::take_statements();
    assert!(
        !statements.iter().any(|s| s.contains("random_page_cost")),
        "only the councils statistic sets one: {statements:?}"
    );
}
