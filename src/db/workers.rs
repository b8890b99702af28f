//! Processes that deliver, with heartbeats, so the claims of a dead one are released.

use super::types::Json;

use super::{Executor, Result};
use crate::domain::WorkerKind;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WorkerRow {
    pub id: String,
    pub machine: String,
    pub pid: i64,
    pub kind: WorkerKind,
    pub started_at: i64,
    pub heartbeat_at: i64,
}

pub async fn register(db: impl Executor<'_>, w: &WorkerRow) -> Result<()> {
    sqlx::query("INSERT INTO workers (id, machine, pid, kind, started_at, heartbeat_at) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET machine = excluded.machine, pid = excluded.pid, kind = excluded.kind,
            started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at")
        .bind(&w.id)
        .bind(&w.machine)
        .bind(w.pid)
        .bind(w.kind)
        .bind(w.started_at)
        .bind(w.heartbeat_at)
        .execute(db.inner())
        .await?;
    Ok(())
}

pub async fn heartbeat(db: impl Executor<'_>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE workers SET heartbeat_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db.inner())
        .await?;
    Ok(())
}

pub async fn list(db: impl Executor<'_>) -> Result<Vec<WorkerRow>> {
    sqlx::query_as("SELECT * FROM workers")
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Removes these workers.
pub async fn remove(db: impl Executor<'_>, ids: &[String]) -> Result<()> {
    sqlx::query("DELETE FROM workers WHERE id IN (SELECT value FROM json_each($1))")
        .bind(Json(ids))
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Claims held by workers not in the table (removed, or from before it existed).
pub async fn orphaned_claimants(db: impl Executor<'_>) -> Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT claimed_by FROM deliveries WHERE claimed_by IS NOT NULL AND state = 'pending'
           AND claimed_by NOT IN (SELECT id FROM workers)",
    )
    .fetch_all(db.inner())
    .await
        .map_err(Into::into)
}
