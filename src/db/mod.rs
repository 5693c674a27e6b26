//! The database: connection pool, embedded migrations, the generated schema, typed JSON columns and shared SQL
//! pieces.

pub mod batch;
pub mod json;
pub mod page;
pub mod schema;
pub mod sql;
pub mod text_enum;

use std::time::Duration;

use anyhow::Context;
use diesel::ConnectionError;
use diesel_async::async_connection_wrapper::AsyncConnectionWrapper;
use diesel_async::pooled_connection::deadpool::{Object, Pool};
use diesel_async::pooled_connection::{
    AsyncDieselConnectionManager, ManagerConfig, RecyclingMethod,
};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub use json::JsonColumn;

/// The connection type used everywhere.
pub type Conn = AsyncPgConnection;
/// A pooled connection.
pub type PooledConn = Object<AsyncPgConnection>;
/// The pool.
pub type DbPool = Pool<AsyncPgConnection>;

/// The migrations, compiled into the binary.
pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

/// Settings applied to every new connection: a name in `pg_stat_activity`, a bound on runaway queries, and three
/// planner settings, each measured at a million engagements (docs/benchmarks.md, the section named with each):
/// - no JIT compilation. The API's statements are index walks, which JIT never serves, or a statistic's scan, where
///   Postgres spent 2.3 s compiling a 0.8 s aggregation ("Statistics").
/// - `random_page_cost = 1.1`, as for data in memory or on SSD. At the default 4 Postgres judged a walk of
///   `(status, starts_on, id)` too dear and walked the date index instead, through every newer record of another
///   status: `?status=closed` 11 ms, against 0.3 ms ("List SQL, every filter and caller"). A statistic that reads
///   whole collections may plan with its own cost (`stats::engine::Collection::PLANNER`).
/// - no `Memoize`. Postgres sizes its cache by the rows it expects, not the 50 a page reads: the submissions page
///   spent 2.2 of its 2.8 ms setting up a cache for 51 lookups (the same section).
const SESSION_SETUP: &str = "SET application_name = 'hamkori'; SET statement_timeout = '15s'; \
     SET timezone = 'UTC'; SET jit = off; SET random_page_cost = 1.1; SET enable_memoize = off";

/// How long the pool waits for a free connection, to open one, and to recycle one, unless configured.
pub const DEFAULT_POOL_TIMEOUT: Duration = Duration::from_secs(5);

/// Builds the pool with the default timeouts (see [`pool_with_timeout`]).
pub fn pool(url: &str, max_size: usize) -> anyhow::Result<DbPool> {
    pool_with_timeout(url, max_size, DEFAULT_POOL_TIMEOUT)
}

/// Builds the pool. Connections are made lazily, so this succeeds while the database is down.
///
/// Recycling is `Fast` (no health query per check-out): a broken connection surfaces as a 503 and is
/// dropped, and the next request gets a fresh one. `timeout` bounds the wait for a free connection, the opening
/// of a new one and a recycle: past it the request is a 503 with `Retry-After`.
pub fn pool_with_timeout(url: &str, max_size: usize, timeout: Duration) -> anyhow::Result<DbPool> {
    let mut config = ManagerConfig::<AsyncPgConnection>::default();
    config.recycling_method = RecyclingMethod::Fast;
    config.custom_setup = Box::new(|url| {
        let url = url.to_owned();
        Box::pin(async move {
            let mut conn = AsyncPgConnection::establish(&url).await?;
            conn.batch_execute(SESSION_SETUP)
                .await
                .map_err(ConnectionError::CouldntSetupConfiguration)?;
            Ok(conn)
        })
    });
    let manager = AsyncDieselConnectionManager::new_with_config(url, config);
    Pool::builder(manager)
        .max_size(max_size.max(2))
        .wait_timeout(Some(timeout))
        .create_timeout(Some(timeout))
        .recycle_timeout(Some(timeout))
        .runtime(deadpool::Runtime::Tokio1)
        .build()
        .context("building the database pool")
}

/// Creates the database named in `url` when it does not exist yet.
pub async fn create_database_if_missing(url: &str) -> anyhow::Result<()> {
    let parsed = url::Url::parse(url).context("DATABASE_URL is not a URL")?;
    let name = parsed.path().trim_start_matches('/').to_owned();
    anyhow::ensure!(!name.is_empty(), "DATABASE_URL names no database");
    if AsyncPgConnection::establish(url).await.is_ok() {
        return Ok(());
    }
    let mut admin_url = parsed.clone();
    admin_url.set_path("/postgres");
    let mut conn = AsyncPgConnection::establish(admin_url.as_str())
        .await
        .context("connecting to the server's `postgres` database to create ours")?;
    let quoted = format!("\"{}\"", name.replace('"', "\"\""));
    match diesel::sql_query(format!("CREATE DATABASE {quoted}"))
        .execute(&mut conn)
        .await
    {
        Ok(_) => {
            tracing::info!(database = %name, "created the database");
            Ok(())
        }
        // Another process created it between our two checks.
        Err(diesel::result::Error::DatabaseError(_, info))
            if info.message().contains("already exists") =>
        {
            Ok(())
        }
        Err(e) => Err(e).context("creating the database"),
    }
}

/// Applies pending migrations on a blocking thread (the harness is synchronous).
pub async fn migrate(url: &str) -> anyhow::Result<()> {
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let mut conn =
            <AsyncConnectionWrapper<AsyncPgConnection> as diesel::Connection>::establish(&url)
                .context("connecting to apply migrations")?;
        let applied = conn
            .run_pending_migrations(MIGRATIONS)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for version in applied {
            tracing::info!(%version, "applied migration");
        }
        Ok(())
    })
    .await
    .context("the migration task panicked")?
}
