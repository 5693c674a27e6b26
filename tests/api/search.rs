//! `GET /search`: word forms and exact words, the read rule and redaction for every role, changes seen at once,
//! filters and pages, and bad input.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Response, TestApp, World, id_of};

/// `GET /search` with a query string (`q` percent-encoded here).
async fn search(app: &TestApp, token: Option<&str>, q: &str, extra: &str) -> Response {
    let q: String = url::form_urlencoded::byte_serialize(q.as_bytes()).collect();
    app.get(&format!("/api/v1/search?q={q}{extra}"), token)
        .await
}

/// The ids of the hits, after asserting a 200.
async fn ids(app: &TestApp, token: Option<&str>, q: &str) -> Vec<String> {
    let res = search(app, token, q, "&limit=200").await;
    res.assert_status(200);
    res.item_ids()
}

/// The hit with this id on a page.
#[track_caller]
fn hit_of(res: &Response, id: Uuid) -> Value {
    res.assert_status(200);
    let body = res.json();
    body["items"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["id"] == id.to_string()))
        .cloned()
        .unwrap_or_else(|| panic!("{id} not among the hits: {body}"))
}

async fn finds(app: &TestApp, token: Option<&str>, q: &str, id: Uuid) -> bool {
    ids(app, token, q).await.contains(&id.to_string())
}

/// Every hit of an anonymous search for `q` with `params`, following `next_cursor` in pages of `limit`: each
/// hit's id and rank, in the order served.
async fn every_page(app: &TestApp, q: &str, params: &str, limit: usize) -> Vec<(String, i64)> {
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let after = cursor
            .as_ref()
            .map_or(String::new(), |c| format!("&cursor={c}"));
        let res = search(app, None, q, &format!("{params}&limit={limit}{after}")).await;
        res.assert_status(200);
        let body = res.json();
        let items = body["items"].as_array().expect("present");
        assert!(items.len() <= limit);
        for item in items {
            seen.push((
                item["id"].as_str().expect("present").to_owned(),
                item["rank"].as_i64().expect("present"),
            ));
        }
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen
}

async fn created(res: Response) -> Uuid {
    res.assert_status(201);
    id_of(&res.json())
}

async fn hearing(app: &TestApp, w: &World, title: &str, summary: &str, visibility: &str) -> Uuid {
    created(
        app.post(
            "/api/v1/hearings",
            Some(&w.ngo_a),
            &json!({
                "title": title, "summary": summary, "status": "held", "starts_on": "2026-04-02",
                "region_code": "TJ-DU", "organizer_ids": [w.org_a], "visibility": visibility,
                "findings": "Итоги: участники обсудили проект"
            }),
        )
        .await,
    )
    .await
}

async fn facility(app: &TestApp, w: &World) -> Uuid {
    created(
        app.post(
            "/api/v1/facilities",
            Some(&w.admin),
            &json!({"name": "ИВС ОВД района Сино", "facility_type": "temporary_detention",
              "operating_agency_id": w.host_agency, "region_code": "TJ-DU", "capacity": 40}),
        )
        .await,
    )
    .await
}

fn findings(public: &str, secret: &str, secret_confidential: bool) -> Value {
    json!([
        {"category": "conditions", "severity": "minor", "description": public},
        {"category": "treatment", "severity": "critical", "description": secret, "confidential": secret_confidential}
    ])
}

async fn visit(
    app: &TestApp,
    w: &World,
    facility: Uuid,
    status: &str,
    summary: &str,
    findings: Value,
) -> Uuid {
    created(
        app.post("/api/v1/monitoring-visits", Some(&w.ngo_a), &json!({
            "facility_id": facility, "visited_on": "2026-05-10", "announced": false, "mandate_council_id": w.council_a,
            "monitor_organization_ids": [w.org_a], "summary": summary, "status": status,
            "access": "granted", "visibility": "public", "findings": findings
        }))
        .await,
    )
    .await
}

async fn consultation(app: &TestApp, w: &World, title: &str, visibility: &str) -> Uuid {
    created(
        app.post("/api/v1/consultations", Some(&w.ngo_a), &json!({
            "title": title, "act_type": "law", "responsible_agency_id": w.host_agency, "level": "national",
            "opens_on": "2026-02-01", "closes_on": "2026-03-01", "region_code": "TJ-SU", "visibility": visibility
        }))
        .await,
    )
    .await
}

