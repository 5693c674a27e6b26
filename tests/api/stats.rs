//! Statistics: under the read rule they count exactly what each caller's own list returns; their numbers are
//! checked against values computed by hand; bad parameters are refused naming the field, and change nothing.

use std::collections::BTreeMap;

use chrono::{Days, Utc};
use hamkori::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, World, id_of};

fn day(offset: i64) -> String {
    let today = Utc::now().date_naive();
    let moved = if offset >= 0 {
        today.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    };
    moved.unwrap_or(today).to_string()
}

/// `path` with `query` appended (none when empty).
fn with_query(path: &str, query: &str) -> String {
    match (query.is_empty(), path.contains('?')) {
        (true, _) => path.to_owned(),
        (false, true) => format!("{path}&{query}"),
        (false, false) => format!("{path}?{query}"),
    }
}

/// A statistic as JSON (asserting a 200).
async fn stats(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let res = app.get(path, token).await;
    res.assert_status(200);
    let body = res.json();
    assert!(
        body["groups"].is_array() && body["totals"].is_object(),
        "{path}: {body}"
    );
    body
}

/// Every item of a list the caller may read, whole (`format=ndjson`).
async fn list_all(app: &TestApp, path: &str, token: Option<&str>) -> Vec<Value> {
    let res = app.get(&with_query(path, "format=ndjson"), token).await;
    res.assert_status(200);
    res.text()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("an ndjson line"))
        .collect()
}

/// The groups of a one-dimension statistic: key → the measure (only non-empty groups).
fn by_key(body: &Value, dim: &str, measure: &str) -> BTreeMap<String, i64> {
    body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| {
            let n = g["measures"][measure].as_i64().unwrap_or(0);
            (n > 0).then(|| (g["key"][dim].as_str().unwrap_or("<null>").to_owned(), n))
        })
        .collect()
}

