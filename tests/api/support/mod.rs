//! The test harness: a fresh database per test, cloned from a template migrated once per migration set,
//! and helpers that drive the real app in-process.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::BoxBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use actix_web::test::{self, TestRequest};
use actix_web::web::Bytes;
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use futures_util::future::LocalBoxFuture;
use hamkori::auth::Role;
use hamkori::db::DbPool;
use hamkori::{AppState, build_app};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub mod chaos;

/// The server the tests use; override with `HAMKORI_TEST_PG`.
pub fn server_url() -> String {
    std::env::var("HAMKORI_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned())
}

/// The secret test tokens are signed with.
pub const SECRET: &[u8] = b"test-secret-of-at-least-thirty-two-bytes";

/// Name of the template for the current migrations: changing a migration makes a new template.
fn template_name() -> String {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let mut files: Vec<_> = walk(&dir);
    files.sort();
    let mut hasher = Sha256::new();
    for file in files {
        hasher.update(file.to_string_lossy().as_bytes());
        hasher.update(std::fs::read(&file).unwrap_or_default());
    }
    format!("hamkori_tpl_{}", &hex::encode(hasher.finalize())[..16])
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path))
        } else {
            out.push(path)
        }
    }
    out
}

async fn admin_conn() -> AsyncPgConnection {
    AsyncPgConnection::establish(&format!("{}/postgres", server_url()))
        .await
        .expect("Postgres must run on 127.0.0.1:5432 (or set HAMKORI_TEST_PG)")
}

/// Whether this process has made sure its template exists.
static READY: AtomicBool = AtomicBool::new(false);

/// Templates of other migration sets kept when a new one is built: other branches (worktrees) may be running
/// their tests off theirs right now, and dropping a template in use fails every test still to clone it.
const OTHER_TEMPLATES_KEPT: i64 = 4;

/// Makes the template once; an advisory lock serialises test processes, and a rename publishes it whole.
async fn ensure_template() -> String {
    let name = template_name();
    if AtomicBool::load(&READY, Ordering::Acquire) {
        return name;
    }
    let mut conn = admin_conn().await;
    diesel::sql_query("SELECT pg_advisory_lock(72091)")
        .execute(&mut conn)
        .await
        .expect("lock");
    let exists: bool = diesel::select(diesel::dsl::sql::<diesel::sql_types::Bool>(&format!(
        "EXISTS (SELECT 1 FROM pg_database WHERE datname = '{name}')"
    )))
    .get_result(&mut conn)
    .await
    .expect("check template");
    if !exists {
        // Templates of earlier migration sets are of no further use, but for the newest few (see
        // OTHER_TEMPLATES_KEPT); oids grow, so the lowest are the oldest.
        #[derive(QueryableByName)]
        struct Name {
            #[diesel(sql_type = diesel::sql_types::Text)]
            datname: String,
        }
        let stale: Vec<Name> = diesel::sql_query(format!(
            "SELECT datname FROM pg_database WHERE datname LIKE 'hamkori\\_tpl\\_%' AND datname NOT LIKE '%\\_building' \
             ORDER BY oid DESC OFFSET {OTHER_TEMPLATES_KEPT}"
        ))
        .load(&mut conn)
        .await
        .unwrap_or_default();
        for old in stale {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                old.datname
            ))
            .execute(&mut conn)
            .await;
        }
        let building = format!("{name}_building");
        diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .expect("drop");
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut conn)
            .await
            .expect("create");
        hamkori::db::migrate(&format!("{}/{building}", server_url()))
            .await
            .expect("migrate the template");
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut conn)
            .await
            .expect("rename");
    }
    diesel::sql_query("SELECT pg_advisory_unlock(72091)")
        .execute(&mut conn)
        .await
        .expect("unlock");
    READY.store(true, Ordering::Release);
    name
}

