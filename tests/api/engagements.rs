//! The cross-kind engagement list: filters, full text, pagination, visibility.

use serde_json::json;

use crate::support::{self, TestApp};

/// The ids of a page; a refused or failed list is no empty list.
#[track_caller]
fn ids(res: &crate::support::Response) -> Vec<String> {
    res.item_ids()
}

#[actix_web::test]
async fn filters_match_any_party_role_region_subtree_dates_and_kinds() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let hearing = app
        .insert_engagement(
            "hearing",
            Some(w.org_b),
            "public",
            &[(w.org_b, "organizer")],
        )
        .await;
    let by_kind = app
        .get(
            "/api/v1/engagements?kind=meeting&kind=hearing",
            Some(&w.analyst),
        )
        .await;
    by_kind.assert_status(200);
    assert_eq!(
        ids(&by_kind).len(),
        2,
        "two readable meetings + hearing, restricted hidden: {}",
        by_kind.text()
    );
    let hearing_only = app
        .get("/api/v1/engagements?kind=hearing", Some(&w.analyst))
        .await;
    assert_eq!(ids(&hearing_only), [hearing.to_string()]);
    let with_org_a = app
        .get(
            &format!("/api/v1/engagements?organization_id={}", w.org_a),
            Some(&w.admin),
        )
        .await;
    assert_eq!(ids(&with_org_a).len(), 2, "both meetings org A attended");
    let with_org_b = app
        .get(
            &format!("/api/v1/engagements?organization_id={}", w.org_b),
            Some(&w.admin),
        )
        .await;
    assert_eq!(ids(&with_org_b), [hearing.to_string()]);
    let with_host = app
        .get(
            &format!("/api/v1/engagements?agency_id={}", w.host_agency),
            Some(&w.admin),
        )
        .await;
    assert_eq!(ids(&with_host).len(), 2);
    let in_council = app
        .get(
            &format!("/api/v1/engagements?council_id={}", w.council_a),
            Some(&w.admin),
        )
        .await;
    assert_eq!(ids(&in_council).len(), 2);
    assert_eq!(
        ids(&app
            .get(
                "/api/v1/engagements?from=2026-03-01&to=2026-03-31",
                Some(&w.admin)
            )
            .await)
        .len(),
        2
    );
    assert_eq!(
        ids(&app
            .get("/api/v1/engagements?region_code=TJ", Some(&w.admin))
            .await)
        .len(),
        2
    );
    assert_eq!(
        ids(&app
            .get(
                "/api/v1/engagements?sphere_code=public_order",
                Some(&w.admin)
            )
            .await)
        .len(),
        2
    );
    assert_eq!(
        ids(&app
            .get(
                "/api/v1/engagements?status=held&visibility=restricted",
                Some(&w.admin)
            )
            .await),
        [w.restricted.to_string()]
    );
    assert_eq!(
        ids(&app.get("/api/v1/engagements", None).await),
        [hearing.to_string()],
        "anonymous readers see public ones only"
    );

    app.get("/api/v1/engagements?kind=party", None)
        .await
        .assert_invalid("kind[0]");
    app.get("/api/v1/engagements?from=2026-13-01", None)
        .await
        .assert_invalid("from");
    app.get("/api/v1/engagements?from=2026-05-01&to=2026-01-01", None)
        .await
        .assert_invalid("to");
    // A visibility the caller never reads is an empty page without a query, but a made-up cursor is still refused.
    let none = app
        .get(
            "/api/v1/engagements?visibility=restricted",
            Some(&w.analyst),
        )
        .await;
    none.assert_status(200);
    assert_eq!(none.item_ids(), Vec::<String>::new());
    // A well-formed cursor of this list's sort whose key is not a date: {"s":"-starts_on","k":"not-a-date",…}.
    let cursor = "eyJzIjoiLXN0YXJ0c19vbiIsImsiOiJub3QtYS1kYXRlIiwiaSI6IjAxYTJkYWM2LWVlODAtNzA4MS1iMzdlLTBjOWVhM2U2YTA4OCJ9";
    for visibility in ["public", "restricted"] {
        app.get(
            &format!("/api/v1/engagements?visibility={visibility}&cursor={cursor}"),
            Some(&w.analyst),
        )
        .await
        .assert_invalid("cursor");
    }
    app.get("/api/v1/engagements?region_code=TJ-QQ", None)
        .await
        .assert_invalid("region_code");
    app.get(
        &format!("/api/v1/engagements/{}", uuid::Uuid::now_v7()),
        Some(&w.admin),
    )
    .await
    .assert_problem(404);
    app.get(&format!("/api/v1/engagements/{hearing}"), None)
        .await
        .assert_record(hearing);
}

