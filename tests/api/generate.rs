//! `hamkori generate`: every kind, with parties derived as the kinds derive them, readable through the API.

use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Text};
use diesel_async::RunQueryDsl;
use hamkori::demo::{Generate, generate};

use crate::support::TestApp;

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = Text)]
    what: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The parties each kind's write path derives, from the kind-specific rows.
const DERIVED: &str = "
    SELECT m.id AS engagement_id, NULL::uuid AS organization_id, c.host_agency_id AS agency_id, 'host' AS role
      FROM meetings m JOIN engagements e ON e.id = m.id JOIN councils c ON c.id = e.council_id
    UNION ALL SELECT meeting_id, organization_id, agency_id, CASE WHEN present THEN 'participant' ELSE 'invited' END
      FROM meeting_attendance
    UNION ALL SELECT hearing_id, organization_id, NULL, 'organizer' FROM hearing_organizers
    UNION ALL SELECT hearing_id, NULL, agency_id, CASE WHEN attended THEN 'participant' ELSE 'invited' END
      FROM hearing_invited_agencies
    UNION ALL SELECT id, NULL, responsible_agency_id, 'responsible' FROM consultations
    UNION ALL SELECT DISTINCT s.consultation_id, so.organization_id, NULL::uuid, 'submitter'
      FROM submissions s JOIN submission_organizations so ON so.submission_id = s.id
    UNION ALL SELECT visit_id, organization_id, NULL, 'monitor' FROM visit_monitors
    UNION ALL SELECT v.id, NULL, f.operating_agency_id, 'operator'
      FROM monitoring_visits v JOIN facilities f ON f.id = v.facility_id
    UNION ALL SELECT id, funder_organization_id, funder_agency_id, 'funder' FROM grants
    UNION ALL SELECT id, recipient_organization_id, NULL, 'recipient' FROM grants";

/// Search entries that differ from their sources (an engagement's text as `search_engagement_source` gives it, and
/// one entry per recommendation, submission, organisation and agency), in either direction.
const SEARCH_DRIFT: &str = "SELECT (SELECT count(*) FROM ( \
    (SELECT entity_id, kind, region_code, sorts_on, title, body FROM search_entries \
     WHERE entity_type = 'engagement' \
     EXCEPT SELECT id, kind, region_code, starts_on, title, body FROM search_engagement_source) \
    UNION ALL \
    (SELECT id, kind, region_code, starts_on, title, body FROM search_engagement_source \
     EXCEPT SELECT entity_id, kind, region_code, sorts_on, title, body FROM search_entries \
     WHERE entity_type = 'engagement')) AS engagements) \
  + (SELECT count(*) FROM ( \
    SELECT id FROM recommendations UNION ALL SELECT id FROM submissions \
    UNION ALL SELECT id FROM organizations UNION ALL SELECT id FROM agencies \
    EXCEPT SELECT entity_id FROM search_entries WHERE entity_type <> 'engagement') AS others)";

/// The definitions of every index and constraint, and which triggers are enabled, as one digest.
async fn schema_fingerprint(app: &TestApp) -> String {
    let mut conn = app.pool().get().await.expect("conn");
    let digest: Count = diesel::sql_query(
        "SELECT md5(concat_ws(E'\\n', \
             (SELECT string_agg(indexdef, E'\\n' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'), \
             (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), E'\\n' ORDER BY conrelid, conname) \
                FROM pg_constraint WHERE connamespace = 'public'::regnamespace), \
             (SELECT string_agg(tgname || ' ' || tgenabled::text, E'\\n' ORDER BY tgrelid, tgname) \
                FROM pg_trigger WHERE NOT tgisinternal))) AS what, \
         (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public') AS n",
    )
    .get_result(&mut conn)
    .await
    .expect("schema fingerprint");
    assert!(digest.n > 100, "the schema's indexes are read");
    digest.what
}

