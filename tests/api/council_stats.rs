//! Council health, funder overlaps and scorecards: `GET /stats/councils`, `GET /stats/overlaps`,
//! `GET /agencies/{id}/scorecard` and `GET /organizations/{id}/scorecard`. Every number is checked against a value
//! computed by hand from the records the test makes, for each role that reads them differently.

use std::collections::BTreeSet;

use chrono::{Days, Utc};
use hamkori::auth::Role;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{Response, TestApp, id_of};

// -------------------------------------------------------------------------------------------------------------
// Helpers

/// Today moved by `offset` days, as `YYYY-MM-DD`.
fn day(offset: i64) -> String {
    let today = Utc::now().date_naive();
    let moved = if offset >= 0 {
        today.checked_add_days(Days::new(offset.unsigned_abs()))
    } else {
        today.checked_sub_days(Days::new(offset.unsigned_abs()))
    };
    moved.unwrap_or(today).to_string()
}

/// Days from `date` to today in Dushanbe, as the statistic counts them: minutes recorded now are dated by
/// Dushanbe's calendar, which runs five hours ahead of UTC (from 19:00 UTC it is already tomorrow there).
async fn days_since(app: &TestApp, date: &str) -> f64 {
    app.count(&format!(
        "(now() AT TIME ZONE 'Asia/Dushanbe')::date - DATE '{date}'"
    ))
    .await as f64
}

/// `path` with `query` appended.
fn with_query(path: &str, query: &str) -> String {
    if path.contains('?') {
        format!("{path}&{query}")
    } else {
        format!("{path}?{query}")
    }
}

/// POSTs and returns the id of the created record (asserting a 201).
async fn created(app: &TestApp, path: &str, token: &str, body: Value) -> Uuid {
    let res = app.post(path, Some(token), &body).await;
    res.assert_status(201);
    id_of(&res.json())
}

async fn agency(app: &TestApp, admin: &str, name: &str) -> Uuid {
    id_of(
        &app.create_agency(
            admin,
            json!({"name": name, "level": "national", "kind": "ministry"}),
        )
        .await,
    )
}

async fn organization(app: &TestApp, admin: &str, name: &str) -> Uuid {
    id_of(
        &app.create_organization(
            admin,
            json!({"name": name, "kind": "ngo", "region_code": "TJ-DU"}),
        )
        .await,
    )
}

/// A council hosted by `host`: `extra` overrides the defaults (public national public council in `TJ`).
async fn council(app: &TestApp, admin: &str, name: &str, host: Option<Uuid>, extra: Value) -> Uuid {
    let mut body = json!({"name": name, "kind": "public_council", "level": "national", "host_agency_id": host,
                          "region_code": "TJ", "visibility": "public"});
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    created(app, "/api/v1/councils", admin, body).await
}

/// Seats a member (`{organization_id | agency_id, role, since, until}`).
async fn seat(app: &TestApp, admin: &str, council: Uuid, body: Value) {
    created(
        app,
        &format!("/api/v1/councils/{council}/members"),
        admin,
        body,
    )
    .await;
}

/// An attendance entry of an organisation or agency.
fn present(actor: Uuid, agency: bool, present: bool) -> Value {
    if agency {
        json!({"agency_id": actor, "representative_name": "Представитель", "present": present})
    } else {
        json!({"organization_id": actor, "representative_name": "Представитель", "present": present})
    }
}

/// A meeting of `council` at 10:00 UTC on `on` (the same day in Dushanbe): `extra` overrides the defaults.
async fn meeting(
    app: &TestApp,
    token: &str,
    council: Uuid,
    status: &str,
    on: &str,
    attendance: Vec<Value>,
    extra: Value,
) -> Uuid {
    let mut body = json!({"title": format!("Заседание {on}"), "status": status, "starts_at": format!("{on}T10:00:00Z"),
                          "location": "Душанбе", "attendance": attendance, "visibility": "public"});
    for (k, v) in extra.as_object().into_iter().flatten() {
        body[k] = v.clone();
    }
    created(
        app,
        &format!("/api/v1/councils/{council}/meetings"),
        token,
        body,
    )
    .await
}

/// A statistic (or any JSON) asserting a 200.
async fn get_json(app: &TestApp, path: &str, token: Option<&str>) -> Value {
    let res = app.get(path, token).await;
    res.assert_status(200);
    res.json()
}

/// `GET /stats/councils` with `query`.
async fn council_stats(app: &TestApp, query: &str, token: Option<&str>) -> Value {
    let body = get_json(app, &with_query("/api/v1/stats/councils", query), token).await;
    assert!(
        body["groups"].is_array() && body["totals"].is_object(),
        "{query}: {body}"
    );
    body
}

/// The group whose key for `dim` is `key` (`None`: the null group).
#[track_caller]
fn group<'a>(body: &'a Value, dim: &str, key: Option<&str>) -> &'a Value {
    body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["key"][dim].as_str() == key)
        .unwrap_or_else(|| panic!("no group {dim}={key:?} in {body}"))
}

/// The keys of the groups for `dim` (`<null>` for the null group).
fn keys(body: &Value, dim: &str) -> BTreeSet<String> {
    body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|g| g["key"][dim].as_str().unwrap_or("<null>").to_owned())
        .collect()
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

fn ids(items: &[Value]) -> BTreeSet<String> {
    items
        .iter()
        .map(|i| i["id"].as_str().expect("an id").to_owned())
        .collect()
}

/// Asserts a client error (4xx) answered as problem+json, whatever its exact status.
#[track_caller]
fn assert_client_problem(res: &Response) {
    assert!(
        res.status.is_client_error(),
        "expected a 4xx, got {}: {}",
        res.status,
        res.text()
    );
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/problem+json"),
        "{}",
        res.text()
    );
    assert_eq!(res.json()["status"], res.status.as_u16());
}

/// The measures of councils, as the API names them.
#[derive(Debug, Clone, Copy, Default)]
struct Health {
    councils: i64,
    meetings: i64,
    held: i64,
    cancelled: i64,
    rate: Option<f64>,
    seats: i64,
    ngo_seats: i64,
    agency_seats: i64,
    ratio: Option<f64>,
    median: Option<f64>,
}