async fn submission(app: &TestApp, w: &World, consultation: Uuid, proposal: &str) -> Uuid {
    created(
        app.post(
            &format!("/api/v1/consultations/{consultation}/submissions"),
            Some(&w.ngo_a),
            &json!({
                "organization_ids": [w.org_a], "provision": "Статья 12", "proposal": proposal,
                "rationale": "Избыточная нагрузка", "submitted_on": "2026-02-20"
            }),
        )
        .await,
    )
    .await
}

async fn recommendation(
    app: &TestApp,
    w: &World,
    engagement: Uuid,
    text: &str,
    visibility: &str,
) -> Uuid {
    created(
        app.post(
            &format!("/api/v1/engagements/{engagement}/recommendations"),
            Some(&w.admin),
            &json!({
                "text": text, "addressed_to_agency_id": w.host_agency, "issued_on": "2026-04-03",
                "due_on": "2026-12-30", "visibility": visibility
            }),
        )
        .await,
    )
    .await
}

#[actix_web::test]
async fn russian_forms_tajik_english_names_and_registration_numbers_match() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let org = id_of(
        &app.create_organization(&w.admin, json!({
            "name": "Маркази ҳуқуқи инсон", "short_name": "МҲИ", "kind": "ngo", "registration_number": "0210012345",
            "description": "Legal aid for women in Khatlon"
        }))
        .await,
    );
    let h = hearing(
        &app,
        &w,
        "Слушания о домашнем насилии",
        "Докладчик Фарзона Исмоилова и Jane Williams: ҳамкорӣ бо мақомот",
        "public",
    )
    .await;
    // Russian word forms find each other both ways.
    for q in ["насилие", "насилия", "насилии", "НАСИЛИЕ"] {
        assert!(finds(&app, None, q, h).await, "{q}");
    }
    // Tajik words (ҳ, ӣ, қ), personal names, English words and a registration number match as written.
    for q in [
        "ҳамкорӣ",
        "мақомот",
        "Исмоилова",
        "Williams",
        "Jane Williams",
    ] {
        assert!(finds(&app, None, q, h).await, "{q}");
    }
    for q in ["0210012345", "ҳуқуқи", "МҲИ", "Khatlon", "legal aid"] {
        assert!(finds(&app, None, q, org).await, "{q}");
    }
    // Exact words do not match other words: a wrong number or name finds nothing of these.
    for q in ["0210012346", "Исмоилов Jane Smith", "ҳамкорони"] {
        let hits = ids(&app, None, q).await;
        assert!(
            !hits.contains(&h.to_string()) && !hits.contains(&org.to_string()),
            "{q}"
        );
    }
    // The hit's shape: type, id, title, a marked snippet, the kind's own link, kind for engagements.
    let res = search(&app, None, "насилия", "").await;
    let hit = hit_of(&res, h);
    assert_eq!(hit["type"], "engagement");
    assert_eq!(hit["kind"], "hearing");
    assert_eq!(hit["title"], "Слушания о домашнем насилии");
    assert_eq!(hit["link"], format!("/api/v1/hearings/{h}"));
    assert_eq!(hit["rank"], 1, "the title matches");
    assert_eq!(hit["date"], "2026-04-02");
    assert!(
        hit["snippet"]
            .as_str()
            .expect("present")
            .contains("⟦насилии⟧"),
        "{hit}"
    );
    let res = search(&app, None, "0210012345", "").await;
    let hit = hit_of(&res, org);
    assert_eq!(hit["type"], "organization");
    assert_eq!(hit["link"], format!("/api/v1/organizations/{org}"));
    assert_eq!(hit["kind"], Value::Null);
    assert_eq!(hit["rank"], 2, "only the text matches");
    assert!(
        hit["snippet"]
            .as_str()
            .expect("present")
            .contains("⟦0210012345⟧")
    );
    // A hit's link answers.
    app.get(hit["link"].as_str().expect("present"), None)
        .await
        .assert_status(200);
}

/// Every role's token, with the role's name for messages.
fn roles(w: &World) -> Vec<(&'static str, Option<&str>)> {
    vec![
        ("anonymous", None),
        (
            "ngo_member of the party organisation",
            Some(w.ngo_a.as_str()),
        ),
        ("ngo_member of another organisation", Some(w.ngo_b.as_str())),
        ("analyst", Some(w.analyst.as_str())),
        (
            "agency_officer of the addressed agency",
            Some(w.officer_host.as_str()),
        ),
        (
            "agency_officer of another agency",
            Some(w.officer_other.as_str()),
        ),
        ("secretary of council A", Some(w.secretary_a.as_str())),
        ("secretary of council B", Some(w.secretary_b.as_str())),
        ("admin", Some(w.admin.as_str())),
    ]
}