/// The app, initialised once per test. `init_service` returns an unnameable type (and its `Request` lives in
/// actix-http, which we do not depend on), so requests go through a boxed closure that owns the service; the
/// service is shared, so concurrent calls (`tokio::join!`) reach one app as they would on a server.
type AppService = Box<dyn Fn(TestRequest) -> LocalBoxFuture<'static, ServiceResponse<BoxBody>>>;

/// One test's app and database.
pub struct TestApp {
    /// The state the app is built around.
    pub state: AppState,
    /// The test database's name.
    pub db_name: String,
    /// The app every request of this test goes through.
    service: AppService,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Response {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Bytes,
}

impl Response {
    /// The body as JSON (Null when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }

    /// The fields named by a problem's `errors`.
    pub fn error_fields(&self) -> Vec<String> {
        self.json()["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["field"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts the status, showing the body when it differs.
    #[track_caller]
    pub fn assert_status(&self, expected: u16) -> &Self {
        assert_eq!(
            self.status.as_u16(),
            expected,
            "unexpected status; body: {}",
            self.text()
        );
        self
    }

    /// Asserts a 200 carrying the record with this id, and returns its body.
    #[track_caller]
    pub fn assert_record(&self, id: impl std::fmt::Display) -> Value {
        self.assert_status(200);
        let body = self.json();
        assert_eq!(body["id"], id.to_string(), "another record: {body}");
        body
    }

    /// Asserts a 200 page and returns the ids of its items, in order.
    #[track_caller]
    pub fn item_ids(&self) -> Vec<String> {
        self.assert_status(200);
        let body = self.json();
        let items = body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("not a page: {body}"));
        items
            .iter()
            .map(|i| i["id"].as_str().expect("an item id").to_owned())
            .collect()
    }

    /// Asserts a 4xx/5xx problem+json with this status.
    #[track_caller]
    pub fn assert_problem(&self, expected: u16) -> &Self {
        self.assert_status(expected);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{}",
            self.text()
        );
        assert_eq!(self.json()["status"], expected);
        self
    }

    /// Asserts a 422 naming this field.
    #[track_caller]
    pub fn assert_invalid(&self, field: &str) -> &Self {
        self.assert_problem(422);
        assert!(
            self.error_fields().iter().any(|f| f == field),
            "expected `{field}` in {}",
            self.text()
        );
        self
    }
}

/// A fresh database cloned from the template: its name.
pub async fn fresh_database() -> String {
    let db_name = format!("hamkori_t_{}", Uuid::now_v7().simple());
    let mut conn = admin_conn().await;
    let mut attempt = 0;
    loop {
        let template = ensure_template().await;
        let cloned = diesel::sql_query(format!("CREATE DATABASE {db_name} TEMPLATE {template}"))
            .execute(&mut conn)
            .await;
        match cloned {
            Ok(_) => break,
            // Another branch's harness may have dropped our template as stale: make it again.
            Err(err) if attempt < 2 => {
                eprintln!("cloning the template failed ({err}); making it again");
                READY.store(false, Ordering::Release);
                attempt += 1;
            }
            Err(err) => panic!("clone the template: {err}"),
        }
    }
    db_name
}

impl TestApp {
    /// A fresh database cloned from the template, and an app around it.
    pub async fn new() -> Self {
        Self::with_settings(hamkori::config::AuthSettings::default()).await
    }

    /// [`TestApp::new`] with these session and client-address settings.
    pub async fn with_settings(settings: hamkori::config::AuthSettings) -> Self {
        let db_name = fresh_database().await;
        let pool = hamkori::db::pool(&format!("{}/{db_name}", server_url()), 4).expect("pool");
        let state = AppState::with_settings(pool, SECRET, settings).expect("state");
        Self::around(state, db_name).await
    }

