//! `status_events` (migration 0028): the streaming API's `update`, `status.update` and
//! `delete` of statuses, written by triggers in the changing transaction, read by each
//! server's poller above the last id it saw.

use super::{Executor, Result};
use crate::domain::Handle;

/// One change of a status, as the trigger recorded it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct StatusEventRow {
    pub id: i64,
    /// `update`, `status.update` or `delete`.
    pub kind: String,
    pub post_id: Option<i64>,
    pub remote_id: Option<i64>,
    pub author: Option<Handle>,
    pub actor_id: Option<String>,
    pub visibility: String,
    #[sqlx(rename = "tags_json", try_from = "super::types::Json<Vec<String>>")]
    pub tags: Vec<String>,
}

pub async fn last_id(db: impl Executor<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM status_events")
        .fetch_one(db.inner())
        .await?;
    Ok(id)
}

/// Events above `after`, oldest first.
pub async fn after(db: impl Executor<'_>, after: i64, limit: i64) -> Result<Vec<StatusEventRow>> {
    sqlx::query_as(
        "SELECT id, kind, post_id, remote_id, author, actor_id, visibility, tags_json
         FROM status_events WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Drops events written before `before` and all but the `keep` newest.
pub async fn prune(db: impl Executor<'_>, before: i64, keep: i64) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM status_events
         WHERE at < $1 OR id <= (SELECT COALESCE(MAX(id), 0) FROM status_events) - $2",
    )
    .bind(before)
    .bind(keep)
    .execute(db.inner())
    .await?
    .rows_affected())
}

/// Whether `actor_id`'s statuses are in `author`'s home: followed (accepted) and not
/// muted — the conditions of `timeline::home_remote`.
pub async fn in_home(db: impl Executor<'_>, author: &Handle, actor_id: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM following WHERE author = $1 AND actor_id = $2 AND state = 'accepted'
            AND NOT EXISTS (SELECT 1 FROM mutes WHERE author = $1 AND actor_id = $2)",
    )
    .bind(author)
    .bind(actor_id)
    .fetch_optional(db.inner())
    .await?;
    Ok(found.is_some())
}
