//! Issue 9: rights end when they are removed (deleted, disabled, demoted, logged out, new password), and a
//! refresh token retried within the grace window gets a working pair instead of ending the session.

use hamkori::auth::Role;
use hamkori::users::model::{CreateUser, create_with_password};
use serde_json::{Value, json};

use crate::support::{Response, TestApp, id_of};

const PASSWORD: &str = "a long passphrase";

/// Creates an account with a password and signs it in: (user id, access token, refresh token).
async fn signed_in(app: &TestApp, email: &str, role: Role) -> (uuid::Uuid, String, String) {
    let request = CreateUser {
        email: email.to_owned(),
        display_name: "Test".to_owned(),
        role,
        organization_id: None,
        agency_id: None,
        council_ids: Vec::new(),
        password: PASSWORD.to_owned(),
    };
    let user = create_with_password(app.pool(), &request)
        .await
        .expect("user");
    let (access, refresh) = sign_in(app, email, PASSWORD).await;
    (user.id, access, refresh)
}

/// Signs in, retrying a 503 (every password verifier busy, as when a test that floods logins runs alongside).
async fn sign_in(app: &TestApp, email: &str, password: &str) -> (String, String) {
    for _ in 0..30 {
        let res = app
            .post(
                "/api/v1/auth/login",
                None,
                &json!({"email": email, "password": password}),
            )
            .await;
        if res.status.as_u16() != 503 {
            res.assert_status(200);
            return pair(&res);
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    panic!("the password verifiers stayed busy");
}

fn pair(res: &Response) -> (String, String) {
    let body = res.json();
    (
        body["access_token"].as_str().expect("access").to_owned(),
        body["refresh_token"].as_str().expect("refresh").to_owned(),
    )
}

fn new_user(email: &str) -> Value {
    json!({"email": email, "display_name": "Новый", "role": "analyst", "password": "another long one"})
}

/// A refused token: 401 problem+json with `WWW-Authenticate: Bearer`.
#[track_caller]
fn assert_refused(res: &Response) {
    res.assert_problem(401);
    assert_eq!(res.header("www-authenticate").as_deref(), Some("Bearer"));
}

#[actix_web::test]
async fn a_deleted_admins_token_can_no_longer_create_users() {
    let app = TestApp::new().await;
    let (gone, token, _) = signed_in(&app, "gone@example.tj", Role::Admin).await;
    let other = app.admin().await;
    app.post("/api/v1/users", Some(&token), &new_user("first@example.tj"))
        .await
        .assert_status(201);
    app.delete(&format!("/api/v1/users/{gone}"), Some(&other))
        .await
        .assert_status(204);
    let before = app.snapshot().await;
    assert_refused(
        &app.post(
            "/api/v1/users",
            Some(&token),
            &new_user("second@example.tj"),
        )
        .await,
    );
    assert_refused(&app.get("/api/v1/auth/me", Some(&token)).await);
    app.snapshot().await.assert_unchanged_from(&before);
}

#[actix_web::test]
async fn a_demoted_admins_token_is_refused_and_a_refresh_gives_the_new_rights() {
    let app = TestApp::new().await;
    let (demoted, token, refresh) = signed_in(&app, "demoted@example.tj", Role::Admin).await;
    let other = app.admin().await;
    app.post("/api/v1/users", Some(&token), &new_user("first@example.tj"))
        .await
        .assert_status(201);
    let res = app
        .patch(
            &format!("/api/v1/users/{demoted}"),
            Some(&other),
            &json!({"role": "analyst"}),
        )
        .await;
    res.assert_status(200);
    let before = app.snapshot().await;
    assert_refused(
        &app.post(
            "/api/v1/users",
            Some(&token),
            &new_user("second@example.tj"),
        )
        .await,
    );
    app.snapshot().await.assert_unchanged_from(&before);
    // The session itself stands: a refresh gives a token with the new role, which may no longer create users.
    let res = app
        .post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await;
    res.assert_status(200);
    let (analyst, _) = pair(&res);
    let me = app.get("/api/v1/auth/me", Some(&analyst)).await;
    me.assert_status(200);
    assert_eq!(me.json()["role"], "analyst");
    app.post(
        "/api/v1/users",
        Some(&analyst),
        &new_user("third@example.tj"),
    )
    .await
    .assert_problem(403);
}

#[actix_web::test]
async fn a_changed_binding_refuses_the_old_token_but_a_new_name_does_not() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let org = |name: &str| json!({"name": name, "kind": "ngo"});
    let a = id_of(&app.create_organization(&admin, org("Первая")).await);
    let b = id_of(&app.create_organization(&admin, org("Вторая")).await);
    let (member, token) = app.user(Role::NgoMember, Some(a), None, &[]).await;
    let path = format!("/api/v1/users/{member}");
    app.patch(&path, Some(&admin), &json!({"display_name": "Мадина"}))
        .await
        .assert_status(200);
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .assert_status(200);
    app.patch(&path, Some(&admin), &json!({"organization_id": b}))
        .await
        .assert_status(200);
    assert_refused(&app.get("/api/v1/auth/me", Some(&token)).await);
}

#[actix_web::test]
async fn a_disabled_account_cannot_sign_in_and_its_tokens_are_refused() {
    let app = TestApp::new().await;
    let (user, token, refresh) = signed_in(&app, "off@example.tj", Role::Analyst).await;
    let admin = app.admin().await;
    let path = format!("/api/v1/users/{user}");
    let res = app
        .patch(&path, Some(&admin), &json!({"disabled": true}))
        .await;
    res.assert_status(200);
    assert_eq!(res.json()["disabled"], true);
    assert_refused(&app.get("/api/v1/organizations", Some(&token)).await);
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401);
    let login = app
        .post(
            "/api/v1/auth/login",
            None,
            &json!({"email": "off@example.tj", "password": PASSWORD}),
        )
        .await;
    login.assert_problem(401);
    assert_eq!(login.json()["detail"], "The email or password is wrong.");
    // Enabled again, the account signs in anew.
    app.patch(&path, Some(&admin), &json!({"disabled": false}))
        .await
        .assert_status(200);
    sign_in(&app, "off@example.tj", PASSWORD).await;
    // Nobody disables themselves (nor deletes themselves): someone must be left to manage accounts.
    let (me, own) = app.user(Role::Admin, None, None, &[]).await;
    app.patch(
        &format!("/api/v1/users/{me}"),
        Some(&own),
        &json!({"disabled": true}),
    )
    .await
    .assert_problem(409);
}

