//! The calendar feed: which events each caller sees, how an event keeps its identity through changes, and that a
//! third-party iCalendar parser reads the whole feed.

use std::collections::BTreeMap;

use icalendar::{Component, EventStatus};
use serde_json::json;
use uuid::Uuid;

use crate::support::{TestApp, World, id_of};

/// The year the test's events fall in.
const YEAR: &str = "from=2026-01-01&to=2026-12-31";

/// One event of a feed as the parser read it: the properties this test checks.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    summary: String,
    sequence: Option<u32>,
    status: Option<EventStatus>,
    start: String,
}

/// The feed at `path` read by the `icalendar` crate's parser: the calendar's own properties and its events by UID.
async fn feed(app: &TestApp, path: &str, token: Option<&str>) -> (String, BTreeMap<String, Entry>) {
    let res = app.get(path, token).await;
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("text/calendar; charset=utf-8")
    );
    let text = res.text();
    assert!(text.starts_with("BEGIN:VCALENDAR\r\n"), "{text}");
    assert!(
        text.lines().all(|l| l.trim_end_matches('\r').len() <= 75),
        "lines folded at 75 octets: {text}"
    );
    keep_for_validation(&text);
    let calendar: icalendar::Calendar = text
        .parse()
        .unwrap_or_else(|e| panic!("an RFC 5545 calendar: {e}\n{text}"));
    let events = calendar
        .events()
        .map(|e| {
            let uid = e.get_uid().unwrap_or_default().to_owned();
            let entry = Entry {
                summary: e.get_summary().unwrap_or_default().to_owned(),
                sequence: e.get_sequence(),
                status: e.get_status(),
                start: e
                    .properties()
                    .get("DTSTART")
                    .map(|p| format!("{p:?}"))
                    .unwrap_or_default(),
            };
            (uid, entry)
        })
        .collect();
    (text, events)
}

/// Where the feeds the tests read are kept for `.ci/run`, which checks each with Python's `icalendar` too.
pub fn validation_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("ics")
}

/// Keeps a feed in [`validation_dir`].
fn keep_for_validation(text: &str) {
    let dir = validation_dir();
    std::fs::create_dir_all(&dir).expect("the validation folder");
    std::fs::write(dir.join(format!("{}.ics", Uuid::now_v7())), text).expect("a kept feed");
}

/// The UIDs of a feed.
async fn uids(app: &TestApp, query: &str, token: Option<&str>) -> Vec<String> {
    feed(app, &format!("/api/v1/calendar.ics?{query}"), token)
        .await
        .1
        .into_keys()
        .collect()
}

