//! The client API's statuses: notes posted from apps (rows of `posts` with origin
//! `app`), their earlier versions, the author's reply shown in a thread, what the
//! author favourited or boosted, and the pages of statuses apps read.

use super::types::Json;

use super::{Executor, Result, posts::PostRow, replies::ReplyRow};
use crate::domain::{
    Attachment, Handle, Lang, Mention, QuotePolicy, ReactionKind, Slug, Tag, Visibility,
};

/// What an app note says.
#[derive(Debug, Clone)]
pub struct NoteValues<'a> {
    pub content_html: &'a str,
    pub source_text: &'a str,
    pub spoiler_text: Option<&'a str>,
    pub sensitive: bool,
    pub visibility: Visibility,
    pub lang: &'a Lang,
    pub tags: &'a [Tag],
    pub mentions: &'a [Mention],
    pub attachments: &'a [Attachment],
}

/// Stores a new note (inside the caller's transaction) and returns its id; its slug
/// is `note-<id>` and its source path `app:note-<id>`, which no file can have.
pub async fn insert_note(
    tx: &mut super::Tx,
    author: &Handle,
    v: &NoteValues<'_>,
    reply_to: Option<(&str, &str)>,
    idempotency_key: Option<&str>,
    now: i64,
) -> Result<i64> {
    let hash = crate::domain::hash_hex(&[v.content_html.as_bytes()]);
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO posts (author, source_path, slug, kind, content_html, federated_html,
            tags_json, attachments_json, written_at, published_at, source_hash, lang,
            quote_policy, mentions_json, origin, visibility, spoiler_text, sensitive,
            in_reply_to, in_reply_to_status, source_text, idempotency_key)
         VALUES ($1, 'app:pending', 'note-pending', 'Note', $2, $2, $3, $4, $5, $5, $6, $7,
            $16, $8, 'app', $9, $10, $11, $12, $13, $14, $15)
         RETURNING id",
    )
    .bind(author)
    .bind(v.content_html)
    .bind(Json(v.tags))
    .bind(Json(v.attachments))
    .bind(now)
    .bind(&hash)
    .bind(v.lang)
    .bind(Json(v.mentions))
    .bind(v.visibility)
    .bind(v.spoiler_text)
    .bind(i64::from(v.sensitive))
    .bind(reply_to.map(|r| r.0))
    .bind(reply_to.map(|r| r.1))
    .bind(v.source_text)
    .bind(idempotency_key)
    // Quoting a note meant for few would show it to all.
    .bind(match v.visibility.is_open() {
        true => QuotePolicy::Anyone,
        false => QuotePolicy::Nobody,
    })
    .fetch_one(tx.inner())
    .await?;
    let slug = Slug::note(id);
    sqlx::query("UPDATE posts SET slug = $1, source_path = $2 WHERE id = $3")
        .bind(&slug)
        .bind(format!("app:{slug}"))
        .bind(id)
        .execute(tx.inner())
        .await?;
    Ok(id)
}

/// Rewrites a note's content after keeping the version it replaces.
pub async fn update_note(
    tx: &mut super::Tx,
    before: &PostRow,
    v: &NoteValues<'_>,
    keep_versions: i64,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO post_edits (post_id, content_html, spoiler_text, sensitive,
            attachments_json, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(before.id)
    .bind(&before.content_html)
    .bind(&before.spoiler_text)
    .bind(i64::from(before.sensitive))
    .bind(Json(&before.attachments))
    .bind(before.updated_at.unwrap_or(before.published_at))
    .execute(tx.inner())
    .await?;
    // The oldest versions go past the bound.
    sqlx::query(
        "DELETE FROM post_edits WHERE post_id = $1 AND id NOT IN
           (SELECT id FROM post_edits WHERE post_id = $1 ORDER BY id DESC LIMIT $2)",
    )
    .bind(before.id)
    .bind(keep_versions)
    .execute(tx.inner())
    .await?;
    let hash = crate::domain::hash_hex(&[v.content_html.as_bytes()]);
    sqlx::query(
        "UPDATE posts SET content_html = $1, federated_html = $1, source_text = $2,
            spoiler_text = $3, sensitive = $4, lang = $5, tags_json = $6, mentions_json = $7,
            attachments_json = $8, source_hash = $9, updated_at = $10
         WHERE id = $11 AND origin = 'app'",
    )
    .bind(v.content_html)
    .bind(v.source_text)
    .bind(v.spoiler_text)
    .bind(i64::from(v.sensitive))
    .bind(v.lang)
    .bind(Json(v.tags))
    .bind(Json(v.mentions))
    .bind(Json(v.attachments))
    .bind(&hash)
    .bind(now)
    .bind(before.id)
    .execute(tx.inner())
    .await?;
    Ok(())
}

/// An earlier version of a note.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EditRow {
    pub content_html: String,
    pub spoiler_text: Option<String>,
    #[sqlx(try_from = "super::types::Flag")]
    pub sensitive: bool,
    #[sqlx(
        rename = "attachments_json",
        try_from = "super::types::Json<Vec<Attachment>>"
    )]
    pub attachments: Vec<Attachment>,
    pub created_at: i64,
}