impl Health {
    fn json(self) -> Value {
        json!({
            "councils": self.councils, "meetings": self.meetings, "meetings_held": self.held,
            "meetings_cancelled": self.cancelled, "attendance_rate": self.rate, "seats": self.seats,
            "ngo_seats": self.ngo_seats, "agency_seats": self.agency_seats, "ngo_to_agency_ratio": self.ratio,
            "median_days_to_minutes": self.median,
        })
    }
}

// -------------------------------------------------------------------------------------------------------------
// 1. The numbers of council health

/// Two councils (hosted by A and B) with past, current and future seats and held, cancelled and planned meetings.
struct Councils {
    admin: String,
    agency_a: Uuid,
    agency_b: Uuid,
    o1: Uuid,
    o2: Uuid,
    o3: Uuid,
    ca: Uuid,
    cb: Uuid,
}

async fn councils_world(app: &TestApp) -> Councils {
    let admin = app.admin().await;
    let agency_a = agency(app, &admin, "Министерство юстиции").await;
    let agency_b = agency(app, &admin, "Хукумати вилояти Суғд").await;
    let o1 = organization(app, &admin, "Адолат").await;
    let o2 = organization(app, &admin, "Бонувон").await;
    let o3 = organization(app, &admin, "Ҷавонон").await;
    let ca = council(
        app,
        &admin,
        "Общественный совет при Минюсте",
        Some(agency_a),
        json!({}),
    )
    .await;
    let cb = council(
        app,
        &admin,
        "Экспертный совет Согда",
        Some(agency_b),
        json!({"kind": "expert_council", "level": "regional", "region_code": "TJ-SU"}),
    )
    .await;
    // CA: current O1, agency A (until a year from now), O3 as observer (until in 20 days); past O2; O3's member
    // seat from in 30 days (terms of one organisation may not overlap).
    seat(
        app,
        &admin,
        ca,
        json!({"organization_id": o1, "role": "member", "since": "2024-01-01"}),
    )
    .await;
    seat(app, &admin, ca, json!({"organization_id": o2, "role": "member", "since": "2020-01-01", "until": "2021-12-31"})).await;
    seat(
        app,
        &admin,
        ca,
        json!({"organization_id": o3, "role": "member", "since": day(30)}),
    )
    .await;
    seat(
        app,
        &admin,
        ca,
        json!({"agency_id": agency_a, "role": "member", "since": "2025-01-01", "until": day(365)}),
    )
    .await;
    seat(
        app,
        &admin,
        ca,
        json!({"organization_id": o3, "role": "observer", "since": "2024-06-01", "until": day(20)}),
    )
    .await;
    // CB: current O1 and O2 (since today); agency B's seat ended yesterday: no agency seat today.
    seat(
        app,
        &admin,
        cb,
        json!({"organization_id": o1, "role": "chair", "since": "2023-01-01"}),
    )
    .await;
    seat(
        app,
        &admin,
        cb,
        json!({"organization_id": o2, "role": "member", "since": day(0)}),
    )
    .await;
    seat(
        app,
        &admin,
        cb,
        json!({"agency_id": agency_b, "role": "member", "since": "2022-01-01", "until": day(-1)}),
    )
    .await;

    let (a, b) = (false, true);
    meeting(
        app,
        &admin,
        ca,
        "held",
        "2025-03-10",
        vec![
            present(o1, a, true),
            present(o3, a, true),
            present(agency_a, b, false),
        ],
        json!({}),
    )
    .await;
    let m2 = meeting(
        app,
        &admin,
        ca,
        "held",
        "2026-03-10",
        vec![
            present(o1, a, true),
            present(agency_a, b, true),
            present(o3, a, false),
        ],
        json!({}),
    )
    .await;
    meeting(
        app,
        &admin,
        ca,
        "cancelled",
        "2026-05-05",
        vec![present(o1, a, true)],
        json!({}),
    )
    .await;
    meeting(
        app,
        &admin,
        ca,
        "planned",
        "2026-12-20",
        vec![present(o1, a, true), present(o3, a, true)],
        json!({}),
    )
    .await;
    // CB: a held meeting recorded with its minutes, and a held one without an attendance list.
    meeting(
        app,
        &admin,
        cb,
        "held",
        "2026-06-01",
        vec![present(o1, a, true), present(o2, a, true)],
        json!({"minutes": "Решили направить предложения в хукумат"}),
    )
    .await;
    meeting(app, &admin, cb, "held", "2025-11-11", vec![], json!({})).await;

    // M2's minutes come later, by a PATCH (If-Match required on meetings).
    let path = format!("/api/v1/meetings/{m2}");
    let res = app
        .patch_read(
            &path,
            Some(&admin),
            &json!({"minutes": "Протокол заседания: приняты три решения"}),
        )
        .await;
    assert_eq!(
        res.assert_record(m2)["minutes"],
        "Протокол заседания: приняты три решения"
    );
    Councils {
        admin,
        agency_a,
        agency_b,
        o1,
        o2,
        o3,
        ca,
        cb,
    }
}