/// Items counted by the text of one of their fields.
fn count_by(items: &[Value], field: &str) -> BTreeMap<String, i64> {
    let mut out = BTreeMap::new();
    for item in items {
        let key = item[field].as_str().unwrap_or("<null>").to_owned();
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

/// Exact sum of decimal strings with two decimals (the currencies used here), as a decimal string.
fn cents(amount: &str) -> i128 {
    let (units, frac) = amount.split_once('.').unwrap_or((amount, "0"));
    let frac = format!("{frac:0<2}");
    units.parse::<i128>().expect("units") * 100 + frac[..2].parse::<i128>().expect("cents")
}

fn from_cents(c: i128) -> String {
    format!("{}.{:02}", c / 100, c % 100)
}

/// The `[{currency, count, amount}]` of grant items, computed from the list.
fn sums_of(items: &[Value]) -> Value {
    let mut by: BTreeMap<String, (i64, i128)> = BTreeMap::new();
    for g in items {
        let entry = by
            .entry(g["currency"].as_str().expect("currency").to_owned())
            .or_default();
        entry.0 += 1;
        entry.1 += cents(g["amount"].as_str().expect("amount is a string"));
    }
    Value::Array(
        by.into_iter()
            .map(|(currency, (count, c))| {
                json!({"currency": currency, "count": count, "amount": from_cents(c)})
            })
            .collect(),
    )
}

// -------------------------------------------------------------------------------------------------------------
// 1. The read rule

const CONFIDENTIAL: &str = "Задержанного избивали конвоиры";

struct Mix {
    facility: Uuid,
}

/// Public, internal and restricted records owned by two NGOs; a planned visit; a public meeting of a restricted
/// council; recommendations from each; grants in two currencies; findings, one confidential.
async fn mix(app: &TestApp, w: &World) -> Mix {
    let hearing = async |token: &str, org: Uuid, visibility: &str, region: &str, on: &str| {
        let res = app
            .post(
                "/api/v1/hearings",
                Some(token),
                &json!({"title": format!("Слушания {visibility}"), "status": "held", "starts_on": on,
                        "region_code": region, "sphere_codes": ["human_rights"], "organizer_ids": [org],
                        "visibility": visibility}),
            )
            .await;
        res.assert_status(201);
        id_of(&res.json())
    };
    let a_public = hearing(&w.ngo_a, w.org_a, "public", "TJ-DU", "2026-01-10").await;
    let a_internal = hearing(&w.ngo_a, w.org_a, "internal", "TJ-DU", "2026-02-10").await;
    let a_restricted = hearing(&w.ngo_a, w.org_a, "restricted", "TJ-SU", "2026-03-10").await;
    let b_restricted = hearing(&w.ngo_b, w.org_b, "restricted", "TJ-DU", "2026-04-10").await;
    let b_public = hearing(&w.ngo_b, w.org_b, "public", "TJ-SU", "2026-05-10").await;
    // Council B turns restricted, with a public meeting: hidden with its council.
    app.restrict_council(&w.admin, w.council_b).await;
    let res = app
        .post(
            &format!("/api/v1/councils/{}/meetings", w.council_b),
            Some(&w.admin),
            &json!({"title": "Заседание закрытого совета", "status": "held", "starts_at": "2026-06-01T10:00:00Z",
                "region_code": "TJ-DU", "visibility": "public"}),
        )
        .await;
    res.assert_status(201);
    let restricted_council_meeting = id_of(&res.json());
    // Recommendations from each engagement, to both agencies; those to the other agency also internal or
    // restricted themselves on a public engagement, and from the restricted council's public meeting.
    for (engagement, agency, visibility) in [
        (a_public, w.host_agency, "public"),
        (a_public, w.other_agency, "public"),
        (a_internal, w.host_agency, "public"),
        (a_restricted, w.host_agency, "public"),
        (b_restricted, w.other_agency, "public"),
        (b_public, w.host_agency, "public"),
        (w.restricted, w.host_agency, "public"),
        (b_public, w.other_agency, "internal"),
        (a_public, w.other_agency, "restricted"),
        (restricted_council_meeting, w.other_agency, "public"),
    ] {
        app.post(
            &format!("/api/v1/engagements/{engagement}/recommendations"),
            Some(&w.admin),
            &json!({"text": "Рекомендация", "addressed_to_agency_id": agency, "issued_on": "2026-06-10",
                    "visibility": visibility}),
        )
        .await
        .assert_status(201);
    }
    // Grants.
    let grant = async |token: &str, org: Uuid, visibility: &str, amount: &str, currency: &str| {
        let res = app
            .post(
                "/api/v1/grants",
                Some(token),
                &json!({"title": "Грант", "support_type": "grant", "funder_agency_id": w.host_agency,
                        "recipient_organization_id": org, "amount": amount, "currency": currency,
                        "starts_on": "2026-03-01", "region_code": "TJ-DU", "sphere_codes": ["gender"],
                        "visibility": visibility}),
            )
            .await;
        res.assert_status(201);
    };
    grant(&w.ngo_a, w.org_a, "public", "100.10", "TJS").await;
    grant(&w.ngo_a, w.org_a, "internal", "200.20", "TJS").await;
    grant(&w.ngo_a, w.org_a, "restricted", "5000.00", "USD").await;
    grant(&w.ngo_b, w.org_b, "restricted", "7.77", "TJS").await;
    grant(&w.ngo_b, w.org_b, "public", "1.01", "USD").await;
    // Monitoring: a facility, completed visits of both NGOs, a restricted one and a planned one.
    let res = app
        .post(
            "/api/v1/facilities",
            Some(&w.admin),
            &json!({"name": "ИВС ОВД Сино", "facility_type": "temporary_detention",
              "operating_agency_id": w.host_agency, "region_code": "TJ-DU"}),
        )
        .await;
    res.assert_status(201);
    let facility = id_of(&res.json());
    let visit = async |token: &str, org: Uuid, status: &str, on: &str, visibility: &str| {
        let res = app
            .post("/api/v1/monitoring-visits", Some(token), &json!({
                "facility_id": facility, "visited_on": on, "announced": false, "monitor_organization_ids": [org],
                "summary": "Визит", "status": status, "access": "granted", "visibility": visibility,
                "findings": [
                    {"category": "conditions", "severity": "minor", "description": "Сыро"},
                    {"category": "treatment", "severity": "critical", "description": CONFIDENTIAL, "confidential": true}
                ]}))
            .await;
        res.assert_status(201);
    };
    visit(&w.ngo_a, w.org_a, "completed", "2026-05-10", "public").await;
    visit(&w.ngo_a, w.org_a, "completed", "2026-05-11", "restricted").await;
    visit(&w.ngo_a, w.org_a, "planned", "2027-01-15", "public").await;
    visit(&w.ngo_b, w.org_b, "completed", "2026-06-12", "internal").await;
    // Consultations: a public one of A and a restricted one of B, a submission to each.
    for (token, org, visibility) in [
        (&w.ngo_a, w.org_a, "public"),
        (&w.ngo_b, w.org_b, "restricted"),
    ] {
        let res = app
            .post("/api/v1/consultations", Some(token), &json!({
                "title": "Проект закона", "act_type": "law", "responsible_agency_id": w.host_agency,
                "level": "national", "opens_on": "2026-11-01", "closes_on": "2026-11-20", "visibility": visibility}))
            .await;
        res.assert_status(201);
        let c = id_of(&res.json());
        app.post(
            &format!("/api/v1/consultations/{c}/submissions"),
            Some(token),
            &json!({"organization_ids": [org], "proposal": "Предложение", "submitted_on": "2026-11-10"}),
        )
        .await
        .assert_status(201);
    }
    Mix { facility }
}

/// Asserts that a statistic grouped by `dim` counts, per group and in total, what the list gives.
async fn assert_parity(
    app: &TestApp,
    who: &str,
    token: Option<&str>,
    (stats_path, list_path): (&str, &str),
    (dim, field, measure): (&str, &str, &str),
) -> Vec<Value> {
    let body = stats(
        app,
        &with_query(stats_path, &format!("group_by={dim}")),
        token,
    )
    .await;
    let items = list_all(app, list_path, token).await;
    assert_eq!(
        body["totals"][measure].as_i64(),
        Some(items.len() as i64),
        "{who}: {stats_path} totals vs {list_path}"
    );
    assert_eq!(
        by_key(&body, dim, measure),
        count_by(&items, field),
        "{who}: {stats_path} by {dim}"
    );
    assert!(
        !body.to_string().contains(CONFIDENTIAL),
        "{who}: confidential text in {stats_path}"
    );
    items
}

#[actix_web::test]
async fn every_role_counts_what_its_own_lists_return() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let m = mix(&app, &w).await;
    let secretary_ab = app
        .user(Role::Secretary, None, None, &[w.council_a, w.council_b])
        .await
        .1;
    let roles: Vec<(&str, Option<&str>)> = vec![
        ("anonymous", None),
        ("analyst", Some(&w.analyst)),
        ("ngo_a (owner)", Some(&w.ngo_a)),
        ("ngo_b (other org)", Some(&w.ngo_b)),
        ("officer_host", Some(&w.officer_host)),
        ("officer_other", Some(&w.officer_other)),
        ("secretary_a", Some(&w.secretary_a)),
        ("secretary_b (restricted council)", Some(&w.secretary_b)),
        ("secretary of a and b", Some(&secretary_ab)),
        ("admin", Some(&w.admin)),
    ];
    // What the totals must be, counted by hand from `mix` and `World` (engagements: 5 hearings, 3 meetings,
    // 5 grants, 4 visits, 2 consultations).
    let expected_engagements = |who: &str| match who {
        // public hearings a and b, public grants 2, completed public visit 1, public consultation.
        "anonymous" => 6,
        // + internal: hearing a, meeting A, grant a, visit b.
        "analyst" | "officer_host" | "officer_other" => 10,
        // + council A's restricted meeting.
        "secretary_a" => 11,
        // + a's restricted hearing, grant, visit, and its planned visit.
        "ngo_a (owner)" => 14,
        // + b's restricted hearing, grant and consultation.
        "ngo_b (other org)" => 13,
        // + council B's public meeting (B itself is restricted).
        "secretary_b (restricted council)" => 11,
        // + both.
        "secretary of a and b" => 12,
        "admin" => 19,
        _ => unreachable!(),
    };
    let hearing_filter = "kind=hearing&region_code=TJ-DU";
    for (who, token) in &roles {
        let all = assert_parity(
            &app,
            who,
            *token,
            ("/api/v1/stats/engagements", "/api/v1/engagements"),
            ("kind", "kind", "count"),
        )
        .await;
        assert_eq!(all.len(), expected_engagements(who), "{who}");
        assert_parity(
            &app,
            who,
            *token,
            ("/api/v1/stats/engagements", "/api/v1/engagements"),
            ("visibility", "visibility", "count"),
        )
        .await;
        assert_parity(
            &app,
            who,
            *token,
            (
                &format!("/api/v1/stats/engagements?{hearing_filter}"),
                &format!("/api/v1/engagements?{hearing_filter}"),
            ),
            ("status", "status", "count"),
        )
        .await;
        // Full text on the confidential finding's words finds nothing for anyone but those who read it.
        let q = "q=%D0%B8%D0%B7%D0%B1%D0%B8%D0%B2%D0%B0%D0%BB%D0%B8"; // «избивали»
        assert_parity(
            &app,
            who,
            *token,
            (
                &format!("/api/v1/stats/engagements?{q}"),
                &format!("/api/v1/engagements?{q}"),
            ),
            ("kind", "kind", "count"),
        )
        .await;

        // Recommendations: all, and filtered by agency.
        assert_parity(
            &app,
            who,
            *token,
            ("/api/v1/stats/recommendations", "/api/v1/recommendations"),
            ("status", "status", "total"),
        )
        .await;
        let recs = assert_parity(
            &app,
            who,
            *token,
            (
                &format!(
                    "/api/v1/stats/recommendations?addressed_to_agency_id={}",
                    w.host_agency
                ),
                &format!(
                    "/api/v1/recommendations?addressed_to_agency_id={}",
                    w.host_agency
                ),
            ),
            ("kind", "engagement_kind", "total"),
        )
        .await;
        // World's recommendation (internal meeting), a public/internal/restricted(a)/public(b) hearing's, the
        // restricted meeting's: to the host agency.
        let expected_recs = match *who {
            "anonymous" => 2,
            "analyst" | "officer_other" | "secretary_b (restricted council)" => 4,
            // The addressed agency reads every recommendation made to it, restricted ones too.
            "officer_host" => 6,
            "ngo_a (owner)" => 5,
            "ngo_b (other org)" => 4,
            "secretary_a" | "secretary of a and b" => 5,
            "admin" => 6,
            _ => unreachable!(),
        };
        assert_eq!(recs.len(), expected_recs, "{who}: recommendations to host");
        // To the other agency: public ones on a public and on a restricted hearing, an internal and a restricted
        // one on public hearings, one from the restricted council's meeting. Its own officers read all five.
        let to_other = assert_parity(
            &app,
            who,
            *token,
            (
                &format!(
                    "/api/v1/stats/recommendations?addressed_to_agency_id={}",
                    w.other_agency
                ),
                &format!(
                    "/api/v1/recommendations?addressed_to_agency_id={}",
                    w.other_agency
                ),
            ),
            ("status", "status", "total"),
        )
        .await;
        match *who {
            "anonymous" => assert_eq!(to_other.len(), 1, "{who}: recommendations to other"),
            "analyst" | "officer_host" => assert_eq!(to_other.len(), 2, "{who}: to other"),
            "officer_other" | "admin" => assert_eq!(to_other.len(), 5, "{who}: to other"),
            _ => {}
        }

        // Grants: counts and exact sums per currency, all and filtered.
        for filter in ["", "currency=TJS"] {
            let body = stats(
                &app,
                &with_query("/api/v1/stats/grants?group_by=currency", filter),
                *token,
            )
            .await;
            let items = list_all(&app, &with_query("/api/v1/grants", filter), *token).await;
            assert_eq!(
                body["totals"]["sums"],
                sums_of(&items),
                "{who}: grants {filter}"
            );
            assert_eq!(body["totals"]["count"], items.len(), "{who}: {filter}");
            for group in body["groups"].as_array().into_iter().flatten() {
                let currency = group["key"]["currency"].as_str().unwrap_or_default();
                let mine: Vec<Value> = items
                    .iter()
                    .filter(|g| g["currency"] == currency)
                    .cloned()
                    .collect();
                assert_eq!(group["measures"]["sums"], sums_of(&mine), "{who}");
            }
        }

        // Monitoring: visits and findings, all and filtered by facility and status.
        for filter in [
            String::new(),
            format!("facility_id={}&status=completed", m.facility),
        ] {
            let items = assert_parity(
                &app,
                who,
                *token,
                (
                    &with_query("/api/v1/stats/monitoring", &filter),
                    &with_query("/api/v1/monitoring-visits", &filter),
                ),
                ("status", "status", "visits"),
            )
            .await;
            let body = stats(
                &app,
                &with_query("/api/v1/stats/monitoring", &filter),
                *token,
            )
            .await;
            let findings: usize = items
                .iter()
                .map(|v| v["findings"].as_array().map_or(0, Vec::len))
                .sum();
            assert_eq!(body["totals"]["findings"], findings, "{who}");
            let serious = items
                .iter()
                .flat_map(|v| v["findings"].as_array().cloned().unwrap_or_default())
                .filter(|f| f["severity"] == "critical" || f["severity"] == "serious")
                .count();
            assert_eq!(body["totals"]["serious_findings"], serious, "{who}");
        }
        // Submissions, by consultation.
        let subs = assert_parity(
            &app,
            who,
            *token,
            ("/api/v1/stats/consultations", "/api/v1/submissions"),
            ("consultation", "consultation_id", "submissions"),
        )
        .await;
        let expected_subs = match *who {
            "anonymous" | "analyst" | "officer_host" | "ngo_a (owner)" => 1,
            "ngo_b (other org)" | "admin" => 2,
            _ => 1,
        };
        assert_eq!(subs.len(), expected_subs, "{who}: submissions");
        let planned = stats(&app, "/api/v1/stats/monitoring?status=planned", *token).await;
        let sees_planned = matches!(*who, "ngo_a (owner)" | "admin");
        assert_eq!(
            planned["totals"]["visits"],
            i64::from(sees_planned),
            "{who}: the planned visit"
        );
    }
}

// -------------------------------------------------------------------------------------------------------------
// 2. The numbers

fn group<'a>(body: &'a Value, dim: &str, key: &str) -> &'a Value {
    body["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["key"][dim] == key))
        .map(|g| &g["measures"])
        .unwrap_or_else(|| panic!("no group {dim}={key} in {body}"))
}

