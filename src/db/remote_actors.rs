use super::{Executor, Result};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RemoteActorRow {
    pub id: String,
    pub username: Option<String>,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    pub keys_json: String,
    pub fetched_at: i64,
    /// Display name, avatar and profile page, shown beside replies and reactions.
    pub name: Option<String>,
    pub icon_url: Option<String>,
    pub profile_url: Option<String>,
}

pub async fn get(db: impl Executor<'_>, id: &str) -> Result<Option<RemoteActorRow>> {
    sqlx::query_as("SELECT * FROM remote_actors WHERE id = ?")
        .bind(id)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn upsert(db: impl Executor<'_>, a: &RemoteActorRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO remote_actors (id, username, inbox, shared_inbox, keys_json, fetched_at,
            name, icon_url, profile_url)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET username = excluded.username, inbox = excluded.inbox,
            shared_inbox = excluded.shared_inbox, keys_json = excluded.keys_json,
            fetched_at = excluded.fetched_at, name = excluded.name,
            icon_url = excluded.icon_url, profile_url = excluded.profile_url",
    )
    .bind(&a.id)
    .bind(&a.username)
    .bind(&a.inbox)
    .bind(&a.shared_inbox)
    .bind(&a.keys_json)
    .bind(a.fetched_at)
    .bind(&a.name)
    .bind(&a.icon_url)
    .bind(&a.profile_url)
    .execute(db.inner())
    .await?;
    Ok(())
}

pub async fn delete(db: impl Executor<'_>, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM remote_actors WHERE id = ?")
        .bind(id)
        .execute(db.inner())
        .await?;
    Ok(())
}
