//! The demo data set: drawn from the seed document, loaded once (fixed ids, `ON CONFLICT DO NOTHING`),
//! with one account per role so that a newcomer can try every access rule. A server started without demo mode
//! disables the demo accounts it finds ([`disable_accounts`]): their password is public.

use diesel_async::{AsyncConnection, SimpleAsyncConnection};
use uuid::Uuid;

use crate::auth::{Actor, Role, password};
use crate::db::DbPool;
use crate::users::model::{CreateUser, User};

const DIRECTORY: &str = include_str!("directory.sql");
const ENGAGEMENTS: &str = include_str!("engagements.sql");
const CONSULTATIONS: &str = include_str!("consultations.sql");
const MONITORING_GRANTS: &str = include_str!("monitoring_grants.sql");

/// The password of every demo account (printed at start-up; demo databases only).
pub const DEMO_PASSWORD: &str = "hamkori-demo-2026";

/// A demo account: email, name, role and bindings.
struct DemoUser {
    email: &'static str,
    name: &'static str,
    role: Role,
    organization: Option<&'static str>,
    agency: Option<&'static str>,
    councils: &'static [&'static str],
}

const USERS: &[DemoUser] = &[
    DemoUser {
        email: "admin@demo.hamkori.tj",
        name: "Администратор (демо)",
        role: Role::Admin,
        organization: None,
        agency: None,
        councils: &[],
    },
    DemoUser {
        email: "analyst@demo.hamkori.tj",
        name: "Аналитик (демо)",
        role: Role::Analyst,
        organization: None,
        agency: None,
        councils: &[],
    },
    DemoUser {
        email: "ngo@demo.hamkori.tj",
        name: "Сотрудник «Ҳуқуқ ва Адолат»",
        role: Role::NgoMember,
        organization: Some("0193a000-0000-7000-8000-00000000b001"),
        agency: None,
        councils: &[],
    },
    DemoUser {
        email: "ngo2@demo.hamkori.tj",
        name: "Сотрудник «Голос женщин Согда»",
        role: Role::NgoMember,
        organization: Some("0193a000-0000-7000-8000-00000000b002"),
        agency: None,
        councils: &[],
    },
    DemoUser {
        email: "officer@demo.hamkori.tj",
        name: "Сотрудник МВД",
        role: Role::AgencyOfficer,
        organization: None,
        agency: Some("0193a000-0000-7000-8000-00000000a004"),
        councils: &[],
    },
    DemoUser {
        email: "secretary@demo.hamkori.tj",
        name: "Секретарь совета по реформе милиции",
        role: Role::Secretary,
        organization: None,
        agency: None,
        councils: &[
            "0193a000-0000-7000-8000-00000000c002",
            "0193a000-0000-7000-8000-00000000c005",
        ],
    },
];

fn id(text: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(text).map_err(|e| anyhow::anyhow!("a demo id is malformed: {e}"))
}

/// Loads the demo data; a second call adds nothing. Returns the demo accounts as (email, role).
pub async fn load(pool: &DbPool) -> anyhow::Result<Vec<(String, Role)>> {
    let mut conn = pool.get().await?;
    conn.transaction(async |conn| {
        conn.batch_execute(DIRECTORY).await?;
        conn.batch_execute(ENGAGEMENTS).await?;
        conn.batch_execute(CONSULTATIONS).await?;
        conn.batch_execute(MONITORING_GRANTS).await
    })
    .await?;
    let actor = Actor::system();
    let mut accounts = Vec::new();
    for demo in USERS {
        accounts.push((demo.email.to_owned(), demo.role));
        if let Some((id, _)) = User::credentials(&mut conn, demo.email)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
        {
            // Disabled by an earlier start without demo mode: demo mode enables it again.
            set_disabled(&mut conn, &actor, id, false).await?;
            continue;
        }
        let request = CreateUser {
            email: demo.email.to_owned(),
            display_name: demo.name.to_owned(),
            role: demo.role,
            organization_id: demo.organization.map(id).transpose()?,
            agency_id: demo.agency.map(id).transpose()?,
            council_ids: demo
                .councils
                .iter()
                .map(|c| id(c))
                .collect::<Result<_, _>>()?,
            password: DEMO_PASSWORD.to_owned(),
        };
        let hash = password::hash(DEMO_PASSWORD.to_owned()).await?;
        conn.transaction(async |conn| {
            crate::users::handlers::create(conn, &actor, &request, &hash).await
        })
        .await
        .map_err(|e| anyhow::anyhow!("creating demo user {}: {}", demo.email, e.summary()))?;
    }
    Ok(accounts)
}

