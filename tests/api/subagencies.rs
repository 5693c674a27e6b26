//! Agency filters take in the agency's sub-agencies at any depth unless `include_subagencies=false`: every list
//! with an agency filter, read whole and walked one record a page, never repeating a record.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::{TestApp, World, id_of};

/// МВД → УМВД по Согдийской области → ОВД г. Худжанд, and an agency outside that tree (the tallies tests use it
/// too).
pub struct Tree {
    pub parent: Uuid,
    pub child: Uuid,
    pub grandchild: Uuid,
    pub unrelated: Uuid,
}

impl Tree {
    pub async fn build(app: &TestApp, admin: &str) -> Self {
        let agency = async |name: &str, parent: Option<Uuid>| {
            id_of(
                &app.create_agency(
                    admin,
                    json!({"name": name, "level": "regional", "kind": "law_enforcement", "parent_id": parent}),
                )
                .await,
            )
        };
        let parent = agency("Министерство внутренних дел РТ", None).await;
        let child = agency("УМВД по Согдийской области", Some(parent)).await;
        let grandchild = agency("ОВД г. Худжанд", Some(child)).await;
        let unrelated = agency("Агентство по контролю за наркотиками", None).await;
        Self {
            parent,
            child,
            grandchild,
            unrelated,
        }
    }
}

/// The records of one list that belong to each agency of the tree (a record of two agencies is in both).
#[derive(Default)]
struct Owned {
    parent: Vec<Uuid>,
    child: Vec<Uuid>,
    grandchild: Vec<Uuid>,
    unrelated: Vec<Uuid>,
}

fn set<'a>(parts: impl IntoIterator<Item = &'a Vec<Uuid>>) -> BTreeSet<Uuid> {
    parts.into_iter().flatten().copied().collect()
}

fn ids_of(body: &Value) -> Vec<Uuid> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("not a page: {body}"))
        .iter()
        .map(id_of)
        .collect()
}

/// The ids a list gives (`path` has a query string), read as one page and walked one record a page: both must
/// give each record exactly once, and the same records.
async fn listed(app: &TestApp, token: &str, path: &str) -> BTreeSet<Uuid> {
    let whole = app.get(&format!("{path}&limit=200"), Some(token)).await;
    whole.assert_status(200);
    let whole = ids_of(&whole.json());
    let mut walked = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let uri = match &cursor {
            Some(c) => format!("{path}&limit=1&cursor={c}"),
            None => format!("{path}&limit=1"),
        };
        let res = app.get(&uri, Some(token)).await;
        res.assert_status(200);
        let body = res.json();
        walked.extend(ids_of(&body));
        assert!(walked.len() <= whole.len(), "{path}: the walk goes on");
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let once: BTreeSet<Uuid> = whole.iter().copied().collect();
    assert_eq!(
        once.len(),
        whole.len(),
        "{path}: a record twice on one page"
    );
    assert_eq!(
        walked, whole,
        "{path}: the walk one a page differs from the page"
    );
    once
}

