//! The open-data download: every public record, one CSV per collection as the lists export them to an anonymous
//! reader, a data package describing them and a README with the licence. `.ci/run` validates the kept package
//! with Python's `frictionless`.

use std::collections::BTreeMap;
use std::io::Read;

use serde_json::{Value, json};

use crate::support::{TestApp, World, id_of};

/// Every file of the download, by name.
async fn download(app: &TestApp, token: Option<&str>) -> BTreeMap<String, Vec<u8>> {
    let res = app.get("/api/v1/export/open-data.zip", token).await;
    res.assert_status(200);
    assert_eq!(
        res.header("content-type").as_deref(),
        Some("application/zip")
    );
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(res.body.to_vec())).expect("a ZIP archive");
    let mut files = BTreeMap::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).expect("a file in the archive");
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).expect("its contents");
        let name = file.name().expect("a UTF-8 file name").into_owned();
        files.insert(name, bytes);
    }
    files
}

/// Where the package is kept for `.ci/run`.
fn validation_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("open-data")
}

/// A CSV text without its BOM (which it must have).
fn csv_text(bytes: &[u8]) -> String {
    let text = String::from_utf8(bytes.to_vec()).expect("UTF-8");
    text.strip_prefix('\u{feff}')
        .unwrap_or_else(|| panic!("a BOM first: {text:?}"))
        .to_owned()
}

#[actix_web::test]
async fn the_package_holds_every_public_record_as_each_list_exports_it() {
    let app = TestApp::new().await;
    let w: World = app.world().await;
    let hearing = app
        .post("/api/v1/hearings", Some(&w.ngo_a), &json!({
            "title": "Общественные слушания о реформе милиции", "status": "held", "starts_on": "2026-04-02",
            "location": "Душанбе", "region_code": "TJ-DU", "organizer_ids": [w.org_a],
            "invited_agencies": [{"agency_id": w.host_agency, "attended": true}],
            "participants_count": 85, "visibility": "public"
        }))
        .await;
    hearing.assert_status(201);
    let hearing = id_of(&hearing.json());
    let hidden = app
        .post(
            "/api/v1/hearings",
            Some(&w.ngo_a),
            &json!({
                "title": "Закрытая встреча", "status": "held", "starts_on": "2026-04-03",
                "organizer_ids": [w.org_a], "visibility": "restricted"
            }),
        )
        .await;
    hidden.assert_status(201);
    let hidden = id_of(&hidden.json());

    // Whoever asks, the package holds public records only: an admin's download is the anonymous one.
    let files = download(&app, Some(&w.admin)).await;
    let collections = [
        ("organizations", "/api/v1/organizations"),
        ("agencies", "/api/v1/agencies"),
        ("facilities", "/api/v1/facilities"),
        ("councils", "/api/v1/councils"),
        ("meetings", "/api/v1/meetings"),
        ("hearings", "/api/v1/hearings"),
        ("consultations", "/api/v1/consultations"),
        ("submissions", "/api/v1/submissions"),
        ("monitoring-visits", "/api/v1/monitoring-visits"),
        ("grants", "/api/v1/grants"),
        ("recommendations", "/api/v1/recommendations"),
    ];
    let mut names: Vec<String> = collections
        .iter()
        .map(|(n, _)| format!("{n}.csv"))
        .collect();
    names.extend([
        "council-members.csv".to_owned(),
        "datapackage.json".to_owned(),
        "README.md".to_owned(),
    ]);
    names.sort();
    assert_eq!(files.keys().cloned().collect::<Vec<_>>(), names);
    for (name, list) in collections {
        let exported = app.get(&format!("{list}?format=csv"), None).await;
        exported.assert_status(200);
        assert_eq!(
            csv_text(&files[&format!("{name}.csv")]),
            csv_text(&exported.body),
            "{name}.csv is the anonymous list's CSV export"
        );
    }
    let hearings = csv_text(&files["hearings.csv"]);
    assert!(hearings.contains(&hearing.to_string()), "{hearings}");
    assert!(
        !hearings.contains(&hidden.to_string()),
        "restricted records stay out: {hearings}"
    );
    assert!(
        hearings.contains("Ҳуқуқ ва Адолат (organizer)"),
        "names beside ids: {hearings}"
    );
    let meetings = csv_text(&files["meetings.csv"]);
    assert!(
        !meetings.contains(&w.meeting.to_string()),
        "an internal meeting stays out"
    );
    let members = csv_text(&files["council-members.csv"]);
    assert!(members.starts_with("id,"), "{members}");

    let package: Value = serde_json::from_slice(&files["datapackage.json"]).expect("JSON");
    assert_eq!(package["profile"], "tabular-data-package");
    assert_eq!(package["licenses"][0]["name"], "CC-BY-4.0");
    let resources = package["resources"].as_array().cloned().unwrap_or_default();
    assert_eq!(resources.len(), 12);
    let hearing_fields = resources
        .iter()
        .find(|r| r["name"] == "hearings")
        .map(|r| r["schema"]["fields"].clone())
        .unwrap_or_default();
    assert!(
        hearing_fields
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| f["name"] == "starts_on"
                && f["type"] == "date"
                && f["description"].is_string()),
        "{hearing_fields}"
    );
    let readme = String::from_utf8(files["README.md"].clone()).expect("UTF-8");
    assert!(
        readme.contains("CC-BY-4.0") && readme.contains(package["created"].as_str().unwrap_or("?")),
        "{readme}"
    );
}