fn keys(body: &Value, dim: &str) -> Vec<String> {
    body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["key"][dim].as_str().unwrap_or("<null>").to_owned())
        .collect()
}

fn counts(body: &Value, measure: &str) -> Vec<i64> {
    body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["measures"][measure].as_i64().unwrap_or(-1))
        .collect()
}

#[actix_web::test]
async fn engagements_by_month_are_a_continuous_series_and_sort_ties_by_key() {
    let app = TestApp::new().await;
    let w = app.world().await;
    for (on, region, spheres) in [
        ("2025-01-15", "TJ-DU", json!(["health", "gender"])),
        ("2025-01-20", "TJ-SU", json!(["health"])),
        ("2025-04-02", "TJ-DU", json!([])),
        ("2025-04-30", "TJ-DU", json!(["gender"])),
    ] {
        app.post("/api/v1/hearings", Some(&w.admin), &json!({"title": "Слушания", "status": "held", "starts_on": on,
            "region_code": region, "sphere_codes": spheres, "organizer_ids": [w.org_a], "visibility": "public"}))
            .await
            .assert_status(201);
    }
    let base = "/api/v1/stats/engagements?kind=hearing";
    // The data's first to last month, the empty ones in the middle with zero.
    let body = stats(&app, &format!("{base}&group_by=month"), None).await;
    assert_eq!(body["group_by"], json!(["month"]));
    assert_eq!(
        keys(&body, "month"),
        ["2025-01", "2025-02", "2025-03", "2025-04"]
    );
    assert_eq!(counts(&body, "count"), [2, 0, 0, 2]);
    assert_eq!(body["totals"]["count"], 4);
    // From..to: empty months at both edges too.
    let body = stats(
        &app,
        &format!("{base}&group_by=month&from=2024-11-01&to=2025-06-30"),
        None,
    )
    .await;
    assert_eq!(
        keys(&body, "month"),
        [
            "2024-11", "2024-12", "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"
        ]
    );
    assert_eq!(counts(&body, "count"), [0, 0, 2, 0, 0, 2, 0, 0]);
    assert_eq!(body["totals"]["count"], 4);
    // A filter that cuts the data: from mid-January, to mid-April.
    let body = stats(
        &app,
        &format!("{base}&group_by=month&from=2025-01-16&to=2025-04-15"),
        None,
    )
    .await;
    assert_eq!(
        keys(&body, "month"),
        ["2025-01", "2025-02", "2025-03", "2025-04"]
    );
    assert_eq!(counts(&body, "count"), [1, 0, 0, 1]);
    assert_eq!(body["totals"]["count"], 2);
    // Only `from`: to the data's last month; only `to`: from the data's first month.
    let body = stats(
        &app,
        &format!("{base}&group_by=month&from=2025-02-01"),
        None,
    )
    .await;
    assert_eq!(keys(&body, "month"), ["2025-02", "2025-03", "2025-04"]);
    assert_eq!(counts(&body, "count"), [0, 0, 2]);
    let body = stats(&app, &format!("{base}&group_by=month&to=2025-02-28"), None).await;
    assert_eq!(keys(&body, "month"), ["2025-01", "2025-02"]);
    assert_eq!(counts(&body, "count"), [2, 0]);
    // Nothing in the range: still every month of it, all zero.
    let body = stats(
        &app,
        &format!("{base}&group_by=month&from=2025-02-01&to=2025-03-31"),
        None,
    )
    .await;
    assert_eq!(keys(&body, "month"), ["2025-02", "2025-03"]);
    assert_eq!(counts(&body, "count"), [0, 0]);
    assert_eq!(body["totals"]["count"], 0);
    // Month first of two: ordered by month, then region.
    let body = stats(&app, &format!("{base}&group_by=month,region"), None).await;
    assert_eq!(
        keys(&body, "month"),
        [
            "2025-01", "2025-01", "2025-02", "2025-02", "2025-03", "2025-03", "2025-04", "2025-04"
        ]
    );
    assert_eq!(counts(&body, "count"), [1, 1, 0, 0, 0, 0, 2, 0]);
    // Two dimensions: every region gets every month.
    let body = stats(&app, &format!("{base}&group_by=region,month"), None).await;
    let pairs: Vec<(String, String, i64)> = body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            (
                g["key"]["region"].as_str().unwrap_or_default().to_owned(),
                g["key"]["month"].as_str().unwrap_or_default().to_owned(),
                g["measures"]["count"].as_i64().unwrap_or(-1),
            )
        })
        .collect();
    let expected: Vec<(String, String, i64)> = [
        ("TJ-DU", "2025-01", 1),
        ("TJ-DU", "2025-02", 0),
        ("TJ-DU", "2025-03", 0),
        ("TJ-DU", "2025-04", 2),
        ("TJ-SU", "2025-01", 1),
        ("TJ-SU", "2025-02", 0),
        ("TJ-SU", "2025-03", 0),
        ("TJ-SU", "2025-04", 0),
    ]
    .iter()
    .map(|(r, m, n)| ((*r).to_owned(), (*m).to_owned(), *n))
    .collect();
    assert_eq!(pairs, expected);
    let regions = app.get("/api/v1/regions", None).await.json();
    let name_of = |code: &str| {
        regions["items"]
            .as_array()
            .or(regions.as_array())
            .and_then(|r| r.iter().find(|r| r["code"] == code))
            .map(|r| r["name_ru"].clone())
            .unwrap_or(Value::Null)
    };
    assert!(name_of("TJ-DU").is_string());
    for g in body["groups"].as_array().into_iter().flatten() {
        let code = g["key"]["region"].as_str().unwrap_or_default();
        assert_eq!(g["label"]["region"], name_of(code), "{g}");
        assert_eq!(g["label"]["month"], Value::Null, "{g}");
    }
    // Spheres: a hearing in two spheres counts in both, once in the totals; one without a sphere only there.
    let body = stats(&app, &format!("{base}&group_by=sphere"), None).await;
    assert_eq!(keys(&body, "sphere"), ["gender", "health"]);
    assert_eq!(counts(&body, "count"), [2, 2]);
    assert_eq!(body["totals"]["count"], 4);
    // Sorting by a measure: ties keep key order, whichever direction.
    let body = stats(&app, &format!("{base}&group_by=sphere&sort=-count"), None).await;
    assert_eq!(keys(&body, "sphere"), ["gender", "health"]);
    let body = stats(&app, &format!("{base}&group_by=month&sort=count"), None).await;
    assert_eq!(
        keys(&body, "month"),
        ["2025-02", "2025-03", "2025-01", "2025-04"]
    );
    let body = stats(&app, &format!("{base}&group_by=month&sort=-count"), None).await;
    assert_eq!(
        keys(&body, "month"),
        ["2025-01", "2025-04", "2025-02", "2025-03"]
    );
    let body = stats(
        &app,
        &format!("{base}&group_by=region&sort=-count&limit=1"),
        None,
    )
    .await;
    assert_eq!(keys(&body, "region"), ["TJ-DU"]);
    assert_eq!(counts(&body, "count"), [3]);
    assert_eq!(body["totals"]["count"], 4, "limit cuts groups, not totals");
    // Organisations: the organiser of all four.
    let body = stats(&app, &format!("{base}&group_by=organization"), None).await;
    assert_eq!(keys(&body, "organization"), [w.org_a.to_string()]);
    assert_eq!(
        body["groups"][0]["label"]["organization"],
        "Ҳуқуқ ва Адолат"
    );
    assert_eq!(counts(&body, "count"), [4]);
    // Nothing matches: no groups, zero totals.
    let body = stats(
        &app,
        &format!("{base}&group_by=kind&region_code=TJ-GB"),
        None,
    )
    .await;
    assert_eq!(body["groups"], json!([]));
    assert_eq!(body["totals"]["count"], 0);
}