#[actix_web::test]
async fn every_role_finds_exactly_what_it_may_read() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    // Council B becomes restricted: its meetings are for its secretary (and admins) only, public or not.
    app.restrict_council(&w.admin, w.council_b).await;
    let public = hearing(&app, &w, "Слушания quokka", "Открытые слушания", "public").await;
    let internal = hearing(
        &app,
        &w,
        "Слушания narwhal",
        "Внутренние слушания",
        "internal",
    )
    .await;
    let restricted = hearing(
        &app,
        &w,
        "Слушания axolotl",
        "Закрытые слушания",
        "restricted",
    )
    .await;
    let planned = visit(&app, &w, f, "planned", "Плановый визит pangolin", json!([])).await;
    let completed = visit(
        &app,
        &w,
        f,
        "completed",
        "Визит в ИВС",
        findings("Нет света okapi", "Побои tapir", true),
    )
    .await;
    let closed_council = created(
        app.post(&format!("/api/v1/councils/{}/meetings", w.council_b), Some(&w.admin), &json!({
            "title": "Заседание", "status": "held", "starts_at": "2026-03-11T10:00:00Z", "minutes": "Протокол wombat",
            "visibility": "public"}))
        .await,
    )
    .await;
    let restricted_meeting = created(
        app.post(
            &format!("/api/v1/councils/{}/meetings", w.council_a),
            Some(&w.admin),
            &json!({
            "title": "Закрытое заседание", "status": "held", "starts_at": "2026-03-12T10:00:00Z",
            "agenda": [{"title": "Вопрос dugong"}], "visibility": "restricted"}),
        )
        .await,
    )
    .await;
    let rec_internal = recommendation(&app, &w, public, "Рекомендация gecko", "internal").await;
    let rec_restricted =
        recommendation(&app, &w, restricted, "Рекомендация lemur", "restricted").await;
    let open = consultation(&app, &w, "Проект закона", "public").await;
    let sub_public = submission(&app, &w, open, "Предложение ibis").await;
    let closed = consultation(&app, &w, "Проект постановления", "internal").await;
    let sub_internal = submission(&app, &w, closed, "Предложение heron").await;

    let records = [
        ("quokka", public, format!("/api/v1/hearings/{public}")),
        ("narwhal", internal, format!("/api/v1/hearings/{internal}")),
        (
            "axolotl",
            restricted,
            format!("/api/v1/hearings/{restricted}"),
        ),
        (
            "pangolin",
            planned,
            format!("/api/v1/monitoring-visits/{planned}"),
        ),
        (
            "okapi",
            completed,
            format!("/api/v1/monitoring-visits/{completed}"),
        ),
        (
            "wombat",
            closed_council,
            format!("/api/v1/meetings/{closed_council}"),
        ),
        (
            "dugong",
            restricted_meeting,
            format!("/api/v1/meetings/{restricted_meeting}"),
        ),
        (
            "gecko",
            rec_internal,
            format!("/api/v1/recommendations/{rec_internal}"),
        ),
        (
            "lemur",
            rec_restricted,
            format!("/api/v1/recommendations/{rec_restricted}"),
        ),
        (
            "ibis",
            sub_public,
            format!("/api/v1/submissions/{sub_public}"),
        ),
        (
            "heron",
            sub_internal,
            format!("/api/v1/submissions/{sub_internal}"),
        ),
    ];
    // What each role must find, written out (so the rule is not only "whatever GET says").
    let must_find: [(&str, &[&str]); 9] = [
        ("anonymous", &["quokka", "okapi", "ibis"]),
        (
            "ngo_member of the party organisation",
            &[
                "quokka", "narwhal", "axolotl", "pangolin", "okapi", "gecko", "lemur", "ibis",
                "heron",
            ],
        ),
        (
            "ngo_member of another organisation",
            &["quokka", "narwhal", "okapi", "gecko", "ibis", "heron"],
        ),
        (
            "analyst",
            &["quokka", "narwhal", "okapi", "gecko", "ibis", "heron"],
        ),
        (
            "agency_officer of the addressed agency",
            &[
                "quokka", "narwhal", "okapi", "gecko", "lemur", "ibis", "heron",
            ],
        ),
        (
            "agency_officer of another agency",
            &["quokka", "narwhal", "okapi", "gecko", "ibis", "heron"],
        ),
        (
            "secretary of council A",
            &[
                "quokka", "narwhal", "okapi", "dugong", "gecko", "ibis", "heron",
            ],
        ),
        (
            "secretary of council B",
            &[
                "quokka", "narwhal", "okapi", "wombat", "gecko", "ibis", "heron",
            ],
        ),
        (
            "admin",
            &[
                "quokka", "narwhal", "axolotl", "pangolin", "okapi", "wombat", "dugong", "gecko",
                "lemur", "ibis", "heron",
            ],
        ),
    ];
    for (role, token) in roles(&w) {
        let expected = must_find
            .iter()
            .find(|(r, _)| *r == role)
            .map(|(_, words)| *words)
            .expect("present");
        for (word, id, link) in &records {
            let found = finds(&app, token, word, *id).await;
            // Search agrees with the record's own read rule: found exactly when GET answers 200.
            let readable = app.get(link, token).await.status.as_u16() == 200;
            assert_eq!(
                found, readable,
                "{role}: `{word}` found {found}, GET {link} readable {readable}"
            );
            assert_eq!(found, expected.contains(word), "{role}: `{word}`");
        }
    }

    // The confidential finding: its visit is found through its public finding by every role that may read the
    // visit (positive), but its own words find nothing for anyone, monitors and admins included, and never appear
    // in a snippet.
    for (role, token) in roles(&w) {
        let res = search(&app, token, "okapi", "").await;
        let hit = hit_of(&res, completed);
        let snippet = hit["snippet"].as_str().expect("present");
        assert!(
            snippet.contains("⟦okapi⟧") && !snippet.contains("tapir"),
            "{role}: {snippet}"
        );
        assert!(ids(&app, token, "tapir").await.is_empty(), "{role}");
        assert!(ids(&app, token, "Побои").await.is_empty(), "{role}");
    }
    // …although the monitors read it on the visit itself: the text exists, search keeps it out.
    let visit = app
        .get(
            &format!("/api/v1/monitoring-visits/{completed}"),
            Some(&w.ngo_a),
        )
        .await;
    assert!(visit.text().contains("tapir"));
}

