//! Direct messages to our authors and the authors' conversations (migration 0027).
//! Nothing that shows public things reads these tables; every read here names the
//! author whose they are.

use super::types::Json;

use super::{Executor, Result};
use crate::domain::Handle;

/// A direct message with what is shown of its sender.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DirectRow {
    pub id: i64,
    pub author: Handle,
    pub ap_id: String,
    pub actor_id: String,
    pub url: Option<String>,
    /// Sanitised when stored.
    pub content_html: String,
    pub summary: Option<String>,
    pub in_reply_to: Option<String>,
    /// The other accounts of its conversation (actor ids, sorted), sender included.
    #[sqlx(
        rename = "participants_json",
        try_from = "super::types::Json<Vec<String>>"
    )]
    pub participants: Vec<String>,
    pub published_at: i64,
    pub edited_at: Option<i64>,
    pub actor_name: Option<String>,
    pub actor_username: Option<String>,
    pub actor_handle: Option<String>,
    pub actor_icon: Option<String>,
    pub actor_url: Option<String>,
    pub actor_created_at: Option<i64>,
}

/// What is stored of a direct message.
#[derive(Debug, Clone)]
pub struct NewDirect<'a> {
    pub author: &'a Handle,
    pub ap_id: &'a str,
    pub actor_id: &'a str,
    pub url: Option<&'a str>,
    pub content_html: &'a str,
    pub summary: Option<&'a str>,
    pub in_reply_to: Option<&'a str>,
    pub participants: &'a [String],
    pub published_at: i64,
}

const SELECT: &str = "SELECT d.id, d.author, d.ap_id, d.actor_id, d.url, d.content_html,
        d.summary, d.in_reply_to, d.participants_json, d.published_at, d.edited_at,
        a.name AS actor_name, a.username AS actor_username, a.handle AS actor_handle,
        a.icon_url AS actor_icon, a.profile_url AS actor_url, a.created_at AS actor_created_at
     FROM direct_messages d LEFT JOIN remote_actors a ON a.id = d.actor_id ";

/// Stores a message for one author; `None` if it was already stored (a redelivery
/// notifies once).
pub async fn insert(db: impl Executor<'_>, m: &NewDirect<'_>, now: i64) -> Result<Option<i64>> {
    sqlx::query_scalar(
        "INSERT INTO direct_messages (author, ap_id, actor_id, url, content_html, summary,
            in_reply_to, participants_json, published_at, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT(author, ap_id) DO NOTHING
         RETURNING id",
    )
    .bind(m.author)
    .bind(m.ap_id)
    .bind(m.actor_id)
    .bind(m.url)
    .bind(m.content_html)
    .bind(m.summary)
    .bind(m.in_reply_to)
    .bind(Json(m.participants))
    .bind(m.published_at)
    .bind(now)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// Edits every stored copy of a message, if `actor_id` wrote it.
pub async fn update(
    db: impl Executor<'_>,
    ap_id: &str,
    actor_id: &str,
    content_html: &str,
    summary: Option<&str>,
    now: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE direct_messages SET content_html = $1, summary = $2, edited_at = $3
         WHERE ap_id = $4 AND actor_id = $5",
    )
    .bind(content_html)
    .bind(summary)
    .bind(now)
    .bind(ap_id)
    .bind(actor_id)
    .execute(db.inner())
    .await?
    .rows_affected())
}

/// Removes every stored copy of a message, if `actor_id` wrote it (its notifications
/// go with it).
pub async fn delete(db: impl Executor<'_>, ap_id: &str, actor_id: &str) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM direct_messages WHERE ap_id = $1 AND actor_id = $2")
            .bind(ap_id)
            .bind(actor_id)
            .execute(db.inner())
            .await?
            .rows_affected(),
    )
}

/// The message `id`, if it is `author`'s.
pub async fn get(db: impl Executor<'_>, author: &Handle, id: i64) -> Result<Option<DirectRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE d.id = $1 AND d.author = $2"
    )))
    .bind(id)
    .bind(author)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// `author`'s copy of the message `ap_id`.
pub async fn by_ap_id(
    db: impl Executor<'_>,
    author: &Handle,
    ap_id: &str,
) -> Result<Option<DirectRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE d.ap_id = $1 AND d.author = $2"
    )))
    .bind(ap_id)
    .bind(author)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// `author`'s messages answering `ap_id`, oldest first.
