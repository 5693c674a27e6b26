//! The engagement tallies (`engagement_tally`, `engagement_agency_tally`): kept exact by the database in every write
//! transaction, so that after any change of an engagement, its parties, a council's visibility or the agency
//! hierarchy they equal what their definition gives from the live rows, and a statistic answered from them equals
//! the same statistic counted from the rows, for every caller they answer.

use diesel_async::{AsyncConnection, AsyncPgConnection, SimpleAsyncConnection};
use serde_json::{Value, json};

use crate::subagencies::Tree;
use crate::support::{TestApp, World, id_of, server_url};

/// Rows where `engagement_tally` and its definition (engagements by kind, month, region, status, visibility and a
/// meeting's council's visibility) differ, in either direction.
pub const TALLY_DRIFT: &str = "WITH want AS ( \
     SELECT e.kind, date_trunc('month', e.starts_on)::date AS month, e.region_code, e.status, e.visibility, \
            c.visibility AS council_visibility, count(*) AS engagements \
       FROM engagements e LEFT JOIN councils c ON c.id = e.council_id AND e.kind = 'meeting' \
      GROUP BY 1, 2, 3, 4, 5, 6), \
   have AS ( \
     SELECT kind, month, region_code, status, visibility, council_visibility, engagements \
       FROM engagement_tally WHERE engagements <> 0) \
   SELECT count(*) FROM ((SELECT * FROM want EXCEPT ALL SELECT * FROM have) \
                         UNION ALL (SELECT * FROM have EXCEPT ALL SELECT * FROM want)) AS drift";

/// Rows where `engagement_agency_tally` and its definition differ: each engagement once per agency among its parties
/// (`party`), and once per agency that is, or is an ancestor of, one of those (`subtree`).
pub const AGENCY_TALLY_DRIFT: &str = "WITH RECURSIVE up (engagement_id, agency_id, parent_id) AS ( \
     SELECT p.engagement_id, a.id, a.parent_id FROM engagement_parties p JOIN agencies a ON a.id = p.agency_id \
     UNION \
     SELECT up.engagement_id, a.id, a.parent_id FROM up JOIN agencies a ON a.id = up.parent_id), \
   members AS ( \
     SELECT DISTINCT engagement_id, agency_id, 'party' AS scope FROM engagement_parties WHERE agency_id IS NOT NULL \
     UNION ALL \
     SELECT DISTINCT engagement_id, agency_id, 'subtree' FROM up), \
   want AS ( \
     SELECT m.agency_id, m.scope, date_trunc('month', e.starts_on)::date AS month, e.kind, e.status, e.visibility, \
            c.visibility AS council_visibility, count(*) AS engagements \
       FROM members m JOIN engagements e ON e.id = m.engagement_id \
       LEFT JOIN councils c ON c.id = e.council_id AND e.kind = 'meeting' \
      GROUP BY 1, 2, 3, 4, 5, 6, 7), \
   have AS ( \
     SELECT agency_id, scope, month, kind, status, visibility, council_visibility, engagements \
       FROM engagement_agency_tally WHERE engagements <> 0) \
   SELECT count(*) FROM ((SELECT * FROM want EXCEPT ALL SELECT * FROM have) \
                         UNION ALL (SELECT * FROM have EXCEPT ALL SELECT * FROM want)) AS drift";

/// Recommendations whose `recommendation_facts` row is missing or differs from what their own row, their
/// engagement, its council and their status history say (the read rule's audiences written out as the read rule
/// states them, not as the migration computes them).
pub const FACTS_DRIFT: &str = "SELECT count(*) FROM recommendations r \
   JOIN engagements e ON e.id = r.engagement_id \
   LEFT JOIN councils c ON c.id = e.council_id \
   LEFT JOIN recommendation_facts ra ON ra.recommendation_id = r.id \
   CROSS JOIN LATERAL (SELECT e.kind = 'monitoring_visit' AND e.status = 'planned' AS planned) p \
   WHERE ra.recommendation_id IS NULL \
      OR (ra.engagement_id, ra.addressed_to_agency_id, ra.issuer_organization_id, ra.issued_on, ra.due_on, \
          ra.status, ra.status_source, ra.priority, ra.kind, ra.region_code, ra.planned_visit) \
         IS DISTINCT FROM (r.engagement_id, r.addressed_to_agency_id, r.issuer_organization_id, r.issued_on, \
          r.due_on, r.status, r.status_source, r.priority, e.kind, e.region_code, p.planned) \
      OR ra.audience IS DISTINCT FROM CASE \
           WHEN r.visibility = 'public' AND e.visibility = 'public' AND NOT p.planned \
                AND (e.kind <> 'meeting' OR e.council_id IS NULL OR c.visibility = 'public') THEN 0 \
           WHEN r.visibility IN ('public', 'internal') AND e.visibility IN ('public', 'internal') AND NOT p.planned \
                AND (e.kind <> 'meeting' OR e.council_id IS NULL OR c.visibility <> 'restricted') THEN 1 \
           ELSE 2 END \
      OR ra.first_answered_on IS DISTINCT FROM (SELECT min(h.effective_on) FROM recommendation_status_history h \
           WHERE h.recommendation_id = r.id AND h.status NOT IN ('issued', 'no_response')) \
      OR ra.agency_status IS DISTINCT FROM (SELECT h.status FROM recommendation_status_history h \
           WHERE h.recommendation_id = r.id AND h.source = 'agency' ORDER BY h.changed_at DESC, h.id DESC LIMIT 1) \
      OR ra.agency_first_answered_on IS DISTINCT FROM (SELECT min(h.effective_on) \
           FROM recommendation_status_history h WHERE h.recommendation_id = r.id AND h.source = 'agency' \
           AND h.status NOT IN ('issued', 'no_response'))";