    /// An app whose pool reaches Postgres through `proxy`, with a pool timeout of `timeout`.
    pub async fn behind(proxy: &chaos::ChaosProxy, timeout: std::time::Duration) -> Self {
        let db_name = fresh_database().await;
        let pool =
            hamkori::db::pool_with_timeout(&format!("{}/{db_name}", proxy.url()), 4, timeout)
                .expect("pool");
        let state = AppState::new(pool, SECRET).expect("state");
        Self::around(state, db_name).await
    }

    /// An app built once around `state`; `db_name` is the database dropped when the test ends.
    pub async fn around(state: AppState, db_name: String) -> Self {
        let app = Rc::new(test::init_service(build_app(state.clone())).await);
        let service: AppService = Box::new(move |req: TestRequest| {
            let app = Rc::clone(&app);
            Box::pin(async move {
                let req = req.to_request();
                match app.call(req).await {
                    Ok(res) => res.map_into_boxed_body(),
                    // The HTTP server answers an error that escapes the app with its own response; so do we,
                    // rather than panic as `test::call_service` would.
                    Err(err) => ServiceResponse::new(
                        TestRequest::default().to_http_request(),
                        err.error_response(),
                    ),
                }
            })
        });
        Self {
            state,
            db_name,
            service,
        }
    }

    /// The pool, for assertions straight on the database.
    pub fn pool(&self) -> &DbPool {
        &self.state.pool
    }

    /// Sends a request through the whole app (the same app for every request of the test).
    pub async fn call(&self, req: TestRequest) -> Response {
        let res = (self.service)(req).await;
        let status = res.status();
        let headers = res.headers().clone();
        let body = test::read_body(res).await;
        Response {
            status,
            headers,
            body,
        }
    }

    /// GET, with an optional bearer token.
    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.call(with_token(TestRequest::get().uri(path), token))
            .await
    }

