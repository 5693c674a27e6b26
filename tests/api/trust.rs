//! Issue 9, "records people can trust": exports that spreadsheets cannot turn into formulas, exports and
//! metrics whose memory stays bounded, and sign-in floods that cannot exhaust memory.

use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn csv_exports_defuse_formulas_behind_blanks_and_wide_signs_and_quote_semicolons() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let names = ["x;=1+1;y", " =1+1", "\u{ff1d}1+1", "a,b", "Plain name"];
    for name in names {
        app.create_organization(&admin, json!({"name": name, "kind": "ngo"}))
            .await;
    }
    let csv = app.get("/api/v1/organizations?format=csv", None).await;
    csv.assert_status(200);
    let text = csv.text();
    let body = text.trim_start_matches('\u{feff}');
    for quoted in ["\"x;=1+1;y\"", "' =1+1", "'\u{ff1d}1+1", "\"a,b\""] {
        assert!(body.contains(quoted), "{quoted} missing from {body}");
    }
    // Split on `;` as a Russian-locale spreadsheet does: no field outside quotes may start a formula.
    for line in body.lines() {
        let mut in_quotes = false;
        let mut field_start = true;
        for c in line.chars() {
            if field_start && !in_quotes {
                assert!(!"=+-@\u{ff1d}".contains(c), "a bare formula in {line}");
            }
            field_start = false;
            match c {
                '"' => in_quotes = !in_quotes,
                ',' | ';' if !in_quotes => field_start = true,
                _ => {}
            }
        }
    }
    // A comma-splitting reader still gets the names back, with the apostrophe where one was needed.
    let mut reader = csv::Reader::from_reader(body.as_bytes());
    let read: Vec<String> = reader
        .records()
        .map(|r| r.expect("row")[1].to_owned())
        .collect();
    for expected in ["x;=1+1;y", "' =1+1", "'\u{ff1d}1+1", "a,b", "Plain name"] {
        assert!(
            read.iter().any(|n| n == expected),
            "{expected} not in {read:?}"
        );
    }
}

/// `delimiter=semicolon` splits CSV exports on `;` for spreadsheet programs in Russian locales: a `;` reader gets
/// every column back, and the default stays `,`.
#[actix_web::test]
async fn csv_exports_take_a_semicolon_delimiter() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for name in ["Ҳуқуқ ва Адолат", "a;b, c"] {
        app.create_organization(&admin, json!({"name": name, "kind": "ngo"}))
            .await;
    }
    let read = |body: &str, delimiter: u8| -> (Vec<String>, Vec<Vec<String>>) {
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .from_reader(body.trim_start_matches('\u{feff}').as_bytes());
        let header = reader
            .headers()
            .expect("header")
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.expect("row").iter().map(str::to_owned).collect())
            .collect();
        (header, rows)
    };
    let semicolon = app
        .get("/api/v1/organizations?format=csv&delimiter=semicolon", None)
        .await;
    semicolon.assert_status(200);
    let (header, rows) = read(&semicolon.text(), b';');
    assert!(header.len() > 5, "{header:?}");
    assert_eq!(header[1], "name");
    let mut names: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["a;b, c", "Ҳуқуқ ва Адолат"]);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    let comma = app.get("/api/v1/organizations?format=csv", None).await;
    let (comma_header, _) = read(&comma.text(), b',');
    assert_eq!(comma_header, header, "the default splits on commas");
    assert!(!semicolon.text().lines().next().unwrap_or("").contains(','));
    app.get("/api/v1/organizations?format=csv&delimiter=tab", None)
        .await
        .assert_invalid("delimiter");
}

/// The series `/metrics` reports, one per non-comment line.
async fn metric_series(app: &TestApp) -> Vec<String> {
    let res = app.get("/metrics", None).await;
    res.assert_status(200);
    res.text()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            l.rsplit_once(' ')
                .map_or(l, |(series, _)| series)
                .to_owned()
        })
        .collect()
}

