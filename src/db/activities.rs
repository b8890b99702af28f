use super::{Executor, Result};
use crate::domain::Handle;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub id: i64,
    pub ap_id: String,
    pub author: Handle,
    pub kind: String,
    pub body: String,
    pub created_at: i64,
}

/// Stores an outgoing activity; returns its row id. The ap id is unique, so storing
/// the same activity twice is an error the caller avoids by deriving ids deterministically.
pub async fn insert(
    db: impl Executor<'_>,
    ap_id: &str,
    author: &Handle,
    kind: &str,
    body: &str,
    now: i64,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO activities (ap_id, author, kind, body, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(ap_id)
    .bind(author)
    .bind(kind)
    .bind(body)
    .bind(now)
    .fetch_one(db.inner())
    .await
        .map_err(Into::into)
}

pub async fn by_ap_id(db: impl Executor<'_>, ap_id: &str) -> Result<Option<ActivityRow>> {
    sqlx::query_as("SELECT * FROM activities WHERE ap_id = $1")
        .bind(ap_id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn by_id(db: impl Executor<'_>, id: i64) -> Result<Option<ActivityRow>> {
    sqlx::query_as("SELECT * FROM activities WHERE id = $1")
        .bind(id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}