#[actix_web::test]
async fn recommendation_measures_follow_every_status_change_and_whose_word_it_is() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let hearing = app
        .insert_engagement(
            "hearing",
            Some(w.org_a),
            "public",
            &[(w.org_a, "organizer")],
        )
        .await;
    let issue = async |issued: i64, due: Option<i64>, priority: &str| {
        let res = app
            .post(&format!("/api/v1/engagements/{hearing}/recommendations"), Some(&w.ngo_a),
                  &json!({"text": "Рекомендация", "addressed_to_agency_id": w.other_agency, "issued_on": day(issued),
                          "due_on": due.map(day), "priority": priority}))
            .await;
        res.assert_status(201);
        id_of(&res.json())
    };
    let change = async |id: Uuid, token: &str, status: &str, on: i64| {
        app.post(
            &format!("/api/v1/recommendations/{id}/status"),
            Some(token),
            &json!({"status": status, "effective_on": day(on), "note": "Ответ"}),
        )
        .await
        .assert_status(200);
    };
    let officer = w.officer_other.as_str();
    // R1: three agency answers; first one 10 days after issue.
    let r1 = issue(-40, Some(-10), "high").await;
    change(r1, officer, "acknowledged", -30).await;
    change(r1, officer, "in_progress", -20).await;
    change(r1, officer, "implemented", -5).await;
    // R2: the NGO reports an implementation 6 days after issue; the agency said nothing itself.
    let r2 = issue(-20, Some(30), "normal").await;
    change(r2, &w.ngo_a, "implemented", -14).await;
    // R3: never answered, past due.
    issue(-50, Some(-25), "normal").await;
    // R4: acknowledged after 2 days, then partly implemented.
    let r4 = issue(-30, Some(-15), "normal").await;
    change(r4, officer, "acknowledged", -28).await;
    change(r4, officer, "partially_implemented", -10).await;
    // R5: recorded as unanswered by an admin, then rejected by the agency 60 days after issue.
    let r5 = issue(-60, Some(-40), "normal").await;
    change(r5, &w.admin, "no_response", -1).await;
    change(r5, officer, "rejected", 0).await;
    // R6: no due date; in progress, first answer after 1 day.
    let r6 = issue(-10, None, "normal").await;
    change(r6, officer, "acknowledged", -9).await;
    change(r6, officer, "in_progress", -7).await;
    // R7: acknowledged the day it was issued.
    let r7 = issue(-5, Some(10), "normal").await;
    change(r7, officer, "acknowledged", -5).await;
    // R8: no response, past due.
    let r8 = issue(-60, Some(-40), "normal").await;
    change(r8, &w.admin, "no_response", -1).await;

    let base = format!("/api/v1/stats/recommendations?engagement_id={hearing}");
    // The list agrees on which are overdue (R3, R8).
    let overdue = list_all(
        &app,
        &format!("/api/v1/recommendations?engagement_id={hearing}&overdue=true"),
        Some(&w.analyst),
    )
    .await;
    assert_eq!(overdue.len(), 2);
    // Every answer: implemented R1 R2, partly R4, rejected R5, in progress R6, acknowledged R7, issued R3,
    // no response R8. First answers after 10, 6, 2, 60, 1, 0 days: median (2 + 6) / 2.
    let any = stats(&app, &base, Some(&w.analyst)).await;
    assert_eq!(
        any["totals"],
        json!({"total": 8, "issued": 1, "acknowledged": 1, "in_progress": 1, "implemented": 2,
               "partially_implemented": 1, "rejected": 1, "no_response": 1, "unanswered": 2, "overdue": 2,
               "implementation_rate": 0.375, "response_rate": 0.75, "median_days_to_first_response": 4.0})
    );
    assert_eq!(
        stats(&app, &format!("{base}&answers=any"), Some(&w.analyst)).await["totals"],
        any["totals"]
    );
    // The agency's own word: R2 (the NGO's report) and R8 (the admin's record) stay `issued`. First answers
    // after 10, 2, 60, 1, 0 days: median 2.
    let agency = stats(&app, &format!("{base}&answers=agency"), Some(&w.analyst)).await;
    assert_eq!(
        agency["totals"],
        json!({"total": 8, "issued": 3, "acknowledged": 1, "in_progress": 1, "implemented": 1,
               "partially_implemented": 1, "rejected": 1, "no_response": 0, "unanswered": 3, "overdue": 2,
               "implementation_rate": 0.25, "response_rate": 0.625, "median_days_to_first_response": 2.0})
    );
    // By status, with answers=agency: the groups follow the agency's word.
    let body = stats(
        &app,
        &format!("{base}&answers=agency&group_by=status"),
        Some(&w.analyst),
    )
    .await;
    assert_eq!(
        by_key(&body, "status", "total"),
        BTreeMap::from([
            ("acknowledged".to_owned(), 1),
            ("implemented".to_owned(), 1),
            ("in_progress".to_owned(), 1),
            ("issued".to_owned(), 3),
            ("partially_implemented".to_owned(), 1),
            ("rejected".to_owned(), 1),
        ])
    );
    // By priority: the one high-priority recommendation; the seven others with their own median (6, 2, 60, 1,
    // 0 → 2) and rates (2 implemented of 7, 5 answered of 7).
    let body = stats(&app, &format!("{base}&group_by=priority"), Some(&w.analyst)).await;
    assert_eq!(keys(&body, "priority"), ["high", "normal"]);
    let high = group(&body, "priority", "high");
    assert_eq!(
        (
            &high["total"],
            &high["implemented"],
            &high["implementation_rate"],
            &high["response_rate"],
            &high["median_days_to_first_response"],
            &high["overdue"]
        ),
        (
            &json!(1),
            &json!(1),
            &json!(1.0),
            &json!(1.0),
            &json!(10.0),
            &json!(0)
        )
    );
    let normal = group(&body, "priority", "normal");
    assert_eq!(normal["total"], 7);
    assert_eq!(normal["implementation_rate"], 0.2857);
    assert_eq!(normal["response_rate"], 0.7143);
    assert_eq!(normal["median_days_to_first_response"], 2.0);
    assert_eq!(normal["overdue"], 2);
    // By agency: labelled with its name; by source: whose word the current status is.
    let body = stats(&app, &format!("{base}&group_by=agency"), Some(&w.analyst)).await;
    assert_eq!(keys(&body, "agency"), [w.other_agency.to_string()]);
    assert_eq!(body["groups"][0]["label"]["agency"], "Минюст");
    assert_eq!(body["groups"][0]["measures"]["total"], 8);
    let body = stats(&app, &format!("{base}&group_by=source"), Some(&w.analyst)).await;
    assert_eq!(
        by_key(&body, "source", "total"),
        BTreeMap::from([
            ("admin".to_owned(), 1),
            ("agency".to_owned(), 5),
            // The issuing NGO's word: R2's reported answer, and R3 as issued.
            ("ngo".to_owned(), 2),
        ]),
        "{body}"
    );
    // Sorted by a measure, largest first, ties by key.
    let body = stats(
        &app,
        &format!("{base}&group_by=status&sort=-total"),
        Some(&w.analyst),
    )
    .await;
    assert_eq!(
        keys(&body, "status"),
        [
            "implemented",
            "acknowledged",
            "in_progress",
            "issued",
            "no_response",
            "partially_implemented",
            "rejected"
        ]
    );
    // No recommendation: rates and median are null, counts zero.
    let empty = stats(
        &app,
        &format!("{base}&addressed_to_agency_id={}", w.host_agency),
        Some(&w.analyst),
    )
    .await;
    assert_eq!(empty["totals"]["total"], 0);
    assert_eq!(empty["totals"]["implementation_rate"], Value::Null);
    assert_eq!(empty["totals"]["response_rate"], Value::Null);
    assert_eq!(
        empty["totals"]["median_days_to_first_response"],
        Value::Null
    );
}

