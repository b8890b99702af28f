//! `remote_statuses` (statuses of followed accounts, and ones found by search) and the
//! home timeline's two halves: the author's own posts and those statuses.

use super::types::Json;
use serde::{Deserialize, Serialize};

use super::{Executor, Result, posts::PostRow};
use crate::domain::Handle;

/// A media attachment of a remote status: links only, never fetched.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RemoteMedia {
    pub url: String,
    pub media_type: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RemoteStatusRow {
    pub id: i64,
    pub ap_id: String,
    pub actor_id: String,
    pub url: Option<String>,
    /// Sanitised when stored.
    pub content_html: String,
    pub summary: Option<String>,
    /// `public`, `unlisted` or `private`.
    pub visibility: String,
    pub in_reply_to: Option<String>,
    #[sqlx(
        rename = "attachments_json",
        try_from = "super::types::Json<Vec<RemoteMedia>>"
    )]
    pub attachments: Vec<RemoteMedia>,
    /// Hashtag names, without `#`.
    #[sqlx(rename = "tags_json", try_from = "super::types::Json<Vec<String>>")]
    pub tags: Vec<String>,
    pub published_at: i64,
    pub received_at: i64,
    pub edited_at: Option<i64>,
}

/// What is stored of a status (a new one, or the edit of a stored one).
#[derive(Debug, Clone)]
pub struct NewRemoteStatus<'a> {
    pub ap_id: &'a str,
    pub actor_id: &'a str,
    pub url: Option<&'a str>,
    pub content_html: &'a str,
    pub summary: Option<&'a str>,
    pub visibility: &'a str,
    pub in_reply_to: Option<&'a str>,
    pub attachments: &'a [RemoteMedia],
    pub tags: &'a [String],
    pub published_at: i64,
}

/// Stores a status (a repeated one is left as it is); returns its row id.
pub async fn insert(db: impl Executor<'_>, s: &NewRemoteStatus<'_>, now: i64) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO remote_statuses (ap_id, actor_id, url, content_html, summary, visibility,
            in_reply_to, attachments_json, tags_json, published_at, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT(ap_id) DO UPDATE SET ap_id = excluded.ap_id
         RETURNING id",
    )
    .bind(s.ap_id)
    .bind(s.actor_id)
    .bind(s.url)
    .bind(s.content_html)
    .bind(s.summary)
    .bind(s.visibility)
    .bind(s.in_reply_to)
    .bind(Json(s.attachments))
    .bind(Json(s.tags))
    .bind(s.published_at)
    .bind(now)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// Edits a stored status, if `actor_id` wrote it.
pub async fn update(db: impl Executor<'_>, s: &NewRemoteStatus<'_>, now: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE remote_statuses SET content_html = $1, summary = $2, visibility = $3,
            attachments_json = $4, tags_json = $5, edited_at = $6
         WHERE ap_id = $7 AND actor_id = $8",
    )
    .bind(s.content_html)
    .bind(s.summary)
    .bind(s.visibility)
    .bind(Json(s.attachments))
    .bind(Json(s.tags))
    .bind(now)
    .bind(s.ap_id)
    .bind(s.actor_id)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

/// Removes a status, if `actor_id` wrote it.
pub async fn delete(db: impl Executor<'_>, ap_id: &str, actor_id: &str) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM remote_statuses WHERE ap_id = $1 AND actor_id = $2")
            .bind(ap_id)
            .bind(actor_id)
            .execute(db.inner())
            .await?
            .rows_affected()
            > 0,
    )
}

pub async fn get(db: impl Executor<'_>, id: i64) -> Result<Option<RemoteStatusRow>> {
    sqlx::query_as("SELECT * FROM remote_statuses WHERE id = $1")
        .bind(id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn by_ap_id(db: impl Executor<'_>, ap_id: &str) -> Result<Option<RemoteStatusRow>> {
    sqlx::query_as("SELECT * FROM remote_statuses WHERE ap_id = $1")
        .bind(ap_id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// Removes statuses received before `before`, then all but the `keep` newest. They
/// are marked `expiring` first, so leaving by age streams no `delete` (migration
/// 0028); a mark left by a failed run is deleted by the next.
pub async fn prune(db: &super::Db, before: i64, keep: i64) -> Result<u64> {
    sqlx::query(
        "UPDATE remote_statuses SET expiring = 1 WHERE received_at < $1 OR id IN (
             SELECT id FROM remote_statuses ORDER BY id DESC LIMIT 9223372036854775807 OFFSET $2)",
    )
    .bind(before)
    .bind(keep)
    .execute(db.write().inner())
    .await?;
    Ok(
        sqlx::query("DELETE FROM remote_statuses WHERE expiring = 1")
            .execute(db.write().inner())
            .await?
            .rows_affected(),
    )
}

/// A position in the home timeline: (published_at, 0 for our posts and 1 for remote
/// statuses, row id). Items are ordered by it, newest first.
pub type Key = (i64, i64, i64);

/// Which part of the home timeline to read: strictly below `below`, strictly above
/// `above`; `oldest_first` reads up from `above` (Mastodon's `min_id`).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub below: Option<Key>,
    pub above: Option<Key>,
    pub oldest_first: bool,
    pub limit: i64,
}

/// Only ever one of two constants: the SQL stays audited.
fn order(w: &Window) -> &'static str {
    if w.oldest_first { "ASC" } else { "DESC" }
}

/// Statuses of the accounts `author` follows (accepted) and has not muted.
pub async fn home_remote(
    db: impl Executor<'_>,
    author: &Handle,
    w: &Window,
) -> Result<Vec<RemoteStatusRow>> {
    let (b, a) = (w.below.unwrap_or_default(), w.above.unwrap_or_default());
    let sql = format!(
        "SELECT s.* FROM remote_statuses s
         WHERE s.actor_id IN (SELECT actor_id FROM following WHERE author = $1 AND state = 'accepted')
           AND s.actor_id NOT IN (SELECT actor_id FROM mutes WHERE author = $1)
           AND ($2 = 0 OR (s.published_at, 1, s.id) < ($3, $4, $5))
           AND ($6 = 0 OR (s.published_at, 1, s.id) > ($7, $8, $9))
         ORDER BY s.published_at {o}, s.id {o} LIMIT $10",
        o = order(w)
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(author)
        .bind(i64::from(w.below.is_some()))
        .bind(b.0)
        .bind(b.1)
        .bind(b.2)
        .bind(i64::from(w.above.is_some()))
        .bind(a.0)
        .bind(a.1)
        .bind(a.2)
        .bind(w.limit)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// The author's own live posts in the same window.
pub async fn home_posts(
    db: impl Executor<'_>,
    author: &Handle,
    w: &Window,
) -> Result<Vec<PostRow>> {
    let (b, a) = (w.below.unwrap_or_default(), w.above.unwrap_or_default());
    let sql = format!(
        "SELECT * FROM posts
         WHERE author = $1 AND deleted_at IS NULL
           AND ($2 = 0 OR (published_at, 0, id) < ($3, $4, $5))
           AND ($6 = 0 OR (published_at, 0, id) > ($7, $8, $9))
         ORDER BY published_at {o}, id {o} LIMIT $10",
        o = order(w)
    );
    sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(author)
        .bind(i64::from(w.below.is_some()))
        .bind(b.0)
        .bind(b.1)
        .bind(b.2)
        .bind(i64::from(w.above.is_some()))
        .bind(a.0)
        .bind(a.1)
        .bind(a.2)
        .bind(w.limit)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}
