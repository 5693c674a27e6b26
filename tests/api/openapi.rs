//! The contract is executable: the committed document equals what the code generates.

use crate::support::TestApp;

#[actix_web::test]
async fn the_committed_document_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("openapi/openapi.json");
    let generated = hamkori::openapi::document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("write openapi.json");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run `cargo run -- openapi > openapi/openapi.json` (or UPDATE_OPENAPI=1 cargo test)"
    );
}

#[actix_web::test]
async fn the_served_document_is_openapi_3_1_and_lists_every_operation() {
    let app = TestApp::new().await;
    let res = app.get("/openapi.json", None).await;
    res.assert_status(200);
    let doc = res.json();
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3.1")
    );
    for path in [
        "/api/v1/organizations",
        "/api/v1/organizations/{id}",
        "/api/v1/agencies/{id}/history",
        "/api/v1/auth/login",
        "/api/v1/users/{id}",
        "/api/v1/audit",
        "/readyz",
        "/metrics",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is documented");
    }
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            assert!(
                op["responses"].get("4XX").is_some()
                    || path == "/healthz"
                    || path == "/metrics"
                    || path == "/openapi.json",
                "{method} {path} documents its problems"
            );
        }
    }
}

#[test]
fn the_document_has_what_openapi_validators_require() {
    let doc = serde_json::to_value(hamkori::openapi::document()).expect("serialise");
    assert_eq!(doc["servers"][0]["url"], "/", "a server that fits any host");
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            assert!(
                op["security"].is_array(),
                "{method} {path} declares whether it needs a token"
            );
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has a description"
                );
            }
        }
    }
}

/// What an operation's `security` promises about a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TokenUse {
    /// `[{"bearer": []}]`: no token → 401.
    Required,
    /// `[{"bearer": []}, {}]`: works without one, but a bad one is refused.
    Optional,
    /// `[]`: the token is not read at all.
    Ignored,
}

fn token_use(op: &serde_json::Value) -> Option<TokenUse> {
    let requirements = op["security"].as_array()?;
    let bearer = requirements.iter().any(|r| r.get("bearer").is_some());
    let anonymous = requirements
        .iter()
        .any(|r| r.as_object().is_some_and(|o| o.is_empty()));
    match (bearer, anonymous) {
        (true, false) => Some(TokenUse::Required),
        (true, true) => Some(TokenUse::Optional),
        (false, _) if requirements.is_empty() => Some(TokenUse::Ignored),
        _ => None,
    }
}

/// The declared security is what the server does: checked on every operation by calling it with no token and
/// with a token that does not verify (ids in the path are fresh, bodies empty, so nothing is ever written).
#[actix_web::test]
async fn every_operation_declares_the_authentication_it_takes() {
    use actix_web::test::TestRequest;

    let app = TestApp::new().await;
    let doc = serde_json::to_value(hamkori::openapi::document()).expect("serialise");
    let mut wrong = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let Some(declared) = token_use(op) else {
                wrong.push(format!(
                    "{method} {path}: unknown security {}",
                    op["security"]
                ));
                continue;
            };
            let mut uri = path.clone();
            for param in op["parameters"].as_array().into_iter().flatten() {
                if param["in"] == "path" {
                    let name = param["name"].as_str().unwrap_or_default();
                    let value = if param["schema"]["format"] == "uuid" {
                        uuid::Uuid::now_v7().to_string()
                    } else {
                        "TJ".to_owned()
                    };
                    uri = uri.replace(&format!("{{{name}}}"), &value);
                }
            }
            let request = || {
                let req = TestRequest::default()
                    .method(method.to_ascii_uppercase().parse().expect("method"))
                    .uri(&uri);
                if matches!(method.as_str(), "post" | "put" | "patch") {
                    req.set_json(serde_json::json!({}))
                } else {
                    req
                }
            };
            let anonymous = app.call(request()).await.status.as_u16();
            let bad_token = app
                .call(request().insert_header(("Authorization", "Bearer not-a-token")))
                .await
                .status
                .as_u16();
            let behaves = match declared {
                TokenUse::Required => anonymous == 401 && bad_token == 401,
                TokenUse::Optional => anonymous != 401 && bad_token == 401,
                TokenUse::Ignored => anonymous != 401 && bad_token == anonymous,
            };
            if !behaves {
                wrong.push(format!(
                    "{method} {path}: declared {declared:?}, answered {anonymous} without a token \
                     and {bad_token} with a bad one"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
