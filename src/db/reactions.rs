//! `reactions`: likes (some with an emoji) and boosts (Announce) of our posts.

use super::{Executor, Result};
use crate::domain::{Emoji, ReactionKind};

/// What a reaction is: its kind, the activity's id, and a like's emoji if any.
#[derive(Debug, Clone, Copy)]
pub struct NewReaction<'a> {
    pub kind: ReactionKind,
    pub ap_id: Option<&'a str>,
    pub emoji: Option<&'a Emoji>,
}

/// Records a reaction; repeating one changes nothing but its id. An actor has one like
/// of a post: a later emoji replaces the earlier one, a plain like keeps it.
pub async fn upsert(
    db: impl Executor<'_>,
    r: NewReaction<'_>,
    post_id: i64,
    actor_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO reactions (kind, ap_id, post_id, actor_id, created_at, emoji)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT(kind, post_id, actor_id) DO UPDATE
            SET ap_id = excluded.ap_id, emoji = COALESCE(excluded.emoji, reactions.emoji)",
    )
    .bind(r.kind)
    .bind(r.ap_id)
    .bind(post_id)
    .bind(actor_id)
    .bind(now)
    .bind(r.emoji)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Undo by the reaction's activity id, only by the actor who made it.
pub async fn remove_by_ap_id(
    db: impl Executor<'_>,
    kind: ReactionKind,
    ap_id: &str,
    actor_id: &str,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM reactions WHERE kind = $1 AND ap_id = $2 AND actor_id = $3")
            .bind(kind)
            .bind(ap_id)
            .bind(actor_id)
            .execute(db.inner())
            .await?
            .rows_affected(),
    )
}

/// Undo by what was reacted to.
pub async fn remove(
    db: impl Executor<'_>,
    kind: ReactionKind,
    post_id: i64,
    actor_id: &str,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM reactions WHERE kind = $1 AND post_id = $2 AND actor_id = $3")
            .bind(kind)
            .bind(post_id)
            .bind(actor_id)
            .execute(db.inner())
            .await?
            .rows_affected(),
    )
}

/// Undo of an emoji reaction by what it was: only while that emoji is still the
/// actor's reaction (a later one replaced it otherwise).
pub async fn remove_emoji(
    db: impl Executor<'_>,
    post_id: i64,
    actor_id: &str,
    emoji: &Emoji,
) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM reactions WHERE kind = 'like' AND post_id = $1 AND actor_id = $2 AND emoji = $3",
    )
    .bind(post_id)
    .bind(actor_id)
    .bind(emoji)
    .execute(db.inner())
    .await?
    .rows_affected())
}

/// The emoji of a post's likes with how many chose each, most chosen first; at most
/// `limit` of them.
pub async fn emoji_counts(
    db: impl Executor<'_>,
    post_id: i64,
    limit: i64,
) -> Result<Vec<(Emoji, i64)>> {
    sqlx::query_as(
        "SELECT emoji, COUNT(*) AS n FROM reactions
          WHERE kind = 'like' AND post_id = $1 AND emoji IS NOT NULL
          GROUP BY emoji ORDER BY n DESC, MIN(created_at), emoji LIMIT $2",
    )
    .bind(post_id)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn delete_of_actor(db: impl Executor<'_>, actor_id: &str) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM reactions WHERE actor_id = $1")
        .bind(actor_id)
        .execute(db.inner())
        .await?
        .rows_affected())
}

/// Who reacted, newest first, with what is shown of them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Reactor {
    pub actor_id: String,
    pub created_at: i64,
    /// A like's emoji.
    pub emoji: Option<Emoji>,
    pub name: Option<String>,
    pub username: Option<String>,
    /// The handle WebFinger confirmed (`user@domain`), if it did.
    pub handle: Option<String>,
    pub icon_url: Option<String>,
    pub profile_url: Option<String>,
    /// When the actor's account was made (ms).
    #[sqlx(default)]
    pub actor_created_at: Option<i64>,
}

pub async fn of_post(
    db: impl Executor<'_>,
    kind: ReactionKind,
    post_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<Reactor>> {
    sqlx::query_as(
        "SELECT r.actor_id, r.created_at, r.emoji, a.name, a.username, a.handle, a.icon_url, a.profile_url,
            a.created_at AS actor_created_at
         FROM reactions r LEFT JOIN remote_actors a ON a.id = r.actor_id
         WHERE r.kind = $1 AND r.post_id = $2 ORDER BY r.created_at DESC, r.id DESC LIMIT $3 OFFSET $4",
    )
    .bind(kind)
    .bind(post_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn count(db: impl Executor<'_>, kind: ReactionKind, post_id: i64) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM reactions WHERE kind = $1 AND post_id = $2")
        .bind(kind)
        .bind(post_id)
        .fetch_one(db.inner())
        .await
        .map_err(Into::into)
}