#[actix_web::test]
async fn consultation_measures_count_coalitions_in_each_group_and_late_submissions() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let consultation = async |agency: Uuid, closes: i64| {
        let res = app
            .post(
                "/api/v1/consultations",
                Some(&w.ngo_a),
                &json!({
                "title": "Проект Закона «О профилактике насилия в семье»", "act_type": "law",
                "responsible_agency_id": agency, "level": "national",
                "opens_on": day(-20), "closes_on": day(closes), "visibility": "public"}),
            )
            .await;
        res.assert_status(201);
        id_of(&res.json())
    };
    let c1 = consultation(w.host_agency, -5).await;
    let c2 = consultation(w.other_agency, 10).await;
    let submit = async |c: Uuid, token: &str, orgs: Value, on: i64| {
        let res = app
            .post(
                &format!("/api/v1/consultations/{c}/submissions"),
                Some(token),
                &json!({"organization_ids": orgs, "proposal": "Предложение", "submitted_on": day(on)}),
            )
            .await;
        res.assert_status(201);
        id_of(&res.json())
    };
    let respond = async |id: Uuid, token: &str, status: &str, on: i64| {
        app.put(
            &format!("/api/v1/submissions/{id}/response"),
            Some(token),
            &json!({"status": status, "text": "Ответ", "responded_on": day(on)}),
        )
        .await
        .assert_status(200);
    };
    let officer = w.officer_host.as_str();
    let s1 = submit(c1, &w.ngo_a, json!([w.org_a]), -10).await;
    respond(s1, officer, "accepted", -2).await; // 8 days
    let s2 = submit(c1, &w.ngo_a, json!([w.org_a, w.org_b]), -12).await;
    respond(s2, officer, "partially_accepted", -6).await; // 6 days
    let s3 = submit(c1, &w.ngo_b, json!([w.org_b]), -1).await; // late
    respond(s3, &w.ngo_b, "accepted", 0).await; // 1 day, the NGO's word
    submit(c1, &w.ngo_a, json!([w.org_a]), -8).await; // pending
    let s5 = submit(c1, &w.ngo_b, json!([w.org_b]), -15).await;
    respond(s5, officer, "rejected", -3).await; // 12 days
    let s6 = submit(c1, &w.ngo_a, json!([w.org_a]), -3).await; // late
    respond(s6, officer, "not_considered", -1).await; // 2 days
    submit(c2, &w.ngo_a, json!([w.org_a]), -4).await; // pending, on time

    let base = "/api/v1/stats/consultations";
    // Any answer: medians over 8, 6, 1, 12, 2 → 6.
    let any = stats(&app, base, None).await;
    assert_eq!(
        any["totals"],
        json!({"submissions": 7, "consultations": 2, "accepted": 2, "partially_accepted": 1, "rejected": 1,
               "not_considered": 1, "unanswered": 2, "late": 2, "acceptance_rate": 0.4286,
               "response_rate": 0.7143, "median_days_to_response": 6.0})
    );
    // The agency's word only: s3 is pending; medians over 8, 6, 12, 2 → 7.
    let agency = stats(&app, &format!("{base}?answers=agency"), None).await;
    assert_eq!(
        agency["totals"],
        json!({"submissions": 7, "consultations": 2, "accepted": 1, "partially_accepted": 1, "rejected": 1,
               "not_considered": 1, "unanswered": 3, "late": 2, "acceptance_rate": 0.2857,
               "response_rate": 0.5714, "median_days_to_response": 7.0})
    );
    // By organisation: the coalition's submission counts for both, once in the totals.
    let body = stats(&app, &format!("{base}?group_by=organization"), None).await;
    let a = group(&body, "organization", &w.org_a.to_string());
    assert_eq!(
        a,
        &json!({"submissions": 5, "consultations": 2, "accepted": 1, "partially_accepted": 1, "rejected": 0,
                "not_considered": 1, "unanswered": 2, "late": 1, "acceptance_rate": 0.4,
                "response_rate": 0.6, "median_days_to_response": 6.0})
    );
    let b = group(&body, "organization", &w.org_b.to_string());
    assert_eq!(
        b,
        &json!({"submissions": 3, "consultations": 1, "accepted": 1, "partially_accepted": 1, "rejected": 1,
                "not_considered": 0, "unanswered": 0, "late": 1, "acceptance_rate": 0.6667,
                "response_rate": 1.0, "median_days_to_response": 6.0})
    );
    assert_eq!(body["totals"]["submissions"], 7);
    // By agency, with labels; a filter by organisation.
    let body = stats(&app, &format!("{base}?group_by=agency"), None).await;
    assert_eq!(counts(&body, "submissions").iter().sum::<i64>(), 7);
    assert_eq!(
        group(&body, "agency", &w.host_agency.to_string())["submissions"],
        6
    );
    assert_eq!(
        group(&body, "agency", &w.other_agency.to_string())["late"],
        0
    );
    let body = stats(
        &app,
        &format!("{base}?group_by=agency&organization_id={}", w.org_b),
        None,
    )
    .await;
    assert_eq!(keys(&body, "agency"), [w.host_agency.to_string()]);
    assert_eq!(body["groups"][0]["label"]["agency"], "МВД");
    assert_eq!(body["totals"]["submissions"], 3);
}