/// Submissions whose `submission_facts` row is missing or differs from what their own row, their consultation and
/// its engagement say (the audience written out as the read rule states it).
pub const SUBMISSION_FACTS_DRIFT: &str = "SELECT count(*) FROM submissions s \
   JOIN consultations c ON c.id = s.consultation_id \
   JOIN engagements e ON e.id = s.consultation_id \
   LEFT JOIN submission_facts f ON f.id = s.id \
   WHERE f.id IS NULL \
      OR (f.consultation_id, f.submitted_on, f.response_status, f.responded_on, f.response_source, \
          f.responsible_agency_id, f.act_type, f.level, f.closes_on) \
         IS DISTINCT FROM (s.consultation_id, s.submitted_on, s.response_status, s.responded_on, \
          s.response_source, c.responsible_agency_id, c.act_type, c.level, c.closes_on) \
      OR f.audience IS DISTINCT FROM CASE WHEN e.visibility = 'public' THEN 0 \
                                          WHEN e.visibility = 'internal' THEN 1 ELSE 2 END";

/// Both tallies and the recommendation facts equal their definitions.
async fn assert_exact(app: &TestApp, after: &str) {
    assert_eq!(
        app.count(TALLY_DRIFT).await,
        0,
        "engagement_tally after {after}"
    );
    assert_eq!(
        app.count(AGENCY_TALLY_DRIFT).await,
        0,
        "engagement_agency_tally after {after}"
    );
    assert_eq!(
        app.count(
            "SELECT (SELECT count(*) FROM engagement_tally_pending) \
             + (SELECT count(*) FROM engagement_agency_tally_pending)"
        )
        .await,
        0,
        "changes left pending after {after}"
    );
    assert_eq!(
        app.count(FACTS_DRIFT).await,
        0,
        "recommendation_facts after {after}"
    );
    assert_eq!(
        app.count(SUBMISSION_FACTS_DRIFT).await,
        0,
        "submission_facts after {after}"
    );
}

/// A submission's facts follow its own changes, its response, and its consultation's agency, period and visibility;
/// anonymous readers and analysts count what their lists give at every step.
#[actix_web::test]
async fn submission_facts_follow_the_submission_and_its_consultation() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let res = app
        .post(
            "/api/v1/consultations",
            Some(&w.ngo_a),
            &json!({
            "title": "Проект закона об общественных объединениях", "act_type": "law",
            "responsible_agency_id": w.host_agency, "level": "national", "opens_on": "2026-10-01",
            "closes_on": "2026-10-20", "visibility": "public"}),
        )
        .await;
    res.assert_status(201);
    let consultation = format!("/api/v1/consultations/{}", id_of(&res.json()));
    let res = app
        .post(
            &format!("{consultation}/submissions"),
            Some(&w.ngo_a),
            &json!({"organization_ids": [w.org_a], "proposal": "Упростить регистрацию", "submitted_on": "2026-10-10"}),
        )
        .await;
    res.assert_status(201);
    let submission = format!("/api/v1/submissions/{}", id_of(&res.json()));
    let agree = async |after: &str| {
        assert_exact(&app, after).await;
        for token in [None, Some(w.analyst.as_str())] {
            let list = app
                .get(
                    &format!(
                        "/api/v1/submissions?responsible_agency_id={}",
                        w.host_agency
                    ),
                    token,
                )
                .await;
            list.assert_status(200);
            let listed = list.json()["items"].as_array().map_or(0, Vec::len) as i64;
            let counted = statistic(
                &app,
                "consultations",
                token,
                &format!("responsible_agency_id={}&group_by=status", w.host_agency),
            )
            .await;
            assert_eq!(
                counted["totals"]["submissions"].as_i64(),
                Some(listed),
                "after {after}, as {token:?}"
            );
        }
    };
    agree("a submission was made").await;
    for (change, body) in [
        ("a later comment period", json!({"closes_on": "2026-10-05"})),
        (
            "an internal consultation",
            json!({"visibility": "internal"}),
        ),
        (
            "a restricted consultation",
            json!({"visibility": "restricted"}),
        ),
        ("a public one again", json!({"visibility": "public"})),
    ] {
        app.patch_read(&consultation, Some(&w.ngo_a), &body)
            .await
            .assert_status(200);
        agree(change).await;
    }
    app.put(
        &format!("{submission}/response"),
        Some(&w.officer_host),
        &json!({"status": "partially_accepted", "text": "Учтено частично", "responded_on": "2026-10-25"}),
    )
    .await
    .assert_status(200);
    agree("the agency answered").await;
    app.patch_read(
        &consultation,
        Some(&w.admin),
        &json!({"responsible_agency_id": w.other_agency}),
    )
    .await
    .assert_status(200);
    agree("another agency became responsible").await;

    // The drift check can fail: a response the facts do not have is seen (and mended by the facts' own resync).
    app.execute("UPDATE submission_facts SET response_status = 'rejected'")
        .await;
    assert_eq!(app.count(SUBMISSION_FACTS_DRIFT).await, 1);
    app.execute("SELECT submission_facts_resync(ARRAY(SELECT id FROM submissions))")
        .await;

    app.delete_read(&submission, Some(&w.ngo_a))
        .await
        .assert_status(204);
    agree("the submission was withdrawn").await;
}

