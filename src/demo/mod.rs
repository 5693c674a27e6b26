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

/// What `hamkori generate` makes.
#[derive(Debug, Clone, Copy)]
pub struct Generate {
    /// Organisations.
    pub organizations: i64,
    /// Agencies (a fifth at the top, the others their sub-agencies).
    pub agencies: i64,
    /// Engagements of all kinds, with their kind-specific rows, parties, submissions and recommendations.
    pub engagements: i64,
    /// The same seed makes the same rows (ids included), so a second run into one database needs another seed.
    pub seed: i64,
}

const GENERATE_ENGAGEMENTS: &str = include_str!("generate.sql");

/// Inserts synthetic rows for benchmarks, set-based (one `INSERT … SELECT` per table, in one transaction). The
/// filled tables' secondary indexes, foreign keys and triggers are set aside for the load and put back at its end
/// (`generate.sql`), so the tables stay locked until it commits: for benchmark databases, not beside users.
pub async fn generate(pool: &DbPool, spec: Generate) -> anyhow::Result<()> {
    let Generate {
        organizations,
        agencies,
        engagements,
        seed,
    } = spec;
    anyhow::ensure!(
        organizations >= 4 && agencies >= 2 || engagements == 0,
        "engagements need at least 4 organisations and 2 agencies"
    );
    anyhow::ensure!(organizations >= 0 && agencies >= 0 && engagements >= 0 && seed >= 0);
    let mut conn = pool.get().await?;
    let kinds = "(ARRAY['ngo','coalition','international_organization','donor','media','business','other'])";
    let regions = "(ARRAY['TJ-DU','TJ-SU','TJ-KT','TJ-GB','TJ-RA'])";
    let spheres = "(ARRAY['human_rights','health','education','gender','environment','migration','public_order'])";
    // Only our own numbers are formatted into the SQL.
    let top = (agencies / 5).max(1);
    let directory = format!(
        "INSERT INTO organizations (id, name, kind, region_code, settlement, sphere_codes, status, created_at)
         SELECT md5('{seed}:o:' || g)::uuid, 'Организация ' || md5('{seed}:o:' || g), {kinds}[1 + g % 7],
                {regions}[1 + g % 5], CASE WHEN g % 3 = 0 THEN 'rural' ELSE 'urban' END, ARRAY[{spheres}[1 + g % 7]],
                'active', timestamptz '2026-12-01' - make_interval(secs => g)
         FROM generate_series(1, {organizations}) AS g;
         INSERT INTO agencies (id, name, level, kind, parent_id, region_code, created_at)
         SELECT md5('{seed}:a:' || g)::uuid, 'Ведомство ' || md5('{seed}:a:' || g),
                CASE WHEN g <= {top} THEN 'national' ELSE 'district' END,
                CASE WHEN g <= {top} THEN 'ministry' ELSE 'local_executive' END,
                CASE WHEN g > {top} THEN md5('{seed}:a:' || (1 + (g - 1) % {top}))::uuid END,
                {regions}[1 + g % 5], timestamptz '2026-12-01' - make_interval(secs => g)
         FROM generate_series(1, {agencies}) AS g;"
    );
    let councils = (agencies / 2).max(5);
    let facilities = (agencies * 3).max(5);
    let rest = GENERATE_ENGAGEMENTS
        .replace("@SEED@", &seed.to_string())
        .replace("@ORGS@", &organizations.to_string())
        .replace("@AGENCIES@", &agencies.to_string())
        .replace("@COUNCILS@", &councils.to_string())
        .replace("@FACILITIES@", &facilities.to_string())
        .replace("@ENGAGEMENTS@", &engagements.to_string());
    conn.transaction(async |conn| {
        // Loading a million engagements takes minutes, longer than the server's statement timeout.
        conn.batch_execute("SET LOCAL statement_timeout = 0")
            .await?;
        conn.batch_execute(&directory).await?;
        if engagements > 0 {
            conn.batch_execute(&rest).await?;
        }
        Ok::<_, diesel::result::Error>(())
    })
    .await?;
    conn.batch_execute("SET statement_timeout = 0; ANALYZE")
        .await?;
    tracing::info!(
        organizations,
        agencies,
        engagements,
        seed,
        "generated synthetic rows"
    );
    Ok(())
}