    /// POST a JSON body.
    pub async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.call(with_token(
            TestRequest::post().uri(path).set_json(body),
            token,
        ))
        .await
    }

    /// POST `/api/v1/auth/login`. A 503 (every password verifier busy: the flood test shares them, being in the
    /// same process) is not counted by the server, and is retried here as a client would.
    pub async fn login(&self, body: &Value) -> Response {
        for _ in 0..30 {
            let res = self.post("/api/v1/auth/login", None, body).await;
            if res.status.as_u16() != 503 {
                return res;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        panic!("the password verifiers stayed busy");
    }

    /// PATCH a JSON body.
    pub async fn patch(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.call(with_token(
            TestRequest::patch().uri(path).set_json(body),
            token,
        ))
        .await
    }

    /// PUT a JSON body.
    pub async fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        self.call(with_token(
            TestRequest::put().uri(path).set_json(body),
            token,
        ))
        .await
    }

    /// DELETE.
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.call(with_token(TestRequest::delete().uri(path), token))
            .await
    }

    /// The `ETag` the caller reads on `path`, when it may read the record.
    pub async fn etag(&self, path: &str, token: Option<&str>) -> Option<String> {
        let res = self.get(path, token).await;
        if res.status != StatusCode::OK {
            return None;
        }
        res.header("etag")
    }

    /// PATCH with `If-Match` (or without, when `if_match` is `None`).
    pub async fn patch_if(
        &self,
        path: &str,
        token: Option<&str>,
        if_match: Option<&str>,
        body: &Value,
    ) -> Response {
        let req = TestRequest::patch().uri(path).set_json(body);
        self.call(with_if_match(with_token(req, token), if_match))
            .await
    }

    /// DELETE with `If-Match` (or without, when `if_match` is `None`).
    pub async fn delete_if(
        &self,
        path: &str,
        token: Option<&str>,
        if_match: Option<&str>,
    ) -> Response {
        let req = TestRequest::delete().uri(path);
        self.call(with_if_match(with_token(req, token), if_match))
            .await
    }

    /// PATCH with the `ETag` the caller reads first, as a careful client does (records that require `If-Match`);
    /// without one when the caller may not read the record, which then answers 404 before asking for it.
    pub async fn patch_read(&self, path: &str, token: Option<&str>, body: &Value) -> Response {
        let etag = self.etag(path, token).await;
        self.patch_if(path, token, etag.as_deref(), body).await
    }

    /// DELETE with the `ETag` the caller reads first (see [`TestApp::patch_read`]).
    pub async fn delete_read(&self, path: &str, token: Option<&str>) -> Response {
        let etag = self.etag(path, token).await;
        self.delete_if(path, token, etag.as_deref()).await
    }

    /// The item ids of every page of a list, in order: `first` (a path with its query string) and then each
    /// `next_cursor` until the last page, each page asserted 200.
    pub async fn all_item_ids(&self, first: &str, token: Option<&str>) -> Vec<String> {
        let mut ids = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let uri = match &cursor {
                Some(c) => format!("{first}&cursor={c}"),
                None => first.to_owned(),
            };
            let res = self.get(&uri, token).await;
            ids.extend(res.item_ids());
            match res.json()["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => return ids,
            }
        }
    }

    /// Inserts a user (without a usable password) and signs a token for it.
    pub async fn user(
        &self,
        role: Role,
        organization_id: Option<Uuid>,
        agency_id: Option<Uuid>,
        councils: &[Uuid],
    ) -> (Uuid, String) {
        use hamkori::db::schema::{user_councils, users};
        let id = Uuid::now_v7();
        let mut conn = self.state.pool.get().await.expect("conn");
        diesel::insert_into(users::table)
            .values((
                users::id.eq(id),
                users::email.eq(format!("{id}@test.example")),
                users::display_name.eq(format!("{role} {id}")),
                users::role.eq(role),
                users::organization_id.eq(organization_id),
                users::agency_id.eq(agency_id),
                users::password_hash.eq("!"),
            ))
            .execute(&mut conn)
            .await
            .expect("insert user");
        for council in councils {
            diesel::insert_into(user_councils::table)
                .values((
                    user_councils::user_id.eq(id),
                    user_councils::council_id.eq(council),
                ))
                .execute(&mut conn)
                .await
                .expect("bind council");
        }
        drop(conn);
        let session_id = self.open_session(id).await;
        let token = self
            .state
            .tokens
            .issue(hamkori::auth::token::Holder {
                user_id: id,
                role,
                organization_id,
                agency_id,
                council_ids: councils.to_vec(),
                session_id,
                session_version: 1,
            })
            .expect("token");
        (id, token)
    }

    /// Opens a session for a user (a live refresh token in a new family, whose token nobody knows) and returns
    /// its id, for signing access tokens in it.
    pub async fn open_session(&self, user_id: Uuid) -> Uuid {
        use hamkori::db::schema::refresh_tokens;
        let family = Uuid::now_v7();
        let mut conn = self.state.pool.get().await.expect("conn");
        diesel::insert_into(refresh_tokens::table)
            .values((
                refresh_tokens::id.eq(Uuid::now_v7()),
                refresh_tokens::user_id.eq(user_id),
                refresh_tokens::family_id.eq(family),
                refresh_tokens::token_hash.eq(Sha256::digest(family.as_bytes()).to_vec()),
                refresh_tokens::expires_at.eq(chrono::Utc::now() + chrono::Duration::days(1)),
            ))
            .execute(&mut conn)
            .await
            .expect("open a session");
        family
    }

    /// A token of a new admin.
    pub async fn admin(&self) -> String {
        self.user(Role::Admin, None, None, &[]).await.1
    }

    /// A token of a new analyst.
    pub async fn analyst(&self) -> String {
        self.user(Role::Analyst, None, None, &[]).await.1
    }

    /// A token of a new member of an organisation.
    pub async fn ngo_member(&self, organization_id: Uuid) -> String {
        self.user(Role::NgoMember, Some(organization_id), None, &[])
            .await
            .1
    }

    /// A token of a new officer of an agency.
    pub async fn officer(&self, agency_id: Uuid) -> String {
        self.user(Role::AgencyOfficer, None, Some(agency_id), &[])
            .await
            .1
    }

    /// Creates an organisation through the API and returns its body.
    pub async fn create_organization(&self, admin: &str, body: Value) -> Value {
        let res = self.post("/api/v1/organizations", Some(admin), &body).await;
        res.assert_status(201);
        res.json()
    }

    /// Creates an agency through the API and returns its body.
    pub async fn create_agency(&self, admin: &str, body: Value) -> Value {
        let res = self.post("/api/v1/agencies", Some(admin), &body).await;
        res.assert_status(201);
        res.json()
    }

    /// Makes a council restricted through the API, as an admin.
    pub async fn restrict_council(&self, admin: &str, council: Uuid) {
        self.patch(
            &format!("/api/v1/councils/{council}"),
            Some(admin),
            &serde_json::json!({"visibility": "restricted"}),
        )
        .await
        .assert_status(200);
    }

    /// Creates a detention facility operated by `agency` through the API and returns its id.
    pub async fn create_facility(&self, admin: &str, agency: Uuid) -> Uuid {
        let res = self
            .post(
                "/api/v1/facilities",
                Some(admin),
                &serde_json::json!({"name": "ИВС ОВД Сино", "facility_type": "temporary_detention",
                        "operating_agency_id": agency, "region_code": "TJ-DU"}),
            )
            .await;
        res.assert_status(201);
        id_of(&res.json())
    }

    /// Runs SQL statements straight on the database (to age rows, for instance).
    pub async fn execute(&self, sql: &str) {
        use diesel_async::SimpleAsyncConnection;
        let mut conn = self.state.pool.get().await.expect("conn");
        conn.batch_execute(sql).await.expect("execute");
        // A write the API did not see: statistics counted before it are stale.
        self.state.counted.note_write();
    }

    /// Runs a SQL count.
    pub async fn count(&self, sql: &str) -> i64 {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            n: i64,
        }
        let mut conn = self.state.pool.get().await.expect("conn");
        diesel::sql_query(format!("SELECT ({sql})::bigint AS n"))
            .get_result::<Count>(&mut conn)
            .await
            .expect("count")
            .n
    }

    /// Every row of every table of the public schema (found in the catalog, so a new table is covered
    /// without a change here) but [`NOT_IN_SNAPSHOT`]: equal before and after a refused request means
    /// nothing changed. Compare with [`Snapshot::assert_unchanged_from`].
    pub async fn snapshot(&self) -> Snapshot {
        #[derive(QueryableByName)]
        struct Table {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
        }
        #[derive(QueryableByName)]
        struct Rows {
            #[diesel(sql_type = diesel::sql_types::Text)]
            name: String,
            #[diesel(sql_type = diesel::sql_types::Array<diesel::sql_types::Text>)]
            rows: Vec<String>,
        }
        let mut conn = self.state.pool.get().await.expect("conn");
        // Partitions are left out: their rows are read through their parent.
        let tables: Vec<Table> = diesel::sql_query(
            "SELECT c.relname::text AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1",
        )
        .load(&mut conn)
        .await
        .expect("list the tables");
        let selects: Vec<String> = tables
            .iter()
            .filter(|t| !NOT_IN_SNAPSHOT.iter().any(|(name, _)| *name == t.name))
            .map(|t| {
                let literal = t.name.replace('\'', "''");
                let ident = t.name.replace('"', "\"\"");
                // A row's text form holds every column; sorting by it makes the order independent of how
                // Postgres happens to store the rows.
                format!(
                    "SELECT '{literal}'::text AS name, \
                     coalesce((SELECT array_agg(x::text ORDER BY x::text) FROM public.\"{ident}\" x), '{{}}') AS rows"
                )
            })
            .collect();
        let dumped: Vec<Rows> = diesel::sql_query(selects.join(" UNION ALL "))
            .load(&mut conn)
            .await
            .expect("dump the tables");
        Snapshot(dumped.into_iter().map(|t| (t.name, t.rows)).collect())
    }
}

