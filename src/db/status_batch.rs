//! What a page of client-API statuses needs, read for the whole page at once: each
//! query takes a JSON array of ids, so a page of any size costs the same few queries.

use super::types::Json;

use super::{Executor, Result, posts::PostRow, replies::ReplyRow, replies::ShownReply};
use crate::domain::{Handle, ReactionKind};

/// Posts by id (deleted ones too: the caller decides what shows).
pub async fn posts(db: impl Executor<'_>, ids: &[i64]) -> Result<Vec<PostRow>> {
    sqlx::query_as(
        "SELECT * FROM posts WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))",
    )
    .bind(Json(ids))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Replies by id, with what is shown of their authors.
pub async fn replies(db: impl Executor<'_>, ids: &[i64]) -> Result<Vec<ShownReply>> {
    sqlx::query_as(
        "SELECT r.*, a.name AS actor_name, a.username AS actor_username, a.handle AS actor_handle,
            a.icon_url AS actor_icon, a.profile_url AS actor_url, a.created_at AS actor_created_at
         FROM replies r LEFT JOIN remote_actors a ON a.id = r.actor_id
         WHERE r.id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))",
    )
    .bind(Json(ids))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// The `replies` rows showing these notes in their threads.
pub async fn mirrors(db: impl Executor<'_>, note_ids: &[i64]) -> Result<Vec<ReplyRow>> {
    sqlx::query_as(
        "SELECT * FROM replies WHERE note_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))",
    )
    .bind(Json(note_ids))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Visible answers under these posts, counted per (post, parent reply).
pub async fn child_counts(
    db: impl Executor<'_>,
    post_ids: &[i64],
) -> Result<Vec<(i64, Option<i64>, i64)>> {
    sqlx::query_as(
        "SELECT post_id, parent_id, COUNT(*) FROM replies
         WHERE state = 'visible' AND post_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))
         GROUP BY post_id, parent_id",
    )
    .bind(Json(post_ids))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Remote reactions to these posts, counted per (post, kind).
pub async fn remote_counts(
    db: impl Executor<'_>,
    post_ids: &[i64],
) -> Result<Vec<(i64, ReactionKind, i64)>> {
    sqlx::query_as(
        "SELECT post_id, kind, COUNT(*) FROM reactions
         WHERE post_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1)) GROUP BY post_id, kind",
    )
    .bind(Json(post_ids))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Our authors' reactions to these statuses (API ids): (status, kind, author).
pub async fn author_reactions(
    db: impl Executor<'_>,
    statuses: &[String],
) -> Result<Vec<(String, ReactionKind, Handle)>> {
    sqlx::query_as(
        "SELECT status, kind, author FROM author_reactions
         WHERE status IN (SELECT value FROM json_each($1))",
    )
    .bind(Json(statuses))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Remote actors by id (those we have).
pub async fn actors(
    db: impl Executor<'_>,
    ids: &[&str],
) -> Result<Vec<super::remote_actors::RemoteActorRow>> {
    sqlx::query_as("SELECT * FROM remote_actors WHERE id IN (SELECT value FROM json_each($1))")
        .bind(Json(ids))
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Stored remote statuses by id.
pub async fn remote_statuses(
    db: impl Executor<'_>,
    ids: &[i64],
) -> Result<Vec<super::timeline::RemoteStatusRow>> {
    sqlx::query_as("SELECT * FROM remote_statuses WHERE id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))")
        .bind(Json(ids))
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Our live notes answering these statuses (API ids), counted per status.
pub async fn answer_counts(
    db: impl Executor<'_>,
    statuses: &[String],
) -> Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT in_reply_to_status, COUNT(*) FROM posts
         WHERE deleted_at IS NULL AND in_reply_to_status IN (SELECT value FROM json_each($1))
         GROUP BY in_reply_to_status",
    )
    .bind(Json(statuses))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Our live notes answering a status (its API id), oldest first.
pub async fn answers(db: impl Executor<'_>, status: &str, limit: i64) -> Result<Vec<PostRow>> {
    sqlx::query_as(
        "SELECT * FROM posts WHERE in_reply_to_status = $1 AND deleted_at IS NULL
         ORDER BY id LIMIT $2",
    )
    .bind(status)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// The accounts an author follows (accepted).
pub async fn followed(db: impl Executor<'_>, author: &Handle) -> Result<Vec<String>> {
    sqlx::query_scalar("SELECT actor_id FROM following WHERE author = $1 AND state = 'accepted'")
        .bind(author)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

/// Replies by their ActivityPub ids, with what is shown of their authors.
pub async fn replies_by_ap_id(db: impl Executor<'_>, ap_ids: &[&str]) -> Result<Vec<ShownReply>> {
    sqlx::query_as(
        "SELECT r.*, a.name AS actor_name, a.username AS actor_username, a.handle AS actor_handle,
            a.icon_url AS actor_icon, a.profile_url AS actor_url, a.created_at AS actor_created_at
         FROM replies r LEFT JOIN remote_actors a ON a.id = r.actor_id
         WHERE r.ap_id IN (SELECT value FROM json_each($1))",
    )
    .bind(Json(ap_ids))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}
