//! The client API's sign-in state: authors' passwords, registered apps, access
//! tokens, authorization codes, sign-in forms' CSRF tokens and failed sign-ins
//! (migration 0019). Secrets arrive here already hashed; each table is bounded by
//! expiry and the caps the service passes in.

use super::{Executor, Result};
use crate::domain::{Handle, RedirectUri, RedirectUris, Scopes};

// ---- passwords

pub async fn set_password(
    db: impl Executor<'_>,
    author: &Handle,
    hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO author_passwords (author, hash, updated_at) VALUES ($1, $2, $3)
         ON CONFLICT (author) DO UPDATE SET hash = excluded.hash, updated_at = excluded.updated_at",
    )
    .bind(author)
    .bind(hash)
    .bind(now)
    .execute(db.inner())
    .await?;
    Ok(())
}

pub async fn password_hash(db: impl Executor<'_>, author: &Handle) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT hash FROM author_passwords WHERE author = $1")
        .bind(author)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

// ---- apps

/// A registered app.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppRow {
    pub id: i64,
    pub client_id: String,
    pub secret_hash: String,
    pub name: String,
    pub website: Option<String>,
    #[sqlx(try_from = "String")]
    pub redirect_uris: RedirectUris,
    #[sqlx(try_from = "String")]
    pub scopes: Scopes,
    pub created_at: i64,
}

/// An app to register; `secret_hash` is the client secret's hash.
pub struct NewApp<'a> {
    pub client_id: &'a str,
    pub secret_hash: &'a str,
    pub name: &'a str,
    pub website: Option<&'a str>,
    pub redirect_uris: &'a RedirectUris,
    pub scopes: &'a Scopes,
}

