//! The party timeline (`engagement_timeline`): kept by triggers in the statement that changes an engagement's
//! parties, owner or first day, so that it always equals what its definition gives from the live rows, and the
//! agency and organisation lists it serves show each change at once.

use serde_json::json;
use uuid::Uuid;

use crate::support::{TestApp, World, id_of};

/// Rows where the timeline and its definition (the owner and every party of each engagement, on its first day,
/// with its kind) differ, in either direction.
pub const DRIFT: &str = "SELECT count(*) FROM ( \
    (SELECT actor_id, starts_on, engagement_id, kind FROM engagement_timeline \
     EXCEPT \
     SELECT a.actor_id, e.starts_on, e.id, e.kind FROM engagements e \
     CROSS JOIN LATERAL (SELECT e.owner_organization_id UNION ALL \
                         SELECT coalesce(p.organization_id, p.agency_id) FROM engagement_parties p \
                         WHERE p.engagement_id = e.id) AS a (actor_id) \
     WHERE a.actor_id IS NOT NULL) \
    UNION ALL \
    (SELECT a.actor_id, e.starts_on, e.id, e.kind FROM engagements e \
     CROSS JOIN LATERAL (SELECT e.owner_organization_id UNION ALL \
                         SELECT coalesce(p.organization_id, p.agency_id) FROM engagement_parties p \
                         WHERE p.engagement_id = e.id) AS a (actor_id) \
     WHERE a.actor_id IS NOT NULL \
     EXCEPT \
     SELECT actor_id, starts_on, engagement_id, kind FROM engagement_timeline)) AS drift";

/// The timeline rows of one engagement.
async fn rows_of(app: &TestApp, id: Uuid) -> i64 {
    app.count(&format!(
        "SELECT count(*) FROM engagement_timeline WHERE engagement_id = '{id}'"
    ))
    .await
}

/// Whether `agency`'s engagement list (sub-agencies left out) shows the engagement.
async fn listed_for_agency(app: &TestApp, w: &World, agency: Uuid, id: Uuid) -> bool {
    let res = app
        .get(
            &format!("/api/v1/engagements?agency_id={agency}&include_subagencies=false&limit=100"),
            Some(&w.admin),
        )
        .await;
    res.assert_status(200);
    res.item_ids().contains(&id.to_string())
}

#[actix_web::test]
async fn the_timeline_follows_every_change_of_parties_owner_and_day() {
    let app = TestApp::new().await;
    let w = app.world().await;
    let res = app
        .post("/api/v1/hearings", Some(&w.ngo_a), &json!({
            "title": "Общественные слушания о бесплатной юридической помощи", "status": "planned",
            "starts_on": "2026-04-02", "region_code": "TJ-DU", "organizer_ids": [w.org_a, w.org_b],
            "invited_agencies": [{"agency_id": w.host_agency, "attended": false}], "visibility": "public"
        }))
        .await;
    res.assert_status(201);
    let id = id_of(&res.json());
    let path = format!("/api/v1/hearings/{id}");
    // Organisation A (owner and organiser, one row), B and the host agency.
    assert_eq!(rows_of(&app, id).await, 3);
    assert_eq!(app.count(DRIFT).await, 0);
    assert!(listed_for_agency(&app, &w, w.host_agency, id).await);
    assert!(!listed_for_agency(&app, &w, w.other_agency, id).await);

    // Another day: every row moves with it.
    app.patch_read(&path, Some(&w.ngo_a), &json!({"starts_on": "2026-05-14"}))
        .await
        .assert_status(200);
    assert_eq!(
        app.count(&format!(
            "SELECT count(*) FROM engagement_timeline WHERE engagement_id = '{id}' AND starts_on = '2026-05-14'"
        ))
        .await,
        3
    );
    assert_eq!(app.count(DRIFT).await, 0);

    // The other agency invited instead of the host.
    app.patch_read(
        &path,
        Some(&w.ngo_a),
        &json!({"invited_agencies": [{"agency_id": w.other_agency, "attended": true}]}),
    )
    .await
    .assert_status(200);
    assert_eq!(rows_of(&app, id).await, 3);
    assert_eq!(app.count(DRIFT).await, 0);
    assert!(!listed_for_agency(&app, &w, w.host_agency, id).await);
    assert!(listed_for_agency(&app, &w, w.other_agency, id).await);

    // Deleted: no row is left behind.
    app.delete_read(&path, Some(&w.ngo_a))
        .await
        .assert_status(204);
    assert_eq!(rows_of(&app, id).await, 0);
    assert_eq!(app.count(DRIFT).await, 0);
    assert!(!listed_for_agency(&app, &w, w.other_agency, id).await);
}