/// A note's earlier versions, oldest first.
pub async fn edits(db: impl Executor<'_>, post_id: i64) -> Result<Vec<EditRow>> {
    sqlx::query_as(
        "SELECT content_html, spoiler_text, sensitive, attachments_json, created_at
         FROM post_edits WHERE post_id = $1 ORDER BY id",
    )
    .bind(post_id)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// The note an app already posted with this Idempotency-Key since `since` (ms).
pub async fn by_idempotency_key(
    db: impl Executor<'_>,
    author: &Handle,
    key: &str,
    since: i64,
) -> Result<Option<PostRow>> {
    sqlx::query_as(
        "SELECT * FROM posts WHERE author = $1 AND idempotency_key = $2 AND published_at >= $3",
    )
    .bind(author)
    .bind(key)
    .bind(since)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// Frees an Idempotency-Key older than the hour it is kept for, so the app may use it
/// again.
pub async fn expire_idempotency_key(
    db: impl Executor<'_>,
    author: &Handle,
    key: &str,
) -> Result<()> {
    sqlx::query(
        "UPDATE posts SET idempotency_key = NULL WHERE author = $1 AND idempotency_key = $2",
    )
    .bind(author)
    .bind(key)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// The `replies` row showing a note in its thread.
pub async fn mirror_of(db: impl Executor<'_>, note_id: i64) -> Result<Option<ReplyRow>> {
    sqlx::query_as("SELECT * FROM replies WHERE note_id = $1")
        .bind(note_id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// Where an author's reply sits in a thread.
#[derive(Debug, Clone)]
pub struct ThreadPlace<'a> {
    pub post_id: i64,
    pub in_reply_to: &'a str,
    pub parent_id: Option<i64>,
    pub depth: i64,
}

/// Shows a note in its thread (a visible `replies` row by the author's actor).
pub async fn insert_mirror(
    db: impl Executor<'_>,
    note: &PostRow,
    ap_id: &str,
    actor_id: &str,
    place: &ThreadPlace<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO replies (ap_id, post_id, in_reply_to, parent_id, depth, actor_id,
            content_html, summary, url, published_at, received_at, state, note_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $1, $9, $9, 'visible', $10)
         ON CONFLICT(ap_id) DO NOTHING",
    )
    .bind(ap_id)
    .bind(place.post_id)
    .bind(place.in_reply_to)
    .bind(place.parent_id)
    .bind(place.depth)
    .bind(actor_id)
    .bind(&note.content_html)
    .bind(&note.spoiler_text)
    .bind(note.published_at)
    .bind(note.id)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Brings a note's thread row up to date after an edit.
pub async fn update_mirror(db: impl Executor<'_>, note: &PostRow) -> Result<()> {
    sqlx::query(
        "UPDATE replies SET content_html = $1, summary = $2, updated_at = $3 WHERE note_id = $4",
    )
    .bind(&note.content_html)
    .bind(&note.spoiler_text)
    .bind(note.updated_at)
    .bind(note.id)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Takes a deleted note out of its thread; its answers move up.
pub async fn delete_mirror(db: impl Executor<'_>, note_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM replies WHERE note_id = $1")
        .bind(note_id)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Whether something of this kind names the status: (status id, author) pairs.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthorReaction {
    pub object: String,
    pub activity: Option<String>,
}

pub async fn reaction(
    db: impl Executor<'_>,
    author: &Handle,
    kind: ReactionKind,
    status: &str,
) -> Result<Option<AuthorReaction>> {
    sqlx::query_as(
        "SELECT object, activity FROM author_reactions WHERE author = $1 AND kind = $2 AND status = $3",
    )
    .bind(author)
    .bind(kind)
    .bind(status)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// Records a favourite or boost; `false` if it was there already.
pub async fn add_reaction(
    db: impl Executor<'_>,
    author: &Handle,
    kind: ReactionKind,
    status: &str,
    object: &str,
    activity: Option<&str>,
    now: i64,
) -> Result<bool> {
    Ok(sqlx::query(
        "INSERT INTO author_reactions (author, kind, status, object, activity, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
    )
    .bind(author)
    .bind(kind)
    .bind(status)
    .bind(object)
    .bind(activity)
    .bind(now)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

pub async fn remove_reaction(
    db: impl Executor<'_>,
    author: &Handle,
    kind: ReactionKind,
    status: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM author_reactions WHERE author = $1 AND kind = $2 AND status = $3")
        .bind(author)
        .bind(kind)
        .bind(status)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Our authors who reacted so to a status (handles, oldest first).
pub async fn reactors(
    db: impl Executor<'_>,
    kind: ReactionKind,
    status: &str,
) -> Result<Vec<Handle>> {
    sqlx::query_scalar(
        "SELECT author FROM author_reactions WHERE status = $1 AND kind = $2 ORDER BY created_at",
    )
    .bind(status)
    .bind(kind)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// A range of statuses by id, newest first: `max_id` and `since_id` bound it from
/// outside; `min_id` asks for the page just above it (read oldest first, then turned).
#[derive(Debug, Clone, Copy, Default)]
pub struct IdRange {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

/// Live statuses of one author (`Some`) or of all (`None`) with one of these
/// visibilities, by id. `exclude_replies` leaves out notes answering something;
/// `Replies::OwnOnly` keeps those answering the same author's own posts and notes.
pub async fn page(
    db: impl Executor<'_>,
    author: Option<&Handle>,
    visibilities: &[Visibility],
    replies: Replies,
    only_media: bool,
    r: &IdRange,
) -> Result<Vec<PostRow>> {
    let upward = r.min_id.is_some() && r.max_id.is_none();
    let mut rows: Vec<PostRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT * FROM posts
         WHERE deleted_at IS NULL
           AND ($1 IS NULL OR author = $1)
           AND visibility IN (SELECT value FROM json_each($2))
           AND ($3 = 'all' OR in_reply_to IS NULL
                OR ($3 = 'own' AND EXISTS (SELECT 1 FROM posts q
                    WHERE CAST(q.id AS TEXT) = posts.in_reply_to_status AND q.author = posts.author)))
           AND ($4 = 0 OR attachments_json <> '[]')
           AND ($5 IS NULL OR id < $5)
           AND ($6 IS NULL OR id > $6)
           AND ($7 IS NULL OR id > $7)
         ORDER BY id {} LIMIT $8",
        if upward { "ASC" } else { "DESC" }
    )))
    .bind(author)
    .bind(Json(visibilities))
    .bind(match replies {
        Replies::All => "all",
        Replies::None => "none",
        Replies::OwnOnly => "own",
    })
    .bind(i64::from(only_media))
    .bind(r.max_id)
    .bind(r.since_id)
    .bind(r.min_id)
    .bind(r.limit)
    .fetch_all(db.inner())
    .await?;
    if upward {
        rows.reverse();
    }
    Ok(rows)
}

/// Which replies a page of statuses keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replies {
    All,
    None,
    /// Self-replies only (Mastodon's public timelines without `with_replies`).
    OwnOnly,
}

/// Visible answers to a post (`parent` None: its direct replies) or to a reply.
pub async fn count_children(
    db: impl Executor<'_>,
    post_id: i64,
    parent: Option<i64>,
) -> Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM replies WHERE post_id = $1 AND state = 'visible'
           AND (($2 IS NULL AND parent_id IS NULL) OR parent_id = $2)",
    )
    .bind(post_id)
    .bind(parent)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// How many of our authors reacted so to a status.
pub async fn count_reactions(
    db: impl Executor<'_>,
    kind: ReactionKind,
    status: &str,
) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM author_reactions WHERE status = $1 AND kind = $2")
        .bind(status)
        .bind(kind)
        .fetch_one(db.inner())
        .await
        .map_err(Into::into)
}

/// A reply with what is shown of its author, by id.
pub async fn shown_reply(
    db: impl Executor<'_>,
    id: i64,
) -> Result<Option<super::replies::ShownReply>> {
    sqlx::query_as(
        "SELECT r.*, a.name AS actor_name, a.username AS actor_username, a.handle AS actor_handle,
            a.icon_url AS actor_icon, a.profile_url AS actor_url, a.created_at AS actor_created_at
         FROM replies r LEFT JOIN remote_actors a ON a.id = r.actor_id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}