#[actix_web::test]
async fn made_up_methods_and_unknown_paths_do_not_grow_the_metrics() {
    use actix_web::http::Method;
    use actix_web::test::TestRequest;
    let app = TestApp::new().await;
    let send = |method: String, path: String| {
        let req = TestRequest::default()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(&path);
        app.call(req)
    };
    // One of each kind first, so that the collapsed series exist before counting.
    send("FOO0".into(), "/api/v1/organizations".into())
        .await
        .assert_problem(405);
    send("FOO0".into(), "/nowhere-0".into())
        .await
        .assert_problem(404);
    send("GET".into(), "/nowhere-0".into())
        .await
        .assert_problem(404);
    // The first scrape is counted once it is answered: the second sees its series.
    metric_series(&app).await;
    let before = metric_series(&app).await;
    for i in 1..=30 {
        let res = send(format!("FOO{i}"), "/api/v1/organizations".into()).await;
        res.assert_problem(405);
        assert!(res.header("allow").is_some_and(|a| a.contains("GET")));
        send(format!("FOO{i}"), format!("/nowhere-{i}"))
            .await
            .assert_problem(404);
        send("GET".into(), format!("/nowhere-{i}/x"))
            .await
            .assert_problem(404);
    }
    let after = metric_series(&app).await;
    assert_eq!(before, after, "the same series, only their counts grew");
    assert!(
        after.iter().any(|s| s.contains("method=\"OTHER\"")),
        "made-up methods are counted under one label: {after:?}"
    );
    assert!(after.iter().any(|s| s.contains("endpoint=\"UNKNOWN\"")));
    assert!(
        !after
            .iter()
            .any(|s| s.contains("FOO") || s.contains("nowhere")),
        "{after:?}"
    );
}

#[actix_web::test]
async fn a_flood_of_logins_with_unknown_emails_gets_401_or_503_and_reads_keep_answering() {
    use std::cell::Cell;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.create_organization(&admin, json!({"name": "Still here", "kind": "ngo"}))
        .await;
    // Enough to outlast the wait on a machine with a few cores: each check takes tens of milliseconds.
    const LOGINS: usize = 400;
    let answered = Cell::new(0);
    let flood = futures_util::future::join_all((0..LOGINS).map(|i| {
        let app = &app;
        let answered = &answered;
        async move {
            let res = app
                .post(
                    "/api/v1/auth/login",
                    None,
                    &json!({"email": format!("nobody-{i}@flood.example"), "password": "guess"}),
                )
                .await;
            answered.set(answered.get() + 1);
            res
        }
    }));
    let read = async {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
        let res = app.get("/api/v1/organizations", None).await;
        (res, answered.get())
    };
    let (logins, (page, answered_by_then)) = tokio::join!(flood, read);
    page.assert_status(200);
    assert_eq!(page.item_ids().len(), 1);
    assert!(
        answered_by_then < LOGINS,
        "the read was answered while logins were still queued"
    );
    let (mut refused, mut busy) = (0, 0);
    for res in &logins {
        match res.status.as_u16() {
            401 => refused += 1,
            503 => {
                res.assert_problem(503);
                assert!(
                    res.header("retry-after").is_some(),
                    "503 without Retry-After"
                );
                busy += 1;
            }
            other => panic!("a login answered {other}: {}", res.text()),
        }
    }
    assert_eq!(refused + busy, LOGINS);
    assert!(
        busy > 0,
        "the flood outran the verifiers, so some were turned away"
    );
    assert!(refused > 0, "logins within the wait were checked");
    // Logins turned away were never checked, so they are not counted as failures.
    assert_eq!(
        app.count("SELECT count(*) FROM login_failures").await,
        i64::try_from(refused).expect("count")
    );
}