#[actix_web::test]
async fn the_demo_data_fills_every_file_and_is_kept_for_the_frictionless_validator() {
    let app = TestApp::new().await;
    hamkori::demo::load(app.pool()).await.expect("demo data");
    let files = download(&app, None).await;
    for (name, bytes) in &files {
        if let Some(collection) = name.strip_suffix(".csv") {
            let rows = csv_text(bytes).lines().count();
            assert!(rows > 1, "{collection}: a header and at least one record");
        }
    }
    // Kept whole for `.ci/run`, which validates it with Python's frictionless (types, formats, keys).
    let dir = validation_dir();
    drop(std::fs::remove_dir_all(&dir));
    std::fs::create_dir_all(&dir).expect("the validation folder");
    for (name, bytes) in &files {
        std::fs::write(dir.join(name), bytes).expect("a kept file");
    }
}

#[actix_web::test]
async fn a_third_download_at_once_waits_its_turn_and_a_left_download_frees_its_slot() {
    let app = TestApp::new().await;
    hamkori::demo::load(app.pool()).await.expect("demo data");
    // A service of its own whose responses are not read: each download then holds its slot, as a slow client's.
    let service = actix_web::test::init_service(hamkori::build_app(app.state.clone())).await;
    let download = || {
        actix_web::test::TestRequest::get()
            .uri("/api/v1/export/open-data.zip")
            .to_request()
    };
    let first = actix_web::test::call_service(&service, download()).await;
    let second = actix_web::test::call_service(&service, download()).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = actix_web::test::call_service(&service, download()).await;
    assert_eq!(third.status().as_u16(), 503, "two downloads at a time");
    assert!(third.headers().contains_key("retry-after"));

    // The first client leaves: its download stops at its next chunk and gives its slot back.
    drop(first);
    let mut status = 0;
    for _ in 0..100 {
        let next = actix_web::test::call_service(&service, download()).await;
        status = next.status().as_u16();
        if status == 200 {
            let body = actix_web::test::read_body(next).await;
            assert!(zip::ZipArchive::new(std::io::Cursor::new(body.to_vec())).is_ok());
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(status, 200, "a slot came free");
    // The second, read to its end, is a whole package.
    let body = actix_web::test::read_body(second).await;
    assert!(zip::ZipArchive::new(std::io::Cursor::new(body.to_vec())).is_ok());
}

#[actix_web::test]
async fn a_download_the_database_drops_midway_ends_in_an_error_and_frees_its_slot() {
    use actix_web::body::MessageBody;

    let proxy = crate::support::chaos::ChaosProxy::start().await;
    let app = TestApp::behind(&proxy, std::time::Duration::from_millis(500)).await;
    // Enough organisations for several batches, so that the download is still reading when the database goes.
    app.execute(
        "INSERT INTO organizations (id, name, kind) \
         SELECT gen_random_uuid(), 'Общественное объединение № ' || n, 'ngo' \
         FROM generate_series(1, 20000) AS n",
    )
    .await;
    let service = actix_web::test::init_service(hamkori::build_app(app.state.clone())).await;
    let download = || {
        actix_web::test::TestRequest::get()
            .uri("/api/v1/export/open-data.zip")
            .to_request()
    };
    let res = actix_web::test::call_service(&service, download()).await;
    assert_eq!(res.status().as_u16(), 200);
    let mut body = res.into_body();
    let first = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_next(cx)).await;
    assert!(
        matches!(first, Some(Ok(ref chunk)) if chunk.starts_with(b"PK")),
        "the package had begun"
    );

    proxy.cut();
    let rest = actix_web::body::to_bytes(body).await;
    assert!(
        rest.is_err(),
        "a download cut short ends in an error, never in a file that looks whole"
    );

    proxy.restore();
    let mut free = 0;
    for _ in 0..100 {
        free = app.state.open_data_slots.available_permits();
        if free == hamkori::open_data::handlers::DOWNLOADS_AT_ONCE {
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        free,
        hamkori::open_data::handlers::DOWNLOADS_AT_ONCE,
        "its slot came back"
    );
    // Once the database is back, a download is whole again (the pool's broken connections are replaced).
    let mut whole = false;
    for _ in 0..20 {
        let res = actix_web::test::call_service(&service, download()).await;
        if res.status().as_u16() == 200
            && let Ok(bytes) = actix_web::body::to_bytes(res.into_body()).await
        {
            let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec()))
                .expect("a whole package");
            assert!(
                archive
                    .file_names()
                    .any(|n| n.is_ok_and(|n| n == "organizations.csv"))
            );
            whole = true;
            break;
        }
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(whole, "a download after the database came back");
}
