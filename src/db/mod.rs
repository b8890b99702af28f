//! All SQL lives here, one file per table family, and nothing outside `db/` sees a
//! database type: callers hold a `Db`, pass `Db::read`, `Db::write` or a `Tx` to the
//! functions here, and get back rows of domain types and a `db::Error`.
//!
//! Two stores sit behind it, through sqlx's `Any` driver: a SQLite file (the default)
//! and PostgreSQL (several nodes on one database). SQL is written once where it is
//! portable (`$1` placeholders, which SQLite takes too); where the two differ, a
//! function asks [`Executor::backend`]. Each store has its own migrations
//! (`migrations/sqlite`, `migrations/postgres`), the same versions with the same
//! meaning.
//!
//! Shared write infrastructure lives here too, so no lower layer calls up for it:
//! `Db::begin` starts a write, and `Tx::commit` wakes the deliverer when the
//! transaction queued deliveries (`outbox::queue`) and the inbox processor when it
//! stored inbox activities.

pub mod activities;
pub mod authors;
pub mod backup;
pub mod blocks;
pub mod cache_changes;
pub mod claims;
pub mod client_api;
pub mod copy;
pub mod deliveries;
pub mod direct;
pub mod filters;
pub mod followers;
pub mod following;
pub mod hosts;
pub mod inbox_activities;
pub mod instance_actor;
pub mod media;
pub mod meta;
pub mod notifications;
pub mod outbox;
pub mod posts;
pub mod quotes;
pub mod reactions;
pub mod remote_account;
pub mod remote_actors;
pub mod replies;
pub mod status_batch;
pub mod status_events;
pub mod statuses;
pub mod tag_timeline;
pub mod timeline;
mod types;
pub mod workers;

use std::{
    fmt,
    path::Path,
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU8, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures_core::{Stream, future::BoxFuture, stream::BoxStream};
use sqlx::{
    Any, AnyConnection, AnyPool, Transaction,
    any::{AnyPoolOptions, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo},
};

use crate::config::Database;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// A database failure; sqlx's error (and its causes) is the source.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct Error(#[from] sqlx::Error);

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        Self(sqlx::Error::Migrate(Box::new(e)))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A fault of the storage under the database, which outlasts the request that met it
/// and heals only when its cause goes (space freed, the disk remounted writable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StorageFailure {
    Full,
    ReadOnly,
    Io,
    CannotOpen,
    Corrupt,
}

impl fmt::Display for StorageFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => "the disk is full",
            Self::ReadOnly => "the database is read-only",
            Self::Io => "disk I/O errors",
            Self::CannotOpen => "the database file cannot be opened",
            Self::Corrupt => "the database file is damaged",
        })
    }
}

impl StorageFailure {
    /// The fault behind a sqlx error, by SQLite's primary result code or PostgreSQL's
    /// SQLSTATE; `None` for a constraint, a busy lock or a bug.
    fn of(e: &sqlx::Error) -> Option<Self> {
        let code = match e {
            sqlx::Error::Io(_) => return Some(Self::Io),
            sqlx::Error::Database(e)
                if e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                    .is_some() =>
            {
                return Self::of_sqlstate(e.code()?.as_ref());
            }
            sqlx::Error::Database(e) => e.code()?.parse::<i32>().ok()?,
            _ => return None,
        };
        Some(match code & 0xff {
            13 => Self::Full,         // SQLITE_FULL (also what a file size limit gives)
            8 => Self::ReadOnly,      // SQLITE_READONLY
            10 => Self::Io,           // SQLITE_IOERR
            14 => Self::CannotOpen,   // SQLITE_CANTOPEN
            11 | 26 => Self::Corrupt, // SQLITE_CORRUPT, SQLITE_NOTADB
            _ => return None,
        })
    }

    /// PostgreSQL's classes for the same faults: out of space, a read-only server (a
    /// standby, or `default_transaction_read_only`), I/O, and a damaged file.
    fn of_sqlstate(code: &str) -> Option<Self> {
        Some(match code {
            "53100" => Self::Full,
            "25006" => Self::ReadOnly,
            "58030" => Self::Io,
            "XX001" | "XX002" => Self::Corrupt,
            _ => return None,
        })
    }

    fn code(self) -> u8 {
        self as u8 + 1
    }