pub async fn answers(
    db: impl Executor<'_>,
    author: &Handle,
    ap_id: &str,
    limit: i64,
) -> Result<Vec<DirectRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE d.author = $1 AND d.in_reply_to = $2 ORDER BY d.id LIMIT $3"
    )))
    .bind(author)
    .bind(ap_id)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Keeps the `keep` newest messages of each author (their notifications go with the
/// rest), and each author's `keep` most recent conversations.
pub async fn prune(db: &super::Db, keep: i64) -> Result<u64> {
    let messages = sqlx::query(
        "DELETE FROM direct_messages WHERE id IN (
             SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY author ORDER BY id DESC) AS n
                               FROM direct_messages) AS ranked WHERE n > $1)",
    )
    .bind(keep)
    .execute(db.write().inner())
    .await?
    .rows_affected();
    let conversations = sqlx::query(
        "DELETE FROM conversations WHERE id IN (
             SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY author ORDER BY seq DESC) AS n
                               FROM conversations) AS ranked WHERE n > $1)",
    )
    .bind(keep)
    .execute(db.write().inner())
    .await?
    .rows_affected();
    Ok(messages + conversations)
}

/// One of an author's conversations.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: i64,
    #[sqlx(
        rename = "participants_json",
        try_from = "super::types::Json<Vec<String>>"
    )]
    pub participants: Vec<String>,
    /// The API id of its newest status.
    pub last_status: String,
    pub seq: i64,
    #[sqlx(try_from = "super::types::Flag")]
    pub unread: bool,
}

/// A new status in the conversation of `author` with `participants` (sorted): it
/// becomes its newest, and moves it to the top of the list (made again if deleted).
pub async fn touch(
    db: impl Executor<'_>,
    author: &Handle,
    participants: &[String],
    last_status: &str,
    unread: bool,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO conversations (author, participants_json, last_status, seq, unread)
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(seq), 0) + 1 FROM conversations), $4)
         ON CONFLICT(author, participants_json) DO UPDATE SET
             last_status = excluded.last_status, seq = excluded.seq,
             unread = excluded.unread
         RETURNING id",
    )
    .bind(author)
    .bind(Json(participants))
    .bind(last_status)
    .bind(i64::from(unread))
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// A page of `author`'s conversations, newest activity first: `seq` strictly below
/// `max`, above `since`; `min` reads up from it (the page nearest `min`).
pub async fn page(
    db: impl Executor<'_>,
    author: &Handle,
    max: Option<i64>,
    since: Option<i64>,
    min: Option<i64>,
    limit: i64,
) -> Result<Vec<ConversationRow>> {
    let order = if min.is_some() { "ASC" } else { "DESC" };
    let mut rows: Vec<ConversationRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT id, participants_json, last_status, seq, unread FROM conversations
         WHERE author = $1 AND ($2 IS NULL OR seq < $2) AND ($3 IS NULL OR seq > $3)
           AND ($4 IS NULL OR seq > $4)
         ORDER BY seq {order} LIMIT $5"
    )))
    .bind(author)
    .bind(max)
    .bind(since)
    .bind(min)
    .bind(limit)
    .fetch_all(db.inner())
    .await?;
    if min.is_some() {
        rows.reverse();
    }
    Ok(rows)
}

pub async fn conversation(
    db: impl Executor<'_>,
    author: &Handle,
    id: i64,
) -> Result<Option<ConversationRow>> {
    sqlx::query_as(
        "SELECT id, participants_json, last_status, seq, unread FROM conversations
         WHERE author = $1 AND id = $2",
    )
    .bind(author)
    .bind(id)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// Marks a conversation read; false if it is not `author`'s.
pub async fn mark_read(db: impl Executor<'_>, author: &Handle, id: i64) -> Result<bool> {
    Ok(
        sqlx::query("UPDATE conversations SET unread = 0 WHERE author = $1 AND id = $2")
            .bind(author)
            .bind(id)
            .execute(db.inner())
            .await?
            .rows_affected()
            > 0,
    )
}

/// Removes a conversation from the list (its statuses stay); false if not `author`'s.
pub async fn remove(db: impl Executor<'_>, author: &Handle, id: i64) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM conversations WHERE author = $1 AND id = $2")
            .bind(author)
            .bind(id)
            .execute(db.inner())
            .await?
            .rows_affected()
            > 0,
    )
}

/// The newest `conversation_events` row (migration 0030), 0 if none.
pub async fn last_event_id(db: impl Executor<'_>) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM conversation_events")
        .fetch_one(db.inner())
        .await?;
    Ok(id)
}

/// Conversations that got a new status, above `after`, oldest first: (row id,
/// author, conversation id).
pub async fn events_after(
    db: impl Executor<'_>,
    after: i64,
    limit: i64,
) -> Result<Vec<(i64, Handle, i64)>> {
    sqlx::query_as(
        "SELECT id, author, conversation_id FROM conversation_events
         WHERE id > $1 ORDER BY id LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Drops conversation events written before `before` and all but the `keep` newest.
pub async fn prune_events(db: impl Executor<'_>, before: i64, keep: i64) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM conversation_events
         WHERE at < $1 OR id <= (SELECT COALESCE(MAX(id), 0) FROM conversation_events) - $2",
    )
    .bind(before)
    .bind(keep)
    .execute(db.inner())
    .await?
    .rows_affected())
}