#[actix_web::test]
async fn full_text_search_understands_russian_word_forms() {
    let app = TestApp::new().await;
    let w = app.world().await;
    app.patch_read(
        &format!("/api/v1/meetings/{}", w.meeting),
        Some(&w.admin),
        &json!({"title": "Заседание общественных советов по вопросам милиции"}),
    )
    .await
    .assert_status(200);
    for q in ["совет", "советов", "милиция", "заседания"] {
        let res = app
            .get(
                &format!("/api/v1/engagements?q={}", urlencode(q)),
                Some(&w.analyst),
            )
            .await;
        assert_eq!(ids(&res), [w.meeting.to_string()], "q={q}");
    }
    assert_eq!(
        ids(&app
            .get(
                &format!("/api/v1/engagements?q={}", urlencode("грант")),
                Some(&w.analyst)
            )
            .await)
        .len(),
        0
    );
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[actix_web::test]
async fn pages_of_engagements_cover_every_row_once() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let mut conn = app.pool().get().await.expect("conn");
    conn.batch_execute(
        "INSERT INTO engagements (id, kind, title, status, starts_on, visibility) \
         SELECT gen_random_uuid(), 'hearing', 'Слушания ' || g, 'held', date '2026-01-01' + (g % 5), 'public' FROM generate_series(1, 37) g;",
    )
    .await
    .expect("rows");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            Some(c) => format!("/api/v1/engagements?limit=8&cursor={c}"),
            None => "/api/v1/engagements?limit=8".to_owned(),
        };
        let res = app.get(&uri, Some(&admin)).await;
        res.assert_status(200);
        seen.extend(ids(&res));
        match res.json()["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let unique: std::collections::HashSet<&String> = seen.iter().collect();
    assert_eq!((seen.len(), unique.len()), (37, 37));
}

#[actix_web::test]
async fn a_page_of_engagements_takes_two_queries_whatever_its_size() {
    use diesel_async::SimpleAsyncConnection;
    support::record_statements();
    let app = TestApp::new().await;
    let w = app.world().await;
    let mut conn = app.pool().get().await.expect("conn");
    conn.batch_execute(&format!(
        "INSERT INTO engagements (id, kind, title, status, starts_on, visibility) \
         SELECT gen_random_uuid(), 'hearing', 'Слушания ' || g, 'held', date '2026-01-01' + g, 'internal' FROM generate_series(1, 120) g;
         INSERT INTO engagement_parties (engagement_id, organization_id, role) SELECT id, '{}', 'organizer' FROM engagements WHERE kind = 'hearing';",
        w.org_a
    ))
    .await
    .expect("rows");
    drop(conn);
    app.get("/api/v1/engagements?limit=1", Some(&w.analyst))
        .await
        .assert_status(200);
    let mut counts = Vec::new();
    for limit in [1, 10, 100] {
        support::take_statements();
        let res = app
            .get(
                &format!(
                    "/api/v1/engagements?limit={limit}&organization_id={}",
                    w.org_a
                ),
                Some(&w.analyst),
            )
            .await;
        res.assert_status(200);
        assert_eq!(res.json()["items"].as_array().map(Vec::len), Some(limit));
        counts.push(support::take_statements().len());
    }
    assert_eq!(counts, [2, 2, 2], "page + parties, never one per row");
}