#[actix_web::test]
async fn council_health_is_counted_by_hand_per_council_year_member_and_period() {
    let app = TestApp::new().await;
    let w = councils_world(&app).await;
    let admin = Some(w.admin.as_str());
    // Minutes: M2 (2026-03-10) by the PATCH today, N1 (2026-06-01) at its creation today.
    let d1 = days_since(&app, "2026-03-10").await;
    let d2 = days_since(&app, "2026-06-01").await;
    assert!(
        d1 > 0.0 && d2 > 0.0,
        "the meetings lie in the past ({d1}, {d2})"
    );

    let ca = Health {
        councils: 1,
        meetings: 4,
        held: 2,
        cancelled: 1,
        rate: Some(0.6667), // held M1 2/3 + M2 2/3; the cancelled and the planned meetings' lists do not count
        seats: 3, // O1, agency A, O3 as observer; not O2 (ended), not O3's member seat (in 30 days)
        ngo_seats: 2,
        agency_seats: 1,
        ratio: Some(2.0),
        median: Some(d1),
    };
    let cb = Health {
        councils: 1,
        meetings: 2,
        held: 2,
        cancelled: 0,
        rate: Some(1.0), // N1 2/2; N2 kept no list
        seats: 2,
        ngo_seats: 2,
        agency_seats: 0,
        ratio: None, // agency B's seat ended yesterday
        median: Some(d2),
    };
    let all = Health {
        councils: 2,
        meetings: 6,
        held: 4,
        cancelled: 1,
        rate: Some(0.75), // 6 present of 8 listed at held meetings
        seats: 5,
        ngo_seats: 4,
        agency_seats: 1,
        ratio: Some(4.0),
        median: Some((d1 + d2) / 2.0),
    };

    let body = council_stats(&app, "group_by=council", admin).await;
    assert_eq!(body["group_by"], json!(["council"]));
    assert_eq!(body["groups"].as_array().map(Vec::len), Some(2), "{body}");
    let g = group(&body, "council", Some(&w.ca.to_string()));
    assert_eq!(g["measures"], ca.json(), "council A");
    assert_eq!(g["label"]["council"], "Общественный совет при Минюсте");
    let g = group(&body, "council", Some(&w.cb.to_string()));
    assert_eq!(g["measures"], cb.json(), "council B");
    assert_eq!(g["label"]["council"], "Экспертный совет Согда");
    assert_eq!(body["totals"], all.json(), "totals");

    // Without group_by: the same totals and no groups.
    let body = council_stats(&app, "", admin).await;
    assert_eq!(body["groups"], json!([]));
    assert_eq!(body["totals"], all.json());

    // The council filters pick one council, and the totals are that council's group.
    for query in [
        format!("council_id={}", w.ca),
        format!("host_agency_id={}", w.agency_a),
        "kind=public_council".to_owned(),
        "level=national".to_owned(),
    ] {
        let body = council_stats(&app, &query, admin).await;
        assert_eq!(body["totals"], ca.json(), "{query}");
    }
    for query in [
        format!("host_agency_id={}", w.agency_b),
        "region_code=TJ-SU".to_owned(),
    ] {
        let body = council_stats(&app, &query, admin).await;
        assert_eq!(body["totals"], cb.json(), "{query}");
    }
    // A filter no council matches: zero councils, and nothing else either.
    let body = council_stats(&app, "kind=commission", admin).await;
    assert_eq!(
        body["totals"],
        Health::default().json(),
        "no council is a commission"
    );

    // Sorted by a measure, largest first, and limited.
    let body = council_stats(&app, "group_by=council&sort=-meetings&limit=1", admin).await;
    assert_eq!(keys(&body, "council"), BTreeSet::from([w.ca.to_string()]));
    let body = council_stats(&app, "group_by=council&sort=meetings", admin).await;
    assert_eq!(
        body["groups"][0]["key"]["council"],
        w.cb.to_string(),
        "fewest meetings first"
    );

    // By year of the meetings: seats are those of the councils in the group.
    let body = council_stats(&app, "group_by=year", admin).await;
    assert_eq!(
        keys(&body, "year"),
        BTreeSet::from(["2025".to_owned(), "2026".to_owned()])
    );
    let y2025 = Health {
        councils: 2,
        meetings: 2,
        held: 2,
        cancelled: 0,
        rate: Some(0.6667), // M1 2/3; N2 kept no list
        median: None,
        ..all
    };
    assert_eq!(group(&body, "year", Some("2025"))["measures"], y2025.json());
    let y2026 = Health {
        councils: 2,
        meetings: 4,
        held: 2,
        cancelled: 1,
        rate: Some(0.8), // M2 2/3 + N1 2/2
        ..all
    };
    assert_eq!(group(&body, "year", Some("2026"))["measures"], y2026.json());
    assert_eq!(body["totals"], all.json());

    // The period filters the meetings, never the councils: a council without meetings in it is the null group.
    let body = council_stats(&app, "group_by=year&from=2026-07-01&to=2026-12-31", admin).await;
    let only_m4 = Health {
        meetings: 1,
        held: 0,
        cancelled: 0,
        rate: None,
        median: None,
        ..ca
    };
    assert_eq!(
        group(&body, "year", Some("2026"))["measures"],
        only_m4.json()
    );
    let none_in_period = Health {
        meetings: 0,
        held: 0,
        rate: None,
        median: None,
        ..cb
    };
    assert_eq!(
        group(&body, "year", None)["measures"],
        none_in_period.json()
    );
    assert_eq!(body["groups"].as_array().map(Vec::len), Some(2), "{body}");
    assert_eq!(
        body["totals"],
        Health {
            meetings: 1,
            held: 0,
            cancelled: 0,
            rate: None,
            median: None,
            ..all
        }
        .json()
    );

    let body = council_stats(&app, "from=2026-01-01&to=2026-06-30", admin).await;
    assert_eq!(
        body["totals"],
        Health {
            meetings: 3,
            held: 2,
            cancelled: 1,
            rate: Some(0.8),
            ..all
        }
        .json(),
        "M2, M3 and N1"
    );
    // Both ends are inclusive.
    let body = council_stats(&app, "from=2026-03-10&to=2026-03-10", admin).await;
    assert_eq!(
        body["totals"],
        Health {
            meetings: 1,
            held: 1,
            cancelled: 0,
            rate: Some(0.6667),
            median: Some(d1),
            ..all
        }
        .json(),
        "M2 alone"
    );
    let body = council_stats(&app, "from=2026-03-11&to=2026-06-01", admin).await;
    assert_eq!(
        body["totals"],
        Health {
            meetings: 2,
            held: 1,
            cancelled: 1,
            rate: Some(1.0),
            median: Some(d2),
            ..all
        }
        .json(),
        "M3 and N1, not M2"
    );

    // By member: the attendance rate of each member over the held meetings it was listed at.
    let body = council_stats(&app, "group_by=member", admin).await;
    assert_eq!(
        keys(&body, "member"),
        BTreeSet::from([
            w.o1.to_string(),
            w.o2.to_string(),
            w.o3.to_string(),
            w.agency_a.to_string(),
            "<null>".to_owned()
        ]),
        "agency B was never listed"
    );
    let member = |key: Option<String>| {
        let g = group(&body, "member", key.as_deref());
        let m = &g["measures"];
        (
            g["label"]["member"].clone(),
            m["councils"].as_i64(),
            m["meetings"].as_i64(),
            m["meetings_held"].as_i64(),
            m["meetings_cancelled"].as_i64(),
            m["attendance_rate"].as_f64(),
        )
    };
    // O1: present at M1, M2, N1 (held), M3 (cancelled), M4 (planned).
    assert_eq!(
        member(Some(w.o1.to_string())),
        (
            json!("Адолат"),
            Some(2),
            Some(5),
            Some(3),
            Some(1),
            Some(1.0)
        )
    );
    // O3: present at M1, absent at M2 (held); present at M4 (planned).
    assert_eq!(
        member(Some(w.o3.to_string())),
        (
            json!("Ҷавонон"),
            Some(1),
            Some(3),
            Some(2),
            Some(0),
            Some(0.5)
        )
    );
    // Agency A: absent at M1, present at M2.
    assert_eq!(
        member(Some(w.agency_a.to_string())),
        (
            json!("Министерство юстиции"),
            Some(1),
            Some(2),
            Some(2),
            Some(0),
            Some(0.5)
        )
    );
    // O2: present at N1.
    assert_eq!(
        member(Some(w.o2.to_string())),
        (
            json!("Бонувон"),
            Some(1),
            Some(1),
            Some(1),
            Some(0),
            Some(1.0)
        )
    );
    // N2 kept no attendance list: its own group, without a rate.
    assert_eq!(
        member(None),
        (Value::Null, Some(1), Some(1), Some(1), Some(0), None)
    );
    assert_eq!(
        body["totals"],
        all.json(),
        "a meeting in several member groups counts once in the totals"
    );

    // The member dimension with a council: council B's null group is N2.
    let body = council_stats(&app, "group_by=council,member", admin).await;
    let cb_null = body["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|g| g["key"]["council"] == w.cb.to_string() && g["key"]["member"].is_null())
        .unwrap_or_else(|| panic!("council B's meetings without a list: {body}"));
    assert_eq!(cb_null["measures"]["meetings"], 1);
}

#[actix_web::test]
async fn median_days_to_minutes_per_member_counts_every_meeting_it_attended() {
    let app = TestApp::new().await;
    let w = councils_world(&app).await;
    let d1 = days_since(&app, "2026-03-10").await;
    let d2 = days_since(&app, "2026-06-01").await;
    let body = council_stats(&app, "group_by=member", Some(&w.admin)).await;
    let median = |key: Uuid| {
        group(&body, "member", Some(&key.to_string()))["measures"]["median_days_to_minutes"]
            .as_f64()
    };
    // O1 is listed first at M2 and N1: both count.
    assert_eq!(median(w.o1), Some((d1 + d2) / 2.0));
    // Agency A was listed (second) at M2, which counts among its meetings: M2's minutes count for it too.
    assert_eq!(
        median(w.agency_a),
        Some(d1),
        "agency A's group counts M2 as a meeting"
    );
    // O2 was listed (second) at N1.
    assert_eq!(median(w.o2), Some(d2), "O2's group counts N1 as a meeting");
    // O3 was listed (third) at M2.
    assert_eq!(median(w.o3), Some(d1), "O3's group counts M2 as a meeting");
}

#[actix_web::test]
async fn days_to_minutes_count_both_days_in_the_same_time_zone() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let c = council(&app, &admin, "Совет", None, json!({})).await;
    // 20:30 UTC on 10 March is 01:30 on 11 March in Dushanbe: the meeting's day is the 11th.
    let res = app
        .post(&format!("/api/v1/councils/{c}/meetings"), Some(&admin),
              &json!({"title": "Вечернее заседание", "status": "held", "starts_at": "2026-03-10T20:30:00Z",
                      "location": "Душанбе", "visibility": "public"}))
        .await;
    res.assert_status(201);
    let m = id_of(&res.json());
    let meetings = app
        .get(
            &format!("/api/v1/meetings?council_id={c}&from=2026-03-11&to=2026-03-11"),
            Some(&admin),
        )
        .await
        .item_ids();
    assert_eq!(
        meetings,
        [m.to_string()],
        "the meeting is on the 11th, Dushanbe time"
    );
    // The write that records the minutes keeps today's date in Dushanbe on the meeting (either side of a midnight
    // there that falls during the request).
    let dushanbe_today = || (chrono::Utc::now() + chrono::Duration::hours(5)).date_naive();
    let before = dushanbe_today();
    app.patch_read(
        &format!("/api/v1/meetings/{m}"),
        Some(&admin),
        &json!({"minutes": "Протокол"}),
    )
    .await
    .assert_status(200);
    let after = dushanbe_today();
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM meetings WHERE id = '{m}' \
             AND minutes_recorded_on IN ('{before}', '{after}')"
        ))
        .await,
        1,
        "minutes recorded today, Dushanbe time"
    );
    // Say they were recorded on 21 March in Dushanbe (20:30 UTC on the 20th): ten days after.
    app.execute(&format!(
        "UPDATE meetings SET minutes_recorded_on = '2026-03-21' WHERE id = '{m}'"
    ))
    .await;
    let body = council_stats(&app, "", Some(&admin)).await;
    assert_eq!(
        body["totals"]["median_days_to_minutes"].as_f64(),
        Some(10.0),
        "from the 11th to the 21st, both in Dushanbe time: {body}"
    );
}

