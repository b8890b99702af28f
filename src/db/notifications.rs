//! The client API's notifications and markers (migration 0020). Notifications are
//! written by triggers on replies, reactions, quotes and followers; here they are
//! read, dismissed and pruned.

use super::{Executor, Result};
use crate::domain::Handle;

/// A notification with what its entities show: the remote actor, our post, and the
/// reply or quote when there is one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub kind: String,
    pub created_at: i64,
    pub actor_id: String,
    pub actor_username: Option<String>,
    pub actor_name: Option<String>,
    pub actor_icon: Option<String>,
    pub actor_url: Option<String>,
    pub actor_handle: Option<String>,
    #[sqlx(default)]
    pub actor_created_at: Option<i64>,
    pub post_id: Option<i64>,
    pub post_slug: Option<String>,
    pub post_title: Option<String>,
    pub post_html: Option<String>,
    pub post_published_at: Option<i64>,
    pub post_lang: Option<String>,
    pub reply_id: Option<i64>,
    pub reply_ap_id: Option<String>,
    pub reply_html: Option<String>,
    pub reply_summary: Option<String>,
    pub reply_url: Option<String>,
    pub reply_published_at: Option<i64>,
    pub quote_id: Option<i64>,
    pub quote_ap_id: Option<String>,
    pub quote_html: Option<String>,
    pub quote_url: Option<String>,
    /// Its group (migration 0025); None for the types that are not grouped.
    pub group_key: Option<String>,
    /// A direct message (migration 0027): a `mention` with no reply.
    pub direct_id: Option<i64>,
}

/// Which notifications a page holds: ids as Mastodon's `max_id`/`since_id`/`min_id`,
/// `types` as JSON arrays of kinds (NULL: no filter).
pub struct Page<'a> {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub types_json: Option<&'a str>,
    pub exclude_json: Option<&'a str>,
    pub limit: i64,
}

/// The columns of [`NotificationRow`] and their joins.
macro_rules! select {
    () => {
        "SELECT n.id, n.kind, n.created_at, n.actor_id,
        a.username AS actor_username, a.name AS actor_name, a.icon_url AS actor_icon,
        a.profile_url AS actor_url, a.handle AS actor_handle, a.created_at AS actor_created_at,
        n.post_id, p.slug AS post_slug, p.title AS post_title, p.content_html AS post_html,
        p.published_at AS post_published_at, p.lang AS post_lang,
        n.reply_id, r.ap_id AS reply_ap_id, r.content_html AS reply_html,
        r.summary AS reply_summary, r.url AS reply_url, r.published_at AS reply_published_at,
        n.quote_id, q.quote_ap_id, q.content_html AS quote_html, q.url AS quote_url,
        n.group_key,
        n.direct_id
     FROM notifications n
     LEFT JOIN remote_actors a ON a.id = n.actor_id
     LEFT JOIN posts p ON p.id = n.post_id AND p.deleted_at IS NULL
     LEFT JOIN replies r ON r.id = n.reply_id
     LEFT JOIN quotes q ON q.id = n.quote_id "
    };
}

/// The page's conditions, before its order.
macro_rules! page_where {
    () => {
        "WHERE n.author = $1
           AND ($2 IS NULL OR n.id < $2) AND ($3 IS NULL OR n.id > $3) AND ($4 IS NULL OR n.id > $4)
           AND ($5 IS NULL OR n.kind IN (SELECT value FROM json_each($5)))
           AND ($6 IS NULL OR n.kind NOT IN (SELECT value FROM json_each($6)))
           AND n.actor_id NOT IN (SELECT actor_id FROM mutes WHERE author = $1) "
    };
}

/// One page of an author's notifications, newest first. With `min_id` the page is the
/// oldest ones above it (Mastodon's "prev"), still returned newest first.
pub async fn page(
    db: impl Executor<'_>,
    author: &Handle,
    p: &Page<'_>,
) -> Result<Vec<NotificationRow>> {
    let sql = match p.min_id {
        Some(_) => concat!(select!(), page_where!(), "ORDER BY n.id ASC LIMIT $7"),
        None => concat!(select!(), page_where!(), "ORDER BY n.id DESC LIMIT $7"),
    };
    let mut rows: Vec<NotificationRow> = sqlx::query_as(sql)
        .bind(author)
        .bind(p.max_id)
        .bind(p.since_id)
        .bind(p.min_id)
        .bind(p.types_json)
        .bind(p.exclude_json)
        .bind(p.limit)
        .fetch_all(db.inner())
        .await?;
    if p.min_id.is_some() {
        rows.reverse();
    }
    Ok(rows)
}

/// One of an author's notifications.
pub async fn get(
    db: impl Executor<'_>,
    author: &Handle,
    id: i64,
) -> Result<Option<NotificationRow>> {
    sqlx::query_as(concat!(select!(), "WHERE n.author = $1 AND n.id = $2"))
        .bind(author)
        .bind(id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// Dismisses one of an author's notifications; false if there was none.
pub async fn dismiss(db: impl Executor<'_>, author: &Handle, id: i64) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM notifications WHERE author = $1 AND id = $2")
            .bind(author)
            .bind(id)
            .execute(db.inner())
            .await?
            .rows_affected()
            > 0,
    )
}

/// Dismisses all of an author's notifications.
pub async fn clear(db: impl Executor<'_>, author: &Handle) -> Result<()> {
    sqlx::query("DELETE FROM notifications WHERE author = $1")
        .bind(author)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Drops notifications older than `before` and, per author, all but the newest `keep`.
pub async fn prune(db: impl Executor<'_>, before: i64, keep: i64) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM notifications WHERE created_at < $1 OR id IN (
            SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY author ORDER BY id DESC) AS n
                              FROM notifications) AS ranked WHERE n > $2)",
    )
    .bind(before)
    .bind(keep)
    .execute(db.inner())
    .await?
    .rows_affected())
}