/// A record read alone (one statement, its own part as JSON) is exactly the record its list shows (its own part
/// loaded table by table), for every kind, with every list of its own filled, and for readers who see it
/// differently (a confidential finding is whole for its monitors and redacted for others).
#[actix_web::test]
async fn a_record_read_alone_is_the_record_its_list_shows() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let created = |res: support::Response| {
        res.assert_status(201);
        support::id_of(&res.json())
    };
    let hearing = created(
        app.post("/api/v1/hearings", Some(&w.ngo_a), &json!({
            "title": "Слушания", "status": "held", "visibility": "public", "starts_on": "2026-03-10", "region_code": "TJ-SU",
            "sphere_codes": ["human_rights"], "organizer_ids": [w.org_a, w.org_b], "location": "Худжанд",
            "participants_count": 40, "findings": "Итоги", "media": [{"outlet": "Азия-Плюс", "url": "https://asiaplustj.info/"}],
            "invited_agencies": [{"agency_id": w.host_agency, "attended": true}, {"agency_id": w.other_agency}]}))
        .await,
    );
    let facility = app.create_facility(&w.admin, w.host_agency).await;
    let visit = created(
        app.post("/api/v1/monitoring-visits", Some(&w.ngo_a), &json!({
            "facility_id": facility, "visited_on": "2026-05-10", "announced": false, "status": "completed",
            "monitor_organization_ids": [w.org_a, w.org_b], "access": "partial", "visibility": "public",
            "findings": [
                {"category": "conditions", "severity": "minor", "description": "Сыро"},
                {"category": "treatment", "severity": "critical", "description": "Не для всех", "confidential": true}
            ]}))
        .await,
    );
    let meeting = created(
        app.post(&format!("/api/v1/councils/{}/meetings", w.council_a), Some(&w.secretary_a), &json!({
            "title": "Заседание", "status": "held", "visibility": "public", "starts_at": "2026-06-01T10:00:00Z", "location": "Душанбе",
            "format": "hybrid", "agenda": [{"title": "О мониторинге"}], "minutes": "Протокол",
            "attendance": [
                {"organization_id": w.org_a, "representative_name": "Мадина", "present": true},
                {"agency_id": w.host_agency, "present": false}
            ]}))
        .await,
    );
    let consultation = created(
        app.post("/api/v1/consultations", Some(&w.ngo_a), &json!({
            "title": "Проект закона", "act_type": "law", "visibility": "public", "responsible_agency_id": w.host_agency,
            "level": "national", "opens_on": "2026-11-01", "closes_on": "2026-11-20",
            "draft_url": "https://example.org/draft"}))
        .await,
    );
    let grant = created(
        app.post("/api/v1/grants", Some(&w.ngo_a), &json!({
            "title": "Грант", "support_type": "grant", "visibility": "public", "funder_agency_id": w.host_agency,
            "recipient_organization_id": w.org_a, "amount": "1234.56", "currency": "TJS",
            "starts_on": "2026-03-01", "program": "Программа",
            "reports": [{"due_on": "2026-01-01"}]}))
        .await,
    );
    let records = [
        ("hearings", hearing),
        ("monitoring-visits", visit),
        ("meetings", meeting),
        ("consultations", consultation),
        ("grants", grant),
    ];
    for reader in [
        None,
        Some(&w.analyst),
        Some(&w.ngo_a),
        Some(&w.ngo_b),
        Some(&w.admin),
    ] {
        for (collection, id) in records {
            let alone = app
                .get(
                    &format!("/api/v1/{collection}/{id}"),
                    reader.map(String::as_str),
                )
                .await;
            assert_eq!(alone.status, 200, "{collection} {id} as {reader:?}");
            let list = app
                .get(
                    &format!("/api/v1/{collection}?limit=100"),
                    reader.map(String::as_str),
                )
                .await;
            list.assert_status(200);
            let listed = list.json()["items"]
                .as_array()
                .and_then(|items| items.iter().find(|item| item["id"] == json!(id)).cloned());
            assert_eq!(
                Some(alone.json()),
                listed,
                "{collection} {id} as {reader:?}"
            );
        }
    }
    // An amount written past the API, larger than a client may write, reads the same both ways.
    app.execute(&format!(
        "UPDATE grants SET amount = 12345678901234567890.125 WHERE id = '{grant}'"
    ))
    .await;
    let alone = app
        .get(&format!("/api/v1/grants/{grant}"), Some(&w.admin))
        .await;
    assert_eq!(alone.status, 200, "{}", alone.text());
    assert_eq!(alone.json()["amount"], "12345678901234567890.125");
    let listed = app
        .get("/api/v1/grants?limit=100", Some(&w.admin))
        .await
        .json()["items"]
        .as_array()
        .and_then(|items| {
            items
                .iter()
                .find(|item| item["id"] == json!(grant))
                .cloned()
        });
    assert_eq!(Some(alone.json()), listed);
    // The two readings differ where the reader makes them differ: the monitors read the confidential finding.
    let path = format!("/api/v1/monitoring-visits/{visit}");
    let monitor = app.get(&path, Some(&w.ngo_b)).await.json();
    assert_eq!(monitor["findings"][1]["description"], "Не для всех");
    let analyst = app.get(&path, Some(&w.analyst)).await.json();
    assert_eq!(analyst["findings"][1]["redacted"], true);
    assert_eq!(
        analyst["findings"][1]["description"],
        serde_json::Value::Null
    );
}

/// A new record naming several things that do not exist gets every one of them named in one 422, checked in one
/// statement, and nothing of it is written; with the same body made right, it is recorded.
#[actix_web::test]
async fn every_unknown_reference_is_named_at_once_and_nothing_is_written() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let before = app.count("SELECT count(*) FROM engagements").await;
    let unknown = uuid::Uuid::now_v7();
    let mut body = json!({
        "title": "Слушания", "status": "held", "starts_on": "2026-03-10", "region_code": "TJ-XX",
        "sphere_codes": ["human_rights", "no_such_sphere"], "organizer_ids": [w.org_a, unknown],
        "invited_agencies": [{"agency_id": uuid::Uuid::now_v7()}]});
    let res = app.post("/api/v1/hearings", Some(&w.ngo_a), &body).await;
    res.assert_problem(422);
    let mut fields = res.error_fields();
    fields.sort();
    assert_eq!(
        fields,
        [
            "invited_agencies[0].agency_id",
            "organizer_ids[1]",
            "region_code",
            "sphere_codes"
        ],
        "{}",
        res.text()
    );
    assert_eq!(app.count("SELECT count(*) FROM engagements").await, before);
    body["region_code"] = json!("TJ-SU");
    body["sphere_codes"] = json!(["human_rights"]);
    body["organizer_ids"] = json!([w.org_a, w.org_b]);
    body["invited_agencies"] = json!([{"agency_id": w.host_agency}]);
    app.post("/api/v1/hearings", Some(&w.ngo_a), &body)
        .await
        .assert_status(201);
    assert_eq!(
        app.count("SELECT count(*) FROM engagements").await,
        before + 1
    );
}
