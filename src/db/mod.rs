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
pub mod deliveries;
pub mod followers;
pub mod hosts;
pub mod inbox_activities;
pub mod instance_actor;
pub mod meta;
pub mod outbox;
pub mod posts;
pub mod reactions;
pub mod remote_actors;
pub mod replies;
mod types;
pub mod workers;

use std::{path::Path, str::FromStr, sync::Arc, time::Duration};

use futures_core::{future::BoxFuture, stream::BoxStream};
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
pub struct Writer(SqlitePool);

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
        // WAL lets page reads run beside the writer; NORMAL sync is durable in WAL mode
        // against process crashes (kill -9), which is what the queue needs.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
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
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(
                options(path)?.pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string()),
            )
            .await?;
        sqlx::migrate!("./migrations").run(&writer).await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .connect_with(options(path)?.pragma("query_only", "ON"))
            .await?;
        let checkpointer = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options(path)?)
            .await?;
        Ok(Self(Arc::new(Inner {
            writer: Writer(writer),
            reader: Reader(readers),
            checkpointer: Some(checkpointer),
            wake: Wake::default(),
        })))
    }

    /// Opens (creating if needed) the SQLite file and applies pending migrations: one
    /// pool for reads and writes, for tools that do not serve.
    pub async fn connect(path: &Path) -> Result<Self> {
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options(path)?)
            .await?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Self(Arc::new(Inner {
            writer: Writer(pool.clone()),
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
        Ok(Tx {
            tx: self.0.writer.0.begin_with("BEGIN IMMEDIATE").await?,
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

    /// Closes every connection (before the file is replaced).
    pub async fn close(&self) {
        self.0.writer.0.close().await;
        self.0.reader.0.close().await;
        if let Some(c) = &self.0.checkpointer {
            c.close().await;
        }
    }
}

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
    wake: Wake,
    queued_deliveries: bool,
    stored_inbox: bool,
}

impl Tx {
    /// Commits, then wakes the deliverer if deliveries were queued and the inbox
    /// processor if activities were stored, so neither waits for its next poll.
    pub async fn commit(self) -> Result<()> {
        self.tx.commit().await?;
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
        Exec::Pool(&self.0)
    }
}

impl<'c> Executor<'c> for &'c Writer {
    fn inner(self) -> Exec<'c> {
        Exec::Pool(&self.0)
    }
}

impl<'c> Executor<'c> for &'c mut Tx {
    fn inner(self) -> Exec<'c> {
        Exec::Conn(&mut self.tx)
    }
}

/// A pool or a transaction's connection, as sqlx runs queries on them. A concrete
/// type rather than an associated one, so the futures of db functions called with
/// any [`Executor`] stay `Send` (a projection through a lifetime-bound impl does not).
#[doc(hidden)]
#[derive(Debug)]
pub enum Exec<'c> {
    Pool(&'c SqlitePool),
    Conn(&'c mut SqliteConnection),
}

/// Each method hands the query to the pool or connection unchanged.
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
        match self {
            Self::Pool(p) => p.fetch_many(query),
            Self::Conn(c) => c.fetch_many(query),
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
        match self {
            Self::Pool(p) => p.fetch_optional(query),
            Self::Conn(c) => c.fetch_optional(query),
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
            Self::Pool(p) => p.prepare_with(sql, parameters),
            Self::Conn(c) => c.prepare_with(sql, parameters),
        }
    }

    fn describe<'e>(self, sql: sqlx::SqlStr) -> BoxFuture<'e, sqlx::Result<sqlx::Describe<Sqlite>>>
    where
        'c: 'e,
    {
        match self {
            Self::Pool(p) => p.describe(sql),
            Self::Conn(c) => c.describe(sql),
        }
    }
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
