//! `blocks`: domains and actors blocked with `fedblog block`.

use super::{Executor, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlockRow {
    pub target: String,
    pub kind: String,
    pub created_at: i64,
}

pub async fn add(db: impl Executor<'_>, target: &str, kind: &str, now: i64) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO blocks (target, kind, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(target)
    .bind(kind)
    .bind(now)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

pub async fn remove(db: impl Executor<'_>, target: &str) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM blocks WHERE target = $1")
        .bind(target)
        .execute(db.inner())
        .await?
        .rows_affected()
        > 0)
}

pub async fn all(db: impl Executor<'_>) -> Result<Vec<BlockRow>> {
    sqlx::query_as("SELECT * FROM blocks ORDER BY kind, target")
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Which of `targets` are blocked.
pub async fn which_of(db: impl Executor<'_>, targets: &[String]) -> Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT target FROM blocks WHERE target IN (SELECT value FROM json_each($1))",
    )
    .bind(super::types::Json(targets))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}