#[actix_web::test]
async fn exports_of_large_rows_stream_every_row_exactly_once() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::new().await;
    let mut conn = app.pool().get().await.expect("conn");
    // Small rows, then rows of 300 kB (batches stop by bytes), then small rows again: the keyset continues
    // from the last row sent each time.
    conn.batch_execute(
        "INSERT INTO organizations (id, name, kind) SELECT gen_random_uuid(), 'Small ' || lpad(g::text, 4, '0'), 'ngo' FROM generate_series(1, 600) g;
         INSERT INTO organizations (id, name, kind, description) SELECT gen_random_uuid(), 'Large ' || lpad(g::text, 4, '0'), 'ngo', repeat('ф', 150000) FROM generate_series(1, 24) g;
         INSERT INTO organizations (id, name, kind) SELECT gen_random_uuid(), 'Tail ' || lpad(g::text, 4, '0'), 'ngo' FROM generate_series(1, 300) g;",
    )
    .await
    .expect("rows");
    drop(conn);
    let nd = app.get("/api/v1/organizations?format=ndjson", None).await;
    nd.assert_status(200);
    let ids: Vec<String> = nd
        .text()
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).expect("a JSON line")["id"]
                .as_str()
                .expect("id")
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 924);
    let unique: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), 924, "no row twice");
    let csv = app.get("/api/v1/organizations?format=csv", None).await;
    let text = csv.text();
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let names: std::collections::HashSet<String> = reader
        .records()
        .map(|r| r.expect("row")[1].to_owned())
        .collect();
    assert_eq!(names.len(), 924);
    assert!(names.contains("Large 0024") && names.contains("Tail 0300"));
}

/// The audit rows of one record: (request_id, client_request_id).
async fn audit_ids(app: &TestApp, entity_id: &str) -> Vec<(Option<String>, Option<String>)> {
    #[derive(diesel::QueryableByName)]
    struct Ids {
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        request_id: Option<String>,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
        client_request_id: Option<String>,
    }
    use diesel_async::RunQueryDsl;
    let mut conn = app.pool().get().await.expect("conn");
    let rows: Vec<Ids> = diesel::sql_query(
        "SELECT request_id, client_request_id FROM audit_log WHERE entity_id = $1 ORDER BY id",
    )
    .bind::<diesel::sql_types::Text, _>(entity_id)
    .load(&mut conn)
    .await
    .expect("audit rows");
    rows.into_iter()
        .map(|r| (r.request_id, r.client_request_id))
        .collect()
}

#[actix_web::test]
async fn the_audit_row_keeps_the_servers_request_id_and_a_valid_client_id_beside_it() {
    use actix_web::test::TestRequest;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let client_id = "client-7.trace:2026_12_07";
    let res = app
        .call(
            TestRequest::post()
                .uri("/api/v1/organizations")
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("X-Request-Id", client_id))
                .set_json(json!({"name": "Traced", "kind": "ngo"})),
        )
        .await;
    res.assert_status(201);
    let server_id = res.header("x-request-id").expect("the server's id");
    assert!(uuid::Uuid::parse_str(&server_id).is_ok(), "{server_id}");
    let id = res.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(
        audit_ids(&app, &id).await,
        [(Some(server_id.clone()), Some(client_id.to_owned()))]
    );
    // The longest id kept is 128 characters.
    let longest = "a".repeat(128);
    let res = app
        .call(
            TestRequest::post()
                .uri("/api/v1/organizations")
                .insert_header(("Authorization", format!("Bearer {admin}")))
                .insert_header(("X-Request-Id", longest.clone()))
                .set_json(json!({"name": "Traced at length", "kind": "ngo"})),
        )
        .await;
    res.assert_status(201);
    let long_id = res.json()["id"].as_str().expect("id").to_owned();
    assert_eq!(audit_ids(&app, &long_id).await[0].1, Some(longest));
    // The log as the API shows it carries both.
    let log = app
        .get(&format!("/api/v1/audit?entity_id={id}"), Some(&admin))
        .await;
    log.assert_status(200);
    assert_eq!(log.json()["items"][0]["request_id"], server_id);
    assert_eq!(log.json()["items"][0]["client_request_id"], client_id);
}

