//! Issue 9: failed-login throttling per account and client address, so guesses cannot lock the owner out from
//! everywhere; `X-Forwarded-For` is believed only from a configured proxy.

use std::net::SocketAddr;

use actix_web::test::TestRequest;
use hamkori::auth::Role;
use hamkori::config::AuthSettings;
use hamkori::users::model::{CreateUser, create_with_password};
use serde_json::json;

use crate::support::{Response, TestApp};

const EMAIL: &str = "victim@example.tj";
const PASSWORD: &str = "the right password";
const ATTACKER: &str = "203.0.113.10";
const VICTIM: &str = "198.51.100.20";
const PROXY: &str = "10.0.0.1";

/// An app that trusts the proxies in 10.0.0.0/8, with the victim's account.
async fn app() -> TestApp {
    let app = TestApp::with_settings(AuthSettings {
        trusted_proxies: vec![hamkori::config::parse_proxy("10.0.0.0/8").expect("cidr")],
        ..Default::default()
    })
    .await;
    let request = CreateUser {
        email: EMAIL.to_owned(),
        display_name: "Victim".to_owned(),
        role: Role::Analyst,
        organization_id: None,
        agency_id: None,
        council_ids: Vec::new(),
        password: PASSWORD.to_owned(),
    };
    create_with_password(app.pool(), &request)
        .await
        .expect("user");
    app
}

/// A login from `peer`, with an optional `X-Forwarded-For`. A 503 (every password verifier busy, as when a test
/// that floods logins runs alongside) is not counted by the server, and retried here as a client would.
async fn login(app: &TestApp, peer: &str, forwarded: Option<&str>, password: &str) -> Response {
    let peer: SocketAddr = format!("{peer}:40000").parse().expect("peer");
    for _ in 0..30 {
        let mut req = TestRequest::post()
            .uri("/api/v1/auth/login")
            .peer_addr(peer)
            .set_json(json!({"email": EMAIL, "password": password}));
        if let Some(forwarded) = forwarded {
            req = req.insert_header(("X-Forwarded-For", forwarded));
        }
        let res = app.call(req).await;
        if res.status.as_u16() != 503 {
            return res;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the password verifiers stayed busy");
}

/// Five wrong guesses: each a 401.
async fn five_guesses(app: &TestApp, peer: &str, forwarded: Option<&str>) {
    for i in 0..5 {
        login(app, peer, forwarded, &format!("guess {i}"))
            .await
            .assert_problem(401);
    }
}

fn retry_after(res: &Response) -> u64 {
    res.assert_problem(429);
    res.header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After")
}

#[actix_web::test]
async fn guesses_from_one_client_lock_that_client_only() {
    let app = app().await;
    five_guesses(&app, ATTACKER, None).await;
    // The attacker is throttled, even with the right password...
    let wait = retry_after(&login(&app, ATTACKER, None, PASSWORD).await);
    assert!(wait > 0 && wait <= 15 * 60, "{wait}");
    // ...while the owner signs in from elsewhere, and doing so does not lift the attacker's throttle.
    login(&app, VICTIM, None, PASSWORD).await.assert_status(200);
    retry_after(&login(&app, ATTACKER, None, PASSWORD).await);
}

#[actix_web::test]
async fn a_spoofed_forwarded_for_from_an_untrusted_peer_is_ignored() {
    let app = app().await;
    // Each guess claims another client; the peer is no proxy, so all count against the peer.
    for i in 0..5 {
        login(&app, ATTACKER, Some(&format!("192.0.2.{i}")), "guess")
            .await
            .assert_problem(401);
    }
    retry_after(&login(&app, ATTACKER, Some("192.0.2.77"), PASSWORD).await);
    // Nor can the attacker spend the victim's allowance by naming the victim's address.
    login(&app, VICTIM, None, PASSWORD).await.assert_status(200);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM login_failures WHERE client = '{ATTACKER}'"
        ))
        .await,
        5
    );
}

#[actix_web::test]
async fn a_forwarded_for_from_a_trusted_proxy_names_the_client() {
    let app = app().await;
    five_guesses(&app, PROXY, Some(ATTACKER)).await;
    retry_after(&login(&app, PROXY, Some(ATTACKER), PASSWORD).await);
    // An entry the attacker wrote in front of what the proxy appended is not believed.
    retry_after(
        &login(
            &app,
            PROXY,
            Some(&format!("{VICTIM}, {ATTACKER}")),
            PASSWORD,
        )
        .await,
    );
    // The victim behind the same proxy signs in, and through a chain of two trusted proxies too.
    login(&app, PROXY, Some(VICTIM), PASSWORD)
        .await
        .assert_status(200);
    login(
        &app,
        "10.9.9.9",
        Some(&format!("{VICTIM}, 10.0.0.2")),
        PASSWORD,
    )
    .await
    .assert_status(200);
}

#[actix_web::test]
async fn attempts_while_throttled_are_not_counted_and_do_not_extend_the_lock() {
    let app = app().await;
    five_guesses(&app, ATTACKER, None).await;
    let first = retry_after(&login(&app, ATTACKER, None, "guess").await);
    for _ in 0..10 {
        let wait = retry_after(&login(&app, ATTACKER, None, "guess").await);
        assert!(wait <= first, "the wait grew from {first} to {wait}");
    }
    assert_eq!(app.count("SELECT count(*) FROM login_failures").await, 5);
    // Once the five failures leave the 15-minute window, the right password gets in at once.
    app.execute("UPDATE login_failures SET attempted_at = attempted_at - interval '15 minutes'")
        .await;
    login(&app, ATTACKER, None, PASSWORD)
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn past_the_account_ceiling_only_clients_known_to_the_account_may_try() {
    let app = app().await;
    // The owner has signed in from their address before.
    login(&app, VICTIM, None, PASSWORD).await.assert_status(200);
    // Guesses spread over a hundred addresses: none is throttled by itself, the account reaches its ceiling.
    app.execute(&format!(
        "INSERT INTO login_failures (email, client) SELECT '{EMAIL}', '192.0.2.' || g FROM generate_series(1, 100) g"
    ))
    .await;
    retry_after(&login(&app, "203.0.113.99", None, PASSWORD).await);
    login(&app, VICTIM, None, PASSWORD).await.assert_status(200);
}

#[actix_web::test]
async fn ipv6_clients_are_throttled_by_their_64() {
    let app = app().await;
    for i in 0..5 {
        login(&app, &format!("[2001:db8:1:2::{i}]"), None, "guess")
            .await
            .assert_problem(401);
    }
    retry_after(&login(&app, "[2001:db8:1:2::ffff]", None, PASSWORD).await);
    login(&app, "[2001:db8:1:3::1]", None, PASSWORD)
        .await
        .assert_status(200);
}