#[actix_web::test]
async fn search_reflects_every_change_at_once() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let f = facility(&app, &w).await;
    let h = hearing(
        &app,
        &w,
        "Слушания о реформе",
        "Об участии ombudsman",
        "public",
    )
    .await;
    let path = format!("/api/v1/hearings/{h}");

    // A new title: the new word finds it at once, the old one no longer.
    assert!(finds(&app, None, "реформе", h).await);
    let tag = app.etag(&path, Some(&w.ngo_a)).await;
    app.patch_if(
        &path,
        Some(&w.ngo_a),
        tag.as_deref(),
        &json!({"title": "Слушания о миграции"}),
    )
    .await
    .assert_status(200);
    assert!(finds(&app, None, "миграция", h).await);
    assert!(!finds(&app, None, "реформе", h).await);

    // Visibility: public → restricted hides it from the public, the owner still finds it.
    let tag = app.etag(&path, Some(&w.ngo_a)).await;
    app.patch_if(
        &path,
        Some(&w.ngo_a),
        tag.as_deref(),
        &json!({"visibility": "restricted"}),
    )
    .await
    .assert_status(200);
    assert!(finds(&app, Some(&w.ngo_a), "ombudsman", h).await);
    assert!(!finds(&app, None, "ombudsman", h).await);
    assert!(!finds(&app, Some(&w.analyst), "ombudsman", h).await);

    // A finding marked confidential leaves the index; its neighbour stays.
    let v = visit(
        &app,
        &w,
        f,
        "completed",
        "Визит",
        findings("Сырость okapi", "Жалоба tapir", false),
    )
    .await;
    assert!(finds(&app, Some(&w.admin), "tapir", v).await);
    let vpath = format!("/api/v1/monitoring-visits/{v}");
    let tag = app.etag(&vpath, Some(&w.ngo_a)).await;
    app.patch_if(
        &vpath,
        Some(&w.ngo_a),
        tag.as_deref(),
        &json!({"findings": findings("Сырость okapi", "Жалоба tapir", true)}),
    )
    .await
    .assert_status(200);
    assert!(finds(&app, Some(&w.admin), "okapi", v).await);
    assert!(!finds(&app, Some(&w.admin), "tapir", v).await);
    assert!(!finds(&app, Some(&w.ngo_a), "tapir", v).await);

    // An organisation renamed; a recommendation's text changed.
    let opath = format!("/api/v1/organizations/{}", w.org_a);
    assert!(finds(&app, None, "Адолат", w.org_a).await);
    app.patch(&opath, Some(&w.admin), &json!({"name": "Ҳуқуқ ва Озодӣ"}))
        .await
        .assert_status(200);
    assert!(finds(&app, None, "Озодӣ", w.org_a).await);
    assert!(!finds(&app, None, "Адолат", w.org_a).await);
    let rpath = format!("/api/v1/recommendations/{}", w.recommendation);
    let tag = app.etag(&rpath, Some(&w.admin)).await;
    app.patch_if(
        &rpath,
        Some(&w.admin),
        tag.as_deref(),
        &json!({"text": "Установить видеокамеры в ИВС"}),
    )
    .await
    .assert_status(200);
    assert!(finds(&app, Some(&w.admin), "видеокамеры", w.recommendation).await);
    assert!(!finds(&app, Some(&w.admin), "адвокатов", w.recommendation).await);

    // Deleted: gone from search (and so are the rows that hung from it).
    let tag = app.etag(&vpath, Some(&w.ngo_a)).await;
    app.delete_if(&vpath, Some(&w.ngo_a), tag.as_deref())
        .await
        .assert_status(204);
    assert!(!finds(&app, Some(&w.admin), "okapi", v).await);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM search_entries WHERE entity_id = '{v}' OR engagement_id = '{v}'"
        ))
        .await,
        0
    );
}

