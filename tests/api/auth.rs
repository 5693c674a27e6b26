//! Login, refresh rotation, logout, lock-out after repeated failures, token validation.

use hamkori::auth::Role;
use hamkori::users::model::{CreateUser, create_with_password};
use serde_json::json;

use crate::support::TestApp;

async fn registered(app: &TestApp, email: &str, password: &str) {
    let request = CreateUser {
        email: email.to_owned(),
        display_name: "Test".to_owned(),
        role: Role::Analyst,
        organization_id: None,
        agency_id: None,
        council_ids: Vec::new(),
        password: password.to_owned(),
    };
    create_with_password(app.pool(), &request)
        .await
        .expect("user");
}

#[actix_web::test]
async fn login_me_refresh_rotation_and_logout() {
    let app = TestApp::new().await;
    registered(&app, "analyst@example.tj", "a long passphrase").await;
    let res = app
        .login(&json!({"email": "Analyst@example.tj", "password": "a long passphrase"}))
        .await;
    res.assert_status(200);
    let pair = res.json();
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    let access = pair["access_token"].as_str().expect("access").to_owned();
    let refresh = pair["refresh_token"].as_str().expect("refresh").to_owned();

    let me = app.get("/api/v1/auth/me", Some(&access)).await;
    me.assert_status(200);
    assert_eq!(me.json()["email"], "analyst@example.tj");
    assert_eq!(me.header("cache-control").as_deref(), Some("no-store"));

    let rotated = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    rotated.assert_status(200);
    let new_refresh = rotated.json()["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    assert_ne!(new_refresh, refresh);
    // The old token is spent; presenting it again after the grace window (a retry within it gets a pair:
    // `sessions::a_refresh_token_presented_twice_within_the_grace_window_gets_a_working_pair`) also revokes
    // the whole family: the one write a refused request makes on purpose (the snapshot covers refresh_tokens,
    // so it must be exactly this).
    app.execute("UPDATE refresh_tokens SET revoked_at = revoked_at - interval '11 seconds' WHERE revoked_at IS NOT NULL")
        .await;
    let before = app.snapshot().await;
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401);
    let changes = app.snapshot().await.changes_from(&before);
    assert_eq!(changes.len(), 2, "{changes:#?}");
    assert!(
        changes.iter().all(|c| c.starts_with("refresh_tokens: ")),
        "{changes:#?}"
    );
    assert_eq!(
        app.count("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL")
            .await,
        0,
        "the rotated token is revoked with its family"
    );
    let before = app.snapshot().await;
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": new_refresh}),
    )
    .await
    .assert_problem(401);
    app.snapshot().await.assert_unchanged_from(&before);

    let again = app
        .login(&json!({"email": "analyst@example.tj", "password": "a long passphrase"}))
        .await;
    let refresh = again.json()["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_owned();
    app.post(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_status(204);
    let before = app.snapshot().await;
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401);
    app.snapshot().await.assert_unchanged_from(&before);
    app.post(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": "unknown"}),
    )
    .await
    .assert_status(204);
    let raw = app
        .count(&format!(
            "SELECT count(*) FROM refresh_tokens WHERE token_hash = convert_to('{refresh}', 'UTF8')"
        ))
        .await;
    let digested = app.count(&format!("SELECT count(*) FROM refresh_tokens WHERE token_hash = sha256(convert_to('{refresh}', 'UTF8'))")).await;
    assert_eq!(
        (raw, digested),
        (0, 1),
        "refresh tokens are stored only as digests"
    );
}

