//! The `hamkori` command: serve the API (default), migrate, create users, load demo data, print the API document.

use std::io::BufRead;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hamkori::auth::Role;
use hamkori::config::{Config, DbConfig, LogFormat};
use hamkori::{AppState, build_app, db, demo, users};

/// mimalloc rather than glibc's malloc: password hashes take 19 MiB each on blocking threads, and glibc kept what
/// every thread's arena had held (docs/benchmarks.md, "Login memory"). Deployments set `MIMALLOC_PURGE_DELAY=0`
/// (the Dockerfile does) so that it also returns freed pages at once (docs/operations.md, "Memory").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "hamkori",
    version,
    about = "Records how NGOs and government agencies work together."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default): create the database if missing, migrate, then listen.
    Serve(Box<Config>),
    /// Create the database if missing and apply pending migrations.
    Migrate(DbConfig),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Load the demo data set (idempotent).
    DemoData(DbConfig),
    /// Print the OpenAPI document.
    Openapi,
    /// Insert synthetic organisations, agencies and engagements of every kind for benchmarks.
    Generate {
        #[command(flatten)]
        db: DbConfig,
        /// How many organisations to add.
        #[arg(long, default_value_t = 10_000)]
        organizations: i64,
        /// How many agencies to add (a fifth national, the rest their sub-agencies).
        #[arg(long, default_value_t = 500)]
        agencies: i64,
        /// How many engagements to add (all five kinds, with parties, submissions, recommendations).
        #[arg(long, default_value_t = 0)]
        engagements: i64,
        /// The same seed makes the same data; use another one to add to a database generated before.
        #[arg(long, default_value_t = 1)]
        seed: i64,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input, never from the command line.
    Create {
        #[command(flatten)]
        db: DbConfig,
        /// Login email.
        #[arg(long)]
        email: String,
        /// Name shown to others.
        #[arg(long, default_value = "Administrator")]
        display_name: String,
        /// Role: admin, analyst, ngo_member, agency_officer or secretary.
        #[arg(long, default_value = "admin")]
        role: String,
        /// Organisation of an ngo_member.
        #[arg(long)]
        organization_id: Option<uuid::Uuid>,
        /// Agency of an agency_officer.
        #[arg(long)]
        agency_id: Option<uuid::Uuid>,
        /// Councils of a secretary (repeatable).
        #[arg(long = "council-id")]
        council_ids: Vec<uuid::Uuid>,
    },
}

fn init_tracing(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Pretty => builder.init(),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    // A missing .env is normal; a malformed one is reported by the settings it fails to provide.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(config)) => serve(*config).await,
        Some(Command::Migrate(db_config)) => {
            init_tracing(LogFormat::Pretty);
            prepare(&db_config.database_url).await
        }
        Some(Command::User { command }) => {
            init_tracing(LogFormat::Pretty);
            create_user(command).await
        }
        Some(Command::DemoData(db_config)) => {
            init_tracing(LogFormat::Pretty);
            prepare(&db_config.database_url).await?;
            let pool = db::pool(&db_config.database_url, 2)?;
            print_accounts(&demo::load(&pool).await?);
            Ok(())
        }
        Some(Command::Openapi) => {
            print!("{}", hamkori::openapi::document_json());
            Ok(())
        }
        Some(Command::Generate {
            db: db_config,
            organizations,
            agencies,
            engagements,
            seed,
        }) => {
            init_tracing(LogFormat::Pretty);
            prepare(&db_config.database_url).await?;
            let pool = db::pool(&db_config.database_url, 2)?;
            let spec = hamkori::demo::Generate {
                organizations,
                agencies,
                engagements,
                seed,
            };
            hamkori::demo::generate(&pool, spec).await
        }
    }
}

async fn prepare(url: &str) -> anyhow::Result<()> {
    db::create_database_if_missing(url).await?;
    db::migrate(url).await
}

async fn serve(config: Config) -> anyhow::Result<()> {
    init_tracing(config.log_format);
    tracing::info!(?config, "starting");
    let url = &config.db.database_url;
    prepare(url).await?;
    // Startup's own pool, closed before the workers start: its connections are driven on this thread.
    let pool = db::pool_with_timeout(url, 2, config.db.pool_timeout())?;
    let admin_email = config.admin_email.as_deref().filter(|s| !s.is_empty());
    let admin_password = config.admin_password.as_deref().filter(|s| !s.is_empty());
    if let (Some(email), Some(password)) = (admin_email, admin_password)
        && users::model::ensure_admin(&pool, email, password).await?
    {
        tracing::info!(%email, "created the admin account");
    }
    if config.demo {
        print_accounts(&demo::load(&pool).await?);
    } else {
        // The demo accounts' password is public: outside demo mode they must not open the door.
        let disabled = demo::disable_accounts(&pool).await?;
        if !disabled.is_empty() {
            tracing::warn!(?disabled, "not in demo mode: disabled the demo accounts");
        }
    }
    let secret = config
        .jwt_secret
        .clone()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            tracing::warn!(
                "JWT_SECRET is not set: using a random secret; tokens will not survive a restart"
            );
            hamkori::auth::token::random_secret()
        });
    pool.close();
    // One pool per worker, `DATABASE_POOL_SIZE` shared among them (see `state::WorkerPools`).
    let workers = config
        .workers
        .or_else(|| std::thread::available_parallelism().ok())
        .map_or(1, std::num::NonZeroUsize::get);
    let pools = (0..workers)
        .map(|_| {
            db::pool_with_timeout(
                url,
                config.db.pool_size.div_ceil(workers),
                config.db.pool_timeout(),
            )
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let state = AppState::with_worker_pools(pools, secret.as_bytes(), config.auth.clone())?
        .with_open_data(config.open_data.clone())
        .with_stats_fresh_for(std::time::Duration::from_secs(config.stats_fresh_seconds));
    let server = actix_web::HttpServer::new(move || build_app(state.for_worker()))
        .shutdown_timeout(30)
        .workers(workers);
    let server = server
        .bind(&config.bind)
        .with_context(|| format!("binding {}", config.bind))?;
    tracing::info!(bind = %config.bind, "listening; API docs at /docs");
    server.run().await.context("the server failed")
}

fn print_accounts(accounts: &[(String, Role)]) {
    println!("Demo accounts (password: {}):", demo::DEMO_PASSWORD);
    for (email, role) in accounts {
        println!("  {role:<15} {email}");
    }
}

async fn create_user(command: UserCommand) -> anyhow::Result<()> {
    let UserCommand::Create {
        db: db_config,
        email,
        display_name,
        role,
        organization_id,
        agency_id,
        council_ids,
    } = command;
    let role: Role = role.parse().map_err(|e| anyhow::anyhow!("--role: {e}"))?;
    eprintln!("Password for {email} (one line on standard input):");
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("reading the password")?;
    let password = password.trim_end_matches(['\n', '\r']).to_owned();
    prepare(&db_config.database_url).await?;
    let pool = db::pool(&db_config.database_url, 2)?;
    let request = users::model::CreateUser {
        email,
        display_name,
        role,
        organization_id,
        agency_id,
        council_ids,
        password: password.clone(),
    };
    let user = users::model::create_with_password(&pool, &request).await?;
    println!("created {} ({}) with id {}", user.email, user.role, user.id);
    Ok(())
}
