//! Issue 9, "records people can trust", faults: a `ChaosProxy` between the pool and Postgres is cut under
//! concurrent load. While it is cut, requests get 503 problem+json with `Retry-After`; once it is restored the
//! first requests succeed without a restart; and writes retried under an `Idempotency-Key` land exactly once.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use actix_web::rt::time::sleep;
use actix_web::test::TestRequest;
use serde_json::json;

use crate::support::chaos::ChaosProxy;
use crate::support::{Response, TestApp};

/// Asserts the answer of a request the database could not serve.
#[track_caller]
fn assert_unavailable(res: &Response) {
    res.assert_problem(503);
    assert!(
        res.header("retry-after")
            .is_some_and(|s| s.parse::<u64>().is_ok()),
        "503 without a Retry-After in seconds: {:?}",
        res.headers
    );
    assert!(
        res.json()["request_id"].is_string(),
        "the problem names the request"
    );
}

#[actix_web::test]
async fn cutting_the_database_gives_503_with_retry_after_and_idempotent_writes_land_exactly_once() {
    let proxy = ChaosProxy::start().await;
    let app = TestApp::behind(&proxy, Duration::from_millis(500)).await;
    let admin = app.admin().await;
    app.get("/api/v1/organizations", None)
        .await
        .assert_status(200);

    const WRITERS: usize = 8;
    const WRITES_EACH: usize = 8;
    let acknowledged = Cell::new(0usize);
    let unavailable = Cell::new(0usize);
    let cut_over = Cell::new(false);
    // Per write: (name, final status).
    let outcomes: RefCell<Vec<(String, u16)>> = RefCell::default();

    let writer = |w: usize| {
        let (app, admin) = (&app, &admin);
        let (acknowledged, unavailable, cut_over, outcomes) =
            (&acknowledged, &unavailable, &cut_over, &outcomes);
        async move {
            for i in 0..WRITES_EACH {
                let name = format!("Chaos {w}-{i}");
                let key = format!("chaos-{w}-{i}");
                let started = Instant::now();
                let status = loop {
                    let res = app
                        .call(
                            TestRequest::post()
                                .uri("/api/v1/organizations")
                                .insert_header(("Authorization", format!("Bearer {admin}")))
                                .insert_header(("Idempotency-Key", key.clone()))
                                .set_json(json!({"name": name, "kind": "ngo"})),
                        )
                        .await;
                    match res.status.as_u16() {
                        201 => {
                            acknowledged.set(acknowledged.get() + 1);
                            break 201;
                        }
                        503 => {
                            assert_unavailable(&res);
                            unavailable.set(unavailable.get() + 1);
                        }
                        // The first attempt's claim is still held: released or answered once the database is
                        // back (or, when its change committed but its answer was lost, held for good).
                        409 => {}
                        other => panic!("{name}: {other} {}", res.text()),
                    }
                    if cut_over.get() && started.elapsed() > Duration::from_secs(15) {
                        break res.status.as_u16();
                    }
                    sleep(Duration::from_millis(20)).await;
                };
                outcomes.borrow_mut().push((name, status));
            }
        }
    };

    let chaos = async {
        // Cut while writes are in flight: some answered, most still to come.
        while acknowledged.get() < WRITERS {
            sleep(Duration::from_millis(2)).await;
        }
        proxy.cut();
        let cut_at = Instant::now();
        // Every kind of request is refused alike while the database is away: a read, an anonymous read, a write.
        assert_unavailable(&app.get("/api/v1/organizations", Some(&admin)).await);
        assert_unavailable(&app.get("/api/v1/agencies", None).await);
        assert_unavailable(
            &app.post(
                "/api/v1/agencies",
                Some(&admin),
                &json!({"name": "Not now", "level": "national", "kind": "ministry"}),
            )
            .await,
        );
        assert_unavailable(&app.get("/readyz", None).await);
        let before = unavailable.get();
        while unavailable.get() < before + WRITERS || cut_at.elapsed() < Duration::from_millis(200)
        {
            sleep(Duration::from_millis(5)).await;
        }
        proxy.restore();
        // The first requests after the cut succeed: the pool drops the broken connections and opens new ones.
        app.get("/api/v1/organizations", Some(&admin))
            .await
            .assert_status(200);
        app.get("/readyz", None).await.assert_status(200);
        cut_over.set(true);
    };

    let writers = futures_util::future::join_all((0..WRITERS).map(writer));
    tokio::join!(writers, chaos);

    assert!(unavailable.get() > 0, "the cut was felt");
    let outcomes = outcomes.into_inner();
    assert_eq!(outcomes.len(), WRITERS * WRITES_EACH);
    for (name, status) in &outcomes {
        let rows = app
            .count(&format!(
                "SELECT count(*) FROM organizations WHERE name = '{name}'"
            ))
            .await;
        match status {
            // Acknowledged: there, once.
            201 => assert_eq!(rows, 1, "{name} landed exactly once"),
            // Never answered: only a change that committed holds its key for good, and it is there once.
            _ => assert_eq!(rows, 1, "{name} (answer lost, status {status}) landed once"),
        }
    }
    let total = i64::try_from(WRITERS * WRITES_EACH).expect("count");
    assert_eq!(
        app.count("SELECT count(*) FROM organizations WHERE name LIKE 'Chaos %'")
            .await,
        total
    );
    assert_eq!(
        app.count("SELECT count(*) FROM audit_log WHERE entity_type = 'organization' AND action = 'create'")
            .await,
        total,
        "one audit row per write"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM organizations WHERE name = 'Not now'")
            .await
            + app
                .count("SELECT count(*) FROM agencies WHERE name = 'Not now'")
                .await,
        0
    );
    let lost = outcomes.iter().filter(|(_, s)| *s != 201).count();
    eprintln!(
        "{} writes, {} answers lost to the cut, {} 503s",
        outcomes.len(),
        lost,
        unavailable.get()
    );
}