    fn from_code(code: u8) -> Option<Self> {
        [
            Self::Full,
            Self::ReadOnly,
            Self::Io,
            Self::CannotOpen,
            Self::Corrupt,
        ]
        .into_iter()
        .find(|f| f.code() == code)
    }
}

impl Error {
    /// The storage fault behind this error, if it is one.
    pub fn storage_failure(&self) -> Option<StorageFailure> {
        StorageFailure::of(&self.0)
    }
}

impl From<Error> for crate::error::AppError {
    fn from(e: Error) -> Self {
        Self::Database(Box::new(e))
    }
}

/// The database as the application uses it: every write goes through one connection,
/// reads through a pool beside it. Cheap to clone.
///
/// SQLite allows one writer at a time. With several writing connections, a writer
/// that finds the lock taken sleeps in SQLite's busy handler (1, 2, 5 … 100 ms steps),
/// which is what made inbox bursts slow in the tail. With one writing connection,
/// writers wait in the pool's queue instead and are woken the moment it is free; in
/// WAL mode the readers never wait for it.
#[derive(Clone)]
pub struct Db(Arc<Inner>);

struct Inner {
    writer: Writer,
    reader: Reader,
    /// A connection of its own for [`checkpoint_wal`] (`None` for [`Db::connect`] and
    /// for PostgreSQL).
    checkpointer: Option<AnyPool>,
    wake: Wake,
}

/// Which store a connection talks to, for the SQL that differs between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The writing connection: writes, and reads that must see them or sit inside one.
#[derive(Clone)]
pub struct Writer {
    pool: AnyPool,
    backend: Backend,
    health: Arc<WriterHealth>,
}

/// What the writes through [`Writer`] have shown: whether they fail for a storage
/// fault (set by any write that meets one, cleared by the next commit) and when one
/// last committed. `/healthz` reads it through [`Db::check_writes`].
#[doc(hidden)]
#[derive(Default)]
pub struct WriterHealth {
    /// [`StorageFailure::code`], or 0 while writes work.
    failing: AtomicU8,
    last_commit_ms: AtomicI64,
    /// Held by the one health probe under way: a crowd of health checks (`/healthz` is
    /// public) makes one probe write, not one each.
    probing: tokio::sync::Mutex<()>,
}

impl WriterHealth {
    fn failing(&self) -> Option<StorageFailure> {
        StorageFailure::from_code(self.failing.load(Ordering::Relaxed))
    }

    /// Notes a failed write; logged once per change, not once per request.
    fn note(&self, e: &sqlx::Error) {
        if let Some(f) = StorageFailure::of(e)
            && self.failing.swap(f.code(), Ordering::Relaxed) != f.code()
        {
            tracing::error!(error = %e, "database writes are failing: {f}; they are refused (503) until it heals");
        }
    }

    fn committed(&self) {
        self.last_commit_ms.store(now_ms(), Ordering::Relaxed);
        if self.failing.swap(0, Ordering::Relaxed) != 0 {
            tracing::warn!("database writes work again");
        }
    }
}

/// Read-only connections for the request paths: pages, documents, the inbox's lookups.
/// A write sent here fails instead of taking the write lock.
#[derive(Clone)]
pub struct Reader(AnyPool, Backend);

/// Who is woken when a commit queued work for them (in this process).
#[derive(Clone, Default)]
struct Wake {
    deliveries: Arc<Notify>,
    inbox: Arc<Notify>,
}

/// Reading connections: enough to keep both cores busy while one waits on the disk.
const READERS: u32 = 4;
/// PostgreSQL's reading connections per node: reads wait on the network, not the disk.
const PG_READERS: u32 = 8;

/// A pool whose connections go back only in a clean state. When a COMMIT fails for a
/// storage fault (disk full), SQLite has already rolled the transaction back, so the
/// ROLLBACK sqlx sends on drop fails too and sqlx goes on counting the connection as
/// inside a transaction: every later `BEGIN` was refused until a restart. Such a
/// connection is closed here instead, and the pool opens a fresh one. Each new
/// connection first runs `setup` (SQLite's pragmas).
fn pool_options(max: u32, setup: &'static [&'static str]) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                for statement in setup {
                    sqlx::Executor::execute(&mut *conn, *statement).await?;
                }
                Ok(())
            })
        })
        .after_release(|conn, _| {
            Box::pin(async move {
                use sqlx::Connection as _;
                if conn.is_in_transaction() {
                    // Lets a rollback queued by a dropped transaction finish first.
                    conn.ping().await?;
                }
                Ok(!conn.is_in_transaction())
            })
        })
}