/// `GET /stats/{collection}?{query}` as `token`.
async fn statistic(app: &TestApp, collection: &str, token: Option<&str>, query: &str) -> Value {
    let res = app
        .get(&format!("/api/v1/stats/{collection}?{query}"), token)
        .await;
    res.assert_status(200);
    res.json()
}

/// `GET /stats/engagements?{query}` as `token`.
async fn stats(app: &TestApp, token: Option<&str>, query: &str) -> Value {
    statistic(app, "engagements", token, query).await
}

/// Each of `queries` on `/stats/{collection}` answers as the same query with `rows` appended, which no tally holds and
/// which changes no count, for each caller the tallies answer.
async fn assert_answered_as_the_rows(
    app: &TestApp,
    w: &World,
    (collection, rows): (&str, &str),
    queries: &[String],
    after: &str,
) {
    for (who, token) in [
        ("anonymous", None),
        ("analyst", Some(w.analyst.as_str())),
        ("officer", Some(w.officer_host.as_str())),
        ("admin", Some(w.admin.as_str())),
    ] {
        for query in queries {
            let tallied = statistic(app, collection, token, query).await;
            let counted = statistic(app, collection, token, &format!("{query}&{rows}")).await;
            assert_eq!(
                tallied, counted,
                "{who}, {collection}?{query}, after {after}: tallies {tallied} but rows {counted}"
            );
        }
    }
}

/// Each statistic the tallies answer equals the same statistic counted from the rows (a `from` that is not the first
/// of a month sends it there; every engagement here starts after it), for each caller the tallies answer.
async fn assert_tallies_agree(app: &TestApp, w: &World, tree: &Tree, after: &str) {
    let queries = [
        "group_by=kind".to_owned(),
        "group_by=year,status".to_owned(),
        "group_by=agency,visibility".to_owned(),
        "group_by=region&kind=hearing&kind=meeting".to_owned(),
        format!("agency_id={}&group_by=kind", tree.parent),
        format!(
            "agency_id={}&include_subagencies=false&group_by=year",
            tree.child
        ),
        format!("agency_id={}&group_by=status", w.host_agency),
    ];
    let rows = ("engagements", "from=1900-01-02");
    assert_answered_as_the_rows(app, w, rows, &queries, after).await;
    // What is compared is not nothing: the analyst counts at least the internal hearing.
    let all = stats(app, Some(&w.analyst), "").await;
    assert!(
        all["totals"]["count"].as_i64().unwrap_or(0) > 0,
        "after {after}: {all}"
    );
}