#[actix_web::test]
async fn client_request_ids_with_spaces_controls_quotes_non_ascii_or_500_characters_are_not_stored()
{
    use actix_web::http::header::HeaderValue;
    use actix_web::test::TestRequest;
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let hostile: Vec<HeaderValue> = vec![
        HeaderValue::from_static("has spaces in it"),
        HeaderValue::from_static("tab\there"),
        HeaderValue::from_static("x\"; DROP TABLE audit_log; --"),
        HeaderValue::from_static("log=forged level=info"),
        HeaderValue::from_bytes("идентификатор".as_bytes()).expect("obs-text"),
        HeaderValue::from_bytes(b"bytes\x80\xff").expect("obs-text"),
        HeaderValue::from_str(&"a".repeat(500)).expect("long"),
        HeaderValue::from_str(&"b".repeat(129)).expect("one too long"),
        HeaderValue::from_static(""),
    ];
    for (i, value) in hostile.into_iter().enumerate() {
        let res = app
            .call(
                TestRequest::post()
                    .uri("/api/v1/organizations")
                    .insert_header(("Authorization", format!("Bearer {admin}")))
                    .insert_header(("X-Request-Id", value.clone()))
                    .set_json(json!({"name": format!("Hostile {i}"), "kind": "ngo"})),
            )
            .await;
        res.assert_status(201);
        let server_id = res.header("x-request-id").expect("the server's id");
        assert!(uuid::Uuid::parse_str(&server_id).is_ok(), "{value:?}");
        let id = res.json()["id"].as_str().expect("id").to_owned();
        assert_eq!(
            audit_ids(&app, &id).await,
            [(Some(server_id), None)],
            "{value:?} is dropped"
        );
    }
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE client_request_id IS NOT NULL")
            .await,
        0
    );
}

/// A problem body with every occurrence of `id` replaced, so that two refusals of different ids compare equal
/// when they say the same thing; the request id differs per request and is left out.
fn problem_without(res: &crate::support::Response, id: uuid::Uuid) -> serde_json::Value {
    let mut body: serde_json::Value =
        serde_json::from_str(&res.text().replace(&id.to_string(), "[id]")).expect("a problem");
    if let Some(object) = body.as_object_mut() {
        object.remove("request_id");
    }
    body
}

#[actix_web::test]
async fn a_mandate_council_the_caller_cannot_read_gets_exactly_the_422_of_an_unknown_one() {
    use crate::support::id_of;
    let app = TestApp::new().await;
    let w = app.world().await;
    let res = app
        .post(
            "/api/v1/facilities",
            Some(&w.admin),
            &json!({"name": "ИВС Сино", "facility_type": "temporary_detention",
                    "operating_agency_id": w.host_agency, "region_code": "TJ-DU"}),
        )
        .await;
    res.assert_status(201);
    let facility = id_of(&res.json());
    // A visit mandated by council B, monitored by organisation A; then council B is made restricted.
    let created = app
        .post(
            "/api/v1/monitoring-visits",
            Some(&w.admin),
            &json!({"facility_id": facility, "visited_on": "2026-06-01", "status": "completed",
                    "monitor_organization_ids": [w.org_a], "mandate_council_id": w.council_b}),
        )
        .await;
    created.assert_status(201);
    let visit = format!("/api/v1/monitoring-visits/{}", id_of(&created.json()));
    app.restrict_council(&w.admin, w.council_b).await;
    app.get(&format!("/api/v1/councils/{}", w.council_b), Some(&w.ngo_a))
        .await
        .assert_problem(404);
    let unknown = uuid::Uuid::now_v7();
    let new_visit = |council: uuid::Uuid| {
        json!({"facility_id": facility, "visited_on": "2026-06-02",
               "monitor_organization_ids": [w.org_a], "mandate_council_id": council})
    };
    let before = app.snapshot().await;
    // On create: the restricted council and a made-up id get the same answer, word for word.
    let hidden = app
        .post(
            "/api/v1/monitoring-visits",
            Some(&w.ngo_a),
            &new_visit(w.council_b),
        )
        .await;
    hidden.assert_invalid("mandate_council_id");
    let missing = app
        .post(
            "/api/v1/monitoring-visits",
            Some(&w.ngo_a),
            &new_visit(unknown),
        )
        .await;
    missing.assert_invalid("mandate_council_id");
    assert_eq!(
        problem_without(&hidden, w.council_b),
        problem_without(&missing, unknown)
    );
    app.snapshot().await.assert_unchanged_from(&before);
    // On update, a mandate the visit already has is not checked again: its monitor may still edit it.
    let etag = app
        .etag(&visit, Some(&w.ngo_a))
        .await
        .expect("the monitor reads the visit");
    app.patch_if(
        &visit,
        Some(&w.ngo_a),
        Some(&etag),
        &json!({"summary": "Повторный визит", "mandate_council_id": w.council_b}),
    )
    .await
    .assert_status(200);
    let etag = app.etag(&visit, Some(&w.ngo_a)).await.expect("ETag");
    let moved = app
        .patch_if(
            &visit,
            Some(&w.ngo_a),
            Some(&etag),
            &json!({"mandate_council_id": w.council_a}),
        )
        .await;
    moved.assert_status(200);
    let etag = app.etag(&visit, Some(&w.ngo_a)).await.expect("ETag");
    let back_hidden = app
        .patch_if(
            &visit,
            Some(&w.ngo_a),
            Some(&etag),
            &json!({"mandate_council_id": w.council_b}),
        )
        .await;
    back_hidden.assert_invalid("mandate_council_id");
    let before = app.snapshot().await;
    let back_missing = app
        .patch_if(
            &visit,
            Some(&w.ngo_a),
            Some(&etag),
            &json!({"mandate_council_id": unknown}),
        )
        .await;
    back_missing.assert_invalid("mandate_council_id");
    assert_eq!(
        problem_without(&back_hidden, w.council_b),
        problem_without(&back_missing, unknown)
    );
    assert_eq!(
        problem_without(&back_hidden, w.council_b),
        problem_without(&hidden, w.council_b),
        "create and update say the same"
    );
    app.snapshot().await.assert_unchanged_from(&before);
    // Positive: a council the caller reads is accepted, on create too.
    app.post(
        "/api/v1/monitoring-visits",
        Some(&w.ngo_a),
        &new_visit(w.council_a),
    )
    .await
    .assert_status(201);
    let after = app
        .get(&visit, Some(&w.admin))
        .await
        .assert_record(visit.rsplit('/').next().expect("id"));
    assert_eq!(after["mandate_council_id"], w.council_a.to_string());
}

