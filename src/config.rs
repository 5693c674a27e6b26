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
//! | `HAMKORI_DEMO` | `--demo` | off: `true` loads the demo data set and its accounts; without it they are disabled |
//! | `HAMKORI_TRUSTED_PROXIES` | `--trusted-proxies` | none: comma-separated IPs or CIDRs whose `X-Forwarded-For` is believed |
//! | `HAMKORI_SESSION_CACHE_SECONDS` | `--session-cache-seconds` | 5: how long a process trusts its last look at a session |
//! | `HAMKORI_REFRESH_GRACE_SECONDS` | `--refresh-grace-seconds` | 10: a spent refresh token presented again this soon gets a new pair |
//! | `HAMKORI_OPEN_DATA_LICENSE` | `--open-data-license` | `CC-BY-4.0`: the licence stated in the open-data download |
//! | `HAMKORI_OPEN_DATA_LICENSE_URL` | `--open-data-license-url` | the CC BY 4.0 deed: where that licence's text is |
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
    /// HTTP worker threads, each with its own share of the database pool.
    #[arg(long, env = "HAMKORI_WORKERS")]
    pub workers: Option<std::num::NonZeroUsize>,
    /// Log format.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Load the demo data set (once; a second start adds nothing) and print the demo accounts; without it, demo
    /// accounts that exist are disabled.
    #[arg(long, env = "HAMKORI_DEMO")]
    pub demo: bool,
    /// Seconds a statistic or scorecard already counted is given again while this process commits no write
    /// (0: count every request; at most a day).
    #[arg(long, env = "HAMKORI_STATS_FRESH_SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub stats_fresh_seconds: u64,
    /// Sessions, refresh tokens and client addresses.
    #[command(flatten)]
    pub auth: AuthSettings,
    /// The open-data download's licence.
    #[command(flatten)]
    pub open_data: OpenDataSettings,
}

/// How sessions are checked and where a request comes from.
#[derive(Debug, Clone, clap::Args)]
pub struct AuthSettings {
    /// Proxies (IPs or CIDRs, comma-separated) whose `X-Forwarded-For` names the client; nobody else's is read.
    #[arg(long, env = "HAMKORI_TRUSTED_PROXIES", value_delimiter = ',', value_parser = parse_proxy)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Seconds a process may answer from its last look at a session before asking the database again; a
    /// revoked access token is refused everywhere within this time (0: ask on every request).
    #[arg(long, env = "HAMKORI_SESSION_CACHE_SECONDS", default_value_t = 5)]
    pub session_cache_seconds: u64,
    /// Seconds during which a spent refresh token presented again gets a new pair instead of ending its
    /// session (RFC 9700 §4.14.2: a lost answer is retried); later reuse ends the session.
    #[arg(long, env = "HAMKORI_REFRESH_GRACE_SECONDS", default_value_t = 10)]
    pub refresh_grace_seconds: u64,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            trusted_proxies: Vec::new(),
            session_cache_seconds: 5,
            refresh_grace_seconds: 10,
        }
    }
}

/// A trusted proxy: a CIDR range, or one address.
pub fn parse_proxy(text: &str) -> Result<ipnet::IpNet, String> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .or_else(|_| text.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("`{text}` is neither an IP address nor a CIDR range"))
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
            .field("stats_fresh_seconds", &self.stats_fresh_seconds)
            .field("auth", &self.auth)
            .finish_non_exhaustive()
    }
}

/// The licence of the open-data download, unless configured otherwise.
pub const DEFAULT_LICENSE: &str = "CC-BY-4.0";
/// Where that licence is published.
pub const DEFAULT_LICENSE_URL: &str = "https://creativecommons.org/licenses/by/4.0/";

/// Under which licence the data is published.
#[derive(Debug, Clone, clap::Args)]
pub struct OpenDataSettings {
    /// The licence of the open-data download (an SPDX identifier).
    #[arg(long = "open-data-license", env = "HAMKORI_OPEN_DATA_LICENSE", default_value = DEFAULT_LICENSE)]
    pub license: String,
    /// Where its text is published.
    #[arg(long = "open-data-license-url", env = "HAMKORI_OPEN_DATA_LICENSE_URL", default_value = DEFAULT_LICENSE_URL)]
    pub license_url: String,
}

impl Default for OpenDataSettings {
    fn default() -> Self {
        Self {
            license: DEFAULT_LICENSE.to_owned(),
            license_url: DEFAULT_LICENSE_URL.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        config: super::Config,
    }

    #[test]
    fn statistics_are_kept_for_at_most_a_day() {
        let kept = |seconds: &str| {
            Cli::try_parse_from(["hamkori", "--stats-fresh-seconds", seconds])
                .map(|cli| cli.config.stats_fresh_seconds)
        };
        assert_eq!(kept("0").ok(), Some(0), "0 keeps nothing");
        assert_eq!(kept("86400").ok(), Some(86_400));
        assert!(
            kept("86401").is_err(),
            "more than a day is refused at start-up"
        );
        assert!(kept("-1").is_err());
    }

    #[test]
    fn at_least_one_worker_is_asked_for() {
        let workers = |n: &str| {
            Cli::try_parse_from(["hamkori", "--workers", n]).map(|cli| cli.config.workers)
        };
        assert_eq!(workers("3").ok().flatten().map(|n| n.get()), Some(3));
        assert!(workers("0").is_err(), "no worker, no pool to share");
        assert!(
            Cli::try_parse_from(["hamkori"])
                .map(|cli| cli.config.workers.is_none())
                .unwrap_or(false),
            "one per CPU unless asked"
        );
    }
}