/// Tables [`TestApp::snapshot`] leaves out, each with the reason: only what a refused request may
/// legitimately write, or what no request writes at all.
pub const NOT_IN_SNAPSHOT: &[(&str, &str)] = &[
    (
        "__diesel_schema_migrations",
        "written by migrations only, never by a request",
    ),
    (
        "idempotency_keys",
        "a refused request sent with an Idempotency-Key keeps its refusal here on purpose, to replay it to a retry \
         (draft-ietf-httpapi-idempotency-key-header); the retries tests count its rows themselves",
    ),
    (
        "engagement_tally_pending",
        "empty outside a transaction: a write's tally changes wait here until its commit applies them to \
         `engagement_tally` (covered); the tallies tests assert it is empty after every change",
    ),
    (
        "engagement_agency_tally_pending",
        "empty outside a transaction, as `engagement_tally_pending`; its tally `engagement_agency_tally` is covered",
    ),
    (
        "grant_tally_pending",
        "empty outside a transaction, as `engagement_tally_pending`; its tally `grant_tally` is covered",
    ),
    (
        "grant_funder_tally_pending",
        "empty outside a transaction, as `engagement_tally_pending`; its tally `grant_funder_tally` is covered",
    ),
    (
        "grant_recipient_tally_pending",
        "empty outside a transaction, as `engagement_tally_pending`; its tally `grant_recipient_tally` is covered",
    ),
    (
        "login_failures",
        "a refused login records its attempt here on purpose (the rows are the lock-out counter), and every \
         login attempt forgets failures older than the window",
    ),
];
// `refresh_tokens` stays covered although presenting a spent refresh token (refused, 401) revokes its family:
// that write is the point of the refusal, and `auth::login_me_refresh_rotation_and_logout` asserts it is the
// only change. Covering the table catches any other refused request that touches sessions.