#[actix_web::test]
async fn wrong_email_and_wrong_password_look_the_same_and_repeated_failures_are_429() {
    let app = TestApp::new().await;
    registered(&app, "victim@example.tj", "the right password").await;
    // The account works: the refusals below are about the guesses.
    app.login(&json!({"email": "victim@example.tj", "password": "the right password"}))
        .await
        .assert_status(200);
    let before = app.snapshot().await;
    let wrong_password = app
        .login(&json!({"email": "victim@example.tj", "password": "guess one"}))
        .await;
    wrong_password.assert_problem(401);
    let wrong_email = app
        .login(&json!({"email": "nobody@example.tj", "password": "guess one"}))
        .await;
    wrong_email.assert_problem(401);
    assert_eq!(
        wrong_password.json()["detail"],
        wrong_email.json()["detail"]
    );
    // A refused login writes nothing but its attempt, in the table the snapshot leaves out for that reason.
    app.snapshot().await.assert_unchanged_from(&before);
    assert_eq!(app.count("SELECT count(*) FROM login_failures").await, 2);

    for _ in 0..4 {
        app.login(&json!({"email": "victim@example.tj", "password": "guess"}))
            .await
            .assert_problem(401);
    }
    let locked = app
        .login(&json!({"email": "victim@example.tj", "password": "the right password"}))
        .await;
    locked.assert_problem(429);
    app.snapshot().await.assert_unchanged_from(&before);
    let retry: u64 = locked
        .header("retry-after")
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!(retry > 0 && retry <= 15 * 60);
    // Another account is not affected.
    registered(&app, "other@example.tj", "another password").await;
    app.login(&json!({"email": "other@example.tj", "password": "another password"}))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn forged_expired_and_foreign_tokens_are_refused() {
    let app = TestApp::new().await;
    let (admin, _) = app.user(Role::Admin, None, None, &[]).await;
    let sid = app.open_session(admin).await;
    let now = chrono::Utc::now().timestamp();
    let claims = |exp: i64, aud: &str| json!({"sub": admin, "role": "admin", "sid": sid, "sv": 1, "iat": now, "exp": exp, "iss": "hamkori", "aud": aud});
    let sign = |claims: &serde_json::Value, secret: &[u8]| {
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            claims,
            &jsonwebtoken::EncodingKey::from_secret(secret).expect("key"),
        )
        .expect("sign")
    };
    let expired = sign(&claims(now - 3600, "hamkori-api"), crate::support::SECRET);
    let foreign = sign(
        &claims(now + 3600, "hamkori-api"),
        b"someone else's secret, also long enough",
    );
    let wrong_audience = sign(&claims(now + 3600, "another-api"), crate::support::SECRET);
    let unsigned = {
        use base64::Engine;
        let enc = |v: &serde_json::Value| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
        };
        format!(
            "{}.{}.",
            enc(&json!({"alg": "none", "typ": "JWT"})),
            enc(&claims(now + 3600, "hamkori-api"))
        )
    };
    let good = sign(&claims(now + 3600, "hamkori-api"), crate::support::SECRET);
    app.get("/api/v1/users", Some(&good))
        .await
        .assert_status(200);
    for token in [expired, foreign, wrong_audience, unsigned] {
        let res = app.get("/api/v1/users", Some(&token)).await;
        res.assert_problem(401);
        assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
    }
    app.get("/api/v1/auth/me", None).await.assert_problem(401);
}

#[actix_web::test]
async fn login_validates_its_body() {
    let app = TestApp::new().await;
    let before = app.snapshot().await;
    app.login(&json!({"email": "a@b.tj"}))
        .await
        .assert_invalid("password");
    app.login(&json!({"email": "a@b.tj", "password": "x", "remember": true}))
        .await
        .assert_invalid("remember");
    app.snapshot().await.assert_unchanged_from(&before);
    // A body that is not even read counts as no attempt; a well-formed one does.
    assert_eq!(app.count("SELECT count(*) FROM login_failures").await, 0);
    app.login(&json!({"email": "a@b.tj", "password": "x"}))
        .await
        .assert_problem(401);
    assert_eq!(app.count("SELECT count(*) FROM login_failures").await, 1);
}

#[actix_web::test]
async fn parallel_guesses_count_against_the_limit() {
    let app = TestApp::new().await;
    registered(&app, "target@example.tj", "the right password").await;
    let guesses = (0..12).map(|i| {
        let body = json!({"email": "target@example.tj", "password": format!("guess {i}")});
        let app = &app;
        async move { app.login(&body).await.status.as_u16() }
    });
    let statuses = futures_util::future::join_all(guesses).await;
    let refused = statuses.iter().filter(|s| **s == 429).count();
    let wrong = statuses.iter().filter(|s| **s == 401).count();
    assert_eq!(refused + wrong, 12);
    assert!(wrong <= 5, "at most five guesses are checked: {statuses:?}");
}