/// A public hearing organised by organisation A, inviting the host agency.
async fn hearing(app: &TestApp, w: &World, starts_on: &str, visibility: &str) -> Uuid {
    let res = app
        .post("/api/v1/hearings", Some(&w.ngo_a), &json!({
            "title": "Общественные слушания о реформе милиции", "status": "planned", "starts_on": starts_on,
            "location": "Душанбе, ул. Рудаки, 42", "region_code": "TJ-DU",
            "organizer_ids": [w.org_a], "invited_agencies": [{"agency_id": w.host_agency, "attended": false}],
            "visibility": visibility
        }))
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

/// A public meeting of council A.
async fn public_meeting(app: &TestApp, w: &World) -> Uuid {
    let res = app
        .post(&format!("/api/v1/councils/{}/meetings", w.council_a), Some(&w.admin), &json!({
            "title": "Открытое заседание совета", "status": "planned", "starts_at": "2026-05-05T06:00:00Z",
            "location": "Душанбе", "attendance": [], "visibility": "public"
        }))
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

/// A public consultation whose comment period closes on 1 March, the host agency responsible.
async fn consultation(app: &TestApp, w: &World) -> Uuid {
    consultation_open(app, w, "2026-02-01", "2026-03-01").await
}

/// A public consultation of organisation A open from `opens_on` to `closes_on`, the host agency responsible.
async fn consultation_open(app: &TestApp, w: &World, opens_on: &str, closes_on: &str) -> Uuid {
    let res = app
        .post(
            "/api/v1/consultations",
            Some(&w.ngo_a),
            &json!({
                "title": "Проект Закона «Об общественных объединениях»", "act_type": "law",
                "responsible_agency_id": w.host_agency, "level": "national",
                "opens_on": opens_on, "closes_on": closes_on, "visibility": "public"
            }),
        )
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

/// A public monitoring visit (never listed).
async fn visit(app: &TestApp, w: &World) -> Uuid {
    let res = app
        .post("/api/v1/facilities", Some(&w.admin), &json!({"name": "ИВС ОВД района Сино", "facility_type": "temporary_detention",
              "operating_agency_id": w.host_agency, "region_code": "TJ-DU", "address": "Душанбе", "capacity": 40}))
        .await;
    res.assert_status(201);
    let facility = id_of(&res.json());
    let res = app
        .post("/api/v1/monitoring-visits", Some(&w.ngo_a), &json!({
            "facility_id": facility, "visited_on": "2026-04-10", "announced": true, "monitor_organization_ids": [w.org_a],
            "status": "completed", "access": "granted", "visibility": "public", "findings": []
        }))
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

#[actix_web::test]
async fn the_feed_lists_what_the_caller_may_read_and_never_a_visit() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let meeting = public_meeting(&app, &w).await;
    let public = hearing(&app, &w, "2026-04-02", "public").await;
    let restricted = hearing(&app, &w, "2026-04-02", "restricted").await;
    let consultation = consultation(&app, &w).await;
    let visit = visit(&app, &w).await;

    let everyone = [
        format!("consultation-{consultation}-closes@hamkori"),
        format!("hearing-{public}@hamkori"),
        format!("meeting-{meeting}@hamkori"),
    ];
    let mut anonymous = uids(&app, YEAR, None).await;
    anonymous.sort();
    assert_eq!(anonymous, everyone, "public events only");

    // Signed in: the internal meeting too; the restricted hearing for its organiser and an admin only.
    let internal = format!("meeting-{}@hamkori", w.meeting);
    let hidden = format!("meeting-{}@hamkori", w.restricted);
    let restricted_uid = format!("hearing-{restricted}@hamkori");
    for (token, sees_restricted) in [
        (&w.analyst, false),
        (&w.ngo_b, false),
        (&w.officer_host, false),
        (&w.ngo_a, true),
        (&w.admin, true),
    ] {
        let seen = uids(&app, YEAR, Some(token)).await;
        assert!(
            seen.iter().all(|u| !u.contains(&visit.to_string())),
            "{seen:?}"
        );
        assert!(everyone.iter().all(|u| seen.contains(u)), "{seen:?}");
        assert!(seen.contains(&internal), "{seen:?}");
        assert_eq!(seen.contains(&restricted_uid), sees_restricted, "{seen:?}");
        assert_eq!(
            seen.contains(&hidden),
            sees_restricted && token == &w.admin,
            "{seen:?}"
        );
    }
    let seen = uids(&app, YEAR, Some(&w.secretary_a)).await;
    assert!(
        seen.contains(&hidden),
        "council A's secretary reads its restricted meeting"
    );
    let seen = uids(&app, YEAR, Some(&w.secretary_b)).await;
    assert!(
        !seen.contains(&hidden) && seen.contains(&internal),
        "{seen:?}"
    );

    // The filters, each beside what it leaves out.
    assert_eq!(
        uids(&app, &format!("{YEAR}&kind=hearing"), None).await,
        [everyone[1].clone()]
    );
    let (twice, _) = feed(
        &app,
        &format!("/api/v1/calendar.ics?{YEAR}&kind=hearing&kind=hearing"),
        None,
    )
    .await;
    assert_eq!(
        twice.matches("BEGIN:VEVENT").count(),
        1,
        "a kind asked for twice is listed once"
    );
    let mut two = uids(
        &app,
        &format!("{YEAR}&kind=meeting&kind=consultation"),
        None,
    )
    .await;
    two.sort();
    assert_eq!(two, [everyone[0].clone(), everyone[2].clone()]);
    assert_eq!(
        uids(&app, &format!("{YEAR}&council_id={}", w.council_a), None).await,
        [everyone[2].clone()]
    );
    assert_eq!(
        uids(&app, &format!("{YEAR}&council_id={}", w.council_b), None).await,
        Vec::<String>::new()
    );
    let mut hosted = uids(&app, &format!("{YEAR}&agency_id={}", w.host_agency), None).await;
    hosted.sort();
    assert_eq!(hosted, everyone, "responsible, invited and host");
    assert_eq!(
        uids(&app, &format!("{YEAR}&agency_id={}", w.other_agency), None).await,
        Vec::<String>::new()
    );
    let mut organised = uids(&app, &format!("{YEAR}&organization_id={}", w.org_a), None).await;
    organised.sort();
    assert_eq!(
        organised,
        [everyone[0].clone(), everyone[1].clone()],
        "the hearing's organiser, the consultation's owner"
    );
    assert_eq!(
        uids(&app, &format!("{YEAR}&region_code=TJ-DU"), None).await,
        [everyone[1].clone()]
    );
    assert_eq!(
        uids(&app, &format!("{YEAR}&region_code=TJ"), None).await,
        [everyone[1].clone(), everyone[2].clone()],
        "the country holds its regions' events (the hearing's TJ-DU) and its own (the meeting's)"
    );
    assert_eq!(
        uids(&app, &format!("{YEAR}&region_code=TJ-SU"), None).await,
        Vec::<String>::new()
    );
    assert_eq!(
        uids(&app, "from=2026-03-01&to=2026-03-01", None).await,
        [everyone[0].clone()],
        "a consultation on its last day"
    );
    assert_eq!(
        uids(&app, "from=2026-06-01&to=2026-06-30", None).await,
        Vec::<String>::new()
    );
}

#[actix_web::test]
async fn an_event_keeps_its_uid_and_its_sequence_grows_until_it_is_cancelled() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let meeting = public_meeting(&app, &w).await;
    let hearing = hearing(&app, &w, "2026-04-02", "public").await;
    let uid = format!("hearing-{hearing}@hamkori");

    let (text, events) = feed(&app, &format!("/api/v1/calendar.ics?{YEAR}"), None).await;
    assert!(
        text.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Dushanbe\r\n"),
        "{text}"
    );
    assert!(
        text.contains("DTSTART;TZID=Asia/Dushanbe:20260505T110000\r\n"),
        "06:00 UTC is 11:00 in Dushanbe: {text}"
    );
    assert!(
        text.contains("DTSTART;VALUE=DATE:20260402\r\n")
            && text.contains("DTEND;VALUE=DATE:20260403\r\n"),
        "a hearing on 2 April ends (exclusively) on the 3rd: {text}"
    );
    assert!(
        text.contains(&format!("/api/v1/meetings/{meeting}")),
        "a link: {text}"
    );
    let before = events
        .get(&uid)
        .cloned()
        .unwrap_or_else(|| panic!("{uid} in {events:?}"));
    assert_eq!(before.sequence, Some(0));
    assert_eq!(before.status, Some(EventStatus::Confirmed));

    let path = format!("/api/v1/hearings/{hearing}");
    app.patch_read(&path, Some(&w.ngo_a), &json!({"starts_on": "2026-04-03"}))
        .await
        .assert_status(200);
    let moved = feed(&app, &format!("/api/v1/calendar.ics?{YEAR}"), None)
        .await
        .1;
    let moved = moved
        .get(&uid)
        .cloned()
        .unwrap_or_else(|| panic!("{uid} kept"));
    assert_eq!(moved.sequence, Some(1), "a change raises SEQUENCE");
    assert_ne!(moved.start, before.start);

    app.patch_read(&path, Some(&w.ngo_a), &json!({"status": "cancelled"}))
        .await
        .assert_status(200);
    let cancelled = feed(&app, &format!("/api/v1/calendar.ics?{YEAR}"), None)
        .await
        .1;
    let cancelled = cancelled
        .get(&uid)
        .cloned()
        .unwrap_or_else(|| panic!("{uid} kept"));
    assert_eq!(
        cancelled.status,
        Some(EventStatus::Cancelled),
        "kept, as cancelled"
    );
    assert_eq!(cancelled.sequence, Some(2));

    // A postponed meeting is tentative.
    let meeting_path = format!("/api/v1/meetings/{meeting}");
    app.patch_read(
        &meeting_path,
        Some(&w.admin),
        &json!({"status": "postponed"}),
    )
    .await
    .assert_status(200);
    let postponed = feed(&app, &format!("/api/v1/calendar.ics?{YEAR}"), None)
        .await
        .1;
    let postponed = postponed
        .get(&format!("meeting-{meeting}@hamkori"))
        .cloned()
        .unwrap_or_else(|| panic!("the meeting kept"));
    assert_eq!(postponed.status, Some(EventStatus::Tentative));
    assert_eq!(postponed.sequence, Some(1));

    // Made restricted, it leaves the public feed (a calendar program then drops it).
    app.patch_read(&path, Some(&w.ngo_a), &json!({"visibility": "restricted"}))
        .await
        .assert_status(200);
    assert!(!uids(&app, YEAR, None).await.contains(&uid));
    assert!(uids(&app, YEAR, Some(&w.ngo_a)).await.contains(&uid));
}

#[actix_web::test]
async fn bad_windows_and_kinds_are_refused_naming_the_parameter() {
    let app = TestApp::new().await;
    app.get("/api/v1/calendar.ics?from=2026-05-01&to=2026-04-30", None)
        .await
        .assert_invalid("to");
    app.get("/api/v1/calendar.ics?from=2026-01-01&to=2028-01-03", None)
        .await
        .assert_invalid("to");
    app.get("/api/v1/calendar.ics?from=2026-01-01&to=2028-01-01", None)
        .await
        .assert_status(200);
    app.get("/api/v1/calendar.ics?kind=monitoring_visit", None)
        .await
        .assert_invalid("kind[0]");
    app.get("/api/v1/calendar.ics?region_code=XX-00", None)
        .await
        .assert_invalid("region_code");
    app.get("/api/v1/calendar.ics?from=yesterday", None)
        .await
        .assert_invalid("from");
    // Only an end in the past: the year before it.
    let (text, _) = feed(&app, "/api/v1/calendar.ics?to=2026-01-31", None).await;
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    // With no window the default one serves (today's events and the year ahead).

    let (text, _) = feed(&app, "/api/v1/calendar.ics", None).await;
    assert!(text.ends_with("END:VCALENDAR\r\n"));
}

#[actix_web::test]
async fn a_feed_holds_the_two_thousand_soonest_events_by_their_own_day() {
    let app = TestApp::new().await;
    // 2,001 public hearings, three a day from 1 January 2026 (the last three on 29 October 2027), and two
    // consultations: one opened long before and closing after every hearing (beyond the cap, however early it
    // opened), one closing on the first day.
    app.execute(
        "INSERT INTO engagements (id, kind, title, status, starts_on, visibility) \
         SELECT gen_random_uuid(), 'hearing', 'Слушания № ' || n, 'planned', DATE '2026-01-01' + (n - 1) / 3, 'public' \
         FROM generate_series(1, 2001) AS n",
    )
    .await;
    let late = Uuid::now_v7();
    let early = Uuid::now_v7();
    app.execute(&format!(
        "INSERT INTO engagements (id, kind, title, status, starts_on, ends_on, visibility) VALUES \
         ('{late}', 'consultation', 'Проект закона, открытый давно', 'open', '2025-01-01', '2027-12-01', 'public'), \
         ('{early}', 'consultation', 'Проект закона, закрытый первым', 'open', '2025-01-01', '2026-01-01', 'public')"
    ))
    .await;

    let (text, events) = feed(
        &app,
        "/api/v1/calendar.ics?from=2026-01-01&to=2027-12-31",
        None,
    )
    .await;
    assert_eq!(events.len(), 2_000, "the cap");
    let early_uid = format!("consultation-{early}-closes@hamkori");
    assert!(events.contains_key(&early_uid), "closing first, it is in");
    let late_uid = format!("consultation-{late}-closes@hamkori");
    assert!(
        !events.contains_key(&late_uid),
        "its own day is past the cap"
    );
    // Soonest first: the consultation's closing day, then the hearings from the first day on, until the cap
    // leaves out two of the last day's three hearings.
    let (_, events_text) = text.split_once("BEGIN:VEVENT").unwrap_or_default();
    let starts: Vec<&str> = events_text
        .lines()
        .filter(|l| l.starts_with("DTSTART"))
        .map(|l| l.rsplit(':').next().unwrap_or_default().trim_end())
        .collect();
    assert_eq!(starts.first().copied(), Some("20260101"), "{starts:?}");
    assert_eq!(starts.get(1).copied(), Some("20260101"), "{starts:?}");
    let last = (chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("a day")
        + chrono::Days::new(666))
    .format("%Y%m%d")
    .to_string();
    assert_eq!(
        starts.last().copied(),
        Some(last.as_str()),
        "the last day of hearings ends the feed"
    );
    let mut sorted = starts.clone();
    sorted.sort_unstable();
    assert_eq!(starts, sorted, "soonest first");

    // The same window narrowed by a filter is whole again: only the consultations, both of them.
    assert_eq!(
        starts.iter().filter(|s| **s == last).count(),
        1,
        "one of the last day's three"
    );
    let (_, consultations) = feed(
        &app,
        "/api/v1/calendar.ics?from=2026-01-01&to=2027-12-31&kind=consultation",
        None,
    )
    .await;
    assert_eq!(consultations.len(), 2);
}

#[actix_web::test]
async fn an_actors_feed_finds_a_comment_period_that_opened_long_before_the_window() {
    let app = TestApp::new().await;
    let w = app.world().await;
    // An actor's feed starts from the party timeline, which is ordered by first day: a consultation closing in
    // the window is found however long before it its period opened.
    let long = format!(
        "consultation-{}-closes@hamkori",
        consultation_open(&app, &w, "2024-03-01", "2026-03-01").await
    );
    let short = format!(
        "consultation-{}-closes@hamkori",
        consultation(&app, &w).await
    );
    let mut both = vec![long.clone(), short.clone()];
    both.sort();
    let day = "from=2026-03-01&to=2026-03-01";
    for filter in [
        format!("agency_id={}", w.host_agency),
        format!("organization_id={}", w.org_a),
        String::new(),
    ] {
        let mut seen = uids(&app, &format!("{day}&{filter}"), None).await;
        seen.sort();
        assert_eq!(seen, both, "{filter}");
    }
    // Beside it, a window the long period is open in but does not close in.
    assert_eq!(
        uids(
            &app,
            &format!("from=2025-03-01&to=2025-03-31&agency_id={}", w.host_agency),
            None
        )
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        uids(&app, &format!("{day}&agency_id={}", w.other_agency), None).await,
        Vec::<String>::new()
    );
}

#[actix_web::test]
async fn an_agencys_feed_holds_its_sub_agencies_events_unless_narrowed() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let directorate = id_of(
        &app.create_agency(
            &w.admin,
            json!({"name": "УМВД Согдийской области", "level": "regional", "kind": "law_enforcement",
                   "parent_id": w.host_agency}),
        )
        .await,
    );
    // A hearing that invites only the directorate, beside one that invites the ministry itself.
    let res = app
        .post("/api/v1/hearings", Some(&w.ngo_a), &json!({
            "title": "Слушания в Худжанде", "status": "planned", "starts_on": "2026-04-03",
            "location": "Худжанд", "region_code": "TJ-SU", "organizer_ids": [w.org_a],
            "invited_agencies": [{"agency_id": directorate, "attended": false}], "visibility": "public"
        }))
        .await;
    res.assert_status(201);
    let regional = format!("hearing-{}@hamkori", id_of(&res.json()));
    let national = format!(
        "hearing-{}@hamkori",
        hearing(&app, &w, "2026-04-02", "public").await
    );
    let mut both = vec![regional.clone(), national.clone()];
    both.sort();
    let ministry = format!("{YEAR}&kind=hearing&agency_id={}", w.host_agency);
    assert_eq!(
        uids(&app, &ministry, None).await,
        both,
        "with its directorate"
    );
    assert_eq!(
        uids(&app, &format!("{ministry}&include_subagencies=false"), None).await,
        [national],
        "the ministry alone"
    );
    assert_eq!(
        uids(&app, &format!("{YEAR}&agency_id={directorate}"), None).await,
        [regional],
        "the directorate has no sub-agencies; its parent's events are not its own"
    );
    // The organisation filter narrows the same way the agency one does: both given, both must hold.
    assert_eq!(
        uids(
            &app,
            &format!("{ministry}&organization_id={}", w.org_a),
            None
        )
        .await,
        both,
        "organisation A organised both"
    );
    assert_eq!(
        uids(
            &app,
            &format!("{ministry}&organization_id={}", w.org_b),
            None
        )
        .await,
        Vec::<String>::new()
    );
}
