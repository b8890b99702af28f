//! `replies`: answers from the fediverse to our posts, threaded.

use super::{Executor, Result};
use crate::domain::ReplyState;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyRow {
    pub id: i64,
    pub ap_id: String,
    pub post_id: i64,
    pub in_reply_to: String,
    pub parent_id: Option<i64>,
    pub depth: i64,
    pub actor_id: String,
    pub content_html: String,
    pub summary: Option<String>,
    pub url: Option<String>,
    pub published_at: i64,
    pub updated_at: Option<i64>,
    pub received_at: i64,
    pub state: ReplyState,
    /// The author's note this row shows in the thread (the author's own reply).
    pub note_id: Option<i64>,
}

/// A reply with what is shown of its author.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShownReply {
    #[sqlx(flatten)]
    pub reply: ReplyRow,
    pub actor_name: Option<String>,
    pub actor_username: Option<String>,
    /// The handle WebFinger confirmed (`user@domain`), if it did.
    pub actor_handle: Option<String>,
    pub actor_icon: Option<String>,
    pub actor_url: Option<String>,
    /// When the actor's account was made (ms), where the query reads it.
    #[sqlx(default)]
    pub actor_created_at: Option<i64>,
}

/// What a reply says; the thread position is decided by the caller.
#[derive(Debug, Clone)]
pub struct NewReply<'a> {
    pub ap_id: &'a str,
    pub post_id: i64,
    pub in_reply_to: &'a str,
    pub parent_id: Option<i64>,
    pub depth: i64,
    pub actor_id: &'a str,
    pub content_html: &'a str,
    pub summary: Option<&'a str>,
    pub url: Option<&'a str>,
    pub published_at: i64,
    pub state: ReplyState,
}

/// Stores a reply; a reply already stored (same id) is left as it is.
pub async fn insert(db: impl Executor<'_>, r: &NewReply<'_>, now: i64) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO replies (ap_id, post_id, in_reply_to, parent_id, depth, actor_id, content_html,
            summary, url, published_at, received_at, state)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT(ap_id) DO NOTHING",
    )
    .bind(r.ap_id)
    .bind(r.post_id)
    .bind(r.in_reply_to)
    .bind(r.parent_id)
    .bind(r.depth)
    .bind(r.actor_id)
    .bind(r.content_html)
    .bind(r.summary)
    .bind(r.url)
    .bind(r.published_at)
    .bind(now)
    .bind(r.state)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

pub async fn by_ap_id(db: impl Executor<'_>, ap_id: &str) -> Result<Option<ReplyRow>> {
    sqlx::query_as("SELECT * FROM replies WHERE ap_id = $1")
        .bind(ap_id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn by_id(db: impl Executor<'_>, id: i64) -> Result<Option<ReplyRow>> {
    sqlx::query_as("SELECT * FROM replies WHERE id = $1")
        .bind(id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// An edit by the reply's own author; `false` if there is no such reply of theirs.
pub async fn update_content(
    db: impl Executor<'_>,
    ap_id: &str,
    actor_id: &str,
    content_html: &str,
    summary: Option<&str>,
    updated_at: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE replies SET content_html = $1, summary = $2, updated_at = $3
         WHERE ap_id = $4 AND actor_id = $5",
    )
    .bind(content_html)
    .bind(summary)
    .bind(updated_at)
    .bind(ap_id)
    .bind(actor_id)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

/// Removes a reply by its own author; its answers move up to the post.
pub async fn delete_by_author(db: impl Executor<'_>, ap_id: &str, actor_id: &str) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM replies WHERE ap_id = $1 AND actor_id = $2")
            .bind(ap_id)
            .bind(actor_id)
            .execute(db.inner())
            .await?
            .rows_affected()
            > 0,
    )
}

pub async fn delete(db: impl Executor<'_>, id: i64) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM replies WHERE id = $1")
        .bind(id)
        .execute(db.inner())
        .await?
        .rows_affected()
        > 0)
}

pub async fn delete_of_actor(db: impl Executor<'_>, actor_id: &str) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM replies WHERE actor_id = $1")
        .bind(actor_id)
        .execute(db.inner())
        .await?
        .rows_affected())
}

pub async fn set_state(db: impl Executor<'_>, id: i64, state: ReplyState) -> Result<bool> {
    Ok(sqlx::query("UPDATE replies SET state = $1 WHERE id = $2")
        .bind(state)
        .bind(id)
        .execute(db.inner())
        .await?
        .rows_affected()
        > 0)
}

// A constant prefix: the composed queries take no outside text.
const SHOWN: &str =
    "SELECT r.*, a.name AS actor_name, a.username AS actor_username, a.handle AS actor_handle,
        a.icon_url AS actor_icon, a.profile_url AS actor_url, a.created_at AS actor_created_at
     FROM replies r LEFT JOIN remote_actors a ON a.id = r.actor_id";

/// A reply and its level in the thread (0: an answer to the post).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ThreadedReply {
    #[sqlx(flatten)]
    pub shown: ShownReply,
    pub level: i64,
}

