//! The change log the database triggers of migration 0004 write: which cached
//! responses a committed change made stale.

use super::{Executor, Result};

/// Changes logged after `id`, oldest first.
pub async fn since(db: impl Executor<'_>, id: i64) -> Result<Vec<(i64, String)>> {
    sqlx::query_as("SELECT id, scope FROM cache_changes WHERE id > $1 ORDER BY id")
        .bind(id)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Forgets changes logged before `before` (Unix ms).
pub async fn prune(db: impl Executor<'_>, before: i64) -> Result<()> {
    sqlx::query("DELETE FROM cache_changes WHERE at < $1")
        .bind(before)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Changes logged after `id`, and every change logged in the last `window_ms` (by the
/// log's own clock, so the nodes' clocks do not matter), oldest first, with when each
/// was logged. On PostgreSQL an id is taken at insert and seen at commit, so a row can
/// appear below ids already read: the window reads it again for the caller to pick out
/// what it has not seen.
pub async fn since_or_within(
    db: impl Executor<'_>,
    id: i64,
    window_ms: i64,
) -> Result<Vec<(i64, String, i64)>> {
    sqlx::query_as(
        "SELECT id, scope, at FROM cache_changes
         WHERE id > $1 OR at >= (SELECT COALESCE(MAX(at), 0) FROM cache_changes) - $2
         ORDER BY id",
    )
    .bind(id)
    .bind(window_ms)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}
