//! Readable exports: consultations open during a period, and the councils, seats and meetings lists streamed
//! whole as CSV and NDJSON under the JSON list's read rule and filters.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, World, id_of};

/// `path` with `query` appended.
fn with_query(path: &str, query: &str) -> String {
    let joiner = if path.contains('?') { '&' } else { '?' };
    format!("{path}{joiner}{query}")
}

/// The ids of a JSON list's first page, in order (every list here fits on one).
async fn json_ids(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    app.get(path, token).await.item_ids()
}

/// A list as CSV with `delimiter=semicolon`: its header and its rows (the BOM checked and removed).
async fn csv_rows(
    app: &TestApp,
    path: &str,
    token: Option<&str>,
) -> (Vec<String>, Vec<csv::StringRecord>) {
    let res = app
        .get(&with_query(path, "format=csv&delimiter=semicolon"), token)
        .await;
    res.assert_status(200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv")),
        "{:?}",
        res.header("content-type")
    );
    let text = res.text();
    let body = text
        .strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("a UTF-8 BOM first: {text:?}"));
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(body.as_bytes());
    let header = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader.records().map(|r| r.expect("a CSV row")).collect();
    (header, rows)
}

/// The ids of a CSV export, in order (the first column).
async fn csv_ids(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    let (header, rows) = csv_rows(app, path, token).await;
    assert_eq!(header.first().map(String::as_str), Some("id"));
    rows.iter().map(|r| r[0].to_owned()).collect()
}

/// A list as NDJSON: one JSON object per line.
async fn ndjson(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let res = app.get(&with_query(path, "format=ndjson"), token).await;
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/x-ndjson")
    );
    res.text()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("a JSON line");
            assert!(v.is_object(), "one object per line: {l}");
            v
        })
        .collect()
}