#[actix_web::test]
async fn the_tallies_follow_every_change_and_answer_as_the_rows_do() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let tree = Tree::build(&app, &w.admin).await;
    assert_exact(&app, "the world was built").await;

    let res = app
        .post("/api/v1/hearings", Some(&w.ngo_a), &json!({
            "title": "Общественные слушания о пытках в местах лишения свободы", "status": "planned",
            "starts_on": "2026-04-02", "region_code": "TJ-DU", "organizer_ids": [w.org_a],
            "invited_agencies": [{"agency_id": tree.child, "attended": false},
                                 {"agency_id": tree.grandchild, "attended": false}],
            "visibility": "public"
        }))
        .await;
    res.assert_status(201);
    let hearing_id = id_of(&res.json());
    let hearing = format!("/api/v1/hearings/{hearing_id}");
    let res = app
        .post(
            "/api/v1/hearings",
            Some(&w.ngo_a),
            &json!({
                "title": "Слушания о доступе к правосудию", "status": "held",
                "starts_on": "2025-11-20", "region_code": "TJ-DU", "organizer_ids": [w.org_a],
                "invited_agencies": [{"agency_id": w.host_agency, "attended": true}],
                "visibility": "internal"
            }),
        )
        .await;
    res.assert_status(201);
    assert_exact(&app, "two hearings were created").await;
    assert_tallies_agree(&app, &w, &tree, "two hearings were created").await;
    let ministry = stats(
        &app,
        None,
        &format!("agency_id={}&group_by=kind", tree.parent),
    )
    .await;
    assert_eq!(
        ministry["totals"]["count"], 1,
        "one hearing with two agencies of the ministry's tree counts once: {ministry}"
    );

    // Answers to a recommendation, the agency's own and an administrator's record, are kept beside it as the
    // history says.
    assert_eq!(app.count(FACTS_DRIFT).await, 0, "answers as created");
    for (token, status, on) in [
        (&w.officer_host, "acknowledged", "2026-05-02"),
        (&w.admin, "in_progress", "2026-07-01"),
        (&w.officer_host, "partially_implemented", "2026-06-20"),
    ] {
        app.post(
            &format!("/api/v1/recommendations/{}/status", w.recommendation),
            Some(token),
            &json!({"status": status, "effective_on": on, "note": "Ответ"}),
        )
        .await
        .assert_status(200);
        assert_eq!(app.count(FACTS_DRIFT).await, 0, "answers after {status}");
    }
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM recommendation_facts WHERE recommendation_id = '{}' \
             AND first_answered_on = '2026-05-02' AND agency_status = 'partially_implemented'",
            w.recommendation
        ))
        .await,
        1
    );

    // A recommendation from the hearing: its facts follow the hearing's changes below, and its own.
    let res = app
        .post(
            &format!("/api/v1/engagements/{hearing_id}/recommendations"),
            Some(&w.admin),
            &json!({"text": "Обеспечить доступ адвокатов", "addressed_to_agency_id": tree.child,
                    "issued_on": "2026-04-03", "due_on": "2026-05-03", "visibility": "public"}),
        )
        .await;
    res.assert_status(201);
    let recommendation_id = id_of(&res.json());
    let recommendation = format!("/api/v1/recommendations/{recommendation_id}");
    assert_exact(&app, "a recommendation was made").await;
    for (change, body) in [
        (
            "an internal recommendation",
            json!({"visibility": "internal"}),
        ),
        (
            "another addressee",
            json!({"addressed_to_agency_id": tree.grandchild}),
        ),
        (
            "a later deadline",
            json!({"due_on": "2026-09-01", "priority": "high"}),
        ),
    ] {
        app.patch_read(&recommendation, Some(&w.admin), &body)
            .await
            .assert_status(200);
        assert_exact(&app, change).await;
    }

    for (change, body) in [
        ("a new status", json!({"status": "held"})),
        ("another region", json!({"region_code": "TJ-SU"})),
        ("a new day", json!({"starts_on": "2026-06-15"})),
        ("internal visibility", json!({"visibility": "internal"})),
        (
            "other invited agencies",
            json!({"invited_agencies": [{"agency_id": tree.unrelated, "attended": true},
                                        {"agency_id": tree.parent, "attended": false}]}),
        ),
    ] {
        app.patch_read(&hearing, Some(&w.ngo_a), &body)
            .await
            .assert_status(200);
        assert_exact(&app, change).await;
        assert_tallies_agree(&app, &w, &tree, change).await;
    }

    // A council made restricted hides its meetings from everyone but administrators and its own people.
    app.restrict_council(&w.admin, w.council_a).await;
    assert_exact(&app, "council A was restricted").await;
    assert_tallies_agree(&app, &w, &tree, "council A was restricted").await;

    // The unrelated agency moves under the ministry: the ministry's subtree now counts its engagements too.
    app.patch(
        &format!("/api/v1/agencies/{}", tree.unrelated),
        Some(&w.admin),
        &json!({"parent_id": tree.child}),
    )
    .await
    .assert_status(200);
    assert_exact(&app, "an agency moved").await;
    assert_tallies_agree(&app, &w, &tree, "an agency moved").await;

    // The API deletes no recommendation, and refuses to delete an engagement that has one: removed here by SQL, its
    // facts go with it.
    app.execute(&format!(
        "DELETE FROM recommendation_status_history WHERE recommendation_id = '{recommendation_id}'; \
         DELETE FROM recommendations WHERE id = '{recommendation_id}'"
    ))
    .await;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM recommendation_facts WHERE recommendation_id = '{recommendation_id}'"
        ))
        .await,
        0
    );
    assert_exact(&app, "a recommendation was deleted").await;
    app.delete_read(&hearing, Some(&w.ngo_a))
        .await
        .assert_status(204);
    assert_exact(&app, "a hearing was deleted").await;
    assert_tallies_agree(&app, &w, &tree, "a hearing was deleted").await;

    // The drift checks can fail: one engagement too many in a tally row is seen.
    app.execute(
        "UPDATE engagement_tally SET engagements = engagements + 1 \
         WHERE ctid = (SELECT ctid FROM engagement_tally WHERE engagements > 0 LIMIT 1)",
    )
    .await;
    assert_eq!(app.count(TALLY_DRIFT).await, 2);
    app.execute(
        "UPDATE engagement_agency_tally SET engagements = engagements + 1 \
         WHERE ctid = (SELECT ctid FROM engagement_agency_tally WHERE engagements > 0 LIMIT 1)",
    )
    .await;
    assert_eq!(app.count(AGENCY_TALLY_DRIFT).await, 2);
    app.execute("UPDATE recommendation_facts SET agency_status = 'rejected'")
        .await;
    assert!(app.count(FACTS_DRIFT).await > 0);
}