/// sqlx's drivers for the `Any` pools, installed once per process.
fn install_drivers() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(sqlx::any::install_default_drivers);
}

/// The URL of a SQLite file, after creating its folder if needed.
fn sqlite_url(path: &Path) -> Result<String> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    let absolute = std::path::absolute(path).map_err(sqlx::Error::Io)?;
    let url = url::Url::from_file_path(&absolute).map_err(|()| {
        sqlx::Error::Configuration(format!("{} is not a usable path", path.display()).into())
    })?;
    // The file URL's percent-encoded path, under the scheme sqlx's driver looks for.
    Ok(format!("sqlite://{}?mode=rwc", url.path()))
}

/// Every SQLite connection's settings. WAL lets page reads run beside the writer. FULL
/// syncs the log at every commit, so what was acknowledged (an inbox 202, a queued
/// delivery) survives a power loss too, not only a crash; group commit keeps it
/// affordable. The log file is cut back to 64 MiB whenever it starts over. Other
/// processes (`fedblog sync`, `block`) still take the write lock: wait 10 s for it.
macro_rules! sqlite_pragmas {
    ($($extra:literal),*) => {
        &[
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = FULL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA journal_size_limit = 67108864",
            "PRAGMA busy_timeout = 10000",
            $($extra),*
        ]
    };
}

/// The writer checkpoints itself only after 8,192 pages in the log (about 32 MiB;
/// SQLite's default is 1,000).
const SQLITE_WRITER: &[&str] = sqlite_pragmas!("PRAGMA wal_autocheckpoint = 8192");
const SQLITE_READER: &[&str] = sqlite_pragmas!("PRAGMA query_only = ON");
const SQLITE_OTHER: &[&str] = sqlite_pragmas!();

/// The lock every PostgreSQL write transaction takes first, on every node: writes are
/// one at a time, as SQLite's write lock made them, so a read-then-write inside a
/// transaction means the same on both stores. Reads never take it.
const PG_WRITE_LOCK: i64 = 0x0066_6564_626c_6f67; // "fedblog"

/// How often [`checkpoint_wal`] copies the write-ahead log back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

impl Db {
    /// Opens (creating if needed) the database for serving, applies pending
    /// migrations, and returns the one writer, the readers and, for SQLite, a
    /// connection for [`checkpoint_wal`], which the caller runs.
    ///
    /// A checkpoint fsyncs, and on the writer it holds up every write queued behind it
    /// (the inbox's 202s included), so the writer checkpoints rarely (every 8,192
    /// pages) and finds little left to copy; see
    /// docs/BENCHMARKS.md (inbox storm) for the measurements.
    pub async fn open(database: &Database) -> Result<Self> {
        install_drivers();
        match database {
            Database::File(path) => {
                let url = sqlite_url(path)?;
                let writer = pool_options(1, SQLITE_WRITER).connect(&url).await?;
                sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
                let readers = pool_options(READERS, SQLITE_READER).connect(&url).await?;
                let checkpointer = pool_options(1, SQLITE_OTHER).connect(&url).await?;
                Ok(Self::assemble(
                    writer,
                    readers,
                    Some(checkpointer),
                    Backend::Sqlite,
                ))
            }
            Database::Postgres(url) => {
                let writer = pool_options(1, &[]).connect(url).await?;
                sqlx::migrate!("./migrations/postgres").run(&writer).await?;
                let readers = pool_options(PG_READERS, &[]).connect(url).await?;
                Ok(Self::assemble(writer, readers, None, Backend::Postgres))
            }
        }
    }

    /// Opens (creating if needed) the database and applies pending migrations: one
    /// pool for reads and writes, for tools that do not serve.
    pub async fn connect(database: &Database) -> Result<Self> {
        install_drivers();
        let (pool, backend) = match database {
            Database::File(path) => {
                let pool = pool_options(8, SQLITE_OTHER)
                    .connect(&sqlite_url(path)?)
                    .await?;
                sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
                (pool, Backend::Sqlite)
            }
            Database::Postgres(url) => {
                let pool = pool_options(8, &[]).connect(url).await?;
                sqlx::migrate!("./migrations/postgres").run(&pool).await?;
                (pool, Backend::Postgres)
            }
        };
        Ok(Self::assemble(pool.clone(), pool, None, backend))
    }