/// The ids of an NDJSON export, in order.
async fn ndjson_ids(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    ndjson(app, path, token)
        .await
        .iter()
        .map(|v| v["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Asserts that the CSV and NDJSON exports of `path` hold exactly the JSON list's ids, in its order; returns them.
async fn assert_exports_match_list(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    let ids = json_ids(app, path, token).await;
    assert_eq!(csv_ids(app, path, token).await, ids, "CSV of {path}");
    assert_eq!(ndjson_ids(app, path, token).await, ids, "NDJSON of {path}");
    ids
}

/// Ids sorted, to compare sets.
fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

/// A restricted council of the world's host agency, with a seat held by organisation B and a public meeting.
async fn restricted_council(app: &TestApp, w: &World) -> (Uuid, Uuid, Uuid) {
    let res = app
        .post("/api/v1/councils", Some(&w.admin), &json!({"name": "Закрытая рабочая группа", "kind": "working_group", "level": "national", "host_agency_id": w.host_agency, "visibility": "restricted"}))
        .await;
    res.assert_status(201);
    let council = id_of(&res.json());
    let res = app
        .post(
            &format!("/api/v1/councils/{council}/members"),
            Some(&w.admin),
            &json!({"organization_id": w.org_b, "role": "member", "since": "2024-01-01"}),
        )
        .await;
    res.assert_status(201);
    let seat = id_of(&res.json());
    let res = app
        .post(&format!("/api/v1/councils/{council}/meetings"), Some(&w.admin), &json!({"title": "Рабочая встреча", "status": "held", "starts_at": "2026-04-02T09:00:00Z", "visibility": "public"}))
        .await;
    res.assert_status(201);
    (council, seat, id_of(&res.json()))
}

#[actix_web::test]
async fn consultations_open_during_a_period_overlap_it_inclusively() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let agency = id_of(
        &app.create_agency(
            &admin,
            json!({"name": "Минюст", "level": "national", "kind": "ministry"}),
        )
        .await,
    );
    let period = async |title: &str, opens_on: &str, closes_on: &str| {
        let res = app
            .post("/api/v1/consultations", Some(&admin), &json!({
                "title": title, "act_type": "law", "responsible_agency_id": agency, "level": "national",
                "opens_on": opens_on, "closes_on": closes_on, "visibility": "public"}))
            .await;
        res.assert_status(201);
        id_of(&res.json()).to_string()
    };
    // The period asked about is 2026-05-10…2026-05-20.
    let before = period("До", "2026-05-01", "2026-05-09").await;
    let first_day = period("Закрывается в первый день", "2026-04-20", "2026-05-10").await;
    let inside = period("Внутри", "2026-05-12", "2026-05-15").await;
    let last_day = period("Открывается в последний день", "2026-05-20", "2026-06-01").await;
    let containing = period("Охватывает", "2026-05-01", "2026-06-30").await;
    let after = period("После", "2026-05-21", "2026-05-31").await;
    let open = async |query: &str| {
        sorted(
            app.get(&format!("/api/v1/consultations?{query}"), None)
                .await
                .item_ids(),
        )
    };

    assert_eq!(
        open("open_from=2026-05-10&open_to=2026-05-20").await,
        sorted(vec![
            first_day.clone(),
            inside.clone(),
            last_day.clone(),
            containing.clone()
        ]),
        "each edge counts; before and after do not"
    );
    assert_eq!(
        open("open_from=2026-05-10").await,
        sorted(vec![
            first_day.clone(),
            inside.clone(),
            last_day.clone(),
            containing.clone(),
            after.clone()
        ]),
        "only open_from: not over by that day"
    );
    assert_eq!(
        open("open_to=2026-05-20").await,
        sorted(vec![
            before.clone(),
            first_day.clone(),
            inside.clone(),
            last_day.clone(),
            containing.clone()
        ]),
        "only open_to: begun by that day"
    );
    assert_eq!(
        open("open_from=2026-05-10&open_to=2026-05-10").await,
        sorted(vec![first_day.clone(), containing.clone()]),
        "a period of one day"
    );
    let exported = sorted(
        ndjson_ids(
            &app,
            "/api/v1/consultations?open_from=2026-05-10&open_to=2026-05-20",
            None,
        )
        .await,
    );
    assert_eq!(
        exported,
        sorted(vec![first_day, inside, last_day, containing]),
        "the export takes the filter too"
    );

    app.get(
        "/api/v1/consultations?open_from=2026-05-20&open_to=2026-05-10",
        None,
    )
    .await
    .assert_invalid("open_to");
    app.get(
        "/api/v1/consultations?open_from=2026-05-20&open_to=2026-05-20",
        None,
    )
    .await
    .assert_status(200);
    app.get("/api/v1/consultations?open_from=2026-02-30", None)
        .await
        .assert_invalid("open_from");
}

#[actix_web::test]
async fn councils_export_as_csv_and_ndjson_under_the_lists_read_rule() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let (restricted, _, _) = restricted_council(&app, &w).await;
    let branch = app
        .post("/api/v1/councils", Some(&w.admin), &json!({"name": "Совет; Хатлон, «филиал»", "kind": "public_council", "level": "regional", "parent_id": w.council_a, "region_code": "TJ-KT", "sphere_codes": ["public_order", "human_rights"]}))
        .await;
    branch.assert_status(201);
    let branch = id_of(&branch.json()).to_string();

    let anonymous = assert_exports_match_list(&app, "/api/v1/councils", None).await;
    assert!(anonymous.contains(&w.council_a.to_string()));
    assert!(
        !anonymous.contains(&restricted.to_string()),
        "anonymous callers never see a restricted council"
    );
    let admin = assert_exports_match_list(&app, "/api/v1/councils", Some(&w.admin)).await;
    assert!(admin.contains(&restricted.to_string()));
    assert_eq!(admin.len(), anonymous.len() + 1);

    // Filters are the list's: the branches of council A, and a sort.
    let branches = format!("/api/v1/councils?parent_id={}", w.council_a);
    assert_eq!(
        assert_exports_match_list(&app, &branches, None).await,
        std::slice::from_ref(&branch)
    );
    assert_exports_match_list(&app, "/api/v1/councils?sort=-created_at", Some(&w.admin)).await;

    let (header, rows) = csv_rows(&app, &branches, None).await;
    assert_eq!(
        header,
        [
            "id",
            "name",
            "kind",
            "level",
            "host_agency_id",
            "parent_id",
            "region_code",
            "sphere_codes",
            "established_on",
            "dissolved_on",
            "legal_basis",
            "description",
            "visibility",
            "created_at",
            "updated_at",
            "version"
        ]
    );
    let row = &rows[0];
    assert_eq!(&row[1], "Совет; Хатлон, «филиал»", "a quoted cell");
    assert_eq!(&row[5], w.council_a.to_string());
    assert_eq!(&row[7], "public_order;human_rights");
    assert_eq!(&row[12], "public");
    let lines = ndjson(&app, &branches, None).await;
    assert_eq!(lines[0]["name"], "Совет; Хатлон, «филиал»");
    assert_eq!(
        lines[0]["sphere_codes"],
        json!(["public_order", "human_rights"])
    );

    app.get("/api/v1/councils?format=xlsx", None)
        .await
        .assert_invalid("format");
}

#[actix_web::test]
async fn council_members_export_with_the_holders_name_and_the_councils_read_rule() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let (restricted, seat, _) = restricted_council(&app, &w).await;
    let seats = format!("/api/v1/councils/{}/members", w.council_a);
    let add = async |body: Value| {
        let res = app.post(&seats, Some(&w.secretary_a), &body).await;
        res.assert_status(201);
        id_of(&res.json()).to_string()
    };
    let org_seat = add(json!({"organization_id": w.org_a, "role": "chair", "representative_name": "Мадина", "since": "2024-01-01"})).await;
    let agency_seat = add(json!({"agency_id": w.other_agency, "role": "observer"})).await;
    let past_seat = add(json!({"organization_id": w.org_b, "role": "member", "since": "2020-01-01", "until": "2021-12-31"})).await;

    let current = assert_exports_match_list(&app, &seats, None).await;
    assert_eq!(
        sorted(current),
        sorted(vec![org_seat.clone(), agency_seat.clone()])
    );
    let all = assert_exports_match_list(&app, &format!("{seats}?current=false"), None).await;
    assert_eq!(all.len(), 3);
    assert!(
        all.contains(&past_seat),
        "current=false reaches the export too"
    );

    let (header, rows) = csv_rows(&app, &seats, None).await;
    assert_eq!(
        header,
        [
            "id",
            "council_id",
            "organization_id",
            "agency_id",
            "member_name",
            "role",
            "representative_name",
            "since",
            "until",
            "created_at",
            "updated_at",
            "version"
        ]
    );
    let row = |id: &str| {
        rows.iter()
            .find(|r| &r[0] == id)
            .unwrap_or_else(|| panic!("seat {id} in {rows:?}"))
    };
    assert_eq!(&row(&org_seat)[2], w.org_a.to_string());
    assert_eq!(
        &row(&org_seat)[4],
        "Ҳуқуқ ва Адолат",
        "the organisation's name"
    );
    assert_eq!(&row(&org_seat)[5], "chair");
    assert_eq!(&row(&org_seat)[6], "Мадина");
    assert_eq!(&row(&agency_seat)[3], w.other_agency.to_string());
    assert_eq!(&row(&agency_seat)[4], "Минюст", "the agency's name");
    let lines = ndjson(&app, &seats, None).await;
    assert!(
        lines
            .iter()
            .any(|l| l["id"] == org_seat.as_str() && l["member_name"] == "Ҳуқуқ ва Адолат")
    );
    let seat_json = app
        .get(&format!("{seats}/{agency_seat}"), None)
        .await
        .assert_record(&agency_seat);
    assert_eq!(
        seat_json["member_name"], "Минюст",
        "the JSON carries it too"
    );

    // The seats of a restricted council: the admin's export has them, an anonymous caller's gets 404 as the
    // JSON list does.
    let hidden = format!("/api/v1/councils/{restricted}/members");
    assert_eq!(
        assert_exports_match_list(&app, &hidden, Some(&w.admin)).await,
        [seat.to_string()]
    );
    for query in ["", "format=csv", "format=ndjson"] {
        app.get(&with_query(&hidden, query), None)
            .await
            .assert_problem(404);
    }
}

