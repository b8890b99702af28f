//! All SQL lives here, one file per table family, and nothing outside `db/` sees a
//! SQLite type: callers hold a `Db`, pass `Db::read`, `Db::write` or a `Tx` to the
//! functions here, and get back rows of domain types and a `db::Error`.
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
pub mod client_api;
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
    str::FromStr,
    sync::{
        Arc,
        atomic::{AtomicI64, AtomicU8, Ordering},
    },
    task::{Context, Poll},
    time::Duration,
};

use futures_core::{Stream, future::BoxFuture, stream::BoxStream};
use sqlx::{
    Sqlite, SqliteConnection, SqlitePool, Transaction,
    sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteQueryResult, SqliteRow,
        SqliteStatement, SqliteSynchronous, SqliteTypeInfo,
    },
};
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
    /// The fault behind a sqlx error, by SQLite's primary result code; `None` for a
    /// constraint, a busy lock or a bug.
    fn of(e: &sqlx::Error) -> Option<Self> {
        let code = match e {
            sqlx::Error::Io(_) => return Some(Self::Io),
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
    /// A connection of its own for [`checkpoint_wal`] (`None` for [`Db::connect`]).
    checkpointer: Option<SqlitePool>,
    wake: Wake,
}

/// The writing connection: writes, and reads that must see them or sit inside one.
#[derive(Clone)]
pub struct Writer {
    pool: SqlitePool,
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
pub struct Reader(SqlitePool);

/// Who is woken when a commit queued work for them (in this process).
#[derive(Clone, Default)]
struct Wake {
    deliveries: Arc<Notify>,
    inbox: Arc<Notify>,
}

/// Reading connections: enough to keep both cores busy while one waits on the disk.
const READERS: u32 = 4;

/// A pool whose connections go back only in a clean state. When a COMMIT fails for a
/// storage fault (disk full), SQLite has already rolled the transaction back, so the
/// ROLLBACK sqlx sends on drop fails too and sqlx goes on counting the connection as
/// inside a transaction: every later `BEGIN` was refused until a restart. Such a
/// connection is closed here instead, and the pool opens a fresh one.
fn pool_options(max: u32) -> SqlitePoolOptions {
    SqlitePoolOptions::new()
        .max_connections(max)
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

/// Connection settings, after creating the database's folder if needed.
fn options(path: &Path) -> Result<SqliteConnectOptions> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    Ok(SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        // WAL lets page reads run beside the writer. FULL syncs the log at every
        // commit, so what was acknowledged (an inbox 202, a queued delivery) survives a
        // power loss too, not only a crash; group commit keeps it affordable.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        // The log file is cut back to this size whenever it starts over.
        .pragma("journal_size_limit", (64 * 1024 * 1024).to_string())
        // Other processes (`fedblog sync`, `block`) still take the write lock.
        .busy_timeout(Duration::from_secs(10))
        .row_buffer_size(ROW_BUFFER))
}

/// Rows a connection's thread may hand over before the reading task takes them. A
/// delivery claim reads up to twice the concurrency, and with sqlx's default (50) the
/// thread and the task woke each other once per row (docs/BENCHMARKS.md, session 5).
const ROW_BUFFER: usize = 1024;

/// How often [`checkpoint_wal`] copies the write-ahead log back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// Pages in the log after which the writer checkpoints itself (SQLite's default is
/// 1,000): about 32 MiB.
const WRITER_CHECKPOINT_PAGES: u32 = 8192;

impl Db {
    /// Opens (creating if needed) the SQLite file for serving, applies pending
    /// migrations, and returns the one writer, the readers and a connection for
    /// [`checkpoint_wal`], which the caller runs.
    ///
    /// A checkpoint fsyncs, and on the writer it holds up every write queued behind it
    /// (the inbox's 202s included), so the writer checkpoints rarely (every 8,192
    /// pages) and finds little left to copy; see
    /// docs/BENCHMARKS.md (inbox storm) for the measurements.
    pub async fn open(path: &Path) -> Result<Self> {
        let writer = pool_options(1)
            .connect_with(
                options(path)?.pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string()),
            )
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options(path)?.pragma("query_only", "ON"))
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options(path)?)
            .await?;
        Ok(Self(Arc::new(Inner {
            writer: Writer {
                pool: writer,
                health: Arc::default(),
            },
            reader: Reader(readers),
            checkpointer: Some(checkpointer),
            wake: Wake::default(),
        })))
    }

    /// Opens (creating if needed) the SQLite file and applies pending migrations: one
    /// pool for reads and writes, for tools that do not serve.
    pub async fn connect(path: &Path) -> Result<Self> {
        let pool = pool_options(8).connect_with(options(path)?).await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self(Arc::new(Inner {
            writer: Writer {
                pool: pool.clone(),
                health: Arc::default(),
            },
            reader: Reader(pool),
            checkpointer: None,
            wake: Wake::default(),
        })))
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

    /// Starts a write transaction that takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so a read-then-write inside it cannot fail with a busy snapshot.
    pub async fn begin(&self) -> Result<Tx> {
        let health = &self.0.writer.health;
        let tx = self
            .0
            .writer
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .inspect_err(|e| health.note(e))?;
        Ok(Tx {
            tx,
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
    tx: Transaction<'static, Sqlite>,
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
}

impl<'c> Executor<'c> for &'c Reader {
    fn inner(self) -> Exec<'c> {
        Exec::Pool(&self.0, None)
    }
}

impl<'c> Executor<'c> for &'c Writer {
    fn inner(self) -> Exec<'c> {
        Exec::Pool(&self.pool, Some(&self.health))
    }
}

impl<'c> Executor<'c> for &'c mut Tx {
    fn inner(self) -> Exec<'c> {
        Exec::Conn(&mut self.tx, Some(&self.health))
    }
}

/// A pool or a transaction's connection, as sqlx runs queries on them, and for the
/// writer, where its failures are noted. A concrete type rather than an associated
/// one, so the futures of db functions called with any [`Executor`] stay `Send` (a
/// projection through a lifetime-bound impl does not).
#[doc(hidden)]
pub enum Exec<'c> {
    Pool(&'c SqlitePool, Option<&'c WriterHealth>),
    Conn(&'c mut SqliteConnection, Option<&'c WriterHealth>),
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
    type Database = Sqlite;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, sqlx::Result<sqlx::Either<SqliteQueryResult, SqliteRow>>>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, Sqlite>,
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

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, sqlx::Result<Option<SqliteRow>>>
    where
        'c: 'e,
        E: 'q + sqlx::Execute<'q, Sqlite>,
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
        parameters: &'e [SqliteTypeInfo],
    ) -> BoxFuture<'e, sqlx::Result<SqliteStatement>>
    where
        'c: 'e,
    {
        match self {
            Self::Pool(p, _) => p.prepare_with(sql, parameters),
            Self::Conn(c, _) => c.prepare_with(sql, parameters),
        }
    }

    fn describe<'e>(self, sql: sqlx::SqlStr) -> BoxFuture<'e, sqlx::Result<sqlx::Describe<Sqlite>>>
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
