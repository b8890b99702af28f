//! `following` (remote accounts our authors follow: an outgoing Follow, pending until
//! accepted) and `mutes` (accounts an author hides from their notifications and home).

use super::{Executor, Result};
use crate::domain::Handle;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowingRow {
    pub author: Handle,
    pub actor_id: String,
    /// `pending` or `accepted`.
    pub state: String,
    pub follow_id: String,
    pub created_at: i64,
}

impl FollowingRow {
    pub fn accepted(&self) -> bool {
        self.state == "accepted"
    }
}

/// Records a new pending follow; `false` if the author already follows (or asked to
/// follow) the actor, which is left as it is.
pub async fn insert(db: impl Executor<'_>, row: &FollowingRow) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO following (author, actor_id, state, follow_id, created_at)
         VALUES ($1, $2, 'pending', $3, $4) ON CONFLICT(author, actor_id) DO NOTHING",
    )
    .bind(&row.author)
    .bind(&row.actor_id)
    .bind(&row.follow_id)
    .bind(row.created_at)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

pub async fn get(
    db: impl Executor<'_>,
    author: &Handle,
    actor_id: &str,
) -> Result<Option<FollowingRow>> {
    sqlx::query_as("SELECT * FROM following WHERE author = $1 AND actor_id = $2")
        .bind(author)
        .bind(actor_id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// The follow our Follow `follow_id` made.
pub async fn by_follow_id(db: impl Executor<'_>, follow_id: &str) -> Result<Option<FollowingRow>> {
    sqlx::query_as("SELECT * FROM following WHERE follow_id = $1")
        .bind(follow_id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn accept(db: impl Executor<'_>, follow_id: &str) -> Result<bool> {
    Ok(
        sqlx::query("UPDATE following SET state = 'accepted' WHERE follow_id = $1")
            .bind(follow_id)
            .execute(db.inner())
            .await?
            .rows_affected()
            > 0,
    )
}

pub async fn remove(db: impl Executor<'_>, author: &Handle, actor_id: &str) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM following WHERE author = $1 AND actor_id = $2")
            .bind(author)
            .bind(actor_id)
            .execute(db.inner())
            .await?
            .rows_affected()
            > 0,
    )
}

pub async fn remove_by_follow_id(db: impl Executor<'_>, follow_id: &str) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM following WHERE follow_id = $1")
        .bind(follow_id)
        .execute(db.inner())
        .await?
        .rows_affected()
        > 0)
}

/// How many accounts the author follows or asked to follow.
pub async fn count(db: impl Executor<'_>, author: &Handle) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM following WHERE author = $1")
        .bind(author)
        .fetch_one(db.inner())
        .await
        .map_err(Into::into)
}

/// How many accounts follow requests of the author accepted.
pub async fn accepted_count(db: impl Executor<'_>, author: &Handle) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM following WHERE author = $1 AND state = 'accepted'")
        .bind(author)
        .fetch_one(db.inner())
        .await
        .map_err(Into::into)
}

/// Whether any author follows `actor_id` (accepted): its statuses are kept for home.
pub async fn anyone_follows(db: impl Executor<'_>, actor_id: &str) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM following WHERE actor_id = $1 AND state = 'accepted' LIMIT 1",
    )
    .bind(actor_id)
    .fetch_optional(db.inner())
    .await?;
    Ok(found.is_some())
}

/// A page of the author's accepted follows, newest first, as (cursor, actor id):
/// the cursor is the row's number, below `max_id` when given.
pub async fn page(
    db: impl Executor<'_>,
    author: &Handle,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT rowid, actor_id FROM following WHERE author = $1 AND state = 'accepted'
            AND ($2 IS NULL OR rowid < $2)
         ORDER BY rowid DESC LIMIT $3",
    )
    .bind(author)
    .bind(max_id)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// A page of the author's followers, newest first, as (cursor, actor id).
pub async fn followers_page(
    db: impl Executor<'_>,
    author: &Handle,
    max_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(i64, String)>> {
    sqlx::query_as(
        "SELECT rowid, actor_id FROM followers WHERE author = $1
            AND ($2 IS NULL OR rowid < $2)
         ORDER BY rowid DESC LIMIT $3",
    )
    .bind(author)
    .bind(max_id)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn mute(db: impl Executor<'_>, author: &Handle, actor_id: &str, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO mutes (author, actor_id, created_at) VALUES ($1, $2, $3)
         ON CONFLICT(author, actor_id) DO NOTHING",
    )
    .bind(author)
    .bind(actor_id)
    .bind(now)
    .execute(db.inner())
    .await?;
    Ok(())
}

pub async fn unmute(db: impl Executor<'_>, author: &Handle, actor_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM mutes WHERE author = $1 AND actor_id = $2")
        .bind(author)
        .bind(actor_id)
        .execute(db.inner())
        .await?;
    Ok(())
}

pub async fn mute_count(db: impl Executor<'_>, author: &Handle) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM mutes WHERE author = $1")
        .bind(author)
        .fetch_one(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn is_muted(db: impl Executor<'_>, author: &Handle, actor_id: &str) -> Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM mutes WHERE author = $1 AND actor_id = $2")
            .bind(author)
            .bind(actor_id)
            .fetch_optional(db.inner())
            .await?;
    Ok(found.is_some())
}