#[actix_web::test]
async fn five_hundred_requests_to_random_paths_with_random_methods_leave_metrics_the_same_size() {
    use actix_web::http::Method;
    use actix_web::test::TestRequest;
    let app = TestApp::new().await;
    let methods = [
        "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
    ];
    let request = |i: usize| {
        // The tail of a UUIDv7 is random.
        let random: String = uuid::Uuid::now_v7()
            .simple()
            .to_string()
            .chars()
            .rev()
            .collect();
        let byte = usize::from(random.as_bytes()[0]);
        let method = if byte % 3 == 0 {
            format!("X{}", &random[..8].to_uppercase())
        } else {
            methods[(byte + i) % methods.len()].to_owned()
        };
        let path = match i % 5 {
            0 => format!("/{random}"),
            1 => format!("/api/v1/{random}"),
            2 => format!("/api/v1/organizations/{random}/{i}"),
            3 => format!("/api/{random}/v1/organizations"),
            _ => format!("/healthz/{random}?q={i}"),
        };
        TestRequest::default()
            .method(Method::from_bytes(method.as_bytes()).expect("a method"))
            .uri(&path)
    };
    let scrape = async || {
        let res = app.get("/metrics", None).await;
        res.assert_status(200);
        res.text()
    };
    // One unknown path read and one with another method: every made-up path is counted under these two.
    app.call(request(0).method(Method::GET)).await;
    app.call(request(0).method(Method::DELETE)).await;
    // The first scrape is counted once it is answered: the second sees its series.
    scrape().await;
    let after_one = scrape().await;
    for i in 1..=500 {
        let res = app.call(request(i)).await;
        assert!(
            [404, 405].contains(&res.status.as_u16()),
            "{}: {}",
            res.status,
            res.text()
        );
    }
    let after_many = scrape().await;
    assert_eq!(
        metric_lines(&after_one),
        metric_lines(&after_many),
        "the same series, only their values grew"
    );
    // Only counts and sums grew: a few digits per series.
    let (one, many) = (after_one.len(), after_many.len());
    assert!(
        many <= one + one / 20,
        "/metrics grew from {one} to {many} bytes"
    );
}

/// The series of a scrape, without their values.
fn metric_lines(scrape: &str) -> Vec<String> {
    scrape
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| l.rsplit_once(' ').map_or(l, |(s, _)| s).to_owned())
        .collect()
}
