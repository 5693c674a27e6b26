//! Every role against every endpoint of councils, meetings, engagements and recommendations.
//! A refused request must leave the database exactly as it was.

use serde_json::{Value, json};

use uuid::Uuid;

use crate::support::{Response, TestApp, World};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    Anonymous,
    Analyst,
    NgoA,
    NgoB,
    SecretaryA,
    SecretaryB,
    OfficerHost,
    OfficerOther,
    Admin,
}

use Who::*;

const EVERYONE: [Who; 9] = [
    Anonymous,
    Analyst,
    NgoA,
    NgoB,
    SecretaryA,
    SecretaryB,
    OfficerHost,
    OfficerOther,
    Admin,
];

fn token(w: &World, who: Who) -> Option<&str> {
    Some(match who {
        Anonymous => return None,
        Analyst => &w.analyst,
        NgoA => &w.ngo_a,
        NgoB => &w.ngo_b,
        SecretaryA => &w.secretary_a,
        SecretaryB => &w.secretary_b,
        OfficerHost => &w.officer_host,
        OfficerOther => &w.officer_other,
        Admin => &w.admin,
    })
}

/// The expected status for each caller; `allowed` callers get `ok`, anonymous 401 (or `anon` for reads),
/// the callers in `hidden` 404, everyone else 403.
struct Rule<'a> {
    allowed: &'a [Who],
    ok: u16,
    hidden: &'a [Who],
    anon: u16,
    /// Callers not tried in this row (tried in another).
    skip: &'a [Who],
}

impl Rule<'_> {
    fn expect(&self, who: Who) -> u16 {
        if self.allowed.contains(&who) {
            self.ok
        } else if who == Anonymous {
            self.anon
        } else if self.hidden.contains(&who) {
            404
        } else {
            403
        }
    }
}

async fn run(app: &TestApp, w: &World, method: &str, path: &str, body: Value, rule: Rule<'_>) {
    // Refused callers first (each must change nothing), then the allowed ones (each must get the record and,
    // when writing, change something: so "nothing changed" above is a refusal, not a request that does nothing).
    let mut order: Vec<Who> = EVERYONE
        .iter()
        .copied()
        .filter(|w| !rule.allowed.contains(w) && !rule.skip.contains(w))
        .collect();
    order.extend(rule.allowed.iter().copied());
    for who in order {
        let before = app.snapshot().await;
        let t = token(w, who);
        let res = match method {
            "GET" => app.get(path, t).await,
            "POST" => app.post(path, t, &body).await,
            "PATCH" => app.patch_read(path, t, &body).await,
            "DELETE" => app.delete_read(path, t).await,
            "PUT" => app.put(path, t, &body).await,
            other => panic!("method {other}"),
        };
        let expected = rule.expect(who);
        assert_eq!(
            res.status.as_u16(),
            expected,
            "{method} {path} as {who:?}: {}",
            res.text()
        );
        let changes = app.snapshot().await.changes_from(&before);
        if expected >= 400 {
            assert!(
                changes.is_empty(),
                "{method} {path} as {who:?} changed the database:\n{}",
                changes.join("\n")
            );
            continue;
        }
        if method == "GET" {
            check_read(&res, path, who);
            continue;
        }
        assert!(
            !changes.is_empty(),
            "{method} {path} as {who:?} answered {expected} but wrote nothing"
        );
        match method {
            "DELETE" => {
                app.get(path, Some(&w.admin)).await.assert_problem(404);
            }
            // A submission's answer is the `response` part of the submission.
            "PUT" if path.ends_with("/response") => assert_shows(
                &res.json()["response"],
                &body,
                &format!("{path} as {who:?}"),
            ),
            _ => assert_shows(&res.json(), &body, &format!("{method} {path} as {who:?}")),
        }
    }
}

/// A permitted read answers what was asked for: the record of the path's id, or a page.
fn check_read(res: &Response, path: &str, who: Who) {
    let last = path.rsplit('/').next().unwrap_or_default();
    match last.parse::<Uuid>() {
        Ok(id) => {
            res.assert_record(id);
        }
        Err(_) => {
            let body = res.json();
            assert!(
                body["items"].is_array() && body.get("next_cursor").is_some(),
                "GET {path} as {who:?} is no page: {body}"
            );
        }
    }
}