/// Two engagements moving between the same two tally rows in opposite directions at once: neither waits on the other
/// into a deadlock (each transaction's counts move in one statement at its commit, in key order), every request
/// succeeds, and the tallies stay exact.
#[actix_web::test]
async fn opposite_changes_at_once_never_deadlock_and_keep_the_tallies_exact() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let hearing = async |status: &str| {
        let res = app
            .post("/api/v1/hearings", Some(&w.ngo_a), &json!({
                "title": "Слушания о доступе к правосудию", "status": status, "starts_on": "2026-03-10",
                "region_code": "TJ-DU", "organizer_ids": [w.org_a],
                "invited_agencies": [{"agency_id": w.host_agency, "attended": false}], "visibility": "public"
            }))
            .await;
        res.assert_status(201);
        format!("/api/v1/hearings/{}", id_of(&res.json()))
    };
    let (a, b) = (hearing("planned").await, hearing("held").await);
    for round in 0..12 {
        let (to_a, to_b) = if round % 2 == 0 {
            ("held", "planned")
        } else {
            ("planned", "held")
        };
        let (body_a, body_b) = (json!({"status": to_a}), json!({"status": to_b}));
        let (ra, rb) = tokio::join!(
            app.patch_read(&a, Some(&w.ngo_a), &body_a),
            app.patch_read(&b, Some(&w.ngo_a), &body_b),
        );
        ra.assert_status(200);
        rb.assert_status(200);
    }
    assert_exact(&app, "opposite changes at once").await;
}

/// Rows where `grant_tally` and its definition (grants and their sum by year, region, status, visibility, form of
/// support and currency) differ, in either direction.
pub const GRANT_TALLY_DRIFT: &str = "WITH want AS ( \
     SELECT date_trunc('year', e.starts_on)::date AS year, e.region_code, e.status, e.visibility, g.support_type, \
            g.currency, count(*) AS grants, sum(g.amount) AS amount \
       FROM grants g JOIN engagements e ON e.id = g.id GROUP BY 1, 2, 3, 4, 5, 6), \
   have AS ( \
     SELECT year, region_code, status, visibility, support_type, currency, grants, amount \
       FROM grant_tally WHERE grants <> 0 OR amount <> 0) \
   SELECT count(*) FROM ((SELECT * FROM want EXCEPT ALL SELECT * FROM have) \
                         UNION ALL (SELECT * FROM have EXCEPT ALL SELECT * FROM want)) AS drift";

/// Rows where `grant_funder_tally` and its definition (by funder, year, status, visibility, form of support and
/// currency) differ.
pub const GRANT_FUNDER_TALLY_DRIFT: &str = "WITH want AS ( \
     SELECT g.funder_agency_id, g.funder_organization_id, date_trunc('year', e.starts_on)::date AS year, e.status, \
            e.visibility, g.support_type, g.currency, count(*) AS grants, sum(g.amount) AS amount \
       FROM grants g JOIN engagements e ON e.id = g.id GROUP BY 1, 2, 3, 4, 5, 6, 7), \
   have AS ( \
     SELECT funder_agency_id, funder_organization_id, year, status, visibility, support_type, currency, grants, \
            amount \
       FROM grant_funder_tally WHERE grants <> 0 OR amount <> 0) \
   SELECT count(*) FROM ((SELECT * FROM want EXCEPT ALL SELECT * FROM have) \
                         UNION ALL (SELECT * FROM have EXCEPT ALL SELECT * FROM want)) AS drift";