/// The rows of every covered table, as text, sorted: see [`TestApp::snapshot`].
#[derive(Clone, PartialEq, Eq)]
pub struct Snapshot(BTreeMap<String, Vec<String>>);

impl Snapshot {
    /// The tables covered.
    pub fn tables(&self) -> Vec<&str> {
        self.0.keys().map(String::as_str).collect()
    }

    /// The rows of one table.
    pub fn rows(&self, table: &str) -> &[String] {
        self.0.get(table).map(Vec::as_slice).unwrap_or_default()
    }

    /// What differs from `before`, one line per row gone (`-`) or new (`+`), prefixed with its table.
    pub fn changes_from(&self, before: &Snapshot) -> Vec<String> {
        let mut out = Vec::new();
        let tables: std::collections::BTreeSet<&String> =
            self.0.keys().chain(before.0.keys()).collect();
        for table in tables {
            let old = before.rows(table);
            let new = self.rows(table);
            let gone = old.iter().filter(|r| !new.contains(r));
            let added = new.iter().filter(|r| !old.contains(r));
            let mut lines: Vec<String> = gone
                .map(|r| format!("{table}: - {r}"))
                .chain(added.map(|r| format!("{table}: + {r}")))
                .collect();
            if lines.is_empty() && old != new {
                // The same rows in other numbers: a duplicate appeared or went.
                lines.push(format!("{table}: {} rows, were {}", new.len(), old.len()));
            }
            out.extend(lines);
        }
        out
    }

    /// Asserts that nothing changed since `before`, listing what did.
    #[track_caller]
    pub fn assert_unchanged_from(&self, before: &Snapshot) {
        let changes = self.changes_from(before);
        assert!(
            changes.is_empty(),
            "a refused request changed the database:\n{}",
            changes.join("\n")
        );
    }
}