/// One page of a post's visible replies in thread order: each reply followed by its
/// answers, oldest first among siblings; a reply whose parent is not shown (held,
/// deleted) starts a thread of its own. The order is worked out on the replies' ids,
/// parents and dates alone; only the page's rows are read whole.
pub async fn thread_page(
    db: impl Executor<'_>,
    post_id: i64,
    limit: i64,
    offset: i64,
) -> Result<Vec<ThreadedReply>> {
    // `path` sorts depth-first: each step is the fixed-width (date, id) of a reply.
    // Stored depths stop at 64; the level bound also ends the walk on a cycle.
    // PostgreSQL has no printf, and its paths must compare byte by byte (as SQLite's
    // do), not in a language collation that skips the punctuation.
    let (root, step, path) = match db.backend() {
        super::Backend::Sqlite => (
            "printf('%020d.%020d', published_at, id)",
            "printf('%020d.%020d', s.published_at, s.id)",
            "path",
        ),
        super::Backend::Postgres => (
            "lpad(CAST(published_at AS TEXT), 20, '0') || '.' || lpad(CAST(id AS TEXT), 20, '0')",
            "lpad(CAST(s.published_at AS TEXT), 20, '0') || '.' || lpad(CAST(s.id AS TEXT), 20, '0')",
            "path COLLATE \"C\"",
        ),
    };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "WITH RECURSIVE
           shown(id, parent_id, published_at) AS (
             SELECT id, parent_id, published_at FROM replies
              WHERE post_id = $1 AND state = 'visible'),
           thread(id, level, path) AS (
             SELECT id, 0, {root} FROM shown
              WHERE parent_id IS NULL OR parent_id NOT IN (SELECT id FROM shown)
             UNION ALL
             SELECT s.id, t.level + 1, t.path || '/' || {step}
               FROM thread t JOIN shown s ON s.parent_id = t.id
              WHERE t.level < 64),
           page(id, level, path) AS (
             SELECT id, level, path FROM thread ORDER BY {path} LIMIT $2 OFFSET $3)
         SELECT r.*, COALESCE(a.name, au.name) AS actor_name,
                COALESCE(a.username, np.author) AS actor_username, a.handle AS actor_handle,
                a.icon_url AS actor_icon, a.profile_url AS actor_url,
                a.created_at AS actor_created_at, p.level AS level
           FROM page p JOIN replies r ON r.id = p.id
           LEFT JOIN remote_actors a ON a.id = r.actor_id
           -- An author's own reply (a note from an app) shows the author's name.
           LEFT JOIN posts np ON np.id = r.note_id
           LEFT JOIN authors au ON au.handle = np.author
          ORDER BY p.{path}",
    )))
    .bind(post_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Replies for moderation, newest first; `state` filters.
pub async fn list(
    db: impl Executor<'_>,
    state: Option<ReplyState>,
    limit: i64,
) -> Result<Vec<ShownReply>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SHOWN} WHERE ($1 IS NULL OR r.state = $1) ORDER BY r.received_at DESC, r.id DESC LIMIT $2"
    )))
    .bind(state)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Distinct authors of replies, reactions and follows: what a domain block may purge.
pub async fn known_actor_ids(db: impl Executor<'_>) -> Result<Vec<url::Url>> {
    sqlx::query(
        "SELECT actor_id FROM replies UNION SELECT actor_id FROM reactions
         UNION SELECT actor_id FROM followers",
    )
    .try_map(|row: sqlx::any::AnyRow| super::types::url(&row, "actor_id"))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn count_visible(db: impl Executor<'_>, post_id: i64) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM replies WHERE post_id = $1 AND state = 'visible'")
        .bind(post_id)
        .fetch_one(db.inner())
        .await
        .map_err(Into::into)
}