/// Rows where `grant_recipient_tally` and its definition (by recipient, year, status, visibility, form of support and
/// currency) differ.
pub const GRANT_RECIPIENT_TALLY_DRIFT: &str = "WITH want AS ( \
     SELECT g.recipient_organization_id, date_trunc('year', e.starts_on)::date AS year, e.status, e.visibility, \
            g.support_type, g.currency, count(*) AS grants, sum(g.amount) AS amount \
       FROM grants g JOIN engagements e ON e.id = g.id GROUP BY 1, 2, 3, 4, 5, 6), \
   have AS ( \
     SELECT recipient_organization_id, year, status, visibility, support_type, currency, grants, amount \
       FROM grant_recipient_tally WHERE grants <> 0 OR amount <> 0) \
   SELECT count(*) FROM ((SELECT * FROM want EXCEPT ALL SELECT * FROM have) \
                         UNION ALL (SELECT * FROM have EXCEPT ALL SELECT * FROM want)) AS drift";

/// The three grant tallies equal their definitions, and nothing is left pending.
async fn assert_grants_exact(app: &TestApp, after: &str) {
    assert_eq!(
        app.count(GRANT_TALLY_DRIFT).await,
        0,
        "grant_tally after {after}"
    );
    assert_eq!(
        app.count(GRANT_FUNDER_TALLY_DRIFT).await,
        0,
        "grant_funder_tally after {after}"
    );
    assert_eq!(
        app.count(GRANT_RECIPIENT_TALLY_DRIFT).await,
        0,
        "grant_recipient_tally after {after}"
    );
    assert_eq!(
        app.count(
            "SELECT (SELECT count(*) FROM grant_tally_pending) \
             + (SELECT count(*) FROM grant_funder_tally_pending) \
             + (SELECT count(*) FROM grant_recipient_tally_pending)"
        )
        .await,
        0,
        "grant changes left pending after {after}"
    );
}

/// `GET /stats/grants?{query}` as `token`.
async fn grant_stats(app: &TestApp, token: Option<&str>, query: &str) -> Value {
    statistic(app, "grants", token, query).await
}

/// Each grant statistic a tally answers equals the same statistic counted from the rows (`amount_min=0`, which every
/// grant meets, sends it there), for each caller the tallies answer.
async fn assert_grant_tallies_agree(app: &TestApp, w: &World, tree: &Tree, after: &str) {
    let queries = [
        String::new(),
        "group_by=currency".to_owned(),
        "group_by=funder,year".to_owned(),
        "group_by=region,status".to_owned(),
        "group_by=support_type&currency=TJS".to_owned(),
        "region_code=TJ-DU&group_by=year".to_owned(),
        "year=2026&group_by=status".to_owned(),
        format!("funder_agency_id={}&group_by=year", tree.parent),
        format!(
            "funder_agency_id={}&include_subagencies=false&group_by=currency",
            tree.child
        ),
        format!("funder_organization_id={}&group_by=support_type", w.org_b),
        "group_by=recipient,currency".to_owned(),
        format!("recipient_organization_id={}&group_by=year,status", w.org_a),
    ];
    assert_answered_as_the_rows(app, w, ("grants", "amount_min=0"), &queries, after).await;
}

