use super::types::Json;

use super::{Executor, Result};
use crate::domain::{Handle, PostKind, ProfileField};

/// An author as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthorRow {
    pub handle: Handle,
    pub name: String,
    pub bio_html: String,
    #[sqlx(
        rename = "fields_json",
        try_from = "super::types::Json<Vec<ProfileField>>"
    )]
    pub fields: Vec<ProfileField>,
    pub avatar_file: Option<String>,
    pub avatar_media_type: Option<String>,
    pub default_kind: Option<PostKind>,
    pub public_key_pem: String,
    pub private_key_pem: String,
    pub profile_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub header_file: Option<String>,
    pub header_media_type: Option<String>,
    /// Actor ids of the author's other accounts (`alsoKnownAs`).
    #[sqlx(
        rename = "also_known_as_json",
        try_from = "super::types::Json<Vec<String>>"
    )]
    pub also_known_as: Vec<String>,
    /// The account the author moved to (`movedTo`), set by `fedblog move`.
    pub moved_to: Option<String>,
}

/// The profile part of an author, as read from `author.toml`.
#[derive(Debug, Clone)]
pub struct ProfileValues<'a> {
    pub name: &'a str,
    pub bio_html: &'a str,
    pub fields: &'a [ProfileField],
    pub avatar_file: Option<&'a str>,
    pub avatar_media_type: Option<&'a str>,
    pub header_file: Option<&'a str>,
    pub header_media_type: Option<&'a str>,
    pub default_kind: Option<PostKind>,
    pub also_known_as: &'a [String],
    pub profile_hash: &'a str,
}

pub async fn get(db: impl Executor<'_>, handle: &Handle) -> Result<Option<AuthorRow>> {
    sqlx::query_as("SELECT * FROM authors WHERE handle = $1")
        .bind(handle)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn list(db: impl Executor<'_>) -> Result<Vec<AuthorRow>> {
    sqlx::query_as("SELECT * FROM authors ORDER BY handle")
        .fetch_all(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn insert(
    db: impl Executor<'_>,
    handle: &Handle,
    p: &ProfileValues<'_>,
    public_key_pem: &str,
    private_key_pem: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO authors (handle, name, bio_html, fields_json, avatar_file, avatar_media_type,
            default_kind, public_key_pem, private_key_pem, profile_hash, created_at, updated_at,
            header_file, header_media_type, also_known_as_json)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(handle)
    .bind(p.name)
    .bind(p.bio_html)
    .bind(Json(p.fields))
    .bind(p.avatar_file)
    .bind(p.avatar_media_type)
    .bind(p.default_kind)
    .bind(public_key_pem)
    .bind(private_key_pem)
    .bind(p.profile_hash)
    .bind(now)
    .bind(now)
    .bind(p.header_file)
    .bind(p.header_media_type)
    .bind(Json(p.also_known_as))
    .execute(db.inner())
    .await?;
    Ok(())
}

pub async fn update_profile(
    db: impl Executor<'_>,
    handle: &Handle,
    p: &ProfileValues<'_>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE authors SET name = $1, bio_html = $2, fields_json = $3, avatar_file = $4,
            avatar_media_type = $5, default_kind = $6, profile_hash = $7, updated_at = $8,
            header_file = $9, header_media_type = $10, also_known_as_json = $11
         WHERE handle = $12",
    )
    .bind(p.name)
    .bind(p.bio_html)
    .bind(Json(p.fields))
    .bind(p.avatar_file)
    .bind(p.avatar_media_type)
    .bind(p.default_kind)
    .bind(p.profile_hash)
    .bind(now)
    .bind(p.header_file)
    .bind(p.header_media_type)
    .bind(Json(p.also_known_as))
    .bind(handle)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Records the account the author moved to.
pub async fn set_moved_to(
    db: impl Executor<'_>,
    handle: &Handle,
    target: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE authors SET moved_to = $1, updated_at = $2 WHERE handle = $3")
        .bind(target)
        .bind(now)
        .bind(handle)
        .execute(db.inner())
        .await?;
    Ok(())
}

/// Replaces the author's key pair (key rotation); the key id stays the same URL.
pub async fn set_keys(
    db: impl Executor<'_>,
    handle: &Handle,
    public_key_pem: &str,
    private_key_pem: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE authors SET public_key_pem = $1, private_key_pem = $2, updated_at = $3 WHERE handle = $4",
    )
    .bind(public_key_pem)
    .bind(private_key_pem)
    .bind(now)
    .bind(handle)
    .execute(db.inner())
    .await?;
    Ok(())
}
