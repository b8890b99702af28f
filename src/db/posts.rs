use super::types::Json;

use super::{Executor, Result};
use crate::domain::{
    Attachment, Handle, Lang, PostKind, PostOrigin, QuotePolicy, Slug, Tag, Visibility,
};

/// A post as stored. `deleted_at` set means a tombstone.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostRow {
    pub id: i64,
    pub author: Handle,
    pub source_path: String,
    pub slug: Slug,
    pub kind: PostKind,
    pub title: Option<String>,
    pub excerpt: Option<String>,
    pub content_html: String,
    #[sqlx(rename = "tags_json", try_from = "super::types::Json<Vec<Tag>>")]
    pub tags: Vec<Tag>,
    /// Images the post shows, as federated in `attachment`.
    #[sqlx(
        rename = "attachments_json",
        try_from = "super::types::Json<Vec<Attachment>>"
    )]
    pub attachments: Vec<Attachment>,
    pub written_at: i64,
    pub published_at: i64,
    pub updated_at: Option<i64>,
    pub source_hash: String,
    pub deleted_at: Option<i64>,
    pub file_hash: Option<String>,
    /// The body as it federates; `None` for a post not rendered since this existed.
    pub federated_html: Option<String>,
    /// `None` for a post not rendered since languages existed.
    pub lang: Option<Lang>,
    /// Who may quote it; `None` (not synced since quotes existed) is anyone.
    pub quote_policy: Option<QuotePolicy>,
    /// The accounts it mentions: `Mention` tags, and inboxes it is delivered to.
    #[sqlx(
        rename = "mentions_json",
        try_from = "super::types::Json<Vec<crate::domain::Mention>>"
    )]
    pub mentions: Vec<crate::domain::Mention>,
    /// A content file's post, or an app's note (which sync never touches).
    pub origin: PostOrigin,
    pub visibility: Visibility,
    /// The content warning (AP `summary`), for app notes.
    pub spoiler_text: Option<String>,
    #[sqlx(try_from = "super::types::Flag")]
    pub sensitive: bool,
    /// The AP id this answers, and the same as a status id.
    pub in_reply_to: Option<String>,
    pub in_reply_to_status: Option<String>,
    /// What the author typed, for app notes.
    pub source_text: Option<String>,
}

/// What sync compares a folder against: a post's identity and hashes, not its content.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostIndexRow {
    pub id: i64,
    pub source_path: String,
    pub slug: Slug,
    pub source_hash: String,
    pub deleted_at: Option<i64>,
    /// The type it was federated as: kept when the default type changes.
    pub kind: PostKind,
}

/// What a content file says about a post (everything but its identity and times).
#[derive(Debug, Clone)]
pub struct PostValues<'a> {
    pub kind: PostKind,
    pub title: Option<&'a str>,
    pub excerpt: Option<&'a str>,
    pub content_html: &'a str,
    pub federated_html: &'a str,
    pub lang: &'a Lang,
    pub tags: &'a [Tag],
    pub attachments: &'a [Attachment],
    pub written_at: i64,
    pub source_hash: &'a str,
    pub file_hash: &'a str,
    pub quote_policy: QuotePolicy,
}

