//! Media attachments uploaded from apps (migration 0022): their bytes (as we
//! re-encoded them), who uploaded them, and the post they are attached to, if any.
//! The service bounds them; here they are stored, read, claimed and pruned.

use super::{Executor, Result};
use crate::domain::Handle;

/// A stored media attachment without its bytes.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediaRow {
    pub id: i64,
    pub author: Handle,
    pub token: String,
    pub media_type: String,
    pub width: i64,
    pub height: i64,
    pub preview_width: i64,
    pub preview_height: i64,
    pub original_size: i64,
    pub blurhash: Option<String>,
    pub description: String,
    pub focus_x: f64,
    pub focus_y: f64,
    pub created_at: i64,
    pub post_id: Option<i64>,
}

/// The columns of [`MediaRow`].
macro_rules! columns {
    () => {
        "id, author, token, media_type, width, height, preview_width, preview_height,
        length(original) AS original_size, blurhash, description, focus_x, focus_y,
        created_at, post_id"
    };
}

/// A media attachment to store.
pub struct NewMedia<'a> {
    pub author: &'a Handle,
    pub token: &'a str,
    pub media_type: &'a str,
    pub original: &'a [u8],
    pub preview: &'a [u8],
    pub width: u32,
    pub height: u32,
    pub preview_width: u32,
    pub preview_height: u32,
    pub blurhash: Option<&'a str>,
    pub description: &'a str,
    pub focus: (f64, f64),
    pub created_at: i64,
}

/// Stores `m` if the author's unattached media stay within `max_count` and
/// `max_bytes` with it; its id, or `None` when they would not.
pub async fn insert_within(
    db: impl Executor<'_>,
    m: &NewMedia<'_>,
    max_count: i64,
    max_bytes: i64,
) -> Result<Option<i64>> {
    let bytes = i64::try_from(m.original.len() + m.preview.len()).unwrap_or(i64::MAX);
    // One statement, so two uploads at once cannot both pass the check.
    sqlx::query_scalar(
        "INSERT INTO media (author, token, media_type, original, preview, width, height,
             preview_width, preview_height, blurhash, description, focus_x, focus_y, bytes,
             created_at)
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15
         WHERE (SELECT count(*) < $16 AND coalesce(sum(bytes), 0) + $14 <= $17
                FROM media WHERE author = $1 AND post_id IS NULL)
         RETURNING id",
    )
    .bind(m.author)
    .bind(m.token)
    .bind(m.media_type)
    .bind(m.original)
    .bind(m.preview)
    .bind(i64::from(m.width))
    .bind(i64::from(m.height))
    .bind(i64::from(m.preview_width))
    .bind(i64::from(m.preview_height))
    .bind(m.blurhash)
    .bind(m.description)
    .bind(m.focus.0)
    .bind(m.focus.1)
    .bind(bytes)
    .bind(m.created_at)
    .bind(max_count)
    .bind(max_bytes)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// One of `author`'s media.
pub async fn get(db: impl Executor<'_>, author: &Handle, id: i64) -> Result<Option<MediaRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM media WHERE id = $1 AND author = $2"
    ))
    .bind(id)
    .bind(author)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// Sets the description and focus of one of `author`'s media; whether it exists.
pub async fn describe(
    db: impl Executor<'_>,
    author: &Handle,
    id: i64,
    description: Option<&str>,
    focus: Option<(f64, f64)>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE media SET description = coalesce($3, description),
             focus_x = coalesce($4, focus_x), focus_y = coalesce($5, focus_y)
         WHERE id = $1 AND author = $2",
    )
    .bind(id)
    .bind(author)
    .bind(description)
    .bind(focus.map(|f| f.0))
    .bind(focus.map(|f| f.1))
    .execute(db.inner())
    .await?;
    Ok(done.rows_affected() > 0)
}

/// A rendition's bytes to serve, with what decides who may see it (`attached`: to a
/// post that is not deleted).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediaFile {
    pub author: Handle,
    pub token: String,
    pub media_type: String,
    #[sqlx(try_from = "super::types::Flag")]
    pub attached: bool,
    pub bytes: Vec<u8>,
}

/// The original (or, with `preview`, the preview) of media `id`.
pub async fn file(db: impl Executor<'_>, id: i64, preview: bool) -> Result<Option<MediaFile>> {
    sqlx::query_as(
        "SELECT author, token, media_type,
             EXISTS (SELECT 1 FROM posts p WHERE p.id = media.post_id AND p.deleted_at IS NULL)
                 AS attached,
             CASE WHEN $2 = 1 THEN preview ELSE original END AS bytes
         FROM media WHERE id = $1",
    )
    .bind(id)
    .bind(i64::from(preview))
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// `ids` of `author`'s that are free for `post_id` (unattached, or already its own).
pub async fn claimable(
    db: impl Executor<'_>,
    author: &Handle,
    ids: &[i64],
    post_id: i64,
) -> Result<Vec<MediaRow>> {
    let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM media WHERE author = $1 AND (post_id IS NULL OR post_id = $2)
         AND id IN (SELECT CAST(value AS BIGINT) FROM json_each($3))"
    ))
    .bind(author)
    .bind(post_id)
    .bind(ids)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Makes `ids` (in this order) the media of `post_id`: the post's others are
/// detached (and pruned later, as any unattached media).
pub async fn attach(db: impl Executor<'_>, ids: &[i64], post_id: i64) -> Result<()> {
    let ids = serde_json::to_string(ids).unwrap_or_else(|_| "[]".into());
    sqlx::query(
        "UPDATE media SET
             post_id = CASE WHEN id IN (SELECT CAST(value AS BIGINT) FROM json_each($1)) THEN $2 END,
             position = coalesce((SELECT key FROM json_each($1) WHERE CAST(value AS BIGINT) = media.id), 0)
         WHERE post_id = $2 OR id IN (SELECT CAST(value AS BIGINT) FROM json_each($1))",
    )
    .bind(ids)
    .bind(post_id)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// The media of these posts, each post's in their order (a page of statuses).
pub async fn of_posts(db: impl Executor<'_>, post_ids: &[i64]) -> Result<Vec<MediaRow>> {
    sqlx::query_as(concat!(
        "SELECT ",
        columns!(),
        " FROM media WHERE post_id IN (SELECT CAST(value AS BIGINT) FROM json_each($1)) ORDER BY post_id, position, id"
    ))
    .bind(super::types::Json(post_ids))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Removes unattached media created before `before` (ms), and those of posts deleted
/// before it; how many.
pub async fn prune_unattached(db: impl Executor<'_>, before: i64) -> Result<u64> {
    let done = sqlx::query(
        "DELETE FROM media WHERE (post_id IS NULL AND created_at < $1)
             OR post_id IN (SELECT id FROM posts WHERE deleted_at < $1)",
    )
    .bind(before)
    .execute(db.inner())
    .await?;
    Ok(done.rows_affected())
}
