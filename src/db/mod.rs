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

/// Opens (creating if needed) the SQLite file and applies pending migrations.
pub async fn connect(path: &Path) -> Result<SqlitePool, sqlx::Error> {
    if let Some(dir) = path.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
    }
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(path)
        .create_if_missing(true)
        // WAL lets page reads run beside the writer; NORMAL sync is durable in WAL mode
        // against process crashes (kill -9), which is what the queue needs.
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await?;
    sqlx::migrate!("./migrations").run(&pool).await?;
    Ok(pool)
}

/// Milliseconds since the Unix epoch: how every time is stored.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}
