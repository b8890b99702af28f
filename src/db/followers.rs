use super::{Executor, Result};
use crate::domain::Handle;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FollowerRow {
    pub author: Handle,
    pub actor_id: String,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    /// Where activities go: the shared inbox if any, else the personal one.
    pub delivery_inbox: String,
    pub delivery_host: String,
    pub follow_id: String,
    pub created_at: i64,
}

/// Records a follow; a repeated Follow refreshes the inboxes and the Follow id.
pub async fn upsert(db: impl Executor<'_>, f: &FollowerRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO followers (author, actor_id, inbox, shared_inbox, delivery_inbox, delivery_host,
            follow_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT(author, actor_id) DO UPDATE SET inbox = excluded.inbox,
            shared_inbox = excluded.shared_inbox, delivery_inbox = excluded.delivery_inbox,
            delivery_host = excluded.delivery_host, follow_id = excluded.follow_id",
    )
    .bind(&f.author)
    .bind(&f.actor_id)
    .bind(&f.inbox)
    .bind(&f.shared_inbox)
    .bind(&f.delivery_inbox)
    .bind(&f.delivery_host)
    .bind(&f.follow_id)
    .bind(f.created_at)
    .execute(db.inner())
    .await?;
    Ok(())
}

pub async fn remove(db: impl Executor<'_>, author: &Handle, actor_id: &str) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM followers WHERE author = $1 AND actor_id = $2")
            .bind(author)
            .bind(actor_id)
            .execute(db.inner())
            .await?
            .rows_affected(),
    )
}

/// Whether `actor_id` follows `author`.
pub async fn is_follower(db: impl Executor<'_>, author: &Handle, actor_id: &str) -> Result<bool> {
    let found: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM followers WHERE author = $1 AND actor_id = $2")
            .bind(author)
            .bind(actor_id)
            .fetch_optional(db.inner())
            .await?;
    Ok(found.is_some())
}

/// Removes an actor's follows of every author (the actor was deleted).
pub async fn remove_actor(db: impl Executor<'_>, actor_id: &str) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM followers WHERE actor_id = $1")
        .bind(actor_id)
        .execute(db.inner())
        .await?
        .rows_affected())
}

pub async fn count(db: impl Executor<'_>, author: &Handle) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM followers WHERE author = $1")
        .bind(author)
        .fetch_one(db.inner())
        .await
        .map_err(Into::into)
}

/// One page of followers' actor ids, oldest first (stable while new ones arrive).
pub async fn page(
    db: impl Executor<'_>,
    author: &Handle,
    limit: i64,
    offset: i64,
) -> Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT actor_id FROM followers WHERE author = $1
         ORDER BY created_at, actor_id LIMIT $2 OFFSET $3",
    )
    .bind(author)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Removes every follower whose delivery inbox is gone (it answered 410).
pub async fn remove_by_delivery_inbox(db: impl Executor<'_>, inbox: &str) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM followers WHERE delivery_inbox = $1 OR inbox = $2")
            .bind(inbox)
            .bind(inbox)
            .execute(db.inner())
            .await?
            .rows_affected(),
    )
}

/// Removes the follow an Undo names by the Follow's id.
pub async fn remove_by_follow_id(
    db: impl Executor<'_>,
    actor_id: &str,
    follow_id: &str,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM followers WHERE actor_id = $1 AND follow_id = $2")
            .bind(actor_id)
            .bind(follow_id)
            .execute(db.inner())
            .await?
            .rows_affected(),
    )
}

/// A follower as exported: the account's username when we know it (from its actor).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ExportedFollower {
    pub actor_id: String,
    pub username: Option<String>,
    pub inbox: String,
    pub created_at: i64,
}

/// Every follower of `author`, oldest first.
pub async fn export(db: impl Executor<'_>, author: &Handle) -> Result<Vec<ExportedFollower>> {
    sqlx::query_as(
        "SELECT f.actor_id, r.username, f.inbox, f.created_at
         FROM followers f LEFT JOIN remote_actors r ON r.id = f.actor_id
         WHERE f.author = $1 ORDER BY f.created_at, f.actor_id",
    )
    .bind(author)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// An author's followers whose actor id is on `origin` (`scheme://host[:port]`): the
/// id is `origin` or starts with `origin/` (FEP-8fcf, as Mastodon selects them). Read
/// as a range of the primary key.
pub async fn ids_on_origin(
    db: impl Executor<'_>,
    author: &Handle,
    origin: &str,
) -> Result<Vec<String>> {
    // Every id starting with `origin/` sorts in [`origin/`, `origin0`): '0' follows '/'.
    sqlx::query_scalar(
        "SELECT actor_id FROM followers
         WHERE author = $1 AND (actor_id = $2 OR (actor_id >= $3 AND actor_id < $4))
         ORDER BY actor_id",
    )
    .bind(author)
    .bind(origin)
    .bind(format!("{origin}/"))
    .bind(format!("{origin}0"))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// The shared inboxes `author`'s followers are delivered to (FEP-8fcf's header goes
/// only to these).
pub async fn shared_inboxes(db: impl Executor<'_>, author: &Handle) -> Result<Vec<String>> {
    sqlx::query_scalar(
        "SELECT DISTINCT delivery_inbox FROM followers
         WHERE author = $1 AND shared_inbox = delivery_inbox",
    )
    .bind(author)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}