/// Checks one list's agency filter `param` over the tree: the default takes in child and grandchild records,
/// `include_subagencies=true` is the default, `false` keeps the agency's own, and the unrelated agency's records
/// come only when it is asked for.
async fn assert_filter(
    app: &TestApp,
    token: &str,
    list: &str,
    param: &str,
    tree: &Tree,
    owned: &Owned,
) {
    let path = |agency: Uuid, flag: &str| format!("{list}?{param}={agency}{flag}");
    let cases = [
        (
            tree.parent,
            "",
            set([&owned.parent, &owned.child, &owned.grandchild]),
        ),
        (
            tree.parent,
            "&include_subagencies=true",
            set([&owned.parent, &owned.child, &owned.grandchild]),
        ),
        (
            tree.parent,
            "&include_subagencies=false",
            set([&owned.parent]),
        ),
        (tree.child, "", set([&owned.child, &owned.grandchild])),
        (
            tree.child,
            "&include_subagencies=false",
            set([&owned.child]),
        ),
        (tree.grandchild, "", set([&owned.grandchild])),
        (
            tree.grandchild,
            "&include_subagencies=false",
            set([&owned.grandchild]),
        ),
        (tree.unrelated, "", set([&owned.unrelated])),
    ];
    let tree_records = set([&owned.parent, &owned.child, &owned.grandchild]);
    let outside: Vec<Uuid> = owned
        .unrelated
        .iter()
        .filter(|id| !tree_records.contains(id))
        .copied()
        .collect();
    assert!(!outside.is_empty(), "{list}: no record outside the tree");
    // The statistic of the list, if it has one, and its measure that counts the list's records.
    let statistic = match list {
        "/api/v1/engagements" => Some(("/api/v1/stats/engagements", "count")),
        "/api/v1/recommendations" => Some(("/api/v1/stats/recommendations", "total")),
        "/api/v1/submissions" => Some(("/api/v1/stats/consultations", "submissions")),
        "/api/v1/grants" => Some(("/api/v1/stats/grants", "count")),
        "/api/v1/monitoring-visits" => Some(("/api/v1/stats/monitoring", "visits")),
        _ => None,
    };
    for (agency, flag, expected) in cases {
        let path = path(agency, flag);
        assert!(!expected.is_empty(), "{path}: nothing to find");
        let got = listed(app, token, &path).await;
        assert_eq!(got, expected, "{path}");
        if let Some((stats, measure)) = statistic {
            let uri = format!("{stats}?{param}={agency}{flag}");
            let res = app.get(&uri, Some(token)).await;
            res.assert_status(200);
            assert_eq!(
                res.json()["totals"][measure],
                json!(expected.len()),
                "{uri} counts what {path} lists"
            );
        }
        for id in &outside {
            assert_eq!(
                got.contains(id),
                agency == tree.unrelated,
                "{path}: the unrelated agency's record {id}"
            );
        }
    }
}

/// A hearing organised by `organizer` (through `token`) that invites these agencies; its id.
async fn hearing(
    app: &TestApp,
    token: &str,
    organizer: Uuid,
    day: &str,
    agencies: &[Uuid],
) -> Uuid {
    let invited: Vec<Value> = agencies
        .iter()
        .map(|a| json!({"agency_id": a, "attended": true}))
        .collect();
    let res = app
        .post("/api/v1/hearings", Some(token), &json!({
            "title": format!("Слушания {day}"), "status": "held", "starts_on": day, "location": "Худжанд",
            "region_code": "TJ-SU", "organizer_ids": [organizer], "invited_agencies": invited, "visibility": "public"
        }))
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

#[actix_web::test]
async fn an_engagement_filter_by_agency_takes_in_sub_agencies_and_lists_each_engagement_once() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let tree = Tree::build(&app, &w.admin).await;
    let mut owned = Owned::default();
    let days = ["2026-05-01", "2026-04-01", "2026-03-01", "2026-02-01"];
    for (day, agency, list) in [
        (days[0], tree.parent, &mut owned.parent),
        (days[1], tree.child, &mut owned.child),
        (days[2], tree.grandchild, &mut owned.grandchild),
        (days[3], tree.unrelated, &mut owned.unrelated),
    ] {
        list.push(hearing(&app, &w.ngo_a, w.org_a, day, &[agency]).await);
    }
    // Parent and child invited together, on the same day as the parent's own (so the keyset tie-break on the id
    // is walked too): one engagement, two timeline rows of the subtree.
    let both = hearing(&app, &w.ngo_a, w.org_a, days[0], &[tree.parent, tree.child]).await;
    owned.parent.push(both);
    owned.child.push(both);
    // The grandchild and the unrelated agency together: in the grandchild's lists and the unrelated one's.
    let mixed = hearing(
        &app,
        &w.ngo_a,
        w.org_a,
        days[2],
        &[tree.grandchild, tree.unrelated],
    )
    .await;
    owned.grandchild.push(mixed);
    owned.unrelated.push(mixed);

    assert_filter(
        &app,
        &w.admin,
        "/api/v1/engagements",
        "agency_id",
        &tree,
        &owned,
    )
    .await;
    assert_filter(
        &app,
        &w.admin,
        "/api/v1/hearings",
        "agency_id",
        &tree,
        &owned,
    )
    .await;

    let page = app
        .get(
            &format!("/api/v1/engagements?agency_id={}", tree.parent),
            Some(&w.admin),
        )
        .await;
    let ids = ids_of(&page.json());
    assert_eq!(ids.iter().filter(|id| **id == both).count(), 1, "{ids:?}");
    assert!(ids.contains(&owned.grandchild[0]), "{ids:?}");

    // With an organisation as well: the organisation's engagements among the subtree's.
    let elsewhere = hearing(&app, &w.ngo_b, w.org_b, days[1], &[tree.child]).await;
    let of_org = |org: Uuid, flag: &str| {
        format!(
            "/api/v1/engagements?agency_id={}&organization_id={org}{flag}",
            tree.parent
        )
    };
    let a = listed(&app, &w.admin, &of_org(w.org_a, "")).await;
    assert_eq!(a, set([&owned.parent, &owned.child, &owned.grandchild]));
    assert!(!a.contains(&elsewhere));
    let b = listed(&app, &w.admin, &of_org(w.org_b, "")).await;
    assert_eq!(b, BTreeSet::from([elsewhere]));
    let b_own = listed(
        &app,
        &w.admin,
        &of_org(w.org_b, "&include_subagencies=false"),
    )
    .await;
    assert!(
        b_own.is_empty(),
        "the child's hearing is not the parent's own"
    );

    // The export streams the same records through the same query.
    let export = app
        .get(
            &format!(
                "/api/v1/engagements?agency_id={}&format=ndjson",
                tree.parent
            ),
            Some(&w.admin),
        )
        .await;
    export.assert_status(200);
    let exported: Vec<Uuid> = export
        .text()
        .lines()
        .map(|line| id_of(&serde_json::from_str(line).expect("a JSON line")))
        .collect();
    let mut expected: Vec<Uuid> = set([&owned.parent, &owned.child, &owned.grandchild])
        .into_iter()
        .chain([elsewhere])
        .collect();
    expected.sort();
    let mut sorted = exported.clone();
    sorted.sort();
    assert_eq!(sorted, expected, "each record once: {exported:?}");
}

