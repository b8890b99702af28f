//! Assembles the app (database, keys, the outgoing client and its address policy,
//! the response cache, the inbox's door) and starts every background task of a
//! process from one list (`background`) under one shutdown token.

use std::{future::Future, sync::Arc, time::Duration};

use anyhow::Context as _;
use tokio::{net::TcpListener, task::JoinHandle};
use tokio_util::sync::CancellationToken;

use crate::{
    app::App,
    cache::{self, ResponseCache},
    config::Config,
    db,
    delivery::{Deliverer, WorkerKind},
    error::AppResult,
    federation::{
        self,
        client::{AddressPolicy, http_client},
        fetch::Fetcher,
        keys::KeyStore,
        remote_actor::KnownActors,
        signatures::knock::Knocks,
        signer::KeyFetches,
    },
    http, inbox,
    metrics::Metrics,
    service::{
        moderation, schedule,
        sync::{self, SyncReport},
        watch,
    },
    uris::Uris,
};

/// Memory for cached response bodies: thousands of pages and documents of a few KiB.
const RESPONSE_CACHE_BYTES: u64 = 32 * 1024 * 1024;

/// The app, and the inbox writer's queue (only a server runs the writer).
async fn assemble(config: Config) -> AppResult<(App, inbox::writer::Jobs)> {
    let db = db::Db::open(&config.database).await?;
    let uris = Uris::new(config.scheme(), &config.domain)
        .with_account_domain(config.account_domain.as_deref());
    let policy = Arc::new(AddressPolicy::new(&config));
    let keys = KeyStore::new(db.clone(), uris.clone());
    let metrics = Metrics::new();
    let knocks = Knocks::new(
        db.clone(),
        config.delivery.rfc9421_reprobe_hours.millis(),
        metrics.clone(),
    );
    let fetcher = Fetcher::new(
        http_client(&config, policy.clone())?,
        policy,
        keys.clone(),
        &config.domain,
        config.federation.fetch_timeout_seconds.get(),
        knocks,
    );
    let fed = Arc::new(federation::Context {
        db,
        uris,
        keys,
        fetcher,
        actors: KnownActors::default(),
        key_fetches: KeyFetches::new(&config.limits.fetch, metrics.clone()),
        hold_replies: config.moderation.hold_replies.clone(),
        quotes_per_post: config.limits.inbox.quotes_per_post.get(),
        handle_refresh_hours: config.limits.fetch.handle_refresh_hours.get(),
    });
    metrics.set_limits(&config.limits.values());
    let (writer, jobs) = inbox::writer::channel();
    let gate = inbox::rate::Gate::new(&config.limits.inbox, &config.moderation, metrics.clone());
    let door = inbox::Door::new(fed.clone(), writer, gate);
    let app = App::new(
        config,
        fed,
        ResponseCache::new(RESPONSE_CACHE_BYTES),
        metrics,
        door,
    );
    Ok((app, jobs))
}

/// The app for a command: the database opened, nothing running in the background
/// (commands start what they need with [`background`]).
pub async fn app(config: Config) -> AppResult<App> {
    Ok(assemble(config).await?.0)
}

/// A delivery worker on the app's database, keys and address policy, with a client of
/// its own (its connection pool is sized for fan-outs).
pub fn deliverer(app: &App, kind: WorkerKind) -> AppResult<Deliverer> {
    let policy = app.fed().fetcher.policy().clone();
    Ok(Deliverer::new(
        app.db().clone(),
        app.fed().keys.clone(),
        http_client(app.config(), policy.clone())?,
        policy,
        app.config().delivery.clone(),
        app.metrics().clone(),
        kind,
    ))
}

/// Which background tasks to start; each is off unless given.
#[derive(Default)]
pub struct Background {
    /// Copies the write-ahead log into the database file beside the writer.
    pub checkpointer: bool,
    /// Sends queued activities: the server's, or `fedblog sync`'s own when no server
    /// is delivering.
    pub deliverer: Option<Deliverer>,
    /// Stores what the inbox accepted, many per transaction.
    pub inbox_writer: Option<inbox::writer::Jobs>,
    /// Applies what the inbox stored, including any left by a crash.
    pub inbox_processor: Option<inbox::Processor>,
    /// Publishes scheduled posts when they are due and, with `serve --watch`, saved
    /// files: the watcher and its channel.
    pub schedule: Option<Option<watch::Watch>>,
    /// Brings the response cache up to date with changes other processes commit.
    pub cache_follower: bool,
    /// `/metrics` and `/healthz` on the admin address.
    pub admin: Option<TcpListener>,
    /// Reads new rows for the client API's streaming connections.
    pub streams: bool,
}