/// Disables the demo accounts that exist (start-up without demo mode): they can no longer sign in, and their
/// tokens are refused. Returns the emails disabled now.
pub async fn disable_accounts(pool: &DbPool) -> anyhow::Result<Vec<String>> {
    let mut conn = pool.get().await?;
    let actor = Actor::system();
    let mut disabled = Vec::new();
    for demo in USERS {
        let found = User::credentials(&mut conn, demo.email)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        if let Some((id, _)) = found
            && set_disabled(&mut conn, &actor, id, true).await?
        {
            disabled.push(demo.email.to_owned());
        }
    }
    Ok(disabled)
}

/// Disables or enables one account, audited, moving its session version on when disabling; returns whether it
/// changed.
async fn set_disabled(
    conn: &mut crate::db::Conn,
    actor: &Actor,
    id: Uuid,
    disabled: bool,
) -> anyhow::Result<bool> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;

    use crate::db::schema::users;
    let changed = crate::audit::write::in_transaction(conn, async |conn| {
        let before = User::find(conn, id).await?;
        if before.disabled == disabled {
            return Ok(false);
        }
        diesel::update(users::table.find(id))
            .set((
                users::disabled.eq(disabled),
                users::session_version.eq(users::session_version + i32::from(disabled)),
                users::version.eq(users::version + 1),
                users::updated_at.eq(diesel::dsl::now),
            ))
            .execute(conn)
            .await?;
        let after = User::find(conn, id).await?;
        crate::audit::record(
            conn,
            actor,
            crate::audit::AuditAction::Update,
            "user",
            &id.to_string(),
            Some(&before),
            Some(&after),
        )
        .await?;
        Ok(true)
    })
    .await
    .map_err(|e| anyhow::anyhow!("changing demo account {id}: {}", e.summary()))?;
    Ok(changed)
}

/// Inserts synthetic organisations and agencies (for benchmarks), in one statement each.
pub async fn generate(pool: &DbPool, organizations: i64, agencies: i64) -> anyhow::Result<()> {
    use diesel::sql_types::BigInt;
    use diesel_async::RunQueryDsl;
    let mut conn = pool.get().await?;
    let kinds = "(ARRAY['ngo','coalition','international_organization','donor','media','business','other'])";
    let regions = "(ARRAY['TJ-DU','TJ-SU','TJ-KT','TJ-GB','TJ-RA'])";
    let spheres = "(ARRAY['human_rights','health','education','gender','environment','migration','public_order'])";
    diesel::sql_query(format!(
        "INSERT INTO organizations (id, name, kind, region_code, settlement, sphere_codes, status, created_at)
         SELECT gen_random_uuid(), 'Организация ' || md5(g::text), {kinds}[1 + g % 7], {regions}[1 + g % 5],
                CASE WHEN g % 3 = 0 THEN 'rural' ELSE 'urban' END, ARRAY[{spheres}[1 + g % 7]], 'active',
                now() - make_interval(secs => g)
         FROM generate_series(1, $1) AS g"
    ))
    .bind::<BigInt, _>(organizations)
    .execute(&mut conn)
    .await?;
    diesel::sql_query(format!(
        "INSERT INTO agencies (id, name, level, kind, region_code, created_at)
         SELECT gen_random_uuid(), 'Ведомство ' || md5(g::text), 'district', 'local_executive', {regions}[1 + g % 5],
                now() - make_interval(secs => g)
         FROM generate_series(1, $1) AS g"
    ))
    .bind::<BigInt, _>(agencies)
    .execute(&mut conn)
    .await?;
    tracing::info!(organizations, agencies, "generated synthetic rows");
    Ok(())
}
