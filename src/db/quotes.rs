//! `quotes`: quotes of our posts, asked for (FEP-044f `QuoteRequest`) or not (Misskey's
//! `_misskey_quote`, `quoteUrl`), and the authorizations we gave for them.

use super::{Executor, Result};
use crate::domain::{Handle, QuoteState, Slug};

/// A quote as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct QuoteRow {
    pub id: i64,
    pub post_id: i64,
    pub quote_ap_id: String,
    pub actor_id: String,
    pub actor_inbox: Option<String>,
    pub request_id: Option<String>,
    pub token: String,
    pub url: Option<String>,
    pub content_html: String,
    pub state: QuoteState,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

/// A quote to record.
#[derive(Debug, Clone)]
pub struct NewQuote<'a> {
    pub post_id: i64,
    pub quote_ap_id: &'a str,
    pub actor_id: &'a str,
    pub actor_inbox: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub token: &'a str,
    pub url: Option<&'a str>,
    /// Sanitised.
    pub content_html: &'a str,
    pub state: QuoteState,
}

/// Records a quote, or moves a stored one to `q.state` (keeping its token); a revoked
/// one stays revoked, and an approval is not lowered to a plain listing.
pub async fn upsert(db: impl Executor<'_>, q: &NewQuote<'_>, now: i64) -> Result<QuoteRow> {
    sqlx::query_as(
        "INSERT INTO quotes (post_id, quote_ap_id, actor_id, actor_inbox, request_id, token, url,
            content_html, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT(post_id, quote_ap_id) DO UPDATE SET
            actor_inbox = COALESCE(excluded.actor_inbox, quotes.actor_inbox),
            request_id = COALESCE(excluded.request_id, quotes.request_id),
            url = COALESCE(excluded.url, quotes.url),
            content_html = excluded.content_html,
            state = CASE
                WHEN quotes.state = 'revoked' THEN quotes.state
                WHEN quotes.state = 'approved' AND excluded.state = 'listed' THEN quotes.state
                ELSE excluded.state END
         RETURNING *",
    )
    .bind(q.post_id)
    .bind(q.quote_ap_id)
    .bind(q.actor_id)
    .bind(q.actor_inbox)
    .bind(q.request_id)
    .bind(q.token)
    .bind(q.url)
    .bind(q.content_html)
    .bind(q.state)
    .bind(now)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn of_post_and_quote(
    db: impl Executor<'_>,
    post_id: i64,
    quote_ap_id: &str,
) -> Result<Option<QuoteRow>> {
    sqlx::query_as("SELECT * FROM quotes WHERE post_id = $1 AND quote_ap_id = $2")
        .bind(post_id)
        .bind(quote_ap_id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// Quotes stored for a post in any state (what `[limits.inbox] quotes_per_post` bounds).
pub async fn count_of_post(db: impl Executor<'_>, post_id: i64) -> Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM quotes WHERE post_id = $1")
        .bind(post_id)
        .fetch_one(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn by_token(db: impl Executor<'_>, token: &str) -> Result<Option<QuoteRow>> {
    sqlx::query_as("SELECT * FROM quotes WHERE token = $1")
        .bind(token)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn by_id(db: impl Executor<'_>, id: i64) -> Result<Option<QuoteRow>> {
    sqlx::query_as("SELECT * FROM quotes WHERE id = $1")
        .bind(id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// The approved quote by the quoting object's id or its QuoteRequest's.
pub async fn approved_by_ap_id(db: impl Executor<'_>, ap_id: &str) -> Result<Option<QuoteRow>> {
    sqlx::query_as(
        "SELECT * FROM quotes WHERE state = 'approved' AND (quote_ap_id = $1 OR request_id = $2)
         ORDER BY id LIMIT 1",
    )
    .bind(ap_id)
    .bind(ap_id)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// Removes the quotes made by a quoting object its author deleted (its
/// authorization then answers 404, as Mastodon's does once the quote is gone).
pub async fn delete_by_author(
    db: impl Executor<'_>,
    quote_ap_id: &str,
    actor_id: &str,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM quotes WHERE quote_ap_id = $1 AND actor_id = $2")
            .bind(quote_ap_id)
            .bind(actor_id)
            .execute(db.inner())
            .await?
            .rows_affected(),
    )
}

/// Marks an approved quote revoked; `false` if it was not approved.
pub async fn revoke(db: impl Executor<'_>, id: i64, now: i64) -> Result<bool> {
    Ok(sqlx::query(
        "UPDATE quotes SET state = 'revoked', revoked_at = $1 WHERE id = $2 AND state = 'approved'",
    )
    .bind(now)
    .bind(id)
    .execute(db.inner())
    .await?
    .rows_affected()
        > 0)
}

/// A quote as the post's page shows it: approved or listed, with its author.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShownQuote {
    pub id: i64,
    pub quote_ap_id: String,
    pub actor_id: String,
    pub url: Option<String>,
    pub content_html: String,
    pub created_at: i64,
    pub name: Option<String>,
    pub username: Option<String>,
    /// The handle WebFinger confirmed, when checked.
    pub handle: Option<String>,
    pub icon_url: Option<String>,
    pub profile_url: Option<String>,
}

/// The newest `limit` quotes shown on a post's page.
pub async fn shown_of_post(
    db: impl Executor<'_>,
    post_id: i64,
    limit: i64,
) -> Result<Vec<ShownQuote>> {
    sqlx::query_as(
        "SELECT q.id, q.quote_ap_id, q.actor_id, q.url, q.content_html, q.created_at,
                a.name, a.username, a.handle, a.icon_url, a.profile_url
         FROM quotes q LEFT JOIN remote_actors a ON a.id = q.actor_id
         WHERE q.post_id = $1 AND q.state IN ('approved', 'listed')
         ORDER BY q.created_at DESC, q.id DESC LIMIT $2",
    )
    .bind(post_id)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn count_shown(db: impl Executor<'_>, post_id: i64) -> Result<i64> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM quotes WHERE post_id = $1 AND state IN ('approved', 'listed')",
    )
    .bind(post_id)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

/// A quote with the post it quotes, for `fedblog quotes list`.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ListedQuote {
    #[sqlx(flatten)]
    pub quote: QuoteRow,
    pub author: Handle,
    pub slug: Slug,
}

/// The newest quotes, of one author's posts or of all.
pub async fn list(
    db: impl Executor<'_>,
    author: Option<&Handle>,
    limit: i64,
) -> Result<Vec<ListedQuote>> {
    sqlx::query_as(
        "SELECT q.*, p.author, p.slug FROM quotes q JOIN posts p ON p.id = q.post_id
         WHERE $1 IS NULL OR p.author = $1
         ORDER BY q.created_at DESC, q.id DESC LIMIT $2",
    )
    .bind(author)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}
