//! Builds the application: database and migrations, federation config, HTTP client,
//! listener (port 0 allowed) and the delivery worker.

use activitypub_federation::config::FederationConfig;
use anyhow::Context;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::{
    config::Config,
    db,
    delivery::{Deliverer, WorkerKind},
    error::{AppError, AppResult},
    federation::client::http_client,
    http,
    service::{
        schedule,
        sync::{self, SyncReport},
        watch,
    },
    state::{AppState, Federation},
};

/// Opens the database and wraps everything in the federation config.
pub async fn federation(config: Config) -> AppResult<Federation> {
    let pools = db::Db::open(&config.database).await?;
    let client = http_client(&config)?;
    let dev = config.dev;
    let domain = config.domain.clone();
    let state = AppState::new(pools, config, client.clone());
    FederationConfig::builder()
        .domain(domain)
        .app_data(state)
        .client(client.into())
        .debug(dev)
        .http_fetch_limit(20)
        .build()
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("federation config: {e}")))
}

/// A server ready to run.
pub struct Application {
    listener: TcpListener,
    /// `[admin] listen`: `/metrics` and `/healthz`, apart from the public site.
    admin_listener: Option<TcpListener>,
    fed: Federation,
    deliverer: Deliverer,
    startup_sync: SyncReport,
    watch: bool,
}

impl Application {
    /// Binds `config.listen` and prepares everything.
    pub async fn build(config: Config) -> AppResult<Self> {
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        Self::with_listener(config, listener).await
    }

    /// Uses a listener the caller bound (tests bind port 0 first to learn the port).
    pub async fn with_listener(config: Config, listener: TcpListener) -> AppResult<Self> {
        let admin_listener = match config.admin.listen {
            Some(addr) => Some(
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} ([admin] listen)"))?,
            ),
            None => None,
        };
        let fed = federation(config).await?;
        let deliverer =
            Deliverer::new((*fed).clone(), http_client(&fed.config)?, WorkerKind::Serve);
        // Load the content before serving, so the first request sees every post.
        let startup_sync = sync::sync(&fed).await?;
        // Blocks added to config.toml since the last start take effect on what is stored.
        let purged = crate::service::moderation::purge_config_blocks(&fed).await?;
        if purged != crate::service::moderation::Purged::default() {
            tracing::info!(
                ?purged,
                "config blocks applied to stored follows, replies and reactions"
            );
        }
        Ok(Self {
            listener,
            admin_listener,
            fed,
            deliverer,
            startup_sync,
            watch: false,
        })
    }

    pub fn port(&self) -> u16 {
        self.listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_default()
    }

    /// The admin listener's port, if `[admin] listen` is set.
    pub fn admin_port(&self) -> Option<u16> {
        self.admin_listener
            .as_ref()
            .and_then(|l| l.local_addr().ok())
            .map(|a| a.port())
    }

    pub fn state(&self) -> &AppState {
        &self.fed
    }

    /// The delivery worker, for tests that drive it step by step.
    pub fn deliverer(&self) -> Deliverer {
        self.deliverer.clone()
    }

    pub fn startup_sync(&self) -> &SyncReport {
        &self.startup_sync
    }

    /// Also sync whenever a file in the content folder changes (`serve --watch`).
    pub fn watch_content(mut self, on: bool) -> Self {
        self.watch = on;
        self
    }

    /// Serves HTTP and, if `run_worker`, delivers in the background, until `shutdown`
    /// is cancelled; then stops accepting, lets in-flight deliveries finish, and returns.
    pub async fn run(self, shutdown: CancellationToken, run_worker: bool) -> AppResult<()> {
        // Delivery shares the runtime: measured, a separate runtime for it cost ~20% of
        // delivery throughput on 2 cores (docs/BENCHMARKS.md); its bounded concurrency
        // keeps the wait it adds to a page request to a few signatures.
        let worker = run_worker.then(|| tokio::spawn(self.deliverer.clone().run(shutdown.clone())));
        // Scheduled posts are published by this task; with `--watch`, edits too.
        let (watcher, changes) = match self.watch {
            true => {
                let (w, rx) = watch::watch(&self.fed.config.content)?;
                (Some(w), Some(rx))
            }
            false => (None, None),
        };
        let content = tokio::spawn(schedule::run(
            (*self.fed).clone(),
            shutdown.clone(),
            changes,
        ));
        // Activities the inbox stored are applied here, including any left by a crash.
        let inbox = tokio::spawn(crate::service::inbox_queue::run(
            self.fed.clone(),
            shutdown.clone(),
        ));
        // Changes committed by other processes (`fedblog sync`) reach the cache here.
        let cache = tokio::spawn(crate::cache::follow_changes(
            self.fed.cache.clone(),
            self.fed.db.clone(),
            shutdown.clone(),
        ));
        let admin = self.admin_listener.map(|l| {
            let stop = shutdown.clone();
            tokio::spawn(
                axum::serve(l, http::admin_router(self.fed.clone()))
                    .with_graceful_shutdown(async move { stop.cancelled().await })
                    .into_future(),
            )
        });
        let app = http::router(self.fed.clone());
        let stop = shutdown.clone();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .context("the server stopped")?;
        if let Some(w) = worker {
            let _ = w.await;
        }
        if let Some(a) = admin {
            let _ = a.await;
        }
        let _ = inbox.await;
        let _ = content.await;
        let _ = cache.await;
        drop(watcher);
        Ok(())
    }
}

/// Resolves when the process is asked to stop (Ctrl-C or SIGTERM).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