#[actix_web::test]
async fn the_grant_tallies_follow_every_change_and_answer_as_the_rows_do() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let tree = Tree::build(&app, &w.admin).await;
    assert_grants_exact(&app, "the world was built").await;
    let create = async |extra: Value| {
        let res = app
            .post(
                "/api/v1/grants",
                Some(&w.admin),
                &crate::grants::grant(&w, extra),
            )
            .await;
        res.assert_status(201);
        format!("/api/v1/grants/{}", id_of(&res.json()))
    };
    let child = create(json!({"funder_agency_id": tree.child})).await;
    let usd = create(
        json!({"funder_agency_id": null, "funder_organization_id": w.org_b, "amount": "9999.99",
        "currency": "USD", "starts_on": "2025-05-01", "awarded_on": null, "region_code": "TJ-SU",
        "visibility": "internal", "support_type": "subsidy"}),
    )
    .await;
    let zero = create(
        json!({"funder_agency_id": tree.grandchild, "amount": "0", "currency": "EUR",
        "status": "applied", "awarded_on": null}),
    )
    .await;
    create(json!({"amount": "1.5", "currency": "KWD", "visibility": "restricted"})).await;
    assert_grants_exact(&app, "four grants were created").await;
    assert_grant_tallies_agree(&app, &w, &tree, "four grants were created").await;

    // Worked by hand: the administrator sees all four grants (the world has none of its own), one per currency;
    // the analyst not the restricted one; an anonymous reader only the public ones.
    let admin = grant_stats(&app, Some(&w.admin), "group_by=currency").await;
    assert_eq!(admin["totals"]["count"], 4, "{admin}");
    assert_eq!(
        admin["totals"]["sums"],
        json!([{"currency": "EUR", "count": 1, "amount": "0.00"},
               {"currency": "KWD", "count": 1, "amount": "1.500"},
               {"currency": "TJS", "count": 1, "amount": "125000.00"},
               {"currency": "USD", "count": 1, "amount": "9999.99"}]),
        "{admin}"
    );
    let analyst = grant_stats(&app, Some(&w.analyst), "").await;
    assert_eq!(analyst["totals"]["count"], 3, "{analyst}");
    let anonymous = grant_stats(&app, None, "").await;
    assert_eq!(anonymous["totals"]["count"], 2, "{anonymous}");
    let ministry = grant_stats(
        &app,
        None,
        &format!("funder_agency_id={}&group_by=year", tree.parent),
    )
    .await;
    assert_eq!(
        ministry["totals"]["count"], 2,
        "the ministry's subtree funds the child's and the grandchild's grants: {ministry}"
    );

    for (change, path, body) in [
        ("a new amount", &child, json!({"amount": "130000.50"})),
        (
            "another currency",
            &usd,
            json!({"currency": "EUR", "amount": "500"}),
        ),
        (
            "another funder",
            &child,
            json!({"funder_agency_id": tree.unrelated}),
        ),
        (
            "another recipient",
            &zero,
            json!({"recipient_organization_id": w.org_b}),
        ),
        ("a new status", &zero, json!({"status": "rejected"})),
        ("another year", &usd, json!({"starts_on": "2026-01-15"})),
        ("another region", &child, json!({"region_code": "TJ-SU"})),
        ("public visibility", &usd, json!({"visibility": "public"})),
    ] {
        app.patch_read(path, Some(&w.admin), &body)
            .await
            .assert_status(200);
        assert_grants_exact(&app, change).await;
        assert_grant_tallies_agree(&app, &w, &tree, change).await;
    }

    // A tally row keeps the largest scale it ever summed: an amount written by hand with three decimals, then put
    // back, leaves `130000.500` in the row where the grants themselves sum to `130000.50`. The API writes both alike.
    let child_id = child.rsplit('/').next().unwrap_or_default();
    app.execute(&format!(
        "UPDATE grants SET amount = 130000.125 WHERE id = '{child_id}'"
    ))
    .await;
    app.execute(&format!(
        "UPDATE grants SET amount = 130000.50 WHERE id = '{child_id}'"
    ))
    .await;
    assert_eq!(
        app.count("SELECT count(*) FROM grant_tally WHERE amount::text = '130000.500'")
            .await,
        1,
        "the tally row kept the scale of the amount it once held"
    );
    // A write through the API ends the answers kept from before the changes made past it.
    app.patch_read(
        &zero,
        Some(&w.admin),
        &json!({"title": "Помещение для приёма граждан"}),
    )
    .await
    .assert_status(200);
    assert_grants_exact(&app, "an amount written by hand").await;
    assert_grant_tallies_agree(&app, &w, &tree, "an amount written by hand").await;
    let tjs = grant_stats(&app, None, "currency=TJS").await;
    assert_eq!(tjs["totals"]["sums"][0]["amount"], "130000.50", "{tjs}");

    app.delete_read(&usd, Some(&w.admin))
        .await
        .assert_status(204);
    assert_grants_exact(&app, "a grant was deleted").await;
    assert_grant_tallies_agree(&app, &w, &tree, "a grant was deleted").await;

    // The drift checks can fail: one grant too many in a tally row is seen.
    app.execute(
        "UPDATE grant_tally SET grants = grants + 1 \
         WHERE ctid = (SELECT ctid FROM grant_tally WHERE grants > 0 LIMIT 1)",
    )
    .await;
    assert_eq!(app.count(GRANT_TALLY_DRIFT).await, 2);
    app.execute(
        "UPDATE grant_funder_tally SET amount = amount + 1 \
         WHERE ctid = (SELECT ctid FROM grant_funder_tally WHERE grants > 0 LIMIT 1)",
    )
    .await;
    assert_eq!(app.count(GRANT_FUNDER_TALLY_DRIFT).await, 2);
    app.execute(
        "DELETE FROM grant_recipient_tally WHERE ctid = (SELECT ctid FROM grant_recipient_tally LIMIT 1)",
    )
    .await;
    assert_eq!(app.count(GRANT_RECIPIENT_TALLY_DRIFT).await, 1);
}

