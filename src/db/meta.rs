//! `meta`: small facts about this database.

use super::{Executor, Result};

pub async fn get(db: impl Executor<'_>, key: &str) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(key)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn set(db: impl Executor<'_>, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Where every sync, in any process, notes when the next scheduled post is due.
const NEXT_SCHEDULED: &str = "next_scheduled_at";

/// When the next scheduled post is due (Unix ms), as the last sync noted.
pub async fn next_scheduled(db: impl Executor<'_>) -> Result<Option<i64>> {
    Ok(get(db, NEXT_SCHEDULED)
        .await?
        .and_then(|v| v.parse::<i64>().ok()))
}

/// Notes when the next scheduled post is due (`None`: nothing is scheduled).
pub async fn set_next_scheduled(db: impl Executor<'_>, at: Option<i64>) -> Result<()> {
    let value = at.map(|ms| ms.to_string()).unwrap_or_default();
    set(db, NEXT_SCHEDULED, &value).await
}
