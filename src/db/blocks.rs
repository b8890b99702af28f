//! `blocks`: domains and actors blocked with `fedblog block`.

use sqlx::SqliteExecutor;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct BlockRow {
    pub target: String,
    pub kind: String,
    pub created_at: i64,
}

pub async fn add(
    db: impl SqliteExecutor<'_>,
    target: &str,
    kind: &str,
    now: i64,
) -> sqlx::Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO blocks (target, kind, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
    )
    .bind(target)
    .bind(kind)
    .bind(now)
    .execute(db)
    .await?
    .rows_affected()
        > 0)
}

pub async fn remove(db: impl SqliteExecutor<'_>, target: &str) -> sqlx::Result<bool> {
    Ok(sqlx::query("DELETE FROM blocks WHERE target = ?")
        .bind(target)
        .execute(db)
        .await?
        .rows_affected()
        > 0)
}

pub async fn all(db: impl SqliteExecutor<'_>) -> sqlx::Result<Vec<BlockRow>> {
    sqlx::query_as("SELECT * FROM blocks ORDER BY kind, target")
        .fetch_all(db)
        .await
}

/// Which of `targets` are blocked.
pub async fn which_of(
    db: impl SqliteExecutor<'_>,
    targets: &[String],
) -> sqlx::Result<Vec<String>> {
    let json = serde_json::to_string(targets).unwrap_or_else(|_| "[]".into());
    sqlx::query_scalar("SELECT target FROM blocks WHERE target IN (SELECT value FROM json_each(?))")
        .bind(json)
        .fetch_all(db)
        .await
}