// -------------------------------------------------------------------------------------------------------------
// 2. The read rule

#[actix_web::test]
async fn each_role_counts_the_councils_and_meetings_it_may_read() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let org = organization(&app, &admin, "Ҳуқуқ ва Адолат").await;
    let public = council(&app, &admin, "Открытый совет", None, json!({})).await;
    let internal = council(
        &app,
        &admin,
        "Внутренний совет",
        None,
        json!({"visibility": "internal"}),
    )
    .await;
    let restricted = council(
        &app,
        &admin,
        "Закрытая комиссия",
        None,
        json!({"kind": "commission", "visibility": "restricted"}),
    )
    .await;
    for c in [public, internal, restricted] {
        seat(
            &app,
            &admin,
            c,
            json!({"organization_id": org, "role": "member", "since": "2024-01-01"}),
        )
        .await;
    }
    let yes = vec![present(org, false, true)];
    let no = vec![present(org, false, false)];
    // The open council: a public meeting (present) and an internal one (absent).
    meeting(
        &app,
        &admin,
        public,
        "held",
        "2026-02-01",
        yes.clone(),
        json!({}),
    )
    .await;
    meeting(
        &app,
        &admin,
        public,
        "held",
        "2026-02-02",
        no,
        json!({"visibility": "internal"}),
    )
    .await;
    // The internal council: a public meeting, hidden from the anonymous reader with its council.
    meeting(
        &app,
        &admin,
        internal,
        "held",
        "2026-02-03",
        yes.clone(),
        json!({}),
    )
    .await;
    // The restricted council: a public and a restricted meeting, hidden with their council.
    meeting(
        &app,
        &admin,
        restricted,
        "held",
        "2026-02-04",
        yes.clone(),
        json!({}),
    )
    .await;
    meeting(
        &app,
        &admin,
        restricted,
        "held",
        "2026-02-05",
        yes,
        json!({"visibility": "restricted"}),
    )
    .await;

    let analyst = app.analyst().await;
    let officer = {
        let a = agency(&app, &admin, "Министерство внутренних дел").await;
        app.officer(a).await
    };
    let own_secretary = app.user(Role::Secretary, None, None, &[restricted]).await.1;
    let other_secretary = app.user(Role::Secretary, None, None, &[public]).await.1;

    // (role, token, councils, meetings, attendance rate)
    let expected = [
        ("anonymous", None, 1, 1, Some(1.0)),
        ("analyst", Some(analyst.as_str()), 2, 3, Some(0.6667)),
        ("agency officer", Some(officer.as_str()), 2, 3, Some(0.6667)),
        (
            "other secretary",
            Some(other_secretary.as_str()),
            2,
            3,
            Some(0.6667),
        ),
        (
            "own secretary",
            Some(own_secretary.as_str()),
            3,
            5,
            Some(0.8),
        ),
        ("admin", Some(admin.as_str()), 3, 5, Some(0.8)),
    ];
    for (role, token, councils, meetings, rate) in expected {
        let body = council_stats(&app, "group_by=council", token).await;
        let totals = &body["totals"];
        assert_eq!(totals["councils"], councils, "{role}: {body}");
        assert_eq!(totals["meetings"], meetings, "{role}: {body}");
        assert_eq!(totals["meetings_held"], meetings, "{role}: {body}");
        assert_eq!(totals["attendance_rate"].as_f64(), rate, "{role}: {body}");
        assert_eq!(
            totals["seats"], councils,
            "{role}: one seat per readable council"
        );
        // The councils counted are exactly those the caller's list of councils returns, each named.
        let listed: BTreeSet<String> = app
            .get("/api/v1/councils?limit=200", token)
            .await
            .item_ids()
            .into_iter()
            .collect();
        assert_eq!(
            listed.len() as i64,
            councils,
            "{role}: GET /councils agrees"
        );
        assert_eq!(keys(&body, "council"), listed, "{role}");
        for g in body["groups"].as_array().into_iter().flatten() {
            assert!(
                g["label"]["council"].is_string(),
                "{role}: a readable council is named: {g}"
            );
        }
        // Asking for the restricted council by id: counted only where it is readable, never named otherwise.
        let body = council_stats(
            &app,
            &format!("group_by=council&council_id={restricted}"),
            token,
        )
        .await;
        let readable = councils == 3;
        assert_eq!(
            body["totals"]["councils"],
            i64::from(readable),
            "{role}: {body}"
        );
        assert_eq!(
            body["totals"]["meetings"],
            if readable { 2 } else { 0 },
            "{role}"
        );
        assert_eq!(
            body["groups"].as_array().map(Vec::len),
            Some(usize::from(readable)),
            "{role}: {body}"
        );
        assert!(
            !body.to_string().contains("Закрытая комиссия") || readable,
            "{role}: the restricted council's name leaks: {body}"
        );
        let page = app
            .get(&format!("/api/v1/councils/{restricted}"), token)
            .await;
        assert_eq!(
            page.status.as_u16(),
            if readable { 200 } else { 404 },
            "{role}"
        );
    }
    // The internal council is invisible to the anonymous reader, visible to a signed-in one.
    let anonymous = council_stats(&app, &format!("council_id={internal}"), None).await;
    assert_eq!(anonymous["totals"]["councils"], 0);
    assert_eq!(anonymous["totals"]["meetings"], 0);
    let signed_in = council_stats(&app, &format!("council_id={internal}"), Some(&analyst)).await;
    assert_eq!(signed_in["totals"]["councils"], 1);
    assert_eq!(signed_in["totals"]["meetings"], 1);
}

