//! Users: admin-only management, role bindings, secrets never returned.

use hamkori::auth::Role;
use serde_json::json;

use crate::support::TestApp;

#[actix_web::test]
async fn admin_creates_reads_updates_and_deletes_users() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let org = app
        .create_organization(&admin, json!({"name": "NGO", "kind": "ngo"}))
        .await;
    let res = app
        .post("/api/v1/users", Some(&admin), &json!({"email": "Member@Example.TJ", "display_name": "Мадина", "role": "ngo_member", "organization_id": org["id"], "password": "correct horse battery"}))
        .await;
    res.assert_status(201);
    let user = res.json();
    assert_eq!(
        user["email"], "member@example.tj",
        "emails are stored in lower case"
    );
    assert!(user.get("password").is_none() && user.get("password_hash").is_none());
    assert!(!res.text().contains("argon2"));
    let path = format!("/api/v1/users/{}", user["id"].as_str().expect("id"));

    let list = app.get("/api/v1/users", Some(&admin)).await;
    assert!(
        list.item_ids()
            .contains(&user["id"].as_str().expect("id").to_owned())
    );
    assert!(list.text().contains("member@example.tj"));
    assert!(!list.text().contains("argon2"));
    assert_eq!(
        app.count("SELECT count(*) FROM users WHERE password_hash LIKE '$argon2%'")
            .await,
        1,
        "the hash is stored, just never shown"
    );

    let updated = app
        .patch(
            &path,
            Some(&admin),
            &json!({"role": "analyst", "display_name": "Мадина А."}),
        )
        .await;
    updated.assert_status(200);
    assert_eq!(updated.json()["role"], "analyst");
    assert_eq!(updated.json()["version"], 2);
    let audit = |like: &str| {
        format!(
            "SELECT count(*) FROM audit_log WHERE entity_type = 'user' AND after::text LIKE '%{like}%'"
        )
    };
    assert_eq!(
        app.count(&audit("Мадина А.")).await,
        1,
        "the update is audited"
    );
    assert_eq!(
        app.count(&audit("argon2")).await,
        0,
        "hashes never reach the audit log"
    );

    app.get(&path, Some(&admin))
        .await
        .assert_record(user["id"].as_str().expect("id"));
    app.delete(&path, Some(&admin)).await.assert_status(204);
    app.get(&path, Some(&admin)).await.assert_problem(404);
}

#[actix_web::test]
async fn roles_need_their_bindings_and_references_must_exist() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let before = app.snapshot().await;
    let base = |role: &str| json!({"email": "x@example.tj", "display_name": "X", "role": role, "password": "long enough pw"});
    app.post("/api/v1/users", Some(&admin), &base("ngo_member"))
        .await
        .assert_invalid("organization_id");
    app.post("/api/v1/users", Some(&admin), &base("agency_officer"))
        .await
        .assert_invalid("agency_id");
    app.post("/api/v1/users", Some(&admin), &base("secretary"))
        .await
        .assert_invalid("council_ids");
    app.post("/api/v1/users", Some(&admin), &base("emperor"))
        .await
        .assert_invalid("role");
    let mut unknown_org = base("ngo_member");
    unknown_org["organization_id"] = json!(uuid::Uuid::now_v7());
    app.post("/api/v1/users", Some(&admin), &unknown_org)
        .await
        .assert_invalid("organization_id");
    let mut short = base("analyst");
    short["password"] = json!("short");
    app.post("/api/v1/users", Some(&admin), &short)
        .await
        .assert_invalid("password");
    let mut bad_email = base("analyst");
    bad_email["email"] = json!("nobody");
    app.post("/api/v1/users", Some(&admin), &bad_email)
        .await
        .assert_invalid("email");
    app.snapshot().await.assert_unchanged_from(&before);

    app.post("/api/v1/users", Some(&admin), &base("analyst"))
        .await
        .assert_status(201);
    let before = app.snapshot().await;
    app.post("/api/v1/users", Some(&admin), &base("analyst"))
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
}

#[actix_web::test]
async fn only_admins_manage_users_and_nobody_deletes_themselves() {
    let app = TestApp::new().await;
    let (admin_id, admin) = app.user(Role::Admin, None, None, &[]).await;
    let analyst = app.analyst().await;
    let before = app.snapshot().await;
    app.get("/api/v1/users", Some(&analyst))
        .await
        .assert_problem(403);
    app.get("/api/v1/users", None).await.assert_problem(401);
    app.post(
        "/api/v1/users",
        Some(&analyst),
        &json!({"email": "a@b.tj", "display_name": "A", "role": "admin", "password": "0123456789"}),
    )
    .await
    .assert_problem(403);
    app.get(&format!("/api/v1/users/{admin_id}"), Some(&analyst))
        .await
        .assert_problem(403);
    app.delete(&format!("/api/v1/users/{admin_id}"), Some(&admin))
        .await
        .assert_problem(409);
    app.snapshot().await.assert_unchanged_from(&before);
    // An admin reads and creates users and deletes another one.
    assert!(
        app.get("/api/v1/users", Some(&admin))
            .await
            .item_ids()
            .contains(&admin_id.to_string())
    );
    app.get(&format!("/api/v1/users/{admin_id}"), Some(&admin))
        .await
        .assert_record(admin_id);
    let created = app
        .post(
            "/api/v1/users",
            Some(&admin),
            &json!({"email": "a@b.tj", "display_name": "A", "role": "admin", "password": "0123456789"}),
        )
        .await;
    created.assert_status(201);
    app.delete(
        &format!(
            "/api/v1/users/{}",
            created.json()["id"].as_str().expect("id")
        ),
        Some(&admin),
    )
    .await
    .assert_status(204);
}

#[actix_web::test]
async fn a_role_change_drops_the_old_binding_and_analysts_never_see_user_audit_rows() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let org = app
        .create_organization(&admin, json!({"name": "NGO", "kind": "ngo"}))
        .await;
    let created = app
        .post("/api/v1/users", Some(&admin), &json!({"email": "m@example.tj", "display_name": "M", "role": "ngo_member", "organization_id": org["id"], "password": "0123456789ab"}))
        .await;
    created.assert_status(201);
    let path = format!(
        "/api/v1/users/{}",
        created.json()["id"].as_str().expect("id")
    );
    let changed = app
        .patch(&path, Some(&admin), &json!({"role": "analyst"}))
        .await;
    changed.assert_status(200);
    assert_eq!(changed.json()["organization_id"], serde_json::Value::Null);
    app.delete(
        &format!("/api/v1/organizations/{}", org["id"].as_str().expect("id")),
        Some(&admin),
    )
    .await
    .assert_status(204);

    let analyst = app.analyst().await;
    let user_id = created.json()["id"].as_str().expect("id").to_owned();
    let audit = app
        .get("/api/v1/audit?entity_type=user", Some(&analyst))
        .await;
    assert_eq!(audit.item_ids(), Vec::<String>::new());
    // Admins get the user's rows; analysts do get the organisation's.
    let as_admin = app
        .get("/api/v1/audit?entity_type=user", Some(&admin))
        .await;
    as_admin.item_ids();
    let about_user = as_admin.json()["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["entity_id"] == user_id.as_str())
        .count();
    assert_eq!(about_user, 2, "create and role change");
    let org_audit = app
        .get(
            &format!(
                "/api/v1/audit?entity_type=organization&entity_id={}",
                org["id"].as_str().expect("id")
            ),
            Some(&analyst),
        )
        .await;
    assert_eq!(org_audit.item_ids().len(), 2, "create and delete");
}