    fn assemble(
        writer: AnyPool,
        readers: AnyPool,
        checkpointer: Option<AnyPool>,
        backend: Backend,
    ) -> Self {
        Self(Arc::new(Inner {
            writer: Writer {
                pool: writer,
                backend,
                health: Arc::default(),
            },
            reader: Reader(readers, backend),
            checkpointer,
            wake: Wake::default(),
        }))
    }

    /// Which store this is.
    pub fn backend(&self) -> Backend {
        self.0.writer.backend
    }

    /// For reads that need not see this process's latest writes.
    pub fn read(&self) -> &Reader {
        &self.0.reader
    }

    /// The one writer, for a write outside a transaction or a read that must see
    /// the writes before it. A read here waits behind every queued write.
    pub fn write(&self) -> &Writer {
        &self.0.writer
    }

    /// Starts a write transaction that takes the write lock at once (SQLite's `BEGIN
    /// IMMEDIATE`, PostgreSQL's [`PG_WRITE_LOCK`]), so a read-then-write inside it
    /// cannot fail with a busy snapshot or race another node's.
    pub async fn begin(&self) -> Result<Tx> {
        let writer = &self.0.writer;
        let health = &writer.health;
        let mut tx = match writer.backend {
            Backend::Sqlite => writer.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => writer.pool.begin().await,
        }
        .inspect_err(|e| health.note(e))?;
        if writer.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(PG_WRITE_LOCK)
                .execute(&mut *tx)
                .await
                .inspect_err(|e| health.note(e))?;
        }
        Ok(Tx {
            tx,
            backend: writer.backend,
            health: health.clone(),
            wake: self.0.wake.clone(),
            queued_deliveries: false,
            stored_inbox: false,
        })
    }

    /// Resolves when a transaction of this process has queued deliveries.
    pub async fn deliveries_queued(&self) {
        self.0.wake.deliveries.notified().await
    }

    /// Resolves when a transaction of this process has stored inbox activities.
    pub async fn inbox_stored(&self) {
        self.0.wake.inbox.notified().await
    }

    /// Whether the database answers (the health check).
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.0.reader.0).await?;
        Ok(())
    }

    /// Whether writes work, for the health check. While they fail for a storage fault,
    /// or when none has committed for a while, it tries a small one, so the answer
    /// follows the disk both ways without waiting for traffic.
    pub async fn check_writes(&self) -> std::result::Result<(), StorageFailure> {
        let health = &self.0.writer.health;
        let idle = now_ms() - health.last_commit_ms.load(Ordering::Relaxed);
        if health.failing().is_none() && idle < PROBE_WRITES_AFTER_MS {
            return Ok(());
        }
        if let Ok(_probe) = health.probing.try_lock()
            && let Err(e) = self.probe_write().await
        {
            tracing::debug!(error = %e, "the health check's write failed");
        }
        health.failing().map_or(Ok(()), Err)
    }

    async fn probe_write(&self) -> Result<()> {
        let mut tx = self.begin().await?;
        meta::set(&mut tx, "health_checked_at", &now_ms().to_string()).await?;
        tx.commit().await
    }

    /// Closes every connection (before the file is replaced).
    pub async fn close(&self) {
        self.0.writer.pool.close().await;
        self.0.reader.0.close().await;
        if let Some(c) = &self.0.checkpointer {
            c.close().await;
        }
    }
}

/// How long without a commit before the health check tries a write of its own.
const PROBE_WRITES_AFTER_MS: i64 = 10_000;

/// Copies the write-ahead log into the database file every 500 ms, on a
/// connection of its own beside the writer, until `shutdown`: only a checkpoint no
/// write overlaps lets the log start over, so without it the log grows without bound
/// under continuous writes. Returns at once for a [`Db::connect`] database.
pub async fn checkpoint_wal(db: Db, shutdown: CancellationToken) {
    let Some(conn) = db.0.checkpointer.clone() else {
        return;
    };
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .execute(&conn)
            .await
        {
            tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
        }
    }
}

/// A write transaction. Dropped without [`Tx::commit`], it rolls back.
pub struct Tx {
    tx: Transaction<'static, Any>,
    backend: Backend,
    health: Arc<WriterHealth>,
    wake: Wake,
    queued_deliveries: bool,
    stored_inbox: bool,
}