#[actix_web::test]
async fn a_council_the_caller_may_not_read_is_not_named_in_other_statistics() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let operator = agency(&app, &admin, "Министерство внутренних дел").await;
    let monitor = organization(&app, &admin, "Наблюдатели").await;
    let restricted = council(
        &app,
        &admin,
        "Комиссия по мониторингу ИВС",
        None,
        json!({"kind": "commission", "visibility": "restricted"}),
    )
    .await;
    let facility = created(&app, "/api/v1/facilities", &admin, json!({"name": "ИВС ОВД района Сино", "facility_type": "temporary_detention",
              "operating_agency_id": operator, "region_code": "TJ-DU", "address": "Душанбе", "capacity": 40})).await;
    // A public visit under the restricted council's mandate keeps its own visibility (not a meeting).
    created(&app, "/api/v1/monitoring-visits", &admin, json!({
            "facility_id": facility, "visited_on": "2026-04-01", "announced": false, "mandate_council_id": restricted,
            "monitor_organization_ids": [monitor], "summary": "Условия удовлетворительные", "status": "completed",
            "access": "granted", "visibility": "public", "findings": []})).await;
    let analyst = app.analyst().await;
    for (role, token, named) in [
        ("anonymous", None, false),
        ("analyst", Some(analyst.as_str()), false),
        ("admin", Some(admin.as_str()), true),
    ] {
        let body = get_json(&app, "/api/v1/stats/engagements?group_by=council", token).await;
        let g = group(&body, "council", Some(&restricted.to_string()));
        assert_eq!(g["measures"]["count"], 1, "{role}: the visit counts");
        if named {
            assert_eq!(
                g["label"]["council"], "Комиссия по мониторингу ИВС",
                "{role}"
            );
        } else {
            assert!(
                g["label"]["council"].is_null(),
                "{role}: the council is not named: {g}"
            );
        }
    }
}

// -------------------------------------------------------------------------------------------------------------
// 3. Overlaps

