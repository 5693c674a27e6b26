//! The read rule against a brute-force filter: a generated data set of every kind, listed through the API by
//! every role, must give exactly the engagements that DESIGN.md §5 (and the planned-visit and council rules),
//! written out here a second time in plain Rust over the table's rows, allows.

use std::collections::BTreeSet;

use diesel::QueryableByName;
use diesel::sql_types::Text;
use diesel_async::RunQueryDsl;
use hamkori::demo::{Generate, generate};
use hamkori::domain::Role;
use serde::Deserialize;
use uuid::Uuid;

use crate::support::{TestApp, id_of};

/// What the rule reads of an engagement, straight from the tables.
#[derive(Debug, Deserialize)]
struct Row {
    id: Uuid,
    kind: String,
    status: String,
    visibility: String,
    owner: Option<Uuid>,
    council: Option<Uuid>,
    council_visibility: Option<String>,
    /// Organisations named on it, with their roles.
    parties: Vec<(Uuid, String)>,
}

#[derive(QueryableByName)]
struct Json {
    #[diesel(sql_type = Text)]
    rows: String,
}

/// Who is asking.
struct Reader {
    name: &'static str,
    role: Option<Role>,
    organization: Option<Uuid>,
    councils: Vec<Uuid>,
}

/// DESIGN.md §5, row by row: visibility (public to all, internal to the signed-in, restricted to the owning or
/// named organisation and the council's secretaries), a planned visit only to its monitors, and a council's
/// meetings no more visible than the council.
fn may_read(reader: &Reader, row: &Row) -> bool {
    let Some(role) = reader.role else {
        return row.visibility == "public"
            && !(row.kind == "monitoring_visit" && row.status == "planned")
            && (row.kind != "meeting"
                || row
                    .council_visibility
                    .as_deref()
                    .is_none_or(|v| v == "public"));
    };
    if role == Role::Admin {
        return true;
    }
    let named_as = |roles: &[&str]| {
        reader.organization.is_some_and(|org| {
            row.parties
                .iter()
                .any(|(o, r)| *o == org && roles.contains(&r.as_str()))
        })
    };
    let own_council = row.council.is_some_and(|c| reader.councils.contains(&c));
    let visible = match row.visibility.as_str() {
        "public" | "internal" => true,
        _ => match role {
            Role::NgoMember => {
                reader.organization.is_some() && row.owner == reader.organization
                    || named_as(&["organizer", "submitter", "monitor", "recipient"])
            }
            Role::Secretary => own_council,
            _ => false,
        },
    };
    let planned_visit = row.kind == "monitoring_visit" && row.status == "planned";
    let visit_seen = !planned_visit || role == Role::NgoMember && named_as(&["monitor"]);
    let council_seen = row.kind != "meeting"
        || row.council_visibility.as_deref() != Some("restricted")
        || role == Role::Secretary && own_council;
    visible && visit_seen && council_seen
}

/// Every engagement id the list at `path` gives `token`, over all its pages; none may appear twice.
async fn listed(app: &TestApp, path: &str, token: Option<&str>) -> BTreeSet<Uuid> {
    let mut ids = BTreeSet::new();
    for id in app.all_item_ids(path, token).await {
        assert!(ids.insert(id.parse().expect("uuid")), "{id} listed twice");
    }
    ids
}

