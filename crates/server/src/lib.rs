//! `ctiforge serve`: the intelligence service. Analysts and feeds submit reports; workers
//! analyze them in the background with the same pipeline as `ctiforge analyze`
//! (`ctiforge-analyze`); people, platforms and scripts read the results through a web UI, a
//! REST API (`/api/v1`, described by `/api/v1/openapi.json`) and a TAXII 2.1 server
//! (`/taxii2/`). Generic over the store: SQLite by default, PostgreSQL when several instances
//! share the work.
//!
//! The contract is in `shared/DESIGN.md`, "Serving and storing".
//!
//! `ctiforge serve` builds an [`App`] from a store, the knowledge base and an analyzer, binds a
//! listener and calls [`serve`]; tests do the same on `127.0.0.1:0`.
#![deny(missing_docs)]

mod api;
pub use api::issue_token;
pub mod auth;
pub mod error;
mod feeds;
mod taxii;
mod ui;
mod worker;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use ctiforge_analyze::Analyzer;
use ctiforge_kb::KnowledgeBase;
use ctiforge_store::Store;
use tokio::sync::Notify;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultMakeSpan, DefaultOnResponse, TraceLayer};

/// How the service runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Background workers analysing jobs.
    pub workers: usize,
    /// Let anyone read TLP:CLEAR without a token (REST GET, TAXII reads, the web UI).
    pub anonymous_read: bool,
    /// The largest request body, in bytes (a submitted report, a TAXII envelope).
    pub max_body: usize,
    /// How URLs (submissions, feed items, feeds) are fetched.
    pub fetch: ctiforge_fetch::Options,
    /// Seconds a worker holds a job before another may take it over (renewed while it runs).
    pub lease_seconds: u64,
    /// The longest one analysis may take.
    pub analysis_timeout: Duration,
    /// How often idle workers and the feed poller look for work.
    pub poll_interval: Duration,
    /// This instance's name, in job leases and logs.
    pub instance: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            workers: 2,
            anonymous_read: false,
            max_body: 50 * 1024 * 1024,
            fetch: ctiforge_fetch::Options::default(),
            lease_seconds: 60,
            analysis_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_millis(500),
            instance: format!("ctiforge-{}", std::process::id()),
        }
    }
}

/// What every request handler and worker shares.
pub struct App<S: Store> {
    /// The store.
    pub store: Arc<S>,
    /// The pipeline.
    pub analyzer: Arc<Analyzer<'static>>,
    /// The knowledge base.
    pub kb: &'static KnowledgeBase,
    /// The settings.
    pub config: Config,
    /// Wakes idle workers when a job is queued.
    pub queued: Notify,
    /// Set when the service is stopping.
    pub stopping: AtomicBool,
}

impl<S: Store> std::fmt::Debug for App<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("backend", &self.store.backend())
            .field("config", &self.config)
            .finish()
    }
}

impl<S: Store> App<S> {
    /// The application state.
    pub fn new(
        store: S,
        kb: &'static KnowledgeBase,
        analyzer: Analyzer<'static>,
        config: Config,
    ) -> Arc<Self> {
        Arc::new(Self {
            store: Arc::new(store),
            analyzer: Arc::new(analyzer),
            kb,
            config,
            queued: Notify::new(),
            stopping: AtomicBool::new(false),
        })
    }
}

/// The HTTP routes, with body limits, request logging and security headers.
pub fn router<S: Store>(app: Arc<App<S>>) -> Router {
    let max_body = app.config.max_body;
    Router::new()
        .merge(api::routes::<S>())
        .merge(taxii::routes::<S>())
        .merge(ui::routes::<S>())
        .with_state(app)
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        // `same-origin`, not `no-referrer`: with the latter browsers send `Origin: null` on the
        // UI's own form posts, and the UI checks Origin against Host to refuse cross-site posts.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("cross-origin-opener-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(DefaultMakeSpan::new().level(tracing::Level::INFO))
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
}

/// Runs the service on `listener` until SIGTERM or Ctrl-C: workers, the feed poller and the
/// HTTP server. On the signal it stops taking work, lets running analyses finish for up to
/// 30 s, and puts the jobs it still holds back in the queue.
pub async fn serve<S: Store>(
    app: Arc<App<S>>,
    listener: tokio::net::TcpListener,
) -> std::io::Result<()> {
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..app.config.workers {
        let app = app.clone();
        tasks.spawn(async move { worker::run(app, n).await });
    }
    {
        let app = app.clone();
        tasks.spawn(async move { feeds::run(app).await });
    }
    let router = router(app.clone());
    let signal = shutdown_signal();
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(signal)
    .await?;
    tracing::info!("stopping: finishing running analyses");
    app.stopping.store(true, Ordering::SeqCst);
    app.queued.notify_waiters();
    let drained = tokio::time::timeout(Duration::from_secs(30), async {
        while tasks.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tasks.abort_all();
    }
    for n in 0..app.config.workers {
        let name = worker::name(&app.config.instance, n);
        match app.store.release_jobs(&name).await {
            Ok(0) => {}
            Ok(released) => tracing::info!(worker = %name, released, "jobs put back in the queue"),
            Err(e) => tracing::error!(worker = %name, error = %e, "cannot release jobs"),
        }
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}