/// A marker: (last_read_id, version, updated_at).
pub type MarkerRow = (String, i64, i64);

pub async fn marker(
    db: impl Executor<'_>,
    author: &Handle,
    timeline: &str,
) -> Result<Option<MarkerRow>> {
    sqlx::query_as(
        "SELECT last_read_id, version, updated_at FROM markers WHERE author = $1 AND timeline = $2",
    )
    .bind(author)
    .bind(timeline)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// Sets a marker, counting its version up.
pub async fn set_marker(
    db: impl Executor<'_>,
    author: &Handle,
    timeline: &str,
    last_read_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO markers (author, timeline, last_read_id, version, updated_at)
         VALUES ($1, $2, $3, 1, $4)
         ON CONFLICT (author, timeline) DO UPDATE SET last_read_id = excluded.last_read_id,
            version = markers.version + 1, updated_at = excluded.updated_at",
    )
    .bind(author)
    .bind(timeline)
    .bind(last_read_id)
    .bind(now)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// The newest notification id (0 when there is none): where streaming starts.
pub async fn last_id(db: impl Executor<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM notifications")
        .fetch_one(db.inner())
        .await?;
    Ok(id)
}

/// Notifications above `after`, oldest first: (id, author), for streaming.
pub async fn after(db: impl Executor<'_>, after: i64, limit: i64) -> Result<Vec<(i64, Handle)>> {
    sqlx::query_as("SELECT id, author FROM notifications WHERE id > $1 ORDER BY id LIMIT $2")
        .bind(after)
        .bind(limit)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

// ---- Grouped notifications (Mastodon 4.3's `/api/v2/notifications`) ----

/// A group's key as a page shows it: the stored key when the kind is among the
/// grouped types (`?1`, a JSON array), else the notification's own `ungrouped-{id}`.
macro_rules! shown_key {
    () => {
        "CASE WHEN n.group_key IS NOT NULL AND n.kind IN (SELECT value FROM json_each($8))
              THEN n.group_key ELSE 'ungrouped-' || n.id END"
    };
}

/// A page of groups as Mastodon walks them: from the bound on, the first `limit`
/// distinct groups, each with its first notification met (the newest walking down,
/// the oldest walking up from `min_id`). Newest first. `grouped_json`: the kinds
/// that group.
pub async fn group_page(
    db: impl Executor<'_>,
    author: &Handle,
    p: &Page<'_>,
    grouped_json: &str,
) -> Result<Vec<NotificationRow>> {
    let sql = match p.min_id {
        Some(_) => concat!(
            "WITH f AS (SELECT n.id, ",
            shown_key!(),
            " AS gk FROM notifications n ",
            page_where!(),
            "), g AS (SELECT MIN(id) AS id FROM f GROUP BY gk ORDER BY 1 ASC LIMIT $7) ",
            select!(),
            "WHERE n.id IN (SELECT id FROM g) ORDER BY n.id DESC"
        ),
        None => concat!(
            "WITH f AS (SELECT n.id, ",
            shown_key!(),
            " AS gk FROM notifications n ",
            page_where!(),
            "), g AS (SELECT MAX(id) AS id FROM f GROUP BY gk ORDER BY 1 DESC LIMIT $7) ",
            select!(),
            "WHERE n.id IN (SELECT id FROM g) ORDER BY n.id DESC"
        ),
    };
    sqlx::query_as(sql)
        .bind(author)
        .bind(p.max_id)
        .bind(p.since_id)
        .bind(p.min_id)
        .bind(p.types_json)
        .bind(p.exclude_json)
        .bind(p.limit)
        .bind(grouped_json)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// The newest `limit` notifications of a stored group with ids up to `upto` (all
/// when None), newest first; muted actors left out as in the list.
pub async fn group_members(
    db: impl Executor<'_>,
    author: &Handle,
    group_key: &str,
    upto: Option<i64>,
    limit: i64,
) -> Result<Vec<NotificationRow>> {
    sqlx::query_as(concat!(
        select!(),
        "WHERE n.author = $1 AND n.group_key = $2 AND ($3 IS NULL OR n.id <= $3)
           AND n.actor_id NOT IN (SELECT actor_id FROM mutes WHERE author = $1)
         ORDER BY n.id DESC LIMIT $4"
    ))
    .bind(author)
    .bind(group_key)
    .bind(upto)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// A stored group within a page's range: (how many up to `upto`, the oldest id from
/// `from` on).
pub async fn group_stats(
    db: impl Executor<'_>,
    author: &Handle,
    group_key: &str,
    from: Option<i64>,
    upto: Option<i64>,
) -> Result<(i64, Option<i64>)> {
    sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM notifications n WHERE n.author = $1 AND n.group_key = $2
                   AND ($4 IS NULL OR n.id <= $4)
                   AND n.actor_id NOT IN (SELECT actor_id FROM mutes WHERE author = $1)),
                (SELECT MIN(id) FROM notifications n WHERE n.author = $1 AND n.group_key = $2
                   AND ($3 IS NULL OR n.id >= $3)
                   AND n.actor_id NOT IN (SELECT actor_id FROM mutes WHERE author = $1))",
    )
    .bind(author)
    .bind(group_key)
    .bind(from)
    .bind(upto)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// Dismisses a stored group; how many notifications went.
pub async fn dismiss_group(db: impl Executor<'_>, author: &Handle, group_key: &str) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM notifications WHERE author = $1 AND group_key = $2")
            .bind(author)
            .bind(group_key)
            .execute(db.inner())
            .await?
            .rows_affected(),
    )
}