/// Row counts only: a whole dump would drown an assertion's message.
impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(t, rows)| (t, rows.len())))
            .finish()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.state.pool.close();
        let name = self.db_name.clone();
        // Drop runs inside the test's runtime; a thread of its own may block on a second one.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                let mut conn = admin_conn().await;
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await;
            });
        })
        .join();
    }
}

fn with_if_match(req: TestRequest, if_match: Option<&str>) -> TestRequest {
    match if_match {
        Some(tag) => req.insert_header(("If-Match", tag.to_owned())),
        None => req,
    }
}

fn with_token(req: TestRequest, token: Option<&str>) -> TestRequest {
    match token {
        Some(t) => req.insert_header(("Authorization", format!("Bearer {t}"))),
        None => req,
    }
}

/// A small world for the engagement tests: two agencies, two organisations, two councils with their
/// secretaries, a meeting of council A attended by organisation A, a restricted one, and a recommendation.
pub struct World {
    /// Admin token.
    pub admin: String,
    /// Analyst token.
    pub analyst: String,
    /// Member of organisation A (attends council A's meetings).
    pub ngo_a: String,
    /// Member of organisation B (no part in anything).
    pub ngo_b: String,
    /// Secretary of council A.
    pub secretary_a: String,
    /// Secretary of council B.
    pub secretary_b: String,
    /// Officer of the agency that hosts council A and receives the recommendation.
    pub officer_host: String,
    /// Officer of another agency.
    pub officer_other: String,
    /// The host agency.
    pub host_agency: Uuid,
    /// The other agency.
    pub other_agency: Uuid,
    /// Organisation A.
    pub org_a: Uuid,
    /// Organisation B.
    pub org_b: Uuid,
    /// Council A.
    pub council_a: Uuid,
    /// Council B.
    pub council_b: Uuid,
    /// An internal meeting of council A.
    pub meeting: Uuid,
    /// A restricted meeting of council A.
    pub restricted: Uuid,
    /// A recommendation from `meeting` to the host agency.
    pub recommendation: Uuid,
}