#[actix_web::test]
async fn recommendations_addressed_to_an_agency_take_in_its_sub_agencies() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let tree = Tree::build(&app, &w.admin).await;
    let source = hearing(&app, &w.ngo_a, w.org_a, "2026-04-02", &[tree.parent]).await;
    let mut owned = Owned::default();
    for (i, (agency, list)) in [
        (tree.parent, &mut owned.parent),
        (tree.child, &mut owned.child),
        (tree.grandchild, &mut owned.grandchild),
        (tree.unrelated, &mut owned.unrelated),
    ]
    .into_iter()
    .enumerate()
    {
        let res = app
            .post(
                &format!("/api/v1/engagements/{source}/recommendations"),
                Some(&w.admin),
                &json!({
                    "text": format!("Рекомендация №{i}"), "addressed_to_agency_id": agency,
                    "issued_on": "2026-04-02", "due_on": "2026-09-01"
                }),
            )
            .await;
        res.assert_status(201);
        list.push(id_of(&res.json()));
    }
    assert_filter(
        &app,
        &w.admin,
        "/api/v1/recommendations",
        "addressed_to_agency_id",
        &tree,
        &owned,
    )
    .await;
}

#[actix_web::test]
async fn consultations_and_submissions_of_a_responsible_agency_take_in_its_sub_agencies() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let tree = Tree::build(&app, &w.admin).await;
    let mut consultations = Owned::default();
    let mut submissions = Owned::default();
    for (i, agency) in [tree.parent, tree.child, tree.grandchild, tree.unrelated]
        .into_iter()
        .enumerate()
    {
        let res = app
            .post(
                "/api/v1/consultations",
                Some(&w.ngo_a),
                &json!({
                    "title": format!("Проект постановления №{i}"), "act_type": "local_act",
                    "responsible_agency_id": agency, "level": "regional", "region_code": "TJ-SU",
                    "opens_on": format!("2026-0{}-01", i + 1), "closes_on": "2026-12-01",
                    "draft_url": "https://example.tj/draft.pdf", "visibility": "public"
                }),
            )
            .await;
        res.assert_status(201);
        let consultation = id_of(&res.json());
        let res = app
            .post(
                &format!("/api/v1/consultations/{consultation}/submissions"),
                Some(&w.ngo_a),
                &json!({
                    "organization_ids": [w.org_a], "proposal": format!("Предложение №{i}"),
                    "submitted_on": format!("2026-0{}-15", i + 1)
                }),
            )
            .await;
        res.assert_status(201);
        let submission = id_of(&res.json());
        let (c, s) = match i {
            0 => (&mut consultations.parent, &mut submissions.parent),
            1 => (&mut consultations.child, &mut submissions.child),
            2 => (&mut consultations.grandchild, &mut submissions.grandchild),
            _ => (&mut consultations.unrelated, &mut submissions.unrelated),
        };
        c.push(consultation);
        s.push(submission);
    }
    assert_filter(
        &app,
        &w.admin,
        "/api/v1/consultations",
        "responsible_agency_id",
        &tree,
        &consultations,
    )
    .await;
    assert_filter(
        &app,
        &w.admin,
        "/api/v1/submissions",
        "responsible_agency_id",
        &tree,
        &submissions,
    )
    .await;
}