/// Every field sent comes back as sent (objects may carry more fields than were sent).
#[track_caller]
fn assert_shows(actual: &Value, sent: &Value, context: &str) {
    fn shows(actual: &Value, sent: &Value) -> bool {
        match (actual, sent) {
            (Value::Object(a), Value::Object(s)) => {
                s.iter().all(|(k, v)| a.get(k).is_some_and(|a| shows(a, v)))
            }
            (Value::Array(a), Value::Array(s)) => {
                a.len() == s.len() && a.iter().zip(s).all(|(a, s)| shows(a, s))
            }
            _ => actual == sent,
        }
    }
    assert!(shows(actual, sent), "{context}: sent {sent}, got {actual}");
}

/// The ids of a list as one caller sees it.
async fn listed(app: &TestApp, w: &World, path: &str, who: Who) -> Vec<String> {
    app.get(path, token(w, who)).await.item_ids()
}

#[actix_web::test]
async fn every_role_against_every_engagement_endpoint() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let (ca, cb, m, restricted, r) = (
        w.council_a,
        w.council_b,
        w.meeting,
        w.restricted,
        w.recommendation,
    );
    let none: &[Who] = &[];
    let readers = [
        Analyst,
        NgoA,
        NgoB,
        SecretaryA,
        SecretaryB,
        OfficerHost,
        OfficerOther,
        Admin,
    ];
    let restricted_audience = [SecretaryA, Admin];
    // Organisation A only attends: attendance is no ownership, so the restricted meeting stays hidden from it.
    let outside_restricted = [Analyst, NgoA, NgoB, SecretaryB, OfficerHost, OfficerOther];

    // Directory reads are public.
    for path in [
        "/api/v1/councils".to_owned(),
        format!("/api/v1/councils/{ca}"),
        format!("/api/v1/councils/{ca}/members"),
    ] {
        run(
            &app,
            &w,
            "GET",
            &path,
            Value::Null,
            Rule {
                allowed: &EVERYONE,
                ok: 200,
                hidden: none,
                anon: 200,
                skip: none,
            },
        )
        .await;
    }
    // Internal engagements: every signed-in user; anonymous readers get 404.
    for path in [
        format!("/api/v1/meetings/{m}"),
        format!("/api/v1/engagements/{m}"),
        format!("/api/v1/recommendations/{r}"),
    ] {
        run(
            &app,
            &w,
            "GET",
            &path,
            Value::Null,
            Rule {
                allowed: &readers,
                ok: 200,
                hidden: none,
                anon: 404,
                skip: none,
            },
        )
        .await;
    }
    // Restricted: only the council's secretary and admins (attending organisation A is no owner, see above).
    for path in [
        format!("/api/v1/meetings/{restricted}"),
        format!("/api/v1/engagements/{restricted}"),
    ] {
        run(
            &app,
            &w,
            "GET",
            &path,
            Value::Null,
            Rule {
                allowed: &restricted_audience,
                ok: 200,
                hidden: &outside_restricted,
                anon: 404,
                skip: none,
            },
        )
        .await;
    }
    for path in [
        "/api/v1/engagements",
        "/api/v1/meetings",
        "/api/v1/recommendations",
    ] {
        run(
            &app,
            &w,
            "GET",
            path,
            Value::Null,
            Rule {
                allowed: &EVERYONE,
                ok: 200,
                hidden: none,
                anon: 200,
                skip: none,
            },
        )
        .await;
    }
    // The lists show each caller exactly what the reads above let it open: the 404s are about the caller.
    for who in EVERYONE {
        let (reads, reads_restricted) =
            (readers.contains(&who), restricted_audience.contains(&who));
        for path in ["/api/v1/engagements", "/api/v1/meetings"] {
            let ids = listed(&app, &w, path, who).await;
            assert_eq!(ids.contains(&m.to_string()), reads, "{path} as {who:?}");
            assert_eq!(
                ids.contains(&restricted.to_string()),
                reads_restricted,
                "{path} as {who:?}"
            );
        }
        let ids = listed(&app, &w, "/api/v1/recommendations", who).await;
        assert_eq!(ids.contains(&r.to_string()), reads, "as {who:?}");
    }

    // Councils: admins create; admins and the council's secretaries edit.
    run(
        &app,
        &w,
        "POST",
        "/api/v1/councils",
        json!({"name": "Новый совет", "kind": "expert_council", "level": "national"}),
        Rule {
            allowed: &[Admin],
            ok: 201,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "PATCH",
        &format!("/api/v1/councils/{ca}"),
        json!({"description": "Описание"}),
        Rule {
            allowed: &[SecretaryA, Admin],
            ok: 200,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "POST",
        &format!("/api/v1/councils/{ca}/members"),
        json!({"agency_id": w.other_agency, "role": "observer"}),
        Rule {
            allowed: &[SecretaryA, Admin],
            ok: 201,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;

    // Meetings: the council's secretary and admins.
    run(
        &app,
        &w,
        "POST",
        &format!("/api/v1/councils/{ca}/meetings"),
        json!({"title": "Заседание", "starts_at": "2026-12-01T10:00:00Z"}),
        Rule {
            allowed: &[SecretaryA, Admin],
            ok: 201,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "PATCH",
        &format!("/api/v1/meetings/{m}"),
        json!({"location": "Хукумат"}),
        Rule {
            allowed: &[SecretaryA, Admin],
            ok: 200,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "PATCH",
        &format!("/api/v1/meetings/{restricted}"),
        json!({"location": "Хукумат"}),
        Rule {
            allowed: &[SecretaryA, Admin],
            ok: 200,
            hidden: &outside_restricted,
            anon: 401,
            skip: none,
        },
    )
    .await;

    // Recommendations: issued and edited by whoever may change the engagement.
    run(
        &app,
        &w,
        "POST",
        &format!("/api/v1/engagements/{m}/recommendations"),
        json!({"text": "Рекомендация", "addressed_to_agency_id": w.host_agency}),
        Rule {
            allowed: &[SecretaryA, Admin],
            ok: 201,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "PATCH",
        &format!("/api/v1/recommendations/{r}"),
        json!({"priority": "high"}),
        Rule {
            allowed: &[SecretaryA, Admin],
            ok: 200,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    // Answers: the addressed agency's officer (then an admin, moving it further).
    run(
        &app,
        &w,
        "POST",
        &format!("/api/v1/recommendations/{r}/status"),
        json!({"status": "acknowledged"}),
        Rule {
            allowed: &[OfficerHost],
            ok: 200,
            hidden: none,
            anon: 401,
            skip: &[Admin],
        },
    )
    .await;
    run(
        &app,
        &w,
        "POST",
        &format!("/api/v1/recommendations/{r}/status"),
        json!({"status": "in_progress"}),
        Rule {
            allowed: &[Admin],
            ok: 200,
            hidden: none,
            anon: 401,
            skip: &[OfficerHost],
        },
    )
    .await;

    // Deletes: the council's secretary deletes a meeting; only admins delete councils (referenced → 409).
    run(
        &app,
        &w,
        "DELETE",
        &format!("/api/v1/meetings/{restricted}"),
        Value::Null,
        Rule {
            allowed: &[SecretaryA],
            ok: 204,
            hidden: &outside_restricted,
            anon: 401,
            skip: &[Admin],
        },
    )
    .await;
    run(
        &app,
        &w,
        "DELETE",
        &format!("/api/v1/councils/{cb}"),
        Value::Null,
        Rule {
            allowed: &[Admin],
            ok: 409,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
}

#[actix_web::test]
async fn every_role_against_every_hearing_and_consultation_endpoint() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let none: &[Who] = &[];
    let readers = [
        Analyst,
        NgoA,
        NgoB,
        SecretaryA,
        SecretaryB,
        OfficerHost,
        OfficerOther,
        Admin,
    ];
    let hearing_body = json!({"title": "Слушания", "starts_on": "2026-04-02", "organizer_ids": [w.org_a],
                              "invited_agencies": [{"agency_id": w.host_agency}]});
    let res = app
        .post("/api/v1/hearings", Some(&w.ngo_a), &hearing_body)
        .await;
    res.assert_status(201);
    let h = crate::support::id_of(&res.json());
    let consultation_body = json!({"title": "Проект закона", "act_type": "law", "responsible_agency_id": w.host_agency,
                                   "level": "national", "opens_on": "2026-02-01", "closes_on": "2026-03-01"});
    let res = app
        .post("/api/v1/consultations", Some(&w.ngo_a), &consultation_body)
        .await;
    res.assert_status(201);
    let c = crate::support::id_of(&res.json());
    let res = app
        .post(
            &format!("/api/v1/consultations/{c}/submissions"),
            Some(&w.ngo_a),
            &json!({"organization_ids": [w.org_a], "proposal": "Предложение"}),
        )
        .await;
    res.assert_status(201);
    let s = crate::support::id_of(&res.json());

    for path in [
        format!("/api/v1/hearings/{h}"),
        format!("/api/v1/consultations/{c}"),
        format!("/api/v1/submissions/{s}"),
        format!("/api/v1/consultations/{c}/submissions"),
    ] {
        run(
            &app,
            &w,
            "GET",
            &path,
            Value::Null,
            Rule {
                allowed: &readers,
                ok: 200,
                hidden: none,
                anon: 404,
                skip: none,
            },
        )
        .await;
    }
    for path in [
        "/api/v1/hearings",
        "/api/v1/consultations",
        "/api/v1/submissions",
    ] {
        run(
            &app,
            &w,
            "GET",
            path,
            Value::Null,
            Rule {
                allowed: &EVERYONE,
                ok: 200,
                hidden: none,
                anon: 200,
                skip: none,
            },
        )
        .await;
    }
    for who in EVERYONE {
        for (path, id) in [
            ("/api/v1/hearings", h),
            ("/api/v1/consultations", c),
            ("/api/v1/submissions", s),
        ] {
            let ids = listed(&app, &w, path, who).await;
            assert_eq!(
                ids.contains(&id.to_string()),
                who != Anonymous,
                "{path} as {who:?}: internal records are for signed-in readers"
            );
        }
    }
    run(
        &app,
        &w,
        "POST",
        "/api/v1/hearings",
        hearing_body,
        Rule {
            allowed: &[NgoA, Admin],
            ok: 201,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "PATCH",
        &format!("/api/v1/hearings/{h}"),
        json!({"findings": "Выводы"}),
        Rule {
            allowed: &[NgoA, Admin],
            ok: 200,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "POST",
        &format!("/api/v1/engagements/{h}/recommendations"),
        json!({"text": "Рекомендация", "addressed_to_agency_id": w.host_agency}),
        Rule {
            allowed: &[NgoA, Admin],
            ok: 201,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "POST",
        "/api/v1/consultations",
        consultation_body,
        Rule {
            allowed: &[NgoA, NgoB, Admin],
            ok: 201,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "PATCH",
        &format!("/api/v1/consultations/{c}"),
        json!({"status": "closed"}),
        Rule {
            allowed: &[NgoA, Admin],
            ok: 200,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "POST",
        &format!("/api/v1/consultations/{c}/submissions"),
        json!({"organization_ids": [w.org_a], "proposal": "Ещё"}),
        Rule {
            allowed: &[NgoA, Admin],
            ok: 201,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "PATCH",
        &format!("/api/v1/submissions/{s}"),
        json!({"rationale": "Потому что"}),
        Rule {
            allowed: &[NgoA, Admin],
            ok: 200,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "PUT",
        &format!("/api/v1/submissions/{s}/response"),
        json!({"status": "accepted"}),
        Rule {
            // The NGO reports the answer it got before the agency records its own, which an NGO's report may
            // then no longer replace (see `provenance`).
            allowed: &[NgoA, OfficerHost, Admin],
            ok: 200,
            hidden: none,
            anon: 401,
            skip: none,
        },
    )
    .await;
    run(
        &app,
        &w,
        "DELETE",
        &format!("/api/v1/submissions/{s}"),
        Value::Null,
        Rule {
            allowed: &[NgoA],
            ok: 204,
            hidden: none,
            anon: 401,
            skip: &[Admin],
        },
    )
    .await;
    run(
        &app,
        &w,
        "DELETE",
        &format!("/api/v1/hearings/{h}"),
        Value::Null,
        Rule {
            allowed: &[Admin],
            ok: 409,
            hidden: none,
            anon: 401,
            skip: &[NgoA],
        },
    )
    .await;
}