#[actix_web::test]
async fn every_role_lists_exactly_what_a_brute_force_filter_of_the_table_allows() {
    let app = TestApp::new().await;
    let spec = Generate {
        organizations: 60,
        agencies: 20,
        engagements: 1_000,
        seed: 6,
    };
    generate(app.pool(), spec).await.expect("generate");
    let mut conn = app.pool().get().await.expect("conn");
    let json: Json = diesel::sql_query(
        "SELECT json_agg(json_build_object( \
             'id', e.id, 'kind', e.kind, 'status', e.status, 'visibility', e.visibility, \
             'owner', e.owner_organization_id, 'council', e.council_id, 'council_visibility', c.visibility, \
             'parties', (SELECT coalesce(json_agg(json_build_array(p.organization_id, p.role)), '[]') \
                           FROM engagement_parties p \
                          WHERE p.engagement_id = e.id AND p.organization_id IS NOT NULL)))::text AS rows \
         FROM engagements e LEFT JOIN councils c ON c.id = e.council_id",
    )
    .get_result(&mut conn)
    .await
    .expect("rows");
    drop(conn);
    let rows: Vec<Row> = serde_json::from_str(&json.rows).expect("rows as JSON");
    assert_eq!(rows.len(), 1_000);

    // Readers whose rule reaches past visibility: the monitor of a planned visit, the organisation named on the
    // most restricted engagements, and the secretary of a restricted council with meetings.
    let planned_monitor = rows
        .iter()
        .filter(|r| r.kind == "monitoring_visit" && r.status == "planned")
        .flat_map(|r| &r.parties)
        .find(|(_, role)| role == "monitor")
        .map(|(org, _)| *org)
        .expect("a planned visit with a monitor");
    let restricted_org = {
        let mut named: Vec<Uuid> = rows
            .iter()
            .filter(|r| r.visibility == "restricted")
            .flat_map(|r| r.parties.iter().map(|(o, _)| *o).chain(r.owner))
            .collect();
        named.sort();
        named
            .chunk_by(|a, b| a == b)
            .max_by_key(|run| run.len())
            .map(|run| run[0])
            .expect("a restricted engagement naming an organisation")
    };
    let restricted_council = rows
        .iter()
        .find(|r| r.kind == "meeting" && r.council_visibility.as_deref() == Some("restricted"))
        .and_then(|r| r.council)
        .expect("a meeting of a restricted council");
    let internal_council = rows
        .iter()
        .find(|r| r.kind == "meeting" && r.council_visibility.as_deref() == Some("internal"))
        .and_then(|r| r.council)
        .expect("a meeting of an internal council");
    let any_agency = id_of(&app.get("/api/v1/agencies?limit=1", None).await.json()["items"][0]);

    let readers = [
        Reader {
            name: "anonymous",
            role: None,
            organization: None,
            councils: vec![],
        },
        Reader {
            name: "analyst",
            role: Some(Role::Analyst),
            organization: None,
            councils: vec![],
        },
        Reader {
            name: "agency officer",
            role: Some(Role::AgencyOfficer),
            organization: None,
            councils: vec![],
        },
        Reader {
            name: "monitor of a planned visit",
            role: Some(Role::NgoMember),
            organization: Some(planned_monitor),
            councils: vec![],
        },
        Reader {
            name: "organisation named on restricted engagements",
            role: Some(Role::NgoMember),
            organization: Some(restricted_org),
            councils: vec![],
        },
        Reader {
            name: "secretary of a restricted and an internal council",
            role: Some(Role::Secretary),
            organization: None,
            councils: vec![restricted_council, internal_council],
        },
        Reader {
            name: "admin",
            role: Some(Role::Admin),
            organization: None,
            councils: vec![],
        },
    ];
    let mut seen = Vec::new();
    for reader in &readers {
        let token = match reader.role {
            None => None,
            Some(role) => {
                let agency = (role == Role::AgencyOfficer).then_some(any_agency);
                Some(
                    app.user(role, reader.organization, agency, &reader.councils)
                        .await
                        .1,
                )
            }
        };
        let want: BTreeSet<Uuid> = rows
            .iter()
            .filter(|r| may_read(reader, r))
            .map(|r| r.id)
            .collect();
        let got = listed(&app, "/api/v1/engagements?limit=200", token.as_deref()).await;
        assert_eq!(
            got.difference(&want).collect::<Vec<_>>(),
            Vec::<&Uuid>::new(),
            "{}: listed beyond the rule",
            reader.name
        );
        assert_eq!(
            want.difference(&got).collect::<Vec<_>>(),
            Vec::<&Uuid>::new(),
            "{}: the rule allows, the list left out",
            reader.name
        );
        // Filtered by a visibility, the list is the same rows narrowed: the rule's own records of a visibility the
        // reader's role does not open (a named organisation's or a secretary's restricted ones) stay, and a
        // visibility the reader can never read is an empty page.
        for visibility in ["public", "internal", "restricted"] {
            let want: BTreeSet<Uuid> = rows
                .iter()
                .filter(|r| r.visibility == visibility && may_read(reader, r))
                .map(|r| r.id)
                .collect();
            if visibility == "restricted" && reader.organization == Some(restricted_org) {
                assert!(
                    !want.is_empty(),
                    "the named organisation has restricted rows"
                );
            }
            let path = format!("/api/v1/engagements?limit=200&visibility={visibility}");
            assert_eq!(
                listed(&app, &path, token.as_deref()).await,
                want,
                "{}: visibility={visibility}",
                reader.name
            );
        }
        seen.push(want.len());
    }

    // The data reaches every branch of the rule, so each comparison above could have failed.
    let [
        anonymous,
        analyst,
        officer,
        monitor,
        named,
        secretary,
        admin,
    ] = seen[..]
    else {
        panic!("seven readers");
    };
    assert!(anonymous > 0 && anonymous < analyst, "internal rows exist");
    assert_eq!(officer, analyst, "an officer reads what an analyst reads");
    assert!(
        monitor > analyst,
        "the monitor sees its planned visit (or more)"
    );
    assert!(
        named > analyst,
        "the named organisation sees restricted rows"
    );
    assert!(
        secretary > analyst,
        "the secretary sees the restricted council's meetings"
    );
    assert_eq!(admin, 1_000);
    assert!(
        rows.iter().any(|r| r.kind == "monitoring_visit"
            && r.status == "planned"
            && r.visibility == "public"),
        "a public planned visit, hidden from everyone but its monitors"
    );
}
