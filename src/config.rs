//! Settings of `hamkori serve`, from flags or environment variables (an optional `.env` is read first).
//!
//! | variable | flag | default |
//! |---|---|---|
//! | `DATABASE_URL` | `--database-url` | `postgres://postgres@localhost:5432/hamkori` (created if missing) |
//! | `BIND` | `--bind` | `127.0.0.1:8080` |
//! | `JWT_SECRET` | `--jwt-secret` | random at start-up, with a warning: tokens die with the process |
//! | `HAMKORI_ADMIN_EMAIL` | `--admin-email` | none: with the password, creates that admin if missing |
//! | `HAMKORI_ADMIN_PASSWORD` | `--admin-password` | none (prefer the variable: flags show in `ps`) |
//! | `DATABASE_POOL_SIZE` | `--pool-size` | 16 |
//! | `DATABASE_POOL_TIMEOUT_MS` | `--pool-timeout-ms` | 5000: the longest wait for a connection before a 503 |
//! | `HAMKORI_WORKERS` | `--workers` | one per CPU |
//! | `HAMKORI_DEMO` | `--demo` | off: `true` loads the demo data set and its accounts |
//! | `LOG_FORMAT` | `--log-format` | `pretty` (`json` for log shippers) |
//! | `RUST_LOG` | | `info` |

/// The default database.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@localhost:5432/hamkori";

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable, coloured when on a terminal.
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The database settings every subcommand shares.
#[derive(Clone, clap::Args)]
pub struct DbConfig {
    /// Postgres URL; the database is created when missing.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, hide_env_values = true)]
    pub database_url: String,
    /// Most connections the pool opens.
    #[arg(long, env = "DATABASE_POOL_SIZE", default_value_t = 16)]
    pub pool_size: usize,
    /// Longest wait, in milliseconds, for a free connection, a new one or a recycle; then 503 with `Retry-After`.
    #[arg(long, env = "DATABASE_POOL_TIMEOUT_MS", default_value_t = 5000)]
    pub pool_timeout_ms: u64,
}

impl DbConfig {
    /// The pool's timeout.
    pub fn pool_timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(self.pool_timeout_ms)
    }
}

/// The settings of `serve`.
#[derive(Clone, clap::Args)]
pub struct Config {
    /// Database settings.
    #[command(flatten)]
    pub db: DbConfig,
    /// Address to listen on.
    #[arg(long, env = "BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// Secret that signs access tokens (HS256); at least 32 bytes recommended.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Email of an admin to create at start-up if missing.
    #[arg(long, env = "HAMKORI_ADMIN_EMAIL")]
    pub admin_email: Option<String>,
    /// Password of that admin.
    #[arg(long, env = "HAMKORI_ADMIN_PASSWORD", hide_env_values = true)]
    pub admin_password: Option<String>,
    /// HTTP worker threads.
    #[arg(long, env = "HAMKORI_WORKERS")]
    pub workers: Option<usize>,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Load the demo data set (once; a second start adds nothing) and print the demo accounts.
    #[arg(long, env = "HAMKORI_DEMO")]
    pub demo: bool,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("bind", &self.bind)
            .field("pool_size", &self.db.pool_size)
            .field("pool_timeout_ms", &self.db.pool_timeout_ms)
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "[set]"))
            .field("admin_email", &self.admin_email)
            .field("workers", &self.workers)
            .field("log_format", &self.log_format)
            .field("demo", &self.demo)
            .finish_non_exhaustive()
    }
}