#[actix_web::test]
async fn filters_pages_and_order() {
    let app = TestApp::new().await;
    let w = app.world().await;
    // Five hearings with the word in the title, two more with it in the text only, on different days.
    let mut titled = Vec::new();
    for (i, day) in [
        "2026-01-05",
        "2026-02-05",
        "2026-03-05",
        "2026-04-05",
        "2026-05-05",
    ]
    .iter()
    .enumerate()
    {
        titled.push(created(app.post("/api/v1/hearings", Some(&w.ngo_a), &json!({
            "title": format!("Слушания о мигрантах {i}"), "status": "held", "starts_on": day,
            "region_code": if i % 2 == 0 { "TJ-DU" } else { "TJ-SU" }, "organizer_ids": [w.org_a], "visibility": "public"
        })).await).await);
    }
    let texted = created(app.post("/api/v1/hearings", Some(&w.ngo_a), &json!({
        "title": "Слушания", "summary": "О правах мигрантов", "status": "held", "starts_on": "2026-06-01",
        "organizer_ids": [w.org_a], "visibility": "public"
    })).await).await;
    let c = consultation(&app, &w, "Проект закона о миграции", "public").await;
    let sub = submission(&app, &w, c, "Защитить права мигрантов").await;

    // Pages of two: every hit once, title matches first (newest first), then text matches (newest first). A
    // submission's title is its proposal's opening words, so it matches by title on its day (2026-02-20).
    let seen = every_page(&app, "мигранты", "", 2).await;
    // A submission's title is its proposal's opening words: it matches by title, on its day (2026-02-20).
    let rank = |id: &Uuid, r: i64| (id.to_string(), r);
    let expected = vec![
        rank(&titled[4], 1),
        rank(&titled[3], 1),
        rank(&titled[2], 1),
        rank(&sub, 1),
        rank(&titled[1], 1),
        rank(&titled[0], 1),
        rank(&texted, 2),
    ];
    assert_eq!(seen, expected);

    // Filters.
    let typed = search(&app, None, "мигранты", "&type=submission").await;
    assert_eq!(typed.item_ids(), vec![sub.to_string()]);
    assert_eq!(
        typed.json()["items"][0]["link"],
        format!("/api/v1/submissions/{sub}")
    );
    assert_eq!(typed.json()["items"][0]["engagement_id"], c.to_string());
    let both = search(&app, None, "мигранты", "&type=submission&type=engagement").await;
    assert_eq!(both.item_ids().len(), 7);
    let kind = search(&app, None, "мигранты", "&kind=consultation").await;
    assert_eq!(
        kind.item_ids(),
        vec![sub.to_string()],
        "a submission belongs to a consultation"
    );
    let dushanbe = search(&app, None, "мигранты", "&region_code=TJ-DU").await;
    assert_eq!(
        dushanbe.item_ids(),
        vec![
            titled[4].to_string(),
            titled[2].to_string(),
            titled[0].to_string()
        ]
    );
    let country = search(&app, None, "мигранты", "&region_code=TJ").await;
    assert_eq!(
        country.item_ids().len(),
        6,
        "TJ takes in its sub-regions (the hearing without region is out)"
    );
    let spring = search(&app, None, "мигранты", "&from=2026-02-01&to=2026-04-30").await;
    assert_eq!(
        spring.item_ids(),
        vec![
            titled[3].to_string(),
            titled[2].to_string(),
            sub.to_string(),
            titled[1].to_string(),
        ]
    );
    // The directory has no day: a date filter leaves it out.
    let org_hits = search(&app, None, "Адолат", "").await;
    assert_eq!(org_hits.item_ids(), vec![w.org_a.to_string()]);
    assert!(
        search(&app, None, "Адолат", "&from=2000-01-01")
            .await
            .item_ids()
            .is_empty()
    );
    let agency = search(&app, None, "МВД", "&type=agency").await;
    assert_eq!(agency.item_ids(), vec![w.host_agency.to_string()]);
}

