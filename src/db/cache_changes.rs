//! The change log the database triggers of migration 0004 write: which cached
//! responses a committed change made stale.

use sqlx::SqliteExecutor;

/// Id of the newest logged change (0 if none).
pub async fn last_id(db: impl SqliteExecutor<'_>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM cache_changes")
        .fetch_one(db)
        .await
}

/// Changes logged after `id`, oldest first.
pub async fn since(db: impl SqliteExecutor<'_>, id: i64) -> sqlx::Result<Vec<(i64, String)>> {
    sqlx::query_as("SELECT id, scope FROM cache_changes WHERE id > ? ORDER BY id")
        .bind(id)
        .fetch_all(db)
        .await
}

/// Forgets changes logged before `before` (Unix ms).
pub async fn prune(db: impl SqliteExecutor<'_>, before: i64) -> sqlx::Result<()> {
    sqlx::query("DELETE FROM cache_changes WHERE at < ?")
        .bind(before)
        .execute(db)
        .await?;
    Ok(())
}