#[actix_web::test]
async fn meetings_export_with_agenda_and_attendance_under_the_lists_read_rule() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let (restricted_council, _, hidden_meeting) = restricted_council(&app, &w).await;
    let res = app
        .post(&format!("/api/v1/councils/{}/meetings", w.council_a), Some(&w.secretary_a), &json!({
            "title": "Открытое заседание", "status": "held", "starts_at": "2026-05-05T06:00:00Z",
            "location": "Душанбе, ул. Рудаки 1", "format": "hybrid",
            "agenda": [{"title": "Отчёт за квартал"}, {"title": "Разное; вопросы", "presenter": "Секретарь"}],
            "attendance": [
                {"organization_id": w.org_a, "representative_name": "Мадина", "present": true},
                {"agency_id": w.other_agency, "present": false}
            ],
            "visibility": "public"}))
        .await;
    res.assert_status(201);
    let public = id_of(&res.json()).to_string();

    let anonymous = assert_exports_match_list(&app, "/api/v1/meetings", None).await;
    assert_eq!(
        anonymous,
        std::slice::from_ref(&public),
        "only the public meeting of a public council"
    );
    let analyst = assert_exports_match_list(&app, "/api/v1/meetings", Some(&w.analyst)).await;
    assert!(analyst.contains(&w.meeting.to_string()), "internal");
    assert!(!analyst.contains(&w.restricted.to_string()));
    assert!(
        !analyst.contains(&hidden_meeting.to_string()),
        "a meeting of a council the caller may not read"
    );
    let admin = assert_exports_match_list(&app, "/api/v1/meetings", Some(&w.admin)).await;
    for id in [w.restricted, hidden_meeting] {
        assert!(admin.contains(&id.to_string()));
    }
    assert_eq!(admin.len(), 4);

    // Filters are the list's, on both routes.
    assert_exports_match_list(&app, "/api/v1/meetings?from=2026-05-01", Some(&w.admin)).await;
    assert_eq!(
        assert_exports_match_list(&app, "/api/v1/meetings?from=2026-05-01", None).await,
        std::slice::from_ref(&public)
    );
    let of_a = format!("/api/v1/councils/{}/meetings", w.council_a);
    assert_eq!(
        assert_exports_match_list(&app, &of_a, Some(&w.admin))
            .await
            .len(),
        3
    );
    assert_eq!(
        assert_exports_match_list(
            &app,
            &format!("{of_a}?status=held&to=2026-04-01"),
            Some(&w.admin)
        )
        .await
        .len(),
        2
    );
    let hidden = format!("/api/v1/councils/{restricted_council}/meetings");
    assert_eq!(
        assert_exports_match_list(&app, &hidden, Some(&w.admin)).await,
        [hidden_meeting.to_string()]
    );
    for query in ["", "format=csv", "format=ndjson"] {
        app.get(&with_query(&hidden, query), None)
            .await
            .assert_problem(404);
    }

    let (header, rows) = csv_rows(&app, "/api/v1/meetings", None).await;
    assert_eq!(
        header,
        [
            "id",
            "council_id",
            "title",
            "summary",
            "status",
            "starts_at",
            "location",
            "region_code",
            "format",
            "agenda",
            "attendance",
            "minutes",
            "sphere_codes",
            "organizations",
            "agencies",
            "visibility",
            "created_at",
            "updated_at",
            "version"
        ]
    );
    let row = &rows[0];
    assert_eq!(&row[1], w.council_a.to_string());
    assert_eq!(&row[5], "2026-05-05T06:00:00+00:00");
    assert_eq!(&row[8], "hybrid");
    assert_eq!(&row[9], "Отчёт за квартал;Разное; вопросы");
    assert_eq!(
        &row[10],
        format!("Мадина (present);{} (absent)", w.other_agency)
    );
    assert_eq!(&row[12], "public_order", "the council's spheres");
    let lines = ndjson(&app, "/api/v1/meetings", None).await;
    assert_eq!(lines[0]["agenda"][1]["presenter"], "Секретарь");
    assert_eq!(lines[0]["attendance"][1]["present"], false);
}