#[actix_web::test]
async fn bad_input_is_a_422_naming_the_field_and_abuse_is_harmless() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let h = hearing(&app, &w, "Слушания о насилии", "Права человека", "public").await;
    for (query, field) in [
        ("/api/v1/search", "q"),
        ("/api/v1/search?q=", "q"),
        ("/api/v1/search?q=%20%20", "q"),
        ("/api/v1/search?q=a&type=hearing", "type[0]"),
        ("/api/v1/search?q=a&kind=party", "kind[0]"),
        ("/api/v1/search?q=a&cursor=bm90LWEtY3Vyc29y", "cursor"),
        ("/api/v1/search?q=a&from=2026-05-01&to=2026-04-01", "to"),
        ("/api/v1/search?q=a&from=2026-13-01", "from"),
        ("/api/v1/search?q=a&limit=0", "limit"),
        ("/api/v1/search?q=a&region_code=X", "region_code"),
    ] {
        app.get(query, None).await.assert_invalid(field);
    }
    let long = "н".repeat(201);
    search(&app, None, &long, "").await.assert_invalid("q");
    search(&app, None, &"насилие ".repeat(1000), "")
        .await
        .assert_invalid("q");
    search(&app, None, &"н".repeat(200), "")
        .await
        .assert_status(200);
    // A cursor of another list is refused.
    let other = app.get("/api/v1/engagements?limit=1", Some(&w.admin)).await;
    let foreign = other.json()["next_cursor"]
        .as_str()
        .expect("present")
        .to_owned();
    search(&app, None, "насилие", &format!("&cursor={foreign}"))
        .await
        .assert_invalid("cursor");

    // Query syntax is never Postgres' own: operators are punctuation, the words still match.
    for q in [
        "насилие & | ! ( ) :* <->",
        "'насилие' :* & !права",
        "\"насилие",
        "((((",
        "насилие <-> права",
        "!!! ||| &&&",
        "\\ ' \" ; -- DROP TABLE search_entries",
    ] {
        let res = search(&app, None, q, "").await;
        res.assert_status(200);
    }
    assert!(finds(&app, None, "насилие & | ! ( ) :* <->", h).await);
    assert!(finds(&app, None, "\"права человека\"", h).await, "a phrase");
    assert!(
        !finds(&app, None, "насилие -права", h).await,
        "an exclusion"
    );
    assert!(
        finds(&app, None, "миграция or насилие", h).await,
        "either word"
    );
    // Stop words only: an empty page, not an error and not everything.
    for q in ["и", "и не в", "the and of"] {
        let res = search(&app, None, q, "").await;
        res.assert_status(200);
        assert_eq!(res.json(), json!({"items": [], "next_cursor": null}), "{q}");
    }
    // …while the same request with a real word finds the hearing.
    assert!(finds(&app, None, "и насилие", h).await);
}

#[actix_web::test]
async fn the_demo_data_answers_a_journalists_searches() {
    let app = TestApp::new().await;
    hamkori::demo::load(app.pool()).await.expect("demo data");
    let admin = app.admin().await;
    let ngo = |n: u32| {
        Uuid::parse_str(&format!("0193a000-0000-7000-8000-00000000b{n:03}")).expect("an id")
    };
    let visit = Uuid::parse_str("0193a000-0000-7000-8000-0000000e4001").expect("an id");
    // Russian forms, a Tajik name, a registration number.
    assert!(finds(&app, None, "насилие", ngo(2)).await);
    assert!(finds(&app, None, "Тандурустӣ", ngo(4)).await);
    assert!(finds(&app, None, "DEMO-0004", ngo(4)).await);
    // The visit is found by its public findings; its confidential finding finds nothing, even for an admin.
    assert!(finds(&app, Some(&admin), "вентиляции", visit).await);
    assert!(ids(&app, Some(&admin), "побоях").await.is_empty());
    assert!(ids(&app, Some(&admin), "врачом").await.is_empty());
}