#[actix_web::test]
async fn overlaps_list_seated_organisations_funded_by_the_host_with_exact_sums() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let a = agency(&app, &admin, "Министерство здравоохранения").await;
    let b = agency(&app, &admin, "Министерство образования").await;
    let seated_funded = organization(&app, &admin, "Аввал: сидит и финансируется").await;
    let funded_only = organization(&app, &admin, "Бе: только финансируется").await;
    let seated_other_funder = organization(&app, &admin, "Ве: финансирует другое ведомство").await;
    let seat_ended = organization(&app, &admin, "Ге: срок членства истёк").await;
    let hidden_grant = organization(&app, &admin, "Де: закрытый грант").await;
    let host_a = council(
        &app,
        &admin,
        "Общественный совет при Минздраве",
        Some(a),
        json!({}),
    )
    .await;
    let since = json!("2024-01-01");
    for org in [seated_funded, seated_other_funder, hidden_grant] {
        seat(
            &app,
            &admin,
            host_a,
            json!({"organization_id": org, "role": "member", "since": since}),
        )
        .await;
    }
    seat(&app, &admin, host_a, json!({"organization_id": seat_ended, "role": "member", "since": "2020-01-01", "until": "2025-12-31"})).await;

    let grant = async |funder: Uuid,
                       recipient: Uuid,
                       amount: &str,
                       currency: &str,
                       visibility: &str| {
        created(&app, "/api/v1/grants", &admin, json!({"title": "Грант на правовую помощь", "support_type": "grant",
            "funder_agency_id": funder, "recipient_organization_id": recipient, "amount": amount, "currency": currency,
            "awarded_on": "2026-02-01", "starts_on": "2026-03-01", "ends_on": "2026-12-31", "status": "active",
            "region_code": "TJ-DU", "sphere_codes": ["health"], "visibility": visibility})).await
    };
    grant(a, seated_funded, "125000.50", "TJS", "public").await;
    grant(a, seated_funded, "1000", "TJS", "public").await;
    grant(a, seated_funded, "2500.25", "USD", "public").await;
    grant(a, funded_only, "50000", "TJS", "public").await;
    grant(b, seated_other_funder, "70000", "TJS", "public").await;
    grant(a, seat_ended, "80000", "TJS", "public").await;
    grant(a, hidden_grant, "9000", "EUR", "restricted").await;

    let expected_seated = json!({
        "organization_id": seated_funded, "organization_name": "Аввал: сидит и финансируется",
        "council_id": host_a, "council_name": "Общественный совет при Минздраве", "role": "member",
        "agency_id": a, "agency_name": "Министерство здравоохранения", "grants": 3,
        "sums": [{"currency": "TJS", "count": 2, "amount": "126000.50"}, {"currency": "USD", "count": 1, "amount": "2500.25"}],
    });
    let expected_hidden = json!({
        "organization_id": hidden_grant, "organization_name": "Де: закрытый грант",
        "council_id": host_a, "council_name": "Общественный совет при Минздраве", "role": "member",
        "agency_id": a, "agency_name": "Министерство здравоохранения", "grants": 1,
        "sums": [{"currency": "EUR", "count": 1, "amount": "9000.00"}],
    });
    let analyst = app.analyst().await;
    let recipient = app.ngo_member(hidden_grant).await;
    let overlaps = async |query: &str, token: Option<&str>| {
        get_json(&app, &with_query("/api/v1/stats/overlaps", query), token).await["items"].clone()
    };
    // Only the seated organisation funded by the host; the restricted grant only for those who may read it.
    assert_eq!(
        overlaps("", None).await,
        json!([expected_seated.clone()]),
        "anonymous"
    );
    assert_eq!(
        overlaps("", Some(&analyst)).await,
        json!([expected_seated.clone()]),
        "analyst"
    );
    assert_eq!(
        overlaps("", Some(&admin)).await,
        json!([expected_seated.clone(), expected_hidden.clone()]),
        "admin, by organisation name"
    );
    assert_eq!(
        overlaps("", Some(&recipient)).await,
        json!([expected_seated.clone(), expected_hidden.clone()]),
        "the recipient"
    );

    // Filters, each beside one that matches nothing.
    assert_eq!(
        overlaps(&format!("agency_id={a}"), Some(&admin)).await,
        json!([expected_seated.clone(), expected_hidden.clone()])
    );
    assert_eq!(
        overlaps(&format!("agency_id={b}"), Some(&admin)).await,
        json!([]),
        "agency B hosts no council"
    );
    assert_eq!(
        overlaps(&format!("organization_id={seated_funded}"), None).await,
        json!([expected_seated.clone()])
    );
    for org in [funded_only, seated_other_funder, seat_ended] {
        assert_eq!(
            overlaps(&format!("organization_id={org}"), Some(&admin)).await,
            json!([]),
            "{org}"
        );
    }
    assert_eq!(
        overlaps(&format!("council_id={host_a}"), None).await,
        json!([expected_seated.clone()])
    );
    assert_eq!(
        overlaps(&format!("council_id={}", Uuid::now_v7()), Some(&admin)).await,
        json!([])
    );

    // CSV with semicolons: the sums cell, itself holding `; `, is quoted.
    let res = app
        .get(
            &format!("/api/v1/stats/overlaps?format=csv&delimiter=semicolon&council_id={host_a}"),
            None,
        )
        .await;
    res.assert_status(200);
    assert!(
        res.header("content-type")
            .is_some_and(|c| c.starts_with("text/csv")),
        "{:?}",
        res.header("content-type")
    );
    let text = res.text();
    let text = text.strip_prefix('\u{feff}').expect("a BOM");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b';')
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("a header")
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(
        header,
        [
            "organization_id",
            "organization_name",
            "council_id",
            "council_name",
            "role",
            "agency_id",
            "agency_name",
            "grants",
            "sums"
        ]
    );
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.expect("a row").iter().map(str::to_owned).collect())
        .collect();
    assert_eq!(
        rows,
        vec![vec![
            seated_funded.to_string(),
            "Аввал: сидит и финансируется".to_owned(),
            host_a.to_string(),
            "Общественный совет при Минздраве".to_owned(),
            "member".to_owned(),
            a.to_string(),
            "Министерство здравоохранения".to_owned(),
            "3".to_owned(),
            "126000.50 TJS; 2500.25 USD".to_owned(),
        ]],
        "anonymous: the restricted grant's recipient is not in the CSV either"
    );
    // A seat whose term ends today is held today: move the ended seat's end to today.
    app.execute(&format!(
        "UPDATE council_members SET until = current_date WHERE organization_id = '{seat_ended}'"
    ))
    .await;
    assert_eq!(
        overlaps(&format!("organization_id={seat_ended}"), Some(&admin))
            .await
            .as_array()
            .map(Vec::len),
        Some(1),
        "a seat whose term ends today still counts"
    );
}

