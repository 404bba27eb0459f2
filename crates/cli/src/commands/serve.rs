//! `ctiforge serve`: the intelligence service; `ctiforge token`: its access tokens. The store
//! backend is chosen here, once, from the database URL's scheme.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};
use ctiforge_analyze::{Analyzer, Options};
use ctiforge_kb::KnowledgeBase;
use ctiforge_model::Tlp;
use ctiforge_server::{App, Config};
use ctiforge_sigma::convert::Target;
use ctiforge_store::{Role, Store};
use ctiforge_store_postgres::PostgresStore;
use ctiforge_store_sqlite::SqliteStore;

use super::args::tlp_parser;
use super::{Outcome, load_kb};

/// The database of a command that takes `--db`.
#[derive(Debug, Args)]
pub struct Database {
    /// The store: sqlite://PATH (created if missing) or postgres://USER@HOST:PORT/DB.
    #[arg(
        long,
        env = "CTIFORGE_DB",
        default_value = "sqlite://ctiforge.db",
        value_name = "URL"
    )]
    db: String,
}

/// How the service logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event.
    Json,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    database: Database,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    listen: SocketAddr,
    /// Background workers analysing reports.
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Let anyone read TLP:CLEAR reports without a token (REST reads, TAXII reads, the web UI).
    #[arg(long)]
    anonymous_read: bool,
    /// Log format.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// Largest request body (a submitted report, a TAXII envelope), in MB.
    #[arg(long, default_value_t = 50, value_name = "MB")]
    max_body: usize,
    /// Longest one analysis may take, in seconds.
    #[arg(long, default_value_t = 120, value_name = "SECONDS")]
    analysis_timeout: u64,
    /// Allow submitted and feed URLs that resolve to loopback, private or link-local addresses
    /// (a lab; never on a server others can submit to).
    #[arg(long)]
    allow_private_fetch: bool,
    /// A Sigma rule collection to select existing rules from for each report's techniques.
    #[arg(long, value_name = "DIR")]
    sigma_rules: Option<PathBuf>,
    /// Seconds a worker holds a job before another may take it over (renewed while it runs):
    /// how long a job of a killed instance waits.
    #[arg(long, default_value_t = 60, value_name = "SECONDS")]
    lease: u64,
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token; prints it alone on the last line (it is shown once, stored hashed).
    Create {
        #[command(flatten)]
        database: Database,
        /// A name for people (unique).
        #[arg(long)]
        name: String,
        /// What it may do: reader < writer < admin.
        #[arg(long, value_parser = role_parser())]
        role: Role,
        /// The highest TLP level it reads (default: amber for readers and writers, red for
        /// admins).
        #[arg(long, value_parser = tlp_parser())]
        max_tlp: Option<Tlp>,
    },
    /// List tokens (never their secrets).
    List {
        #[command(flatten)]
        database: Database,
    },
    /// Revoke a token by name or id.
    Revoke {
        #[command(flatten)]
        database: Database,
        /// The token's name or id.
        token: String,
    },
}

fn role_parser() -> impl clap::builder::TypedValueParser<Value = Role> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(["reader", "writer", "admin"])
        .map(|name| name.parse::<Role>().unwrap_or(Role::Reader))
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// Runs `$body` with `$store` bound to the backend the URL names.
macro_rules! with_store {
    ($url:expr, $store:ident => $body:expr) => {{
        let url: &str = $url;
        if url.starts_with("sqlite:") {
            let $store = SqliteStore::open(url).await?;
            $body
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let $store = PostgresStore::open(url).await?;
            $body
        } else {
            bail!("--db {url:?}: use sqlite://PATH or postgres://USER@HOST:PORT/DB")
        }
    }};
}