#[actix_web::test]
async fn generated_engagements_are_consistent_and_readable() {
    let app = TestApp::new().await;
    let spec = Generate {
        organizations: 80,
        agencies: 20,
        engagements: 2_000,
        seed: 3,
    };
    let schema_before = schema_fingerprint(&app).await;
    generate(app.pool(), spec).await.expect("generate");
    assert_eq!(
        schema_fingerprint(&app).await,
        schema_before,
        "every index, constraint and trigger the load set aside is back"
    );
    let mut conn = app.pool().get().await.expect("conn");
    let counts: Vec<Count> = diesel::sql_query(format!(
        "SELECT 'missing' AS what, count(*) AS n FROM (({DERIVED}) EXCEPT
             SELECT engagement_id, organization_id, agency_id, role FROM engagement_parties) d
         UNION ALL SELECT 'extra', count(*) FROM (SELECT engagement_id, organization_id, agency_id, role
             FROM engagement_parties EXCEPT ({DERIVED})) x
         UNION ALL SELECT 'engagements', count(*) FROM engagements
         UNION ALL SELECT 'few parties', count(*) FROM engagements e
             WHERE (SELECT count(*) FROM engagement_parties p WHERE p.engagement_id = e.id) NOT BETWEEN 2 AND 4
               AND NOT (e.kind = 'consultation' AND e.status = 'planned')
         UNION ALL SELECT 'kinds', count(DISTINCT kind) FROM engagements
         UNION ALL SELECT 'confidential findings', count(*) FROM visit_findings WHERE confidential
         UNION ALL SELECT 'agency answers', count(*) FROM submissions
             WHERE response_source = 'agency' AND response_recorder_agency_id IS NOT NULL
         UNION ALL SELECT 'histories', count(DISTINCT recommendation_id) FROM recommendation_status_history
         UNION ALL SELECT 'currencies', count(DISTINCT currency) FROM grants
         UNION ALL SELECT 'sub-agencies', count(*) FROM agencies WHERE parent_id IS NOT NULL
         UNION ALL SELECT 'attendance', count(*) FROM meeting_attendance
         UNION ALL SELECT 'councils without a chair or an organisation', count(*) FROM councils c
             WHERE NOT EXISTS (SELECT 1 FROM council_members m WHERE m.council_id = c.id AND m.role = 'chair'
                                   AND m.agency_id = c.host_agency_id)
                OR NOT EXISTS (SELECT 1 FROM council_members m WHERE m.council_id = c.id
                                   AND m.organization_id IS NOT NULL)
         UNION ALL SELECT 'minutes recorded', count(*) FROM meetings m JOIN engagements e ON e.id = m.id
             WHERE m.minutes IS NOT NULL AND m.minutes_recorded_on > e.starts_on
         UNION ALL SELECT 'minutes without their day', count(*) FROM meetings
             WHERE (minutes IS NULL) <> (minutes_recorded_on IS NULL)
         UNION ALL SELECT 'answered after today', count(*) FROM (
             SELECT effective_on FROM recommendation_status_history UNION ALL SELECT issued_on FROM recommendations
             UNION ALL SELECT responded_on FROM submissions UNION ALL SELECT submitted_on FROM submissions) d(day)
             WHERE day > date '2026-12-01'
         UNION ALL SELECT 'no response the API refuses', count(*) FROM recommendation_status_history h
             JOIN recommendations r ON r.id = h.recommendation_id
             WHERE h.status = 'no_response'
               AND (r.due_on IS NULL OR h.effective_on <= r.due_on
                    OR EXISTS (SELECT 1 FROM recommendation_status_history p
                               WHERE p.recommendation_id = h.recommendation_id AND p.changed_at < h.changed_at
                                 AND p.status <> 'issued'))
         UNION ALL SELECT 'no response', count(*) FROM recommendation_status_history WHERE status = 'no_response'
         UNION ALL SELECT 'days to a first answer', count(DISTINCT a.first_answered_on - r.issued_on)
             FROM recommendation_facts a JOIN recommendations r ON r.id = a.recommendation_id
         UNION ALL SELECT 'deadlines', count(DISTINCT due_on - issued_on) FROM recommendations
         UNION ALL SELECT 'days to a response', count(DISTINCT responded_on - submitted_on) FROM submissions
         UNION ALL SELECT 'late submissions', count(*) FROM submissions s
             JOIN consultations c ON c.id = s.consultation_id WHERE s.submitted_on > c.closes_on
         UNION ALL SELECT 'seats ended', count(*) FROM council_members WHERE until < current_date
         UNION ALL SELECT 'organisation seats now', count(*) FROM council_members
             WHERE organization_id IS NOT NULL AND (until IS NULL OR until >= current_date)
         UNION ALL SELECT 'not led by their creation time', count(*) FROM (
             SELECT id, created_at FROM engagements UNION ALL SELECT id, created_at FROM submissions
             UNION ALL SELECT id, created_at FROM recommendations
             UNION ALL SELECT id, changed_at FROM recommendation_status_history) AS recorded(id, at)
             WHERE substr(id::text, 15, 1) <> '7' OR substr(id::text, 20, 1) NOT IN ('8', '9', 'a', 'b')
                OR left(replace(id::text, '-', ''), 12)
                   <> lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0')"
    ))
    .load(&mut conn)
    .await
    .expect("counts");
    drop(conn);
    let n = |what: &str| {
        counts
            .iter()
            .find(|c| c.what == what)
            .map(|c| c.n)
            .unwrap_or(-1)
    };
    assert_eq!((n("missing"), n("extra")), (0, 0), "parties as derived");
    assert_eq!(n("engagements"), 2_000);
    assert_eq!(n("few parties"), 0, "2-4 parties each");
    assert_eq!(n("kinds"), 5);
    assert_eq!(
        n("councils without a chair or an organisation"),
        0,
        "every council is chaired by its host agency and seats organisations"
    );
    // Ids of UUID version 7 led by the record's creation time, as the server makes them: the data lies in the
    // order it was recorded in, as in a live database.
    assert_eq!(n("not led by their creation time"), 0);
    assert_eq!(
        n("minutes without their day"),
        0,
        "every meeting with minutes has the day they were recorded, and none without"
    );
    assert_eq!(
        (n("answered after today"), n("no response the API refuses")),
        (0, 0),
        "nothing is dated after the generator's today, and `no_response` follows the issue and its deadline, as \
         the API requires"
    );
    // The medians of the statistics have something to tell apart.
    for what in ["days to a first answer", "days to a response"] {
        assert!(n(what) >= 10, "{what}: {}", n(what));
    }
    assert!(n("deadlines") >= 3, "deadlines: {}", n("deadlines"));
    for what in [
        "no response",
        "late submissions",
        "confidential findings",
        "agency answers",
        "histories",
        "sub-agencies",
        "attendance",
        "minutes recorded",
        "seats ended",
        "organisation seats now",
    ] {
        assert!(n(what) > 0, "{what}");
    }
    assert!(n("currencies") >= 3);
    // The statistics' tallies and answers, rebuilt once at the end of the load, equal their definitions.
    for (name, drift) in [
        ("engagement_tally", crate::tallies::TALLY_DRIFT),
        (
            "engagement_agency_tally",
            crate::tallies::AGENCY_TALLY_DRIFT,
        ),
        ("recommendation_facts", crate::tallies::FACTS_DRIFT),
        ("submission_facts", crate::tallies::SUBMISSION_FACTS_DRIFT),
        ("grant_tally", crate::tallies::GRANT_TALLY_DRIFT),
        (
            "grant_funder_tally",
            crate::tallies::GRANT_FUNDER_TALLY_DRIFT,
        ),
        (
            "grant_recipient_tally",
            crate::tallies::GRANT_RECIPIENT_TALLY_DRIFT,
        ),
        // Derived after the load with the paused triggers' own definitions.
        ("engagement_timeline", crate::timeline::DRIFT),
        ("search_entries", SEARCH_DRIFT),
    ] {
        assert_eq!(app.count(drift).await, 0, "{name}");
    }
    // The search check sees a changed text and a missing entry.
    TestApp::execute(
        &app,
        "UPDATE search_entries SET body = body || ' x' WHERE entity_id = \
         (SELECT entity_id FROM search_entries WHERE entity_type = 'engagement' LIMIT 1); \
         DELETE FROM search_entries WHERE entity_id = \
         (SELECT entity_id FROM search_entries WHERE entity_type = 'submission' LIMIT 1)",
    )
    .await;
    assert_eq!(app.count(SEARCH_DRIFT).await, 3, "a corrupted search entry");
    assert_eq!(
        app.count("SELECT sum(engagements) FROM engagement_tally")
            .await,
        2_000
    );

    let admin = app.admin().await;
    let mut total = 0;
    for (path, kind) in [
        ("meetings", "meeting"),
        ("hearings", "hearing"),
        ("consultations", "consultation"),
        ("monitoring-visits", "monitoring_visit"),
        ("grants", "grant"),
    ] {
        total += app
            .all_item_ids(&format!("/api/v1/{path}?limit=200"), Some(&admin))
            .await
            .len();
        let first = app
            .get(
                &format!("/api/v1/engagements?kind={kind}&limit=1"),
                Some(&admin),
            )
            .await;
        let id = first.item_ids().remove(0);
        app.get(&format!("/api/v1/engagements/{id}"), Some(&admin))
            .await
            .assert_record(&id);
    }
    assert_eq!(total, 2_000, "every kind's list reads every generated row");
    for path in [
        "recommendations",
        "submissions",
        "councils",
        "agencies",
        "organizations",
    ] {
        app.get(&format!("/api/v1/{path}?limit=100"), Some(&admin))
            .await
            .assert_status(200);
    }
    app.get("/api/v1/engagements?limit=100", None)
        .await
        .assert_status(200);
}