#[actix_web::test]
async fn grants_funded_by_an_agency_take_in_its_sub_agencies() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let tree = Tree::build(&app, &w.admin).await;
    let mut owned = Owned::default();
    for (i, (agency, list)) in [
        (tree.parent, &mut owned.parent),
        (tree.child, &mut owned.child),
        (tree.grandchild, &mut owned.grandchild),
        (tree.unrelated, &mut owned.unrelated),
    ]
    .into_iter()
    .enumerate()
    {
        let res = app
            .post("/api/v1/grants", Some(&w.ngo_a), &json!({
                "title": format!("Правовая помощь №{i}"), "support_type": "grant", "funder_agency_id": agency,
                "recipient_organization_id": w.org_a, "amount": "50000", "currency": "TJS",
                "awarded_on": "2026-02-01", "starts_on": format!("2026-0{}-01", i + 3), "visibility": "public"
            }))
            .await;
        res.assert_status(201);
        list.push(id_of(&res.json()));
    }
    assert_filter(
        &app,
        &w.admin,
        "/api/v1/grants",
        "funder_agency_id",
        &tree,
        &owned,
    )
    .await;
}

async fn facility(app: &TestApp, w: &World, name: &str, agency: Uuid) -> Uuid {
    let res = app
        .post(
            "/api/v1/facilities",
            Some(&w.admin),
            &json!({
                "name": name, "facility_type": "temporary_detention", "operating_agency_id": agency,
                "region_code": "TJ-SU"
            }),
        )
        .await;
    res.assert_status(201);
    id_of(&res.json())
}

#[actix_web::test]
async fn facilities_and_visits_of_an_operating_agency_take_in_its_sub_agencies() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let tree = Tree::build(&app, &w.admin).await;
    let mut facilities = Owned::default();
    let mut visits = Owned::default();
    for (i, (agency, name)) in [
        (tree.parent, "Центр временного содержания МВД"),
        (tree.child, "ИВС УМВД по Согдийской области"),
        (tree.grandchild, "ИВС ОВД г. Худжанд"),
        (tree.unrelated, "Реабилитационный центр АКН"),
    ]
    .into_iter()
    .enumerate()
    {
        let f = facility(&app, &w, name, agency).await;
        let res = app
            .post("/api/v1/monitoring-visits", Some(&w.ngo_a), &json!({
                "facility_id": f, "visited_on": format!("2026-0{}-10", i + 1), "announced": true,
                "monitor_organization_ids": [w.org_a], "status": "completed", "access": "granted",
                "visibility": "public"
            }))
            .await;
        res.assert_status(201);
        let v = id_of(&res.json());
        let (fs, vs) = match i {
            0 => (&mut facilities.parent, &mut visits.parent),
            1 => (&mut facilities.child, &mut visits.child),
            2 => (&mut facilities.grandchild, &mut visits.grandchild),
            _ => (&mut facilities.unrelated, &mut visits.unrelated),
        };
        fs.push(f);
        vs.push(v);
    }
    assert_filter(
        &app,
        &w.admin,
        "/api/v1/facilities",
        "operating_agency_id",
        &tree,
        &facilities,
    )
    .await;
    assert_filter(
        &app,
        &w.admin,
        "/api/v1/monitoring-visits",
        "operating_agency_id",
        &tree,
        &visits,
    )
    .await;
    // A facility's own visit list keeps its facility and narrows by the operator too.
    let own = facilities.grandchild[0];
    let of_facility =
        |agency: Uuid| format!("/api/v1/facilities/{own}/visits?operating_agency_id={agency}");
    assert_eq!(
        listed(&app, &w.admin, &of_facility(tree.parent)).await,
        set([&visits.grandchild])
    );
    assert!(
        listed(&app, &w.admin, &of_facility(tree.unrelated))
            .await
            .is_empty()
    );
}