/// The column of a CSV header named `name`.
fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("a column {name} in {header:?}"))
}

#[actix_web::test]
async fn lists_and_exports_name_the_parties_beside_their_ids() {
    let app = TestApp::new().await;
    let w = app.world().await;

    // An engagement's parties: each with its id, role and name, in JSON (one and the lists) and in CSV.
    let meeting = app
        .get(
            &format!("/api/v1/engagements/{}", w.meeting),
            Some(&w.admin),
        )
        .await
        .json();
    let parties = meeting["parties"].as_array().cloned().unwrap_or_default();
    assert!(
        parties.contains(&json!({"organization_id": w.org_a, "agency_id": null, "role": "participant", "name": "Ҳуқуқ ва Адолат"})),
        "{parties:?}"
    );
    assert!(
        parties.contains(&json!({"organization_id": null, "agency_id": w.host_agency, "role": "host", "name": "МВД"})),
        "{parties:?}"
    );
    let listed = app.get("/api/v1/meetings", Some(&w.admin)).await.json();
    let listed = listed["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|m| m["id"] == json!(w.meeting))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        listed["parties"], meeting["parties"],
        "the list names them as the get does"
    );

    for path in ["/api/v1/engagements", "/api/v1/meetings"] {
        let (header, rows) = csv_rows(&app, path, Some(&w.admin)).await;
        let row = rows
            .iter()
            .find(|r| r[0] == *w.meeting.to_string())
            .unwrap_or_else(|| panic!("the meeting in {path}"));
        assert_eq!(
            &row[column(&header, "organizations")],
            "Ҳуқуқ ва Адолат (participant)",
            "{path}"
        );
        assert_eq!(&row[column(&header, "agencies")], "МВД (host)", "{path}");
    }

    // A recommendation names the agency it is addressed to; a submission its organisations.
    let recommendation = app
        .get(
            &format!("/api/v1/recommendations/{}", w.recommendation),
            Some(&w.admin),
        )
        .await
        .json();
    assert_eq!(
        recommendation["addressed_to_agency_id"],
        json!(w.host_agency)
    );
    assert_eq!(recommendation["addressed_to_agency_name"], "МВД");
    let (header, rows) = csv_rows(&app, "/api/v1/recommendations", Some(&w.admin)).await;
    assert_eq!(&rows[0][column(&header, "addressed_to_agency_name")], "МВД");

    let consultation = app
        .post(
            "/api/v1/consultations",
            Some(&w.ngo_a),
            &json!({
                "title": "Проект Закона «Об общественных объединениях»", "act_type": "law",
                "responsible_agency_id": w.host_agency, "level": "national",
                "opens_on": "2026-02-01", "closes_on": "2026-03-01", "visibility": "public"
            }),
        )
        .await;
    consultation.assert_status(201);
    let consultation = id_of(&consultation.json());
    let submission = app
        .post(&format!("/api/v1/consultations/{consultation}/submissions"), Some(&w.ngo_b), &json!({
            "organization_ids": [w.org_b, w.org_a], "proposal": "Исключить перерегистрацию", "submitted_on": "2026-02-20"
        }))
        .await;
    submission.assert_status(201);
    assert_eq!(
        submission.json()["organizations"],
        json!([{"organization_id": w.org_b, "name": "Голос женщин"}, {"organization_id": w.org_a, "name": "Ҳуқуқ ва Адолат"}])
    );
    let (header, rows) = csv_rows(&app, "/api/v1/submissions", None).await;
    assert_eq!(
        &rows[0][column(&header, "organizations")],
        "Голос женщин;Ҳуқуқ ва Адолат"
    );
    let (header, rows) = csv_rows(&app, "/api/v1/consultations", None).await;
    assert_eq!(
        &rows[0][column(&header, "organizations")],
        "Ҳуқуқ ва Адолат (submitter);Голос женщин (submitter)"
    );
    assert_eq!(&rows[0][column(&header, "agencies")], "МВД (responsible)");
}