#[actix_web::test]
async fn grant_sums_are_exact_per_currency_and_never_added_across() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let grant = async |funder: Value,
                       recipient: Uuid,
                       amount: &str,
                       currency: &str,
                       on: &str,
                       spheres: Value| {
        let mut body = json!({"title": "Грант", "support_type": "grant", "recipient_organization_id": recipient,
                              "amount": amount, "currency": currency, "starts_on": on, "region_code": "TJ-DU",
                              "sphere_codes": spheres, "visibility": "public"});
        for (k, v) in funder.as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        let res = app.post("/api/v1/grants", Some(&w.admin), &body).await;
        res.assert_status(201);
    };
    let host = json!({"funder_agency_id": w.host_agency});
    grant(
        host.clone(),
        w.org_a,
        "0.10",
        "TJS",
        "2025-01-10",
        json!(["health"]),
    )
    .await;
    grant(
        host.clone(),
        w.org_a,
        "0.20",
        "TJS",
        "2025-03-05",
        json!(["health", "gender"]),
    )
    .await;
    grant(
        json!({"funder_organization_id": w.org_b}),
        w.org_b,
        "123456789012.34",
        "USD",
        "2025-03-20",
        json!(["gender"]),
    )
    .await;
    grant(host, w.org_b, "0.66", "USD", "2025-03-21", json!([])).await;
    grant(
        json!({"funder_agency_id": w.other_agency}),
        w.org_a,
        "5.00",
        "EUR",
        "2025-06-01",
        json!(["health"]),
    )
    .await;

    let base = "/api/v1/stats/grants";
    let body = stats(&app, base, None).await;
    assert_eq!(
        body["totals"],
        json!({"count": 5, "sums": [
            {"currency": "EUR", "count": 1, "amount": "5.00"},
            {"currency": "TJS", "count": 2, "amount": "0.30"},
            {"currency": "USD", "count": 2, "amount": "123456789013.00"}]})
    );
    let body = stats(&app, &format!("{base}?group_by=funder"), None).await;
    assert_eq!(
        group(&body, "funder", &w.host_agency.to_string()),
        &json!({"count": 3, "sums": [
            {"currency": "TJS", "count": 2, "amount": "0.30"},
            {"currency": "USD", "count": 1, "amount": "0.66"}]})
    );
    assert_eq!(
        group(&body, "funder", &w.org_b.to_string()),
        &json!({"count": 1, "sums": [{"currency": "USD", "count": 1, "amount": "123456789012.34"}]})
    );
    let labels: BTreeMap<String, Value> = body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| {
            (
                g["key"]["funder"].as_str().unwrap_or_default().to_owned(),
                g["label"]["funder"].clone(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        BTreeMap::from([
            (w.host_agency.to_string(), json!("МВД")),
            (w.other_agency.to_string(), json!("Минюст")),
            (w.org_b.to_string(), json!("Голос женщин")),
        ])
    );
    // Spheres: a grant in two counts in both.
    let body = stats(&app, &format!("{base}?group_by=sphere"), None).await;
    assert_eq!(keys(&body, "sphere"), ["gender", "health"]);
    assert_eq!(
        group(&body, "sphere", "gender"),
        &json!({"count": 2, "sums": [
            {"currency": "TJS", "count": 1, "amount": "0.20"},
            {"currency": "USD", "count": 1, "amount": "123456789012.34"}]})
    );
    assert_eq!(
        group(&body, "sphere", "health"),
        &json!({"count": 3, "sums": [
            {"currency": "EUR", "count": 1, "amount": "5.00"},
            {"currency": "TJS", "count": 2, "amount": "0.30"}]})
    );
    // Months: empty ones with no sums.
    let body = stats(&app, &format!("{base}?group_by=month"), None).await;
    assert_eq!(
        keys(&body, "month"),
        [
            "2025-01", "2025-02", "2025-03", "2025-04", "2025-05", "2025-06"
        ]
    );
    assert_eq!(counts(&body, "count"), [1, 0, 3, 0, 0, 1]);
    assert_eq!(
        group(&body, "month", "2025-02"),
        &json!({"count": 0, "sums": []})
    );
    assert_eq!(
        group(&body, "month", "2025-03"),
        &json!({"count": 3, "sums": [
            {"currency": "TJS", "count": 1, "amount": "0.20"},
            {"currency": "USD", "count": 2, "amount": "123456789013.00"}]})
    );
    // Filters of the list apply.
    let body = stats(
        &app,
        &format!("{base}?group_by=currency&currency=USD"),
        None,
    )
    .await;
    assert_eq!(keys(&body, "currency"), ["USD"]);
    assert_eq!(body["totals"]["count"], 2);
    let body = stats(&app, &format!("{base}?year=2025&amount_max=1"), None).await;
    assert_eq!(
        body["totals"],
        json!({"count": 3, "sums": [
            {"currency": "TJS", "count": 2, "amount": "0.30"},
            {"currency": "USD", "count": 1, "amount": "0.66"}]})
    );
}

#[actix_web::test]
async fn monitoring_counts_visits_findings_and_a_visit_without_findings() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let facility = async |name: &str, kind: &str, agency: Uuid, region: &str| {
        let res = app
            .post(
                "/api/v1/facilities",
                Some(&w.admin),
                &json!({"name": name, "facility_type": kind,
                  "operating_agency_id": agency, "region_code": region}),
            )
            .await;
        res.assert_status(201);
        id_of(&res.json())
    };
    let f1 = facility("ИВС Сино", "temporary_detention", w.host_agency, "TJ-DU").await;
    let f2 = facility("ОВД Худжанд", "police_station", w.other_agency, "TJ-SU").await;
    let visit = async |f: Uuid, on: &str, status: &str, access: &str, findings: Value| {
        let res = app
            .post("/api/v1/monitoring-visits", Some(&w.ngo_a), &json!({
                "facility_id": f, "visited_on": on, "announced": true, "monitor_organization_ids": [w.org_a],
                "status": status, "access": access, "visibility": "public", "findings": findings}))
            .await;
        res.assert_status(201);
    };
    visit(f1, "2025-02-10", "completed", "granted", json!([
        {"category": "conditions", "severity": "minor", "description": "Сыро"},
        {"category": "treatment", "severity": "critical", "description": CONFIDENTIAL, "confidential": true}])).await;
    visit(f1, "2025-02-20", "completed", "refused", json!([])).await;
    visit(
        f2,
        "2025-04-05",
        "completed",
        "partial",
        json!([
        {"category": "conditions", "severity": "serious", "description": "Нет света"},
        {"category": "health_care", "severity": "info", "description": "Нет врача"}]),
    )
    .await;
    visit(f2, "2027-01-15", "planned", "granted", json!([])).await;

    let base = "/api/v1/stats/monitoring";
    // The analyst does not see the planned visit.
    let body = stats(&app, base, Some(&w.analyst)).await;
    assert_eq!(
        body["totals"],
        json!({"visits": 3, "findings": 4, "serious_findings": 2, "access_refused": 1, "facilities": 2})
    );
    let body = stats(&app, base, Some(&w.admin)).await;
    assert_eq!(
        body["totals"],
        json!({"visits": 4, "findings": 4, "serious_findings": 2, "access_refused": 1, "facilities": 2})
    );
    // By category: the visit without findings forms the empty (null) group, last.
    let body = stats(&app, &format!("{base}?group_by=category"), Some(&w.analyst)).await;
    assert_eq!(
        keys(&body, "category"),
        ["conditions", "health_care", "treatment", "<null>"]
    );
    assert_eq!(
        group(&body, "category", "conditions"),
        &json!({"visits": 2, "findings": 2, "serious_findings": 1, "access_refused": 0, "facilities": 2})
    );
    assert_eq!(
        group(&body, "category", "treatment"),
        &json!({"visits": 1, "findings": 1, "serious_findings": 1, "access_refused": 0, "facilities": 1})
    );
    assert_eq!(
        body["groups"][3]["measures"],
        json!({"visits": 1, "findings": 0, "serious_findings": 0, "access_refused": 1, "facilities": 1})
    );
    assert_eq!(
        body["totals"]["visits"], 3,
        "a visit in two categories counts once"
    );
    assert!(!body.to_string().contains(CONFIDENTIAL));
    // By severity, sorted by findings (ties by key, the null group last among the zeros).
    let body = stats(
        &app,
        &format!("{base}?group_by=severity&sort=-findings"),
        Some(&w.analyst),
    )
    .await;
    assert_eq!(
        keys(&body, "severity"),
        ["critical", "info", "minor", "serious", "<null>"]
    );
    assert_eq!(counts(&body, "findings"), [1, 1, 1, 1, 0]);
    // By month: a gap in March; by facility, with names.
    let body = stats(&app, &format!("{base}?group_by=month"), Some(&w.analyst)).await;
    assert_eq!(keys(&body, "month"), ["2025-02", "2025-03", "2025-04"]);
    assert_eq!(counts(&body, "visits"), [2, 0, 1]);
    assert_eq!(counts(&body, "findings"), [2, 0, 2]);
    let body = stats(&app, &format!("{base}?group_by=facility"), Some(&w.analyst)).await;
    assert_eq!(
        group(&body, "facility", &f1.to_string()),
        &json!({"visits": 2, "findings": 2, "serious_findings": 1, "access_refused": 1, "facilities": 1})
    );
    let label = body["groups"]
        .as_array()
        .and_then(|g| g.iter().find(|g| g["key"]["facility"] == f2.to_string()))
        .map(|g| g["label"]["facility"].clone());
    assert_eq!(label, Some(json!("ОВД Худжанд")));
    let body = stats(
        &app,
        &format!("{base}?group_by=agency,access"),
        Some(&w.analyst),
    )
    .await;
    assert_eq!(body["groups"].as_array().map(Vec::len), Some(3));
    let body = stats(
        &app,
        &format!("{base}?group_by=facility_type&region_code=TJ-SU"),
        Some(&w.admin),
    )
    .await;
    assert_eq!(keys(&body, "facility_type"), ["police_station"]);
    assert_eq!(counts(&body, "visits"), [2]);
}