// -------------------------------------------------------------------------------------------------------------
// 4. Scorecards

#[actix_web::test]
async fn scorecards_agree_with_their_statistics_and_lists_for_each_role() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let admin = w.admin.as_str();
    // Grants from the host agency to organisation A: one public, one restricted.
    let grant = async |amount: &str, currency: &str, visibility: &str| {
        created(&app, "/api/v1/grants", admin, json!({"title": "Правовая помощь", "support_type": "grant",
            "funder_agency_id": w.host_agency, "recipient_organization_id": w.org_a, "amount": amount, "currency": currency,
            "awarded_on": "2026-02-01", "starts_on": "2026-03-01", "ends_on": "2026-12-31", "status": "active",
            "region_code": "TJ-DU", "sphere_codes": ["access_to_justice"], "visibility": visibility})).await
    };
    let public_grant = grant("125000", "TJS", "public").await;
    let restricted_grant = grant("5000", "USD", "restricted").await;
    // A public hearing by organisation A with the host agency invited, and a consultation of the host agency with
    // organisation A's submission.
    let hearing = created(&app, "/api/v1/hearings", &w.ngo_a, json!({
        "title": "Слушания о реформе милиции", "status": "held", "starts_on": "2026-04-02", "location": "Душанбе",
        "region_code": "TJ-DU", "sphere_codes": ["public_order"], "organizer_ids": [w.org_a],
        "invited_agencies": [{"agency_id": w.host_agency, "attended": true}], "visibility": "public"})).await;
    // Organisation A issues a public recommendation from its hearing to the host agency.
    created(
        &app,
        &format!("/api/v1/engagements/{hearing}/recommendations"),
        &w.ngo_a,
        json!({
        "text": "Обеспечить доступ адвокатов в ИВС", "addressed_to_agency_id": w.host_agency,
        "issued_on": "2026-04-10", "due_on": "2026-07-10", "visibility": "public"}),
    )
    .await;
    let consultation = created(&app, "/api/v1/consultations", &w.ngo_a, json!({
        "title": "Проект Закона «Об общественных объединениях»", "act_type": "law",
        "responsible_agency_id": w.host_agency, "level": "national", "opens_on": "2026-02-01", "closes_on": "2026-03-01",
        "draft_url": "https://example.tj/draft.pdf", "sphere_codes": ["human_rights"], "visibility": "public"})).await;
    created(&app, &format!("/api/v1/consultations/{consultation}/submissions"), &w.ngo_a, json!({
        "organization_ids": [w.org_a], "provision": "Статья 12", "proposal": "Исключить перерегистрацию",
        "rationale": "Избыточная нагрузка", "submitted_on": "2026-02-20"})).await;
    // Seats: organisation A now on council A, formerly on council B, now on a restricted commission; the host
    // agency now on council B.
    seat(
        &app,
        admin,
        w.council_a,
        json!({"organization_id": w.org_a, "role": "member", "since": "2024-01-01"}),
    )
    .await;
    seat(&app, admin, w.council_b, json!({"organization_id": w.org_a, "role": "observer", "since": "2019-01-01", "until": "2021-12-31"})).await;
    let commission = council(
        &app,
        admin,
        "Закрытая комиссия",
        None,
        json!({"kind": "commission", "visibility": "restricted"}),
    )
    .await;
    seat(
        &app,
        admin,
        commission,
        json!({"organization_id": w.org_a, "role": "deputy_chair", "since": "2025-01-01"}),
    )
    .await;
    seat(&app, admin, w.council_b, json!({"agency_id": w.host_agency, "role": "chair", "since": "2025-06-01", "until": day(10)})).await;
    seat(
        &app,
        admin,
        w.council_a,
        json!({"agency_id": w.host_agency, "role": "member", "since": day(5)}),
    )
    .await;

    let cards = [
        (
            format!("/api/v1/agencies/{}/scorecard", w.host_agency),
            [
                "engagements",
                "recommendations_received",
                "submissions_received",
                "grants_given",
            ],
        ),
        (
            format!("/api/v1/organizations/{}/scorecard", w.org_a),
            [
                "engagements",
                "recommendations_issued",
                "submissions",
                "grants_received",
            ],
        ),
    ];
    // The measure that counts a section's records.
    let counted = |section: &str| match section {
        "engagements" | "grants_given" | "grants_received" => "count",
        "recommendations_received" | "recommendations_issued" => "total",
        _ => "submissions",
    };
    for (role, token) in [
        ("anonymous", None),
        ("analyst", Some(w.analyst.as_str())),
        ("ngo_a", Some(w.ngo_a.as_str())),
        ("admin", Some(admin)),
    ] {
        for (path, sections) in &cards {
            let card = get_json(&app, path, token).await;
            for name in sections {
                let section = &card[*name];
                let statistic = section["statistic"].as_str().expect("a statistic link");
                let list = section["list"].as_str().expect("a list link");
                // The statistic link, fetched by the same caller, gives the same numbers.
                let stats = get_json(&app, statistic, token).await;
                assert_eq!(
                    section["stats"], stats,
                    "{role} {path} {name}: the section is its statistic ({statistic})"
                );
                // The list link answers and lists exactly the records counted.
                let items = list_all(&app, list, token).await;
                let total = section["stats"]["totals"][counted(name)]
                    .as_i64()
                    .unwrap_or(-1);
                assert_eq!(
                    items.len() as i64,
                    total,
                    "{role} {path} {name}: {list} lists what is counted"
                );
                let res = app.get(list, token).await;
                res.assert_status(200);
                if role == "admin" {
                    assert!(
                        total >= 1,
                        "{path} {name}: the admin counts something: {section}"
                    );
                }
            }
        }

        // Grants: the restricted one only for its recipient and the admin.
        let agency_card = get_json(&app, &cards[0].0, token).await;
        let org_card = get_json(&app, &cards[1].0, token).await;
        let sees_restricted = matches!(role, "admin" | "ngo_a");
        let expected_sums = if sees_restricted {
            json!([{"currency": "TJS", "count": 1, "amount": "125000.00"}, {"currency": "USD", "count": 1, "amount": "5000.00"}])
        } else {
            json!([{"currency": "TJS", "count": 1, "amount": "125000.00"}])
        };
        assert_eq!(
            agency_card["grants_given"]["stats"]["totals"]["sums"], expected_sums,
            "{role}"
        );
        assert_eq!(
            org_card["grants_received"]["stats"]["totals"]["sums"], expected_sums,
            "{role}"
        );
        let listed = ids(&list_all(
            &app,
            agency_card["grants_given"]["list"]
                .as_str()
                .unwrap_or_default(),
            token,
        )
        .await);
        assert!(listed.contains(&public_grant.to_string()), "{role}");
        assert_eq!(
            listed.contains(&restricted_grant.to_string()),
            sees_restricted,
            "{role}"
        );
        // Submissions: organisation A's one, to the host agency's consultation (public).
        assert_eq!(
            agency_card["submissions_received"]["stats"]["totals"]["submissions"], 1,
            "{role}"
        );
        assert_eq!(
            org_card["submissions"]["stats"]["totals"]["submissions"], 1,
            "{role}"
        );
        // The world's recommendation comes from an internal meeting: not for the anonymous reader; organisation
        // A's is public.
        assert_eq!(
            agency_card["recommendations_received"]["stats"]["totals"]["total"],
            1 + i64::from(role != "anonymous"),
            "{role}"
        );
        assert_eq!(
            org_card["recommendations_issued"]["stats"]["totals"]["total"], 1,
            "{role}"
        );

        // Seats held today only; the restricted commission only for the admin.
        let seats = |card: &Value| -> Vec<(String, String)> {
            card["council_seats"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| {
                    (
                        s["council_id"].as_str().unwrap_or_default().to_owned(),
                        s["role"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect()
        };
        let mut org_seats = vec![(w.council_a.to_string(), "member".to_owned())];
        if role == "admin" {
            org_seats.push((commission.to_string(), "deputy_chair".to_owned()));
        }
        org_seats.sort();
        let mut got = seats(&org_card);
        got.sort();
        assert_eq!(got, org_seats, "{role}: {}", org_card["council_seats"]);
        assert_eq!(
            seats(&agency_card),
            vec![(w.council_b.to_string(), "chair".to_owned())],
            "{role}: the seat on council A starts in five days"
        );
        assert_eq!(agency_card["council_seats"][0]["until"], day(10));
        assert_eq!(agency_card["council_seats"][0]["since"], "2025-06-01");
        assert_eq!(agency_card["agency_id"], w.host_agency.to_string());
        assert_eq!(agency_card["name"], "МВД");
        assert_eq!(org_card["organization_id"], w.org_a.to_string());
        assert_eq!(org_card["name"], "Ҳуқуқ ва Адолат");
    }
}

#[actix_web::test]
async fn scorecards_of_unknown_or_malformed_ids_are_problems() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let a = agency(&app, &admin, "Министерство финансов").await;
    let o = organization(&app, &admin, "Шаффофият").await;
    for (kind, id) in [("agencies", a), ("organizations", o)] {
        get_json(&app, &format!("/api/v1/{kind}/{id}/scorecard"), None).await;
        app.get(
            &format!("/api/v1/{kind}/{}/scorecard", Uuid::now_v7()),
            None,
        )
        .await
        .assert_problem(404);
        // An agency's id is not an organisation's, and the reverse.
        let other = if kind == "agencies" { o } else { a };
        app.get(&format!("/api/v1/{kind}/{other}/scorecard"), Some(&admin))
            .await
            .assert_problem(404);
        for bad in ["not-a-uuid", "12345", "%D0%B0"] {
            app.get(&format!("/api/v1/{kind}/{bad}/scorecard"), None)
                .await
                .assert_invalid("id");
        }
    }
}

// -------------------------------------------------------------------------------------------------------------
// 5. Bad parameters, each beside a good one

#[actix_web::test]
async fn bad_parameters_of_council_statistics_and_overlaps_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    council(&app, &admin, "Совет", None, json!({})).await;
    let path = "/api/v1/stats/councils";
    for (good, bad, field) in [
        ("group_by=council", "group_by=councils", "group_by"),
        ("group_by=member", "group_by=organization", "group_by"),
        (
            "group_by=council,year",
            "group_by=council,council",
            "group_by",
        ),
        (
            "group_by=year,member",
            "group_by=year,member,kind",
            "group_by",
        ),
        ("sort=-attendance_rate", "sort=-attendance", "sort"),
        ("limit=1", "limit=0", "limit"),
        ("from=2026-01-01", "from=2026-13-01", "from"),
        ("to=2026-12-31", "to=yesterday", "to"),
        ("kind=commission", "kind=committee", "kind"),
        ("level=jamoat", "level=village", "level"),
        ("format=csv", "format=xlsx", "format"),
    ] {
        app.get(&with_query(path, good), Some(&admin))
            .await
            .assert_status(200);
        let res = app.get(&with_query(path, bad), Some(&admin)).await;
        res.assert_invalid(field);
    }
    let res = app
        .get(&with_query(path, "group_by=bogus"), Some(&admin))
        .await;
    res.assert_invalid("group_by");
    assert!(
        res.json()["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("council") && m.contains("member")),
        "the allowed dimensions are named: {}",
        res.text()
    );

    let overlaps = "/api/v1/stats/overlaps";
    for (good, bad, field) in [
        (
            format!("agency_id={}", Uuid::now_v7()),
            "agency_id=not-a-uuid".to_owned(),
            "agency_id",
        ),
        (
            format!("organization_id={}", Uuid::now_v7()),
            "organization_id=1".to_owned(),
            "organization_id",
        ),
        (
            format!("council_id={}", Uuid::now_v7()),
            "council_id=".to_owned(),
            "council_id",
        ),
        ("format=csv".to_owned(), "format=pdf".to_owned(), "format"),
        (
            "format=csv&delimiter=semicolon".to_owned(),
            "format=csv&delimiter=tab".to_owned(),
            "delimiter",
        ),
    ] {
        app.get(&with_query(overlaps, &good), None)
            .await
            .assert_status(200);
        let res = app.get(&with_query(overlaps, &bad), None).await;
        assert_client_problem(&res);
        res.assert_invalid(field);
    }
}