#[actix_web::test]
async fn after_logout_the_access_token_is_refused_and_other_sessions_go_on() {
    let app = TestApp::new().await;
    let (_, token, refresh) = signed_in(&app, "out@example.tj", Role::Analyst).await;
    let (other_session, _) = sign_in(&app, "out@example.tj", PASSWORD).await;
    app.get("/api/v1/auth/me", Some(&token))
        .await
        .assert_status(200);
    app.post(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_status(204);
    assert_refused(&app.get("/api/v1/auth/me", Some(&token)).await);
    // A public endpoint refuses the dead token too, rather than answering as to an anonymous caller.
    assert_refused(&app.get("/api/v1/organizations", Some(&token)).await);
    app.get("/api/v1/auth/me", Some(&other_session))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn after_a_password_change_old_tokens_fail() {
    let app = TestApp::new().await;
    let (user, token, refresh) = signed_in(&app, "pw@example.tj", Role::Analyst).await;
    let admin = app.admin().await;
    app.patch(
        &format!("/api/v1/users/{user}"),
        Some(&admin),
        &json!({"password": "a brand new passphrase"}),
    )
    .await
    .assert_status(200);
    assert_refused(&app.get("/api/v1/auth/me", Some(&token)).await);
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401);
    app.post(
        "/api/v1/auth/login",
        None,
        &json!({"email": "pw@example.tj", "password": PASSWORD}),
    )
    .await
    .assert_problem(401);
    let (fresh, _) = sign_in(&app, "pw@example.tj", "a brand new passphrase").await;
    app.get("/api/v1/auth/me", Some(&fresh))
        .await
        .assert_status(200);
}

#[actix_web::test]
async fn another_process_refuses_a_revoked_token_within_its_cache_period() {
    let app = TestApp::new().await;
    let (_, token, refresh) = signed_in(&app, "far@example.tj", Role::Analyst).await;
    // A second API process over the same database, trusting what it read for one second.
    let pool = hamkori::db::pool(
        &format!("{}/{}", crate::support::server_url(), app.db_name),
        2,
    )
    .expect("pool");
    let settings = hamkori::config::AuthSettings {
        session_cache_seconds: 1,
        ..Default::default()
    };
    let state =
        hamkori::AppState::with_settings(pool, crate::support::SECRET, settings).expect("state");
    let other = TestApp::around(state, app.db_name.clone()).await;
    other
        .get("/api/v1/auth/me", Some(&token))
        .await
        .assert_status(200);
    app.post(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_status(204);
    assert_refused(&app.get("/api/v1/auth/me", Some(&token)).await);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_refused(&other.get("/api/v1/auth/me", Some(&token)).await);
}

#[actix_web::test]
async fn a_refresh_token_presented_twice_within_the_grace_window_gets_a_working_pair() {
    let app = TestApp::new().await;
    let (_, _, first) = signed_in(&app, "retry@example.tj", Role::Analyst).await;
    let body = json!({"refresh_token": first});
    let res = app.post("/api/v1/auth/refresh", None, &body).await;
    res.assert_status(200);
    let (access_a, refresh_a) = pair(&res);
    // The answer was lost; the client retries with the same token.
    let res = app.post("/api/v1/auth/refresh", None, &body).await;
    res.assert_status(200);
    let (access_b, refresh_b) = pair(&res);
    for access in [&access_a, &access_b] {
        app.get("/api/v1/auth/me", Some(access))
            .await
            .assert_status(200);
    }
    for refresh in [refresh_a, refresh_b] {
        app.post(
            "/api/v1/auth/refresh",
            None,
            &json!({"refresh_token": refresh}),
        )
        .await
        .assert_status(200);
    }
}

#[actix_web::test]
async fn after_the_grace_window_reuse_revokes_the_session_and_its_access_tokens() {
    let app = TestApp::new().await;
    let (_, _, first) = signed_in(&app, "stolen@example.tj", Role::Analyst).await;
    let body = json!({"refresh_token": first});
    let res = app.post("/api/v1/auth/refresh", None, &body).await;
    res.assert_status(200);
    let (access, refresh) = pair(&res);
    app.execute("UPDATE refresh_tokens SET revoked_at = revoked_at - interval '11 seconds' WHERE revoked_at IS NOT NULL")
        .await;
    app.post("/api/v1/auth/refresh", None, &body)
        .await
        .assert_problem(401);
    app.post(
        "/api/v1/auth/refresh",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_problem(401);
    assert_refused(&app.get("/api/v1/auth/me", Some(&access)).await);
    assert_eq!(
        app.count("SELECT count(*) FROM refresh_tokens WHERE revoked_at IS NULL")
            .await,
        0
    );
}

#[actix_web::test]
async fn the_grace_window_does_not_revive_a_logged_out_session() {
    let app = TestApp::new().await;
    let (_, _, first) = signed_in(&app, "left@example.tj", Role::Analyst).await;
    let body = json!({"refresh_token": first});
    let res = app.post("/api/v1/auth/refresh", None, &body).await;
    res.assert_status(200);
    let (_, refresh) = pair(&res);
    app.post(
        "/api/v1/auth/logout",
        None,
        &json!({"refresh_token": refresh}),
    )
    .await
    .assert_status(204);
    app.post("/api/v1/auth/refresh", None, &body)
        .await
        .assert_problem(401);
}

#[actix_web::test]
async fn a_token_without_a_session_is_refused() {
    let app = TestApp::new().await;
    let (admin, _) = app.user(Role::Admin, None, None, &[]).await;
    // Signed with the right key, for a real admin, but naming a session that never existed.
    let token = app
        .state
        .tokens
        .issue(hamkori::auth::token::Holder {
            user_id: admin,
            role: Role::Admin,
            organization_id: None,
            agency_id: None,
            council_ids: Vec::new(),
            session_id: uuid::Uuid::now_v7(),
            session_version: 1,
        })
        .expect("token");
    assert_refused(&app.get("/api/v1/users", Some(&token)).await);
}