#[actix_web::test]
async fn matches_behind_thousands_of_newer_rows_that_do_not_match_are_found_in_order() {
    let app = TestApp::new().await;
    // 2,500 newer public consultations that do not match (more than a page walks in order), and matches before,
    // among and after them.
    app.execute(
        "INSERT INTO engagements (id, kind, title, summary, status, starts_on, visibility)
         SELECT gen_random_uuid(), 'consultation', 'Проект акта ' || g, 'Без совпадений', 'open',
                date '2026-06-01' + (g % 150), 'public'
         FROM generate_series(1, 2500) AS g;
         INSERT INTO engagements (id, kind, title, summary, status, starts_on, visibility) VALUES
         ('00000000-0000-7000-8000-000000000001', 'consultation', 'Проект', 'О трудовой миграции', 'open', '2026-10-30', 'public'),
         ('00000000-0000-7000-8000-000000000002', 'consultation', 'Проект', 'О трудовой миграции', 'open', '2025-01-01', 'public'),
         ('00000000-0000-7000-8000-000000000003', 'consultation', 'Проект о миграции', NULL, 'open', '2024-01-01', 'public'),
         ('00000000-0000-7000-8000-000000000004', 'consultation', 'Проект', 'О трудовой миграции', 'open', '2023-01-01', 'internal'),
         ('00000000-0000-7000-8000-000000000005', 'consultation', 'Проект', 'О трудовой миграции', 'open', '2022-01-01', 'public');",
    )
    .await;
    let id = |n: u32| format!("00000000-0000-7000-8000-00000000000{n}");
    let seen: Vec<String> = every_page(&app, "миграция", "", 1)
        .await
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    // The title match first, then the text matches newest first; the internal one is not for the public.
    assert_eq!(seen, vec![id(3), id(1), id(2), id(5)]);
    assert_eq!(
        ids(&app, None, "миграция").await,
        vec![id(3), id(1), id(2), id(5)]
    );
}

#[actix_web::test]
async fn matches_far_behind_many_newer_rows_come_whole_and_in_order() {
    let app = TestApp::new().await;
    // 2,500 newer consultations that do not match: more than the part of the order a page walks (2,000 rows), so
    // every match below lies in the part read from the GIN index, window by window.
    app.execute(
        "INSERT INTO engagements (id, kind, title, summary, status, starts_on, visibility) \
         SELECT gen_random_uuid(), 'consultation', 'Проект акта № ' || n, 'Без совпадений', 'open', \
                DATE '2026-06-01' - (n % 100), 'public' \
         FROM generate_series(1, 2500) AS n",
    )
    .await;
    // Matches on days in each window behind the boundary (within a month, a year, ten years, and beyond), by
    // title (tier 1) and by text only (tier 2), several on one day so that ids break ties.
    let days = ["2026-02-10", "2025-10-01", "2020-05-05", "2012-01-01"];
    let mut expected: Vec<(i64, &str, Uuid)> = Vec::new();
    let mut values = Vec::new();
    for day in days {
        for n in 0..4 {
            let (id, text_only) = (Uuid::new_v4(), Uuid::new_v4());
            values.push(format!(
                "('{id}', 'consultation', 'Профилактика насилия в семье {n}', 'Обсуждение', 'open', '{day}', 'public')"
            ));
            values.push(format!(
                "('{text_only}', 'consultation', 'Проект закона {n}', 'О насилии в семье', 'open', '{day}', 'public')"
            ));
            expected.push((1, day, id));
            expected.push((2, day, text_only));
        }
    }
    app.execute(&format!(
        "INSERT INTO engagements (id, kind, title, summary, status, starts_on, visibility) VALUES {}",
        values.join(", ")
    ))
    .await;
    // And 12,000 older text-only matches, so that the word is common (its tail is read window by window, not at
    // once): they follow every match above.
    app.execute(
        "INSERT INTO engagements (id, kind, title, summary, status, starts_on, visibility) \
         SELECT gen_random_uuid(), 'consultation', 'Проект акта ' || n, 'О насилии', 'open', \
                DATE '2002-12-31' - (n % 1000), 'public' \
         FROM generate_series(1, 12000) AS n; ANALYZE search_entries",
    )
    .await;
    // Tier first, then newest first, then the larger id first (Postgres orders uuids by their bytes, as Rust does).
    expected.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(a.1)).then(b.2.cmp(&a.2)));
    // The same with `from`: the matches on or after it, in the same order.
    let expected_from_2020: Vec<(String, i64)> = expected
        .iter()
        .filter(|(_, day, _)| *day >= "2020-01-01")
        .map(|(rank, _, id)| (id.to_string(), *rank))
        .collect();
    let expected: Vec<(String, i64)> = expected
        .into_iter()
        .map(|(rank, _, id)| (id.to_string(), rank))
        .collect();

    let mut seen = Vec::new();
    let mut dates = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..6 {
        let extra = cursor
            .as_ref()
            .map_or("&limit=7".to_owned(), |c| format!("&limit=7&cursor={c}"));
        let res = search(&app, None, "насилие", &extra).await;
        res.assert_status(200);
        let body = res.json();
        for item in body["items"].as_array().expect("present") {
            seen.push((
                item["id"].as_str().expect("present").to_owned(),
                item["rank"].as_i64().expect("present"),
            ));
            dates.push(item["date"].as_str().expect("present").to_owned());
        }
        cursor = Some(body["next_cursor"].as_str().expect("more pages").to_owned());
    }
    assert_eq!(seen.len(), 42);
    assert_eq!(
        seen[..32],
        expected[..],
        "every match once, in order, across pages"
    );
    assert!(
        dates[32..].iter().all(|d| d == "2002-12-31"),
        "then the newest of the older matches: {:?}",
        &dates[32..]
    );

    // With `from`, the window that reaches past it stops at it, and the index is asked for the months or years from
    // `from` on: every match on or after it, once and in order, and none before it.
    // One page of 50 holds them all, so each tier reads its windows down to `from` (a later page's cursor would
    // leave fewer than 2,000 rows, read whole).
    let seen_from = every_page(&app, "насилие", "&from=2020-01-01", 50).await;
    assert_eq!(seen_from.len(), 24);
    assert_eq!(seen_from, expected_from_2020);
}