// -------------------------------------------------------------------------------------------------------------
// 3. Refusals and CSV

#[actix_web::test]
async fn bad_parameters_are_refused_naming_the_field_beside_good_ones() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let base = "/api/v1/stats/engagements";
    // The positive: the world's two meetings, for an admin.
    let good = stats(
        &app,
        &format!("{base}?group_by=kind,status&sort=-count&limit=1"),
        Some(&w.admin),
    )
    .await;
    assert_eq!(good["group_by"], json!(["kind", "status"]));
    assert_eq!(
        good["groups"][0]["key"],
        json!({"kind": "meeting", "status": "held"})
    );
    assert_eq!(good["groups"][0]["measures"]["count"], 2);
    assert_eq!(good["totals"]["count"], 2);
    let good = stats(
        &app,
        &format!("{base}?group_by=council&limit=10000"),
        Some(&w.admin),
    )
    .await;
    assert_eq!(
        good["groups"][0]["label"]["council"],
        "Совет по реформе милиции"
    );

    for (query, field) in [
        ("group_by=colour", "group_by"),
        ("group_by=kind,year,month", "group_by"),
        ("group_by=kind,kind", "group_by"),
        ("group_by=", "group_by"),
        ("group_by=kind,", "group_by"),
        ("sort=colour", "sort"),
        ("sort=-", "sort"),
        ("group_by=kind&sort=total", "sort"),
        ("limit=0", "limit"),
        ("limit=10001", "limit"),
        ("limit=ten", "limit"),
        ("format=xml", "format"),
        ("format=csv&delimiter=tab", "delimiter"),
    ] {
        let res = app.get(&format!("{base}?{query}"), Some(&w.admin)).await;
        res.assert_invalid(field);
    }
    // The refusal lists the allowed values.
    let res = app.get(&format!("{base}?group_by=colour"), None).await;
    let message = res.json()["errors"][0]["message"].clone();
    for dim in [
        "kind",
        "year",
        "month",
        "region",
        "sphere",
        "agency",
        "organization",
        "council",
        "status",
        "visibility",
    ] {
        assert!(
            message.as_str().unwrap_or_default().contains(dim),
            "{message}"
        );
    }
    let res = app.get("/api/v1/stats/grants?group_by=kind", None).await;
    res.assert_invalid("group_by");
    assert!(res.text().contains("support_type"), "{}", res.text());
    // Each statistic checks the same way, beside its good answer.
    for path in [
        "/api/v1/stats/recommendations?group_by=agency",
        "/api/v1/stats/consultations?group_by=organization",
        "/api/v1/stats/grants?group_by=funder",
        "/api/v1/stats/monitoring?group_by=facility",
    ] {
        let good = stats(&app, path, Some(&w.admin)).await;
        assert!(good["totals"].is_object());
        app.get(&format!("{path},colour"), None)
            .await
            .assert_invalid("group_by");
        app.get(&format!("{path}&sort=-colour"), None)
            .await
            .assert_invalid("sort");
        app.get(&format!("{path}&limit=0"), None)
            .await
            .assert_invalid("limit");
    }
    app.get("/api/v1/stats/recommendations?answers=ngo", None)
        .await
        .assert_invalid("answers");
    // A filter of the list is checked as the list checks it.
    app.get("/api/v1/stats/engagements?kind=picnic", None)
        .await
        .assert_invalid("kind[0]");
    app.get("/api/v1/stats/grants?currency=usd", None)
        .await
        .assert_invalid("currency");
}

#[actix_web::test]
async fn abusive_group_by_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let before = app.snapshot().await;
    // The positive: the same endpoint answers a sound group_by with the world's meetings.
    let good = stats(
        &app,
        "/api/v1/stats/engagements?group_by=kind",
        Some(&w.admin),
    )
    .await;
    assert_eq!(
        by_key(&good, "kind", "count"),
        BTreeMap::from([("meeting".to_owned(), 2)])
    );
    let long = format!("kind{}", "_".repeat(70));
    let res = app
        .get(
            &format!("/api/v1/stats/engagements?group_by={long}"),
            Some(&w.admin),
        )
        .await;
    res.assert_invalid("group_by");
    let long_valid_prefix = format!("kind,{}", "k".repeat(64));
    app.get(
        &format!("/api/v1/stats/engagements?group_by={long_valid_prefix}"),
        None,
    )
    .await
    .assert_invalid("group_by");
    for sqlish in [
        "kind%3Bdrop%20table%20x",
        "kind%3B%20DROP%20TABLE%20engagements%3B--",
        "kind)%20FROM%20users--",
        "base.kind",
        "kind%27",
        "1",
    ] {
        for path in [
            "/api/v1/stats/engagements",
            "/api/v1/stats/recommendations",
            "/api/v1/stats/monitoring",
        ] {
            let res = app
                .get(&format!("{path}?group_by={sqlish}"), Some(&w.admin))
                .await;
            res.assert_invalid("group_by");
            assert!(!res.text().contains("SELECT"), "{}", res.text());
        }
        app.get(&format!("/api/v1/stats/grants?sort={sqlish}"), None)
            .await
            .assert_invalid("sort");
    }
    app.snapshot().await.assert_unchanged_from(&before);
    // And still answers.
    let again = stats(
        &app,
        "/api/v1/stats/engagements?group_by=kind",
        Some(&w.admin),
    )
    .await;
    assert_eq!(again["groups"], good["groups"]);
}

#[actix_web::test]
async fn csv_with_semicolons_parses_and_its_total_row_equals_the_json_totals() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let c = app
        .post("/api/v1/consultations", Some(&w.ngo_a), &json!({
            "title": "Проект; «кодекса»", "act_type": "code", "responsible_agency_id": w.host_agency,
            "level": "national", "opens_on": day(-20), "closes_on": day(-5), "visibility": "public"}))
        .await;
    c.assert_status(201);
    let c = id_of(&c.json());
    for (orgs, on) in [(json!([w.org_a]), -10), (json!([w.org_a, w.org_b]), -2)] {
        let token = &w.ngo_a;
        let res = app
            .post(&format!("/api/v1/consultations/{c}/submissions"), Some(token),
                  &json!({"organization_ids": orgs, "proposal": "Предложение", "submitted_on": day(on)}))
            .await;
        res.assert_status(201);
        let id = id_of(&res.json());
        if on == -10 {
            app.put(
                &format!("/api/v1/submissions/{id}/response"),
                Some(&w.officer_host),
                &json!({"status": "partially_accepted", "responded_on": day(-7)}),
            )
            .await
            .assert_status(200);
        }
    }
    let path = "/api/v1/stats/consultations?group_by=organization,consultation";
    let json_body = stats(&app, path, None).await;
    assert_eq!(json_body["totals"]["submissions"], 2);
    assert_eq!(json_body["totals"]["acceptance_rate"], 0.5);
    let res = app
        .get(&format!("{path}&format=csv&delimiter=semicolon"), None)
        .await;
    res.assert_status(200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv")),
        "{:?}",
        res.header("content-type")
    );
    let text = res.text();
    let body = text.strip_prefix('\u{feff}').expect("a BOM");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(body.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let measures = [
        "submissions",
        "consultations",
        "accepted",
        "partially_accepted",
        "rejected",
        "not_considered",
        "unanswered",
        "late",
        "acceptance_rate",
        "response_rate",
        "median_days_to_response",
    ];
    let mut expected_header = vec![
        "organization",
        "organization_label",
        "consultation",
        "consultation_label",
    ];
    expected_header.extend(measures);
    assert_eq!(header, expected_header);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    assert_eq!(rows.len(), 3, "two groups and the total");
    for row in &rows {
        assert_eq!(row.len(), header.len(), "{row:?}");
    }
    // The groups: org a and b (a's row carries the title with its semicolon, whole).
    let a = rows
        .iter()
        .find(|r| r.get(0) == Some(w.org_a.to_string().as_str()))
        .expect("org a");
    assert_eq!(a.get(1), Some("Ҳуқуқ ва Адолат"));
    assert_eq!(a.get(3), Some("Проект; «кодекса»"));
    assert_eq!(a.get(4), Some("2"));
    let total = rows.last().expect("total");
    assert_eq!(total.get(0), Some("total"));
    for (i, measure) in measures.iter().enumerate() {
        let cell = total.get(4 + i).unwrap_or_default();
        let json_value = &json_body["totals"][*measure];
        if json_value.is_null() {
            assert_eq!(cell, "", "{measure}");
        } else {
            let parsed: f64 = cell.parse().unwrap_or(f64::NAN);
            assert_eq!(
                Some(parsed),
                json_value.as_f64(),
                "{measure}: {cell} vs {json_value}"
            );
        }
    }
    // Grants: the sums cell carries each currency's exact amount.
    app.post("/api/v1/grants", Some(&w.admin), &json!({"title": "Грант", "support_type": "grant",
        "funder_agency_id": w.host_agency, "recipient_organization_id": w.org_a, "amount": "123456789012.34",
        "currency": "TJS", "starts_on": "2026-01-01", "visibility": "public"}))
        .await
        .assert_status(201);
    app.post(
        "/api/v1/grants",
        Some(&w.admin),
        &json!({"title": "Грант", "support_type": "grant",
        "funder_agency_id": w.host_agency, "recipient_organization_id": w.org_a, "amount": "0.10",
        "currency": "USD", "starts_on": "2026-01-01", "visibility": "public"}),
    )
    .await
    .assert_status(201);
    let res = app
        .get("/api/v1/stats/grants?format=csv&delimiter=semicolon", None)
        .await;
    res.assert_status(200);
    let text = res.text();
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, ["count", "sums"]);
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("a record")).collect();
    assert_eq!(rows.len(), 1, "no group_by: only the totals row");
    assert_eq!(rows[0].get(0), Some("2"));
    assert_eq!(rows[0].get(1), Some("123456789012.34 TJS; 0.10 USD"));
}

