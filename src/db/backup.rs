//! Copies of the whole database: an online backup and its restore.

use std::{path::Path, str::FromStr};

use sqlx::{
    Connection, SqliteConnection,
    sqlite::{SqliteConnectOptions, SqliteJournalMode},
};

use super::{Executor, Result};

/// Writes a consistent copy of the database to `target` (a new file) while other
/// connections keep reading and writing: `VACUUM INTO` reads one snapshot.
pub async fn backup_into(db: impl Executor<'_>, target: &Path) -> Result<()> {
    let target = target
        .to_str()
        .ok_or_else(|| sqlx::Error::Protocol("the backup path must be UTF-8".into()))?;
    sqlx::query("VACUUM INTO ?")
        .bind(target)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// What a backup holds.
#[derive(Debug, Clone, Copy)]
pub struct BackupSummary {
    pub authors: i64,
    pub followers: i64,
    pub posts: i64,
}

/// Opens a backup read-only, checks its integrity and that it is a fedblog database.
pub async fn inspect_backup(file: &Path) -> Result<BackupSummary> {
    let options = SqliteConnectOptions::from_str("sqlite://")?
        .filename(file)
        .read_only(true)
        .journal_mode(SqliteJournalMode::Delete);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await?;
    if integrity != "ok" {
        return Err(sqlx::Error::Protocol(format!("integrity check failed: {integrity}")).into());
    }
    let count = |table: &'static str| format!("SELECT COUNT(*) FROM {table}");
    let mut n = [0i64; 3];
    for (i, t) in ["authors", "followers", "posts"].into_iter().enumerate() {
        n[i] = sqlx::query_scalar(sqlx::AssertSqlSafe(count(t)))
            .fetch_one(&mut conn)
            .await?;
    }
    conn.close().await?;
    Ok(BackupSummary {
        authors: n[0],
        followers: n[1],
        posts: n[2],
    })
}

/// Puts a copy of `backup` in place of the database file `database` (no process may
/// have it open): the copy is written beside it and renamed over it. The old WAL and
/// shared-memory files go first: SQLite would replay a stale WAL onto the new file.
pub fn replace_with(database: &Path, backup: &Path) -> std::io::Result<()> {
    if let Some(dir) = database.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut tmp = database.as_os_str().to_owned();
    tmp.push(".restoring");
    std::fs::copy(backup, &tmp)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    for suffix in ["-wal", "-shm"] {
        let mut side = database.as_os_str().to_owned();
        side.push(suffix);
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    std::fs::rename(&tmp, database)
}