#[actix_web::test]
async fn a_span_of_days_asks_for_exactly_its_months_or_years_and_no_typed_query_can_ask_for_one() {
    let app = TestApp::new().await;
    // (first day, last day, the lexeme kind it asks for): a day, a year's end, 13 months (still months), 13 months
    // and a day (years), a decade.
    let spans = [
        ("2026-03-05", "2026-03-05", "@m "),
        ("2025-12-20", "2026-01-10", "@m "),
        ("2025-01-01", "2026-01-31", "@m "),
        ("2025-01-01", "2026-02-01", "@y "),
        ("2016-07-15", "2026-06-30", "@y "),
    ];
    for (first, last, unit) in spans {
        let span = format!("search_calendar(DATE '{first}', DATE '{last}')");
        // Every day of the span is in it.
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM generate_series(DATE '{first}', DATE '{last}', interval '1 day') AS d \
                 WHERE NOT search_calendar_lexemes(d::date) @@ {span}"
            ))
            .await,
            0,
            "{first}..{last}"
        );
        // It asks for months or for years, as said.
        let other = if unit == "@m " { "@y " } else { "@m " };
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM (SELECT {span}::text AS t) AS calendar \
                 WHERE t LIKE '%{unit}%' AND t NOT LIKE '%{other}%'"
            ))
            .await,
            1,
            "{first}..{last} asks for {unit}"
        );
        // The day before it and the day after it are outside its first and last month (or year).
        let (before, after) = if unit == "@m " {
            (
                format!("date_trunc('month', DATE '{first}') - interval '1 day'"),
                format!("date_trunc('month', DATE '{last}') + interval '1 month'"),
            )
        } else {
            (
                format!("date_trunc('year', DATE '{first}') - interval '1 day'"),
                format!("date_trunc('year', DATE '{last}') + interval '1 year'"),
            )
        };
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM (VALUES ({before}), ({after})) AS outside(d) \
                 WHERE search_calendar_lexemes(d::date) @@ {span}"
            ))
            .await,
            0,
            "{first}..{last}"
        );
    }
    // A calendar lexeme holds a space, which the parser splits words on: nothing a user types matches one.
    for typed in [
        "@m 202603",
        "'@m 202603'",
        "\"@m 202603\"",
        "@y 2026",
        "@m202603",
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT count(*) FROM (VALUES (websearch_to_tsquery('russian', $${typed}$$)), \
                 (websearch_to_tsquery('simple', $${typed}$$))) AS q(query) \
                 WHERE search_calendar_lexemes(DATE '2026-03-05') @@ query"
            ))
            .await,
            0,
            "{typed}"
        );
    }
}
