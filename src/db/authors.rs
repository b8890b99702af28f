use sqlx::SqliteExecutor;

/// An author as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthorRow {
    pub handle: String,
    pub name: String,
    pub bio_html: String,
    pub fields_json: String,
    pub avatar_file: Option<String>,
    pub avatar_media_type: Option<String>,
    pub default_kind: Option<String>,
    pub public_key_pem: String,
    pub private_key_pem: String,
    pub profile_hash: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub header_file: Option<String>,
    pub header_media_type: Option<String>,
}

/// The profile part of an author, as read from `author.toml`.
#[derive(Debug, Clone)]
pub struct ProfileValues<'a> {
    pub name: &'a str,
    pub bio_html: &'a str,
    pub fields_json: &'a str,
    pub avatar_file: Option<&'a str>,
    pub avatar_media_type: Option<&'a str>,
    pub header_file: Option<&'a str>,
    pub header_media_type: Option<&'a str>,
    pub default_kind: Option<&'a str>,
    pub profile_hash: &'a str,
}

pub async fn get(db: impl SqliteExecutor<'_>, handle: &str) -> sqlx::Result<Option<AuthorRow>> {
    sqlx::query_as("SELECT * FROM authors WHERE handle = ?")
        .bind(handle)
        .fetch_optional(db)
        .await
}

pub async fn list(db: impl SqliteExecutor<'_>) -> sqlx::Result<Vec<AuthorRow>> {
    sqlx::query_as("SELECT * FROM authors ORDER BY handle")
        .fetch_all(db)
        .await
}

pub async fn insert(
    db: impl SqliteExecutor<'_>,
    handle: &str,
    p: &ProfileValues<'_>,
    public_key_pem: &str,
    private_key_pem: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO authors (handle, name, bio_html, fields_json, avatar_file, avatar_media_type,
            default_kind, public_key_pem, private_key_pem, profile_hash, created_at, updated_at,
            header_file, header_media_type)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(handle)
    .bind(p.name)
    .bind(p.bio_html)
    .bind(p.fields_json)
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
    .execute(db)
    .await?;
    Ok(())
}

pub async fn update_profile(
    db: impl SqliteExecutor<'_>,
    handle: &str,
    p: &ProfileValues<'_>,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE authors SET name = ?, bio_html = ?, fields_json = ?, avatar_file = ?,
            avatar_media_type = ?, default_kind = ?, profile_hash = ?, updated_at = ?,
            header_file = ?, header_media_type = ?
         WHERE handle = ?",
    )
    .bind(p.name)
    .bind(p.bio_html)
    .bind(p.fields_json)
    .bind(p.avatar_file)
    .bind(p.avatar_media_type)
    .bind(p.default_kind)
    .bind(p.profile_hash)
    .bind(now)
    .bind(p.header_file)
    .bind(p.header_media_type)
    .bind(handle)
    .execute(db)
    .await?;
    Ok(())
}