pub fn serve(args: &ServeArgs, kb_path: Option<&std::path::Path>) -> anyhow::Result<Outcome> {
    init_logging(args.log_format);
    let collection = match &args.sigma_rules {
        Some(dir) => Some(&*Box::leak(Box::new(super::sigma::load_collection(dir)?))),
        None => None,
    };
    // The knowledge base and rule collection live as long as the service.
    let kb: &'static KnowledgeBase = Box::leak(Box::new(load_kb(kb_path)?));
    let analyzer = Analyzer::new(
        kb,
        Options {
            sigma_rules: collection,
            targets: Target::ALL.to_vec(),
            ..Options::default()
        },
    )?;
    let config = Config {
        workers: args.workers,
        anonymous_read: args.anonymous_read,
        max_body: args.max_body.saturating_mul(1024 * 1024),
        fetch: ctiforge_fetch::Options {
            allow_private: args.allow_private_fetch,
            ..ctiforge_fetch::Options::default()
        },
        analysis_timeout: Duration::from_secs(args.analysis_timeout.max(1)),
        lease_seconds: args.lease.max(3),
        ..Config::default()
    };
    runtime()?.block_on(async {
        with_store!(&args.database.db, store => run(store, kb, analyzer, config, args.listen).await)
    })
}

async fn run<S: Store>(
    store: S,
    kb: &'static KnowledgeBase,
    analyzer: Analyzer<'static>,
    config: Config,
    listen: SocketAddr,
) -> anyhow::Result<Outcome> {
    let backend = store.backend();
    let app = App::new(store, kb, analyzer, config);
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr().context("no local address")?;
    tracing::info!(%address, backend, "ready");
    println!("listening on http://{address}");
    ctiforge_server::serve(app, listener)
        .await
        .context("the server stopped")?;
    Ok(Outcome::Success)
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CTIFORGE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

pub fn token(command: &TokenCommand) -> anyhow::Result<Outcome> {
    runtime()?.block_on(async {
        match command {
            TokenCommand::Create {
                database,
                name,
                role,
                max_tlp,
            } => with_store!(&database.db, store => {
                let max_tlp = max_tlp.unwrap_or(role.max_tlp());
                let (token, secret) = ctiforge_server::issue_token(&store, name, *role, max_tlp)
                    .await
                    .map_err(|e| anyhow::anyhow!("{}", e.detail))?;
                eprintln!(
                    "created token {} ({}, reads up to {}); it is shown once:",
                    token.name, token.role, token.max_tlp.marking()
                );
                println!("{secret}");
                Ok(Outcome::Success)
            }),
            TokenCommand::List { database } => with_store!(&database.db, store => {
                let tokens = store.tokens().await?;
                println!("{:<5} {:<24} {:<7} {:<13} {:<28} revoked", "id", "name", "role", "reads up to", "created");
                for t in tokens {
                    println!(
                        "{:<5} {:<24} {:<7} {:<13} {:<28} {}",
                        t.id, t.name, t.role, t.max_tlp.as_str(), t.created, t.revoked.as_deref().unwrap_or("-")
                    );
                }
                Ok(Outcome::Success)
            }),
            TokenCommand::Revoke { database, token } => with_store!(&database.db, store => {
                if store.revoke_token(token).await? {
                    eprintln!("revoked {token}");
                    Ok(Outcome::Success)
                } else {
                    bail!("no live token named or numbered {token:?}; `ctiforge token list` shows them")
                }
            }),
        }
    })
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    /// The SQLite store to copy.
    #[arg(long, value_name = "URL", default_value = "sqlite://ctiforge.db")]
    from: String,
    /// The PostgreSQL database to copy it into (it must hold no store yet).
    #[arg(long, value_name = "URL")]
    db: String,
}

/// `ctiforge migrate`: an SQLite store copied into PostgreSQL, for a deployment that grows into
/// several instances.
pub fn migrate(args: &MigrateArgs) -> anyhow::Result<Outcome> {
    if !args.from.starts_with("sqlite:") {
        bail!(
            "--from {:?}: give the SQLite store as sqlite://PATH",
            args.from
        );
    }
    if !(args.db.starts_with("postgres://") || args.db.starts_with("postgresql://")) {
        bail!(
            "--db {:?}: give the PostgreSQL database as postgres://USER@HOST:PORT/DB",
            args.db
        );
    }
    runtime()?.block_on(async {
        // Opening the SQLite store migrates its schema to the current version first.
        drop(SqliteStore::open(&args.from).await?);
        let target = PostgresStore::open(&args.db).await?;
        let progress = |table: &str, rows: u64| eprintln!("{table}: {rows}");
        ctiforge_store_postgres::import_sqlite(&args.from, &target, &progress).await?;
        eprintln!("copied {} into {}", args.from, args.db);
        Ok(Outcome::Success)
    })
}