/// The OpenAPI document declares each statistic's `group_by` with a pattern naming exactly its dimensions, and
/// the contract says every declared limit is enforced at run time.
#[actix_web::test]
async fn group_by_outside_its_documented_pattern_is_refused() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let good = stats(
        &app,
        "/api/v1/stats/engagements?group_by=kind,status",
        Some(&w.admin),
    )
    .await;
    assert_eq!(
        good["groups"][0]["key"],
        json!({"kind": "meeting", "status": "held"})
    );
    let doc = app.get("/openapi.json", None).await.json();
    let params = doc["paths"]["/api/v1/stats/engagements"]["get"]["parameters"].clone();
    let pattern = params
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "group_by"))
        .map(|p| p["schema"]["pattern"].clone());
    let dimensions = "kind|year|month|region|sphere|agency|organization|council|status|visibility";
    assert_eq!(
        pattern,
        Some(json!(format!("^({dimensions})(,({dimensions}))?$")))
    );
    for query in [
        "group_by=_",
        "group_by=funder",
        "group_by=kind,%20status",
        "group_by=%20kind",
        "group_by=kind%20",
    ] {
        app.get(
            &format!("/api/v1/stats/engagements?{query}"),
            Some(&w.admin),
        )
        .await
        .assert_invalid("group_by");
    }
    // `sort` likewise: its pattern names `key` and the sortable measures, and the server takes exactly those.
    let sort = params
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "sort"))
        .map(|p| p["schema"]["pattern"].clone());
    assert_eq!(sort, Some(json!("^(key|-?(count))$")));
    for good in ["key", "count", "-count"] {
        app.get(
            &format!("/api/v1/stats/engagements?group_by=kind&sort={good}"),
            Some(&w.admin),
        )
        .await
        .assert_status(200);
    }
    for bad in ["0", "--count", "overdue", "-key"] {
        app.get(
            &format!("/api/v1/stats/engagements?group_by=kind&sort={bad}"),
            Some(&w.admin),
        )
        .await
        .assert_invalid("sort");
    }
}

/// Sums per currency are not one number: sorting grants by them is refused, by their count accepted.
#[actix_web::test]
async fn grants_sort_only_by_count() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let by_count = app
        .get(
            "/api/v1/stats/grants?group_by=currency&sort=-count",
            Some(&w.admin),
        )
        .await;
    by_count.assert_status(200);
    assert_eq!(by_count.json()["group_by"], json!(["currency"]));
    app.get(
        "/api/v1/stats/grants?group_by=currency&sort=-sums",
        Some(&w.admin),
    )
    .await
    .assert_invalid("sort");
}

/// A statistic is counted once and given again, with its age, until this process commits a write; a refused
/// request ends nothing, and one reader's answer is never given to a reader whose read rule differs.
#[tokio::test]
async fn a_statistic_is_given_again_until_a_write_and_says_how_old_it_is() {
    use diesel_async::SimpleAsyncConnection;
    let app = TestApp::new().await;
    let w = app.world().await;
    mix(&app, &w).await;
    let path = "/api/v1/stats/engagements?group_by=visibility";
    let count = |body: &Value| body["totals"]["count"].as_i64().expect("a count");
    let first = app.get(path, None).await;
    first.assert_status(200);
    assert_eq!(first.header("age").as_deref(), Some("0"), "counted now");
    let anonymous = count(&first.json());
    let analyst = count(&stats(&app, path, Some(&w.analyst)).await);
    assert!(
        analyst > anonymous,
        "{analyst} > {anonymous}: the analyst's own count"
    );

    // A change the API does not see (another process, say) is not counted while the answer is kept.
    let mut conn = app.pool().get().await.expect("conn");
    conn.batch_execute(
        "UPDATE engagements SET visibility = 'public' WHERE visibility = 'internal'",
    )
    .await
    .expect("update");
    let again = app.get(path, None).await;
    again.assert_status(200);
    assert_eq!(count(&again.json()), anonymous, "the kept answer");
    let age: u64 = again
        .header("age")
        .expect("an age")
        .parse()
        .expect("seconds");
    assert!(age <= 60, "{age}");
    assert_eq!(count(&stats(&app, path, Some(&w.analyst)).await), analyst);

    // Another app's write (the tests run many apps in one process) ends only that app's answers.
    let other = TestApp::new().await;
    let admin = other.admin().await;
    other
        .create_organization(&admin, json!({"name": "Другая организация", "kind": "ngo"}))
        .await;
    assert_eq!(
        count(&stats(&app, path, None).await),
        anonymous,
        "another app's write ends nothing here"
    );

    // A refused request commits nothing and ends nothing; a committed write ends every kept answer: the next
    // reader counts anew and sees the change.
    let refused = app
        .post("/api/v1/regions", Some(&w.analyst), &json!({}))
        .await;
    assert!(refused.status.is_client_error(), "{}", refused.status);
    assert_eq!(
        count(&stats(&app, path, None).await),
        anonymous,
        "a refused request ends nothing: still the kept answer"
    );
    app.create_organization(
        &w.admin,
        json!({"name": "Новая организация", "kind": "ngo"}),
    )
    .await;
    let after = app.get(path, None).await;
    after.assert_status(200);
    assert_eq!(after.header("age").as_deref(), Some("0"));
    assert_eq!(
        count(&after.json()),
        analyst,
        "every internal record is public now"
    );
}

/// Readers asking one question at the same time wait for a single count, and all get its answer.
#[actix_web::test]
async fn readers_asking_one_question_at_once_wait_for_one_count() {
    crate::support::record_statements();
    let app = TestApp::new().await;
    let w = app.world().await;
    mix(&app, &w).await;
    let path = "/api/v1/stats/recommendations?group_by=agency";
    crate::support::take_statements();
    let answers = futures_util::future::join_all((0..4).map(|_| app.get(path, None))).await;
    let bodies: Vec<String> = answers
        .iter()
        .map(|answer| {
            answer.assert_status(200);
            answer.text()
        })
        .collect();
    assert!(
        bodies.windows(2).all(|pair| pair[0] == pair[1]),
        "{bodies:?}"
    );
    assert!(bodies[0].contains("\"total\":"), "{}", bodies[0]);
    let counts = crate::support::take_statements()
        .into_iter()
        .filter(|statement| statement.contains("recommendation_facts"))
        .count();
    assert_eq!(counts, 1, "one count for four readers");
}
