//! All SQL lives here, one file per table family. Functions take an executor
//! (pool, connection or transaction) so the service layer owns transactions.

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
pub mod posts;
pub mod reactions;
pub mod remote_actors;
pub mod replies;
pub mod workers;

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

/// The database as the application uses it: every write goes through one connection,
/// reads through a pool beside it.
///
/// SQLite allows one writer at a time. With several writing connections, a writer
/// that finds the lock taken sleeps in SQLite's busy handler (1, 2, 5 … 100 ms steps),
/// which is what made inbox bursts slow in the tail. With one writing connection,
/// writers wait in the pool's queue instead and are woken the moment it is free; in
/// WAL mode the readers never wait for it.
#[derive(Clone)]
pub struct Pools {
    pub writer: SqlitePool,
    pub readers: SqlitePool,
}

/// Reading connections: enough to keep both cores busy while one waits on the disk.
const READERS: u32 = 4;

/// Connection settings, after creating the database's folder if needed.
fn options(path: &Path) -> Result<SqliteConnectOptions, sqlx::Error> {
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

/// Rows a connection's thread may hand over before the reading task takes them. sqlx
/// sends rows one by one over a bounded channel (50 by default): a delivery claim
/// reads up to twice the concurrency, and past 50 the thread and the task woke each
/// other once per row, about one context switch per delivery.
const ROW_BUFFER: usize = 1024;

/// How often the write-ahead log is copied back into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// Pages in the log after which the writer checkpoints itself (SQLite's default is
/// 1,000): about 32 MiB.
const WRITER_CHECKPOINT_PAGES: u32 = 8192;

/// Opens (creating if needed) the SQLite file, applies pending migrations, and
/// returns the writer and the readers.
///
/// A checkpoint fsyncs. Run by the writer every 1,000 pages (SQLite's default), it
/// held up every write queued behind it, the inbox's 202s included: at 1,000
/// activities/s the median went from 4 ms to 36 ms. A connection of its own now
/// checkpoints every [`CHECKPOINT_EVERY`] beside the writer, for as long as the
/// runtime runs. The writer still checkpoints, rarely ([`WRITER_CHECKPOINT_PAGES`]),
/// and then finds little left to copy: only a checkpoint no write overlaps lets the
/// log start over, and without one a cold start's log grew to 462 MB.
pub async fn open(path: &Path) -> Result<Pools, sqlx::Error> {
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            options(path)?.pragma("wal_autocheckpoint", WRITER_CHECKPOINT_PAGES.to_string()),
        )
        .await?;
    sqlx::migrate!("./migrations").run(&writer).await?;
    let readers = SqlitePoolOptions::new()
        .max_connections(READERS)
        // A query sent to a reader by mistake fails instead of taking the write lock.
        .connect_with(options(path)?.pragma("query_only", "ON"))
        .await?;
    let checkpointer = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options(path)?)
        .await?;
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !checkpointer.is_closed() {
            tick.tick().await;
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&checkpointer)
                .await
            {
                tracing::warn!(error = %e, "checkpointing the write-ahead log failed");
            }
        }
    });
    Ok(Pools { writer, readers })
}

/// Opens (creating if needed) the SQLite file and applies pending migrations: one
/// pool for everything, for tools that do not serve.
pub async fn connect(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options(path)?)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