/// Every background task of a fedblog process, from this one list, all stopped by
/// `shutdown`.
pub fn background(app: &App, shutdown: &CancellationToken, b: Background) -> Tasks {
    let mut tasks = Tasks::new(shutdown.clone());
    let stop = || shutdown.clone();
    if b.checkpointer {
        tasks.spawn("checkpointer", db::checkpoint_wal(app.db().clone(), stop()));
        let prune = crate::service::client_api::notifications::prune(app.clone(), stop());
        tasks.spawn("notification pruner", prune);
        let home = crate::service::client_api::timeline::prune(app.clone(), stop());
        tasks.spawn("home timeline pruner", home);
    }
    if let Some(d) = b.deliverer {
        tasks.spawn("deliverer", d.run(stop()));
    }
    if let Some(jobs) = b.inbox_writer {
        // Ends when the last request has been answered (its handle is in the app).
        tasks.spawn("inbox writer", inbox::writer::run(app.db().clone(), jobs));
    }
    if let Some(p) = b.inbox_processor {
        tasks.spawn("inbox processor", p.run(stop()));
    }
    if let Some(watch) = b.schedule {
        tasks.spawn("schedule", schedule::run(app.clone(), stop(), watch));
    }
    if b.cache_follower {
        let follow = cache::follow_changes(app.cache().clone(), app.db().clone(), stop());
        tasks.spawn("cache follower", follow);
    }
    if b.streams {
        let poll = crate::streaming::follow(app.db().clone(), app.streams().clone(), stop());
        tasks.spawn("streaming poller", poll);
    }
    if let Some(listener) = b.admin {
        // The same caps and deadlines as the site's listener, counted apart.
        let (router, limits) = (
            http::admin_router(app.clone()),
            app.config().limits.http.clone(),
        );
        let metrics = app.metrics().clone();
        let stop = stop();
        tasks.spawn("admin listener", async move {
            http::edge::serve(listener, router, &limits, metrics, stop).await;
        });
    }
    tasks
}

/// Running background tasks and the token that stops them.
pub struct Tasks {
    shutdown: CancellationToken,
    running: Vec<(&'static str, JoinHandle<()>)>,
}

impl Tasks {
    fn new(shutdown: CancellationToken) -> Self {
        Self {
            shutdown,
            running: Vec::new(),
        }
    }

    fn spawn(&mut self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        tracing::debug!(task = name, "starting");
        self.running.push((name, tokio::spawn(task)));
    }

    /// Adds tasks started later under the same token.
    pub fn extend(&mut self, more: Tasks) {
        self.running.extend(more.running);
    }

    /// Cancels the token and waits for every task, each at most `grace`; a task that
    /// takes longer is left to end with the process.
    pub async fn stop(self, grace: Duration) {
        self.shutdown.cancel();
        for (name, task) in self.running {
            match tokio::time::timeout(grace, task).await {
                Ok(Ok(())) => tracing::debug!(task = name, "stopped"),
                Ok(Err(e)) => tracing::error!(task = name, error = %e, "failed"),
                Err(_) => tracing::warn!(task = name, "did not stop in time"),
            }
        }
    }
}

/// A server ready to run.
pub struct Application {
    listener: TcpListener,
    /// `[admin] listen`: `/metrics` and `/healthz`, apart from the public site.
    admin_listener: Option<TcpListener>,
    app: App,
    inbox_jobs: inbox::writer::Jobs,
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
        let (app, inbox_jobs) = assemble(config).await?;
        let deliverer = deliverer(&app, WorkerKind::Serve)?;
        // Load the content before serving, so the first request sees every post: the
        // node that syncs content/ (several nodes on one database: see
        // `schedule::holds_content`). A refused sync (an author's folder missing or
        // empty) is logged, and the server serves what the database has.
        let startup_sync = if schedule::holds_content(&app).await? {
            match sync::sync(&app).await {
                Err(refused) if sync::is_refusal(&refused) => {
                    tracing::error!("{refused}");
                    SyncReport::default()
                }
                r => r?,
            }
        } else {
            tracing::info!("another node syncs content/: not syncing at start");
            SyncReport::default()
        };
        // Blocks added to config.toml since the last start take effect on what is stored.
        let purged = moderation::purge_config_blocks(&app).await?;
        if purged != moderation::Purged::default() {
            tracing::info!(
                ?purged,
                "config blocks applied to stored follows, replies and reactions"
            );
        }
        Ok(Self {
            listener,
            admin_listener,
            app,
            inbox_jobs,
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

    pub fn app(&self) -> &App {
        &self.app
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

    /// Serves HTTP and runs the background tasks (the deliverer only if `run_worker`)
    /// until `shutdown` is cancelled; then stops accepting, answers the requests in
    /// flight, lets in-flight deliveries finish, and returns.
    pub async fn run(self, shutdown: CancellationToken, run_worker: bool) -> AppResult<()> {
        let Self {
            listener,
            admin_listener,
            app,
            inbox_jobs,
            deliverer,
            ..
        } = self;
        let watcher = match self.watch {
            true => Some(watch::watch(&app.config().content)?),
            false => None,
        };
        // Delivery shares the runtime (a runtime of its own cost throughput; see
        // docs/BENCHMARKS.md); its bounded concurrency keeps the wait it adds to a
        // page request to a few signatures.
        let processor = inbox::Processor::new(
            app.fed().clone(),
            app.cache().clone(),
            inbox::configured_blocks(&app.config().moderation)?,
            &app.config().limits.inbox,
            app.metrics().clone(),
            app.node(),
        );
        let tasks = background(
            &app,
            &shutdown,
            Background {
                checkpointer: true,
                deliverer: run_worker.then_some(deliverer),
                inbox_writer: Some(inbox_jobs),
                inbox_processor: Some(processor),
                schedule: Some(watcher),
                cache_follower: true,
                admin: admin_listener,
                streams: true,
            },
        );
        let grace = app.config().delivery.timeout_seconds.duration() + Duration::from_secs(5);
        // The edge passes each connection's peer address on: the inbox limits senders
        // by it before it checks signatures.
        http::edge::serve(
            listener,
            http::router(app.clone()),
            &app.config().limits.http,
            app.metrics().clone(),
            shutdown.clone(),
        )
        .await;
        // The inbox writer ends when the app's last handle is gone.
        drop(app);
        tasks.stop(grace).await;
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