/// A grant's create queues its engagement's tally changes first; a change of another grant's funder queues its
/// grant tally changes first. Both then need the same rows of both families. A third session holds the old funder's
/// agency tally rows while the create, then the change, reach their commits, so that both wait in that order; then it
/// lets go. With one apply per family, the change held the grant tally row the create needed next, and waited for the
/// agency rows the create held: a deadlock, a 500. Applied by one function in one order, neither holds what the
/// other waits for, and both succeed.
#[actix_web::test]
async fn a_grant_create_and_a_funder_change_at_once_never_deadlock() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let grant = |extra: Value| crate::grants::grant(&w, extra);
    let res = app
        .post("/api/v1/grants", Some(&w.admin), &grant(json!({})))
        .await;
    res.assert_status(201);
    let moving = format!("/api/v1/grants/{}", id_of(&res.json()));
    let etag = app.etag(&moving, Some(&w.admin)).await;

    let mut holder = AsyncPgConnection::establish(&format!("{}/{}", server_url(), app.db_name))
        .await
        .expect("a third session");
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT 1 FROM engagement_agency_tally WHERE agency_id = '{}' FOR UPDATE",
            w.host_agency
        ))
        .await
        .expect("hold the host agency's tally rows");
    let pause = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
    let change = json!({"funder_agency_id": w.other_agency, "amount": "130000"});
    let new = grant(json!({}));
    let (created, changed, ()) = tokio::join!(
        app.post("/api/v1/grants", Some(&w.admin), &new),
        async {
            pause(300).await;
            app.patch_if(&moving, Some(&w.admin), etag.as_deref(), &change)
                .await
        },
        async {
            pause(900).await;
            holder.batch_execute("COMMIT").await.expect("let go");
        },
    );
    created.assert_status(201);
    changed.assert_status(200);
    assert_exact(&app, "a create and a funder change at once").await;
    assert_grants_exact(&app, "a create and a funder change at once").await;
}

/// A council's visibility changed (here by SQL, held open in a third session) while the agency answers a
/// recommendation from one of its meetings: the two writes lock different rows (the council, the recommendation)
/// but rewrite the same facts. The answer waits for the council's change, then rewrites the facts as they are;
/// without that wait its insert failed on the facts' key (a 409).
#[actix_web::test]
async fn a_council_change_and_an_answer_rewriting_the_same_facts_at_once_both_land() {
    let app = TestApp::new().await;
    let w = app.world().await;
    assert_exact(&app, "the world was built").await;
    let mut holder = AsyncPgConnection::establish(&format!("{}/{}", server_url(), app.db_name))
        .await
        .expect("a third session");
    holder
        .batch_execute(&format!(
            "BEGIN; UPDATE councils SET visibility = 'restricted' WHERE id = '{}'",
            w.council_a
        ))
        .await
        .expect("change council A and hold it");
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM recommendations r JOIN engagements e ON e.id = r.engagement_id \
             WHERE r.id = '{}' AND e.council_id = '{}'",
            w.recommendation, w.council_a
        ))
        .await,
        1,
        "the recommendation is from council A's meeting"
    );
    let pause = |ms| tokio::time::sleep(std::time::Duration::from_millis(ms));
    let path = format!("/api/v1/recommendations/{}/status", w.recommendation);
    let answer = json!({"status": "acknowledged", "note": "Принято к рассмотрению"});
    let (answered, ()) = tokio::join!(app.post(&path, Some(&w.officer_host), &answer), async {
        pause(600).await;
        holder.batch_execute("COMMIT").await.expect("let go");
    },);
    answered.assert_status(200);
    assert_exact(&app, "a council change and an answer at once").await;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM recommendation_facts WHERE recommendation_id = '{}' \
             AND audience = 2 AND status = 'acknowledged'",
            w.recommendation
        ))
        .await,
        1,
        "both writes are in the facts"
    );
}

/// A council's visibility changes the facts of all its meetings' recommendations, under the locks their rewrites
/// share: at most 256 of them, however many meetings (a million engagements' data set has 20,000 on one council,
/// and a lock per meeting filled Postgres's lock table there: "out of shared memory").
#[actix_web::test]
async fn a_council_change_takes_a_bounded_number_of_locks_however_many_meetings() {
    #[derive(diesel::QueryableByName)]
    struct Held {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let app = TestApp::new().await;
    let w = app.world().await;
    app.execute(&format!(
        "INSERT INTO engagements (id, kind, title, status, starts_on, visibility, council_id) \
         SELECT gen_random_uuid(), 'meeting', 'Заседание № ' || n, 'held', DATE '2020-01-01' + n % 900, 'public', \
                '{}' \
         FROM generate_series(1, 1000) AS n",
        w.council_a
    ))
    .await;
    let mut conn = AsyncPgConnection::establish(&format!("{}/{}", server_url(), app.db_name))
        .await
        .expect("a session of its own");
    conn.batch_execute(&format!(
        "BEGIN; UPDATE councils SET visibility = 'restricted' WHERE id = '{}'",
        w.council_a
    ))
    .await
    .expect("change council A");
    let held: Held = diesel_async::RunQueryDsl::get_result(
        diesel::sql_query(
            "SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()",
        ),
        &mut conn,
    )
    .await
    .expect("the locks held");
    conn.batch_execute("ROLLBACK").await.expect("roll back");
    assert!(
        (1..=256).contains(&held.n),
        "{} advisory locks for 1,001 meetings",
        held.n
    );

    app.restrict_council(&w.admin, w.council_a).await;
    assert_exact(&app, "a council of a thousand meetings was restricted").await;
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM recommendation_facts WHERE recommendation_id = '{}' AND audience = 2",
            w.recommendation
        ))
        .await,
        1,
        "its meeting's recommendation is hidden with it"
    );
}