pub async fn by_id(db: impl Executor<'_>, id: i64) -> Result<Option<PostRow>> {
    sqlx::query_as("SELECT * FROM posts WHERE id = $1")
        .bind(id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn by_slug(
    db: impl Executor<'_>,
    author: &Handle,
    slug: &Slug,
) -> Result<Option<PostRow>> {
    sqlx::query_as("SELECT * FROM posts WHERE author = $1 AND slug = $2")
        .bind(author)
        .bind(slug)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// Every post of an author, live and deleted: what sync compares the folder against.
pub async fn index_of_author(db: impl Executor<'_>, author: &Handle) -> Result<Vec<PostIndexRow>> {
    sqlx::query_as(
        "SELECT id, source_path, slug, source_hash, deleted_at, kind FROM posts
         WHERE author = $1 AND origin = 'content'",
    )
    .bind(author)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// The index rows of an author's posts at these source paths or with these slugs:
/// what a sync of a few changed files compares against. One lookup per path and per
/// slug, each on its unique key: written with `OR`, or as `slug IN (…)`, SQLite reads
/// all of the author's rows (or all of their `posts_sync` entries) instead. `CROSS
/// JOIN` keeps the few given values as the outer loop, as SQLite documents (its
/// conditions in `WHERE`: PostgreSQL takes no `ON` after a `CROSS JOIN`).
pub async fn index_of_files(
    db: impl Executor<'_>,
    author: &Handle,
    source_paths: &[&str],
    slugs: &[&Slug],
) -> Result<Vec<PostIndexRow>> {
    sqlx::query_as(
        "SELECT p.id, p.source_path, p.slug, p.source_hash, p.deleted_at, p.kind
         FROM json_each($2) AS f CROSS JOIN posts AS p
         WHERE p.author = $1 AND p.source_path = f.value AND p.origin = 'content'
         UNION
         SELECT p.id, p.source_path, p.slug, p.source_hash, p.deleted_at, p.kind
         FROM json_each($3) AS s CROSS JOIN posts AS p
         WHERE p.author = $1 AND p.slug = s.value AND p.origin = 'content'",
    )
    .bind(author)
    .bind(Json(source_paths))
    .bind(Json(slugs))
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// (author, source path, file hash) of every live post: the files a sync may skip.
pub async fn file_hashes(db: impl Executor<'_>) -> Result<Vec<(String, String, String)>> {
    // Ordered as the `posts_sync` index is, so SQLite reads that index alone rather
    // than the wide rows through `posts_live_by_date`.
    sqlx::query_as(
        "SELECT author, source_path, file_hash FROM posts
         WHERE deleted_at IS NULL AND file_hash IS NOT NULL AND origin = 'content'
         ORDER BY author, source_path",
    )
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// [`file_hashes`] of one author, only at these source paths if `only` is given.
pub async fn file_hashes_of(
    db: impl Executor<'_>,
    author: &Handle,
    only: Option<&[&str]>,
) -> Result<Vec<(String, String, String)>> {
    // Two statements: one that may or may not filter by path could not use the
    // (author, source_path) index for the few paths.
    match only {
        None => sqlx::query_as(
            "SELECT author, source_path, file_hash FROM posts
                 WHERE author = $1 AND deleted_at IS NULL AND file_hash IS NOT NULL
                   AND origin = 'content'",
        )
        .bind(author)
        .fetch_all(db.inner())
        .await
        .map_err(Into::into),
        Some(paths) => sqlx::query_as(
            "SELECT author, source_path, file_hash FROM posts
                 WHERE author = $1 AND source_path IN (SELECT value FROM json_each($2))
                   AND deleted_at IS NULL AND file_hash IS NOT NULL AND origin = 'content'",
        )
        .bind(author)
        .bind(Json(paths))
        .fetch_all(db.inner())
        .await
        .map_err(Into::into),
    }
}

/// Notes a re-read file whose post did not change in what it federates, so the next
/// sync skips it, and keeps what follows from it without an Update (the federated
/// rendering, the language when the site's changed).
pub async fn set_file_hash(
    db: impl Executor<'_>,
    id: i64,
    file_hash: &str,
    federated_html: &str,
    lang: &Lang,
) -> Result<()> {
    sqlx::query("UPDATE posts SET file_hash = $1, federated_html = $2, lang = $3 WHERE id = $4")
        .bind(file_hash)
        .bind(federated_html)
        .bind(lang)
        .bind(id)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Live posts of one author, newest first.
pub async fn page_of_author(
    db: impl Executor<'_>,
    author: &Handle,
    limit: i64,
    offset: i64,
) -> Result<Vec<PostRow>> {
    sqlx::query_as(
        "SELECT * FROM posts WHERE author = $1 AND deleted_at IS NULL AND visibility = 'public'
         ORDER BY published_at DESC, id DESC LIMIT $2 OFFSET $3",
    )
    .bind(author)
    .bind(limit)
    .bind(offset)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn count_of_author(db: impl Executor<'_>, author: &Handle) -> Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM posts
         WHERE author = $1 AND deleted_at IS NULL AND visibility = 'public'",
    )
    .bind(author)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// When an author's first live public post was published (ms), if they have one.
pub async fn first_published(db: impl Executor<'_>, author: &Handle) -> Result<Option<i64>> {
    sqlx::query_scalar(
        "SELECT MIN(published_at) FROM posts
         WHERE author = $1 AND deleted_at IS NULL AND visibility = 'public'",
    )
    .bind(author)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// Live posts of all authors, newest first.
pub async fn recent(db: impl Executor<'_>, limit: i64, offset: i64) -> Result<Vec<PostRow>> {
    sqlx::query_as(
        "SELECT * FROM posts WHERE deleted_at IS NULL AND visibility = 'public'
         ORDER BY published_at DESC, id DESC LIMIT $1 OFFSET $2",
    )
    .bind(limit)
    .bind(offset)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn count_all(db: impl Executor<'_>) -> Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM posts WHERE deleted_at IS NULL AND visibility = 'public'",
    )
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn insert(
    db: impl Executor<'_>,
    author: &Handle,
    source_path: &str,
    slug: &Slug,
    v: &PostValues<'_>,
    published_at: i64,
) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO posts (author, source_path, slug, kind, title, excerpt, content_html,
            tags_json, attachments_json, written_at, published_at, source_hash, file_hash,
            federated_html, lang, quote_policy)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING id",
    )
    .bind(author)
    .bind(source_path)
    .bind(slug)
    .bind(v.kind)
    .bind(v.title)
    .bind(v.excerpt)
    .bind(v.content_html)
    .bind(Json(v.tags))
    .bind(Json(v.attachments))
    .bind(v.written_at)
    .bind(published_at)
    .bind(v.source_hash)
    .bind(v.file_hash)
    .bind(v.federated_html)
    .bind(v.lang)
    .bind(v.quote_policy)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// Rewrites a post's content. `updated_at` is `None` for a post coming back from
/// deletion (it is published anew) and the edit time otherwise.
pub async fn update(
    db: impl Executor<'_>,
    id: i64,
    v: &PostValues<'_>,
    published_at: i64,
    updated_at: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "UPDATE posts SET kind = $1, title = $2, excerpt = $3, content_html = $4, tags_json = $5,
            attachments_json = $6, written_at = $7, source_hash = $8, file_hash = $9, published_at = $10,
            updated_at = $11, deleted_at = NULL, federated_html = $12, lang = $13, quote_policy = $14
         WHERE id = $15",
    )
    .bind(v.kind)
    .bind(v.title)
    .bind(v.excerpt)
    .bind(v.content_html)
    .bind(Json(v.tags))
    .bind(Json(v.attachments))
    .bind(v.written_at)
    .bind(v.source_hash)
    .bind(v.file_hash)
    .bind(published_at)
    .bind(updated_at)
    .bind(v.federated_html)
    .bind(v.lang)
    .bind(v.quote_policy)
    .bind(id)
    .execute(db.inner())
    .await?;
    Ok(())
}

pub async fn mark_deleted(db: impl Executor<'_>, id: i64, now: i64) -> Result<()> {
    sqlx::query("UPDATE posts SET deleted_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Records the accounts a post mentions, inside the change's transaction.
pub async fn set_mentions(
    db: impl Executor<'_>,
    id: i64,
    mentions: &[crate::domain::Mention],
) -> Result<()> {
    sqlx::query("UPDATE posts SET mentions_json = $1 WHERE id = $2")
        .bind(Json(mentions))
        .bind(id)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Live posts carrying a tag, newest first.
pub async fn with_tag(db: impl Executor<'_>, tag: &Tag, limit: i64) -> Result<Vec<PostRow>> {
    sqlx::query_as(
        "SELECT * FROM posts WHERE deleted_at IS NULL AND visibility = 'public'
           AND EXISTS (SELECT 1 FROM json_each(posts.tags_json) WHERE json_each.value = $1)
         ORDER BY published_at DESC, id DESC LIMIT $2",
    )
    .bind(tag)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

/// Points a post at a renamed source file; its slug and URL stay.
pub async fn set_source_path(db: impl Executor<'_>, id: i64, source_path: &str) -> Result<()> {
    sqlx::query("UPDATE posts SET source_path = $1 WHERE id = $2")
        .bind(source_path)
        .bind(id)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Every tag on a live post, sorted.
pub async fn all_tags(db: impl Executor<'_>) -> Result<Vec<Tag>> {
    sqlx::query_scalar(
        "SELECT DISTINCT json_each.value FROM posts, json_each(posts.tags_json)
         WHERE posts.deleted_at IS NULL AND posts.visibility = 'public' ORDER BY 1",
    )
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}
