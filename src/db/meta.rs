use super::{Executor, Result};

pub async fn get(db: impl Executor<'_>, key: &str) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT value FROM meta WHERE key = ?")
        .bind(key)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn set(db: impl Executor<'_>, key: &str, value: &str) -> Result<()> {
    sqlx::query("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value")
        .bind(key)
        .bind(value)
        .execute(db.inner())
        .await?;
    Ok(())
}