impl Tx {
    /// Commits, then wakes the deliverer if deliveries were queued and the inbox
    /// processor if activities were stored, so neither waits for its next poll.
    pub async fn commit(self) -> Result<()> {
        self.tx
            .commit()
            .await
            .inspect_err(|e| self.health.note(e))?;
        self.health.committed();
        if self.queued_deliveries {
            self.wake.deliveries.notify_one();
        }
        if self.stored_inbox {
            self.wake.inbox.notify_one();
        }
        Ok(())
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for &super::Reader {}
    impl Sealed for &super::Writer {}
    impl Sealed for &mut super::Tx {}
}

/// Where a query runs: [`Db::read`], [`Db::write`] or a transaction (`&mut tx`).
pub trait Executor<'c>: sealed::Sealed + Send {
    #[doc(hidden)]
    fn inner(self) -> Exec<'c>;

    /// The store behind it, for SQL that differs between the two.
    fn backend(&self) -> Backend;
}

impl<'c> Executor<'c> for &'c Reader {
    fn inner(self) -> Exec<'c> {
        Exec::Pool(&self.0, None)
    }

    fn backend(&self) -> Backend {
        self.1
    }
}

impl<'c> Executor<'c> for &'c Writer {
    fn inner(self) -> Exec<'c> {
        Exec::Pool(&self.pool, Some(&self.health))
    }

    fn backend(&self) -> Backend {
        self.backend
    }
}

impl<'c> Executor<'c> for &'c mut Tx {
    fn inner(self) -> Exec<'c> {
        Exec::Conn(&mut self.tx, Some(&self.health))
    }

    fn backend(&self) -> Backend {
        self.backend
    }
}

/// A pool or a transaction's connection, as sqlx runs queries on them, and for the
/// writer, where its failures are noted. A concrete type rather than an associated
/// one, so the futures of db functions called with any [`Executor`] stay `Send` (a
/// projection through a lifetime-bound impl does not).
#[doc(hidden)]
pub enum Exec<'c> {
    Pool(&'c AnyPool, Option<&'c WriterHealth>),
    Conn(&'c mut AnyConnection, Option<&'c WriterHealth>),
}

impl fmt::Debug for Exec<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Pool(..) => "Exec::Pool",
            Self::Conn(..) => "Exec::Conn",
        })
    }
}

/// A result stream of the writer whose errors are noted in its health.
struct Noting<'e, T> {
    inner: BoxStream<'e, sqlx::Result<T>>,
    health: &'e WriterHealth,
}

impl<T> Stream for Noting<'_, T> {
    type Item = sqlx::Result<T>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let item = self.inner.as_mut().poll_next(cx);
        if let Poll::Ready(Some(Err(e))) = &item {
            self.health.note(e);
        }
        item
    }
}

/// Each method hands the query to the pool or connection unchanged; the writer's
/// failures are noted on the way back.
impl<'c> sqlx::Executor<'c> for Exec<'c> {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, sqlx::Result<sqlx::Either<AnyQueryResult, AnyRow>>>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, Any>,
    {
        let (stream, health) = match self {
            Self::Pool(p, h) => (p.fetch_many(query), h),
            Self::Conn(c, h) => (c.fetch_many(query), h),
        };
        match health {
            None => stream,
            Some(health) => Box::pin(Noting {
                inner: stream,
                health,
            }),
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, sqlx::Result<Option<AnyRow>>>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, Any>,
    {
        let (fut, health) = match self {
            Self::Pool(p, h) => (p.fetch_optional(query), h),
            Self::Conn(c, h) => (c.fetch_optional(query), h),
        };
        match health {
            None => fut,
            Some(health) => Box::pin(async move { fut.await.inspect_err(|e| health.note(e)) }),
        }
    }

    fn prepare_with<'e>(
        self,
        sql: sqlx::SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, sqlx::Result<AnyStatement>>
    where
        'c: 'e,
    {
        match self {
            Self::Pool(p, _) => p.prepare_with(sql, parameters),
            Self::Conn(c, _) => c.prepare_with(sql, parameters),
        }
    }

    fn describe<'e>(self, sql: sqlx::SqlStr) -> BoxFuture<'e, sqlx::Result<sqlx::Describe<Any>>>
    where
        'c: 'e,
    {
        match self {
            Self::Pool(p, _) => p.describe(sql),
            Self::Conn(c, _) => c.describe(sql),
        }
    }
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