pub async fn insert_app(db: impl Executor<'_>, app: &NewApp<'_>, now: i64) -> Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO oauth_apps (client_id, secret_hash, name, website, redirect_uris, scopes, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(app.client_id)
    .bind(app.secret_hash)
    .bind(app.name)
    .bind(app.website)
    .bind(app.redirect_uris.joined())
    .bind(app.scopes.to_string())
    .bind(now)
    .fetch_one(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn app_by_client_id(db: impl Executor<'_>, client_id: &str) -> Result<Option<AppRow>> {
    sqlx::query_as("SELECT * FROM oauth_apps WHERE client_id = $1")
        .bind(client_id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn app_by_id(db: impl Executor<'_>, id: i64) -> Result<Option<AppRow>> {
    sqlx::query_as("SELECT * FROM oauth_apps WHERE id = $1")
        .bind(id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// Keeps the apps table under `cap` before one more is registered: apps registered
/// before `stale_before` that hold no author's token go first (registrations nobody
/// signed in with). Returns how many apps remain.
pub async fn make_room_for_app(tx: &mut super::Tx, cap: i64, stale_before: i64) -> Result<i64> {
    sqlx::query(
        "DELETE FROM oauth_apps WHERE id IN (
             SELECT a.id FROM oauth_apps a
             WHERE a.created_at < $1
               AND NOT EXISTS (SELECT 1 FROM oauth_tokens t
                               WHERE t.app_id = a.id AND t.author IS NOT NULL)
             ORDER BY a.created_at
             LIMIT (SELECT CASE WHEN COUNT(*) - $2 + 1 > 0 THEN COUNT(*) - $2 + 1 ELSE 0 END
                    FROM oauth_apps))",
    )
    .bind(stale_before)
    .bind(cap)
    .execute((&mut *tx).inner())
    .await?;
    sqlx::query_scalar("SELECT COUNT(*) FROM oauth_apps")
        .fetch_one((&mut *tx).inner())
        .await
        .map_err(Into::into)
}

// ---- tokens

/// An access token as stored (its hash is the key).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub app_id: i64,
    /// `None`: the app's own token (client credentials).
    pub author: Option<Handle>,
    #[sqlx(try_from = "String")]
    pub scopes: Scopes,
    pub created_at: i64,
}

/// Stores a token. An author's tokens beyond `per_author` (the oldest first) and an
/// app's previous own token are removed, so the table stays bounded.
pub async fn insert_token(
    tx: &mut super::Tx,
    token_hash: &str,
    t: &TokenRow,
    per_author: i64,
) -> Result<()> {
    match &t.author {
        Some(author) => {
            sqlx::query(
                "DELETE FROM oauth_tokens WHERE token_hash IN (
                     SELECT token_hash FROM oauth_tokens WHERE author = $1
                     ORDER BY created_at DESC LIMIT 9223372036854775807 OFFSET $2)",
            )
            .bind(author)
            .bind((per_author - 1).max(0))
            .execute((&mut *tx).inner())
            .await?;
        }
        None => {
            sqlx::query("DELETE FROM oauth_tokens WHERE app_id = $1 AND author IS NULL")
                .bind(t.app_id)
                .execute((&mut *tx).inner())
                .await?;
        }
    }
    sqlx::query(
        "INSERT INTO oauth_tokens (token_hash, app_id, author, scopes, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(token_hash)
    .bind(t.app_id)
    .bind(&t.author)
    .bind(t.scopes.to_string())
    .bind(t.created_at)
    .execute((&mut *tx).inner())
    .await?;
    Ok(())
}

pub async fn token(db: impl Executor<'_>, token_hash: &str, now: i64) -> Result<Option<TokenRow>> {
    sqlx::query_as(
        "SELECT app_id, author, scopes, created_at FROM oauth_tokens
         WHERE token_hash = $1 AND (expires_at IS NULL OR expires_at > $2)",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// Removes a token if `app_id` issued it; whether one was removed.
pub async fn revoke_token(db: impl Executor<'_>, token_hash: &str, app_id: i64) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM oauth_tokens WHERE token_hash = $1 AND app_id = $2")
            .bind(token_hash)
            .bind(app_id)
            .execute(db.inner())
            .await?
            .rows_affected()
            > 0,
    )
}

// ---- authorization codes

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CodeRow {
    pub app_id: i64,
    pub author: Handle,
    #[sqlx(try_from = "String")]
    pub scopes: Scopes,
    #[sqlx(try_from = "String")]
    pub redirect_uri: RedirectUri,
    pub code_challenge: Option<String>,
    pub expires_at: i64,
}

/// Stores a code; expired ones go first, and past `cap` pending codes the oldest.
pub async fn insert_code(
    tx: &mut super::Tx,
    code_hash: &str,
    c: &CodeRow,
    now: i64,
    cap: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM oauth_codes WHERE expires_at <= $1")
        .bind(now)
        .execute((&mut *tx).inner())
        .await?;
    sqlx::query(
        "DELETE FROM oauth_codes WHERE code_hash IN (
             SELECT code_hash FROM oauth_codes ORDER BY expires_at DESC LIMIT 9223372036854775807 OFFSET $1)",
    )
    .bind((cap - 1).max(0))
    .execute((&mut *tx).inner())
    .await?;
    sqlx::query(
        "INSERT INTO oauth_codes (code_hash, app_id, author, scopes, redirect_uri, code_challenge, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(code_hash)
    .bind(c.app_id)
    .bind(&c.author)
    .bind(c.scopes.to_string())
    .bind(c.redirect_uri.as_str())
    .bind(&c.code_challenge)
    .bind(c.expires_at)
    .execute((&mut *tx).inner())
    .await?;
    Ok(())
}

/// Takes a code (single use): it is gone whether or not it is still valid.
pub async fn take_code(
    db: impl Executor<'_>,
    code_hash: &str,
    now: i64,
) -> Result<Option<CodeRow>> {
    let row: Option<CodeRow> = sqlx::query_as(
        "DELETE FROM oauth_codes WHERE code_hash = $1
         RETURNING app_id, author, scopes, redirect_uri, code_challenge, expires_at",
    )
    .bind(code_hash)
    .fetch_optional(db.inner())
    .await?;
    Ok(row.filter(|c| c.expires_at > now))
}

// ---- CSRF tokens of sign-in forms

/// Stores a form's CSRF token; expired ones go first, and past `cap` the oldest.
pub async fn insert_csrf(
    tx: &mut super::Tx,
    token_hash: &str,
    app_id: i64,
    expires_at: i64,
    (now, cap): (i64, i64),
) -> Result<()> {
    sqlx::query("DELETE FROM oauth_csrf WHERE expires_at <= $1")
        .bind(now)
        .execute((&mut *tx).inner())
        .await?;
    sqlx::query(
        "DELETE FROM oauth_csrf WHERE token_hash IN (
             SELECT token_hash FROM oauth_csrf ORDER BY expires_at DESC LIMIT 9223372036854775807 OFFSET $1)",
    )
    .bind((cap - 1).max(0))
    .execute((&mut *tx).inner())
    .await?;
    sqlx::query("INSERT INTO oauth_csrf (token_hash, app_id, expires_at) VALUES ($1, $2, $3)")
        .bind(token_hash)
        .bind(app_id)
        .bind(expires_at)
        .execute((&mut *tx).inner())
        .await?;
    Ok(())
}

/// Takes a form's CSRF token (single use); whether it was there, for this app, unexpired.
pub async fn take_csrf(
    db: impl Executor<'_>,
    token_hash: &str,
    app_id: i64,
    now: i64,
) -> Result<bool> {
    let expires: Option<(i64, i64)> =
        sqlx::query_as("DELETE FROM oauth_csrf WHERE token_hash = $1 RETURNING app_id, expires_at")
            .bind(token_hash)
            .fetch_optional(db.inner())
            .await?;
    Ok(expires.is_some_and(|(app, at)| app == app_id && at > now))
}

// ---- failed sign-ins

/// How many failures `subject` had since `since`, and when the oldest of them was.
pub async fn failures_since(
    db: impl Executor<'_>,
    subject: &str,
    since: i64,
) -> Result<(i64, Option<i64>)> {
    sqlx::query_as("SELECT COUNT(*), MIN(at) FROM login_failures WHERE subject = $1 AND at > $2")
        .bind(subject)
        .bind(since)
        .fetch_one(db.inner())
        .await
        .map_err(Into::into)
}

/// Records one failure against each subject, and forgets those before `forget_before`.
pub async fn record_failure(
    tx: &mut super::Tx,
    subjects: &[String],
    now: i64,
    forget_before: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM login_failures WHERE at <= $1")
        .bind(forget_before)
        .execute((&mut *tx).inner())
        .await?;
    for s in subjects {
        sqlx::query("INSERT INTO login_failures (subject, at) VALUES ($1, $2)")
            .bind(s)
            .bind(now)
            .execute((&mut *tx).inner())
            .await?;
    }
    Ok(())
}