#[actix_web::test]
async fn include_subagencies_that_is_not_a_boolean_is_a_problem_naming_it() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let tree = Tree::build(&app, &w.admin).await;
    let found = facility(&app, &w, "ИВС ОВД г. Худжанд", tree.grandchild).await;
    for (list, param) in [
        ("/api/v1/engagements", "agency_id"),
        ("/api/v1/hearings", "agency_id"),
        ("/api/v1/recommendations", "addressed_to_agency_id"),
        ("/api/v1/consultations", "responsible_agency_id"),
        ("/api/v1/submissions", "responsible_agency_id"),
        ("/api/v1/grants", "funder_agency_id"),
        ("/api/v1/facilities", "operating_agency_id"),
        ("/api/v1/monitoring-visits", "operating_agency_id"),
    ] {
        let path = format!("{list}?{param}={}&include_subagencies", tree.parent);
        app.get(&format!("{path}=false"), Some(&w.admin))
            .await
            .assert_status(200);
        for bad in ["notabool", "1", ""] {
            app.get(&format!("{path}={bad}"), Some(&w.admin))
                .await
                .assert_invalid("include_subagencies");
        }
    }
    // Beside the refusals: the same filter, well formed, finds the grandchild's facility from the top.
    let res = app
        .get(
            &format!(
                "/api/v1/facilities?operating_agency_id={}&include_subagencies=true",
                tree.parent
            ),
            Some(&w.admin),
        )
        .await;
    assert_eq!(ids_of(&res.json()), [found]);
}

/// A council filter by host agency (its list and its statistic) takes in councils hosted by sub-agencies.
#[actix_web::test]
async fn councils_hosted_by_an_agency_take_in_its_sub_agencies() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let tree = Tree::build(&app, &w.admin).await;
    let mut owned = Owned::default();
    for (i, (agency, list)) in [
        (tree.parent, &mut owned.parent),
        (tree.child, &mut owned.child),
        (tree.grandchild, &mut owned.grandchild),
        (tree.unrelated, &mut owned.unrelated),
    ]
    .into_iter()
    .enumerate()
    {
        let res = app
            .post("/api/v1/councils", Some(&w.admin), &json!({
                "name": format!("Общественный совет №{i}"), "kind": "public_council", "level": "regional",
                "host_agency_id": agency, "visibility": "public"
            }))
            .await;
        res.assert_status(201);
        list.push(id_of(&res.json()));
    }
    for (agency, flag, expected) in [
        (tree.parent, "", 3),
        (tree.parent, "&include_subagencies=false", 1),
        (tree.child, "", 2),
        (tree.unrelated, "", 1),
    ] {
        let list = app
            .get(
                &format!("/api/v1/councils?host_agency_id={agency}{flag}&limit=200"),
                None,
            )
            .await;
        list.assert_status(200);
        let ids = ids_of(&list.json());
        assert_eq!(ids.len(), expected, "{agency}{flag}: {ids:?}");
        let stats = app
            .get(
                &format!("/api/v1/stats/councils?host_agency_id={agency}{flag}"),
                None,
            )
            .await;
        stats.assert_status(200);
        assert_eq!(stats.json()["totals"]["councils"], json!(expected));
    }
    let hosted_by_parent = app
        .get(
            &format!(
                "/api/v1/councils?host_agency_id={}&include_subagencies=false",
                tree.parent
            ),
            None,
        )
        .await;
    assert_eq!(ids_of(&hosted_by_parent.json()), owned.parent);
}