/// The id in a JSON body.
pub fn id_of(body: &Value) -> Uuid {
    body["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("an id")
}

impl TestApp {
    /// Builds the [`World`] through the API.
    pub async fn world(&self) -> World {
        use serde_json::json;
        let admin = self.admin().await;
        let host_agency = id_of(&self.create_agency(&admin, json!({"name": "МВД", "level": "national", "kind": "ministry", "region_code": "TJ"})).await);
        let other_agency = id_of(
            &self
                .create_agency(
                    &admin,
                    json!({"name": "Минюст", "level": "national", "kind": "ministry"}),
                )
                .await,
        );
        let org_a = id_of(
            &self
                .create_organization(
                    &admin,
                    json!({"name": "Ҳуқуқ ва Адолат", "kind": "ngo", "region_code": "TJ-DU"}),
                )
                .await,
        );
        let org_b = id_of(
            &self
                .create_organization(
                    &admin,
                    json!({"name": "Голос женщин", "kind": "ngo", "region_code": "TJ-SU"}),
                )
                .await,
        );
        let council = |name: &str, host: Option<Uuid>| json!({"name": name, "kind": "public_council", "level": "national", "host_agency_id": host, "region_code": "TJ", "sphere_codes": ["public_order"]});
        let res = self
            .post(
                "/api/v1/councils",
                Some(&admin),
                &council("Совет по реформе милиции", Some(host_agency)),
            )
            .await;
        res.assert_status(201);
        let council_a = id_of(&res.json());
        let res = self
            .post(
                "/api/v1/councils",
                Some(&admin),
                &council("Общественный совет РТ", None),
            )
            .await;
        res.assert_status(201);
        let council_b = id_of(&res.json());
        let secretary_a = self.user(Role::Secretary, None, None, &[council_a]).await.1;
        let secretary_b = self.user(Role::Secretary, None, None, &[council_b]).await.1;
        let meeting_body = |title: &str, visibility: &str| {
            json!({"title": title, "status": "held", "starts_at": "2026-03-10T10:00:00Z", "location": "Душанбе",
                   "agenda": [{"title": "Мониторинг ИВС"}],
                   "attendance": [{"organization_id": org_a, "representative_name": "Мадина", "present": true}],
                   "visibility": visibility})
        };
        let res = self
            .post(
                &format!("/api/v1/councils/{council_a}/meetings"),
                Some(&admin),
                &meeting_body("Заседание совета", "internal"),
            )
            .await;
        res.assert_status(201);
        let meeting = id_of(&res.json());
        let res = self
            .post(
                &format!("/api/v1/councils/{council_a}/meetings"),
                Some(&admin),
                &meeting_body("Закрытое заседание", "restricted"),
            )
            .await;
        res.assert_status(201);
        let restricted = id_of(&res.json());
        let res = self
            .post(&format!("/api/v1/engagements/{meeting}/recommendations"), Some(&admin),
                  &json!({"text": "Обеспечить доступ адвокатов в ИВС", "addressed_to_agency_id": host_agency, "issued_on": "2026-03-10", "due_on": "2026-06-10"}))
            .await;
        res.assert_status(201);
        let recommendation = id_of(&res.json());
        World {
            analyst: self.analyst().await,
            ngo_a: self.ngo_member(org_a).await,
            ngo_b: self.ngo_member(org_b).await,
            secretary_a,
            secretary_b,
            officer_host: self.officer(host_agency).await,
            officer_other: self.officer(other_agency).await,
            admin,
            host_agency,
            other_agency,
            org_a,
            org_b,
            council_a,
            council_b,
            meeting,
            restricted,
            recommendation,
        }
    }

    /// Inserts an engagement row directly (for kinds whose endpoints come later): returns its id.
    pub async fn insert_engagement(
        &self,
        kind: &str,
        owner: Option<Uuid>,
        visibility: &str,
        parties: &[(Uuid, &str)],
    ) -> Uuid {
        use diesel_async::SimpleAsyncConnection;
        let id = Uuid::now_v7();
        let owner = owner.map_or("NULL".to_owned(), |o| format!("'{o}'"));
        let mut sql = format!(
            "INSERT INTO engagements (id, kind, title, status, starts_on, visibility, owner_organization_id) \
             VALUES ('{id}', '{kind}', 'Слушания о реформе', 'held', '2026-02-01', '{visibility}', {owner});"
        );
        for (org, role) in parties {
            sql.push_str(&format!("INSERT INTO engagement_parties (engagement_id, organization_id, role) VALUES ('{id}', '{org}', '{role}');"));
        }
        let mut conn = self.state.pool.get().await.expect("conn");
        conn.batch_execute(&sql).await.expect("insert engagement");
        id
    }
}

thread_local! {
    static STATEMENTS: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Records the SQL text (without its binds) of every statement started on this thread: each test runs on its
/// own thread, so a test sees only its own. Install it with [`record_statements`] before the app is built.
struct RecordStatements;

impl diesel::connection::Instrumentation for RecordStatements {
    fn on_connection_event(&mut self, event: diesel::connection::InstrumentationEvent<'_>) {
        if let diesel::connection::InstrumentationEvent::StartQuery { query, .. } = event {
            let text = query.to_string();
            let sql = text
                .split(" -- binds: ")
                .next()
                .unwrap_or_default()
                .to_owned();
            STATEMENTS.with(|s| s.borrow_mut().push(sql));
        }
    }
}

/// Makes every connection opened from now on (process-wide) record its statements on the thread that runs them.
pub fn record_statements() {
    diesel::connection::set_default_instrumentation(|| Some(Box::new(RecordStatements)))
        .expect("instrumentation");
}

/// The statements recorded on this thread since the last call.
pub fn take_statements() -> Vec<String> {
    STATEMENTS.with(|s| std::mem::take(&mut *s.borrow_mut()))
}
