use sqlx::{Row, sqlite::SqliteRow, types::Json};
use url::Url;

use super::{Executor, Result, types::url};
use crate::domain::ActorKey;

/// A remote actor we fetched (a follower, a sender): where to deliver to it and the
/// keys it signs with.
#[derive(Debug, Clone)]
pub struct RemoteActorRow {
    pub id: Url,
    pub username: Option<String>,
    pub inbox: Url,
    pub shared_inbox: Option<Url>,
    pub keys: Vec<ActorKey>,
    pub fetched_at: i64,
    /// Display name, avatar and profile page, shown beside replies and reactions.
    pub name: Option<String>,
    pub icon_url: Option<String>,
    pub profile_url: Option<String>,
}

impl sqlx::FromRow<'_, SqliteRow> for RemoteActorRow {
    fn from_row(row: &SqliteRow) -> sqlx::Result<Self> {
        Ok(Self {
            id: url(row, "id")?,
            username: row.try_get("username")?,
            inbox: url(row, "inbox")?,
            shared_inbox: super::types::url_opt(row, "shared_inbox")?,
            keys: row.try_get::<Json<Vec<ActorKey>>, _>("keys_json")?.0,
            fetched_at: row.try_get("fetched_at")?,
            name: row.try_get("name")?,
            icon_url: row.try_get("icon_url")?,
            profile_url: row.try_get("profile_url")?,
        })
    }
}

pub async fn get(db: impl Executor<'_>, id: &Url) -> Result<Option<RemoteActorRow>> {
    sqlx::query_as("SELECT * FROM remote_actors WHERE id = ?")
        .bind(id.as_str())
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
    .bind(a.id.as_str())
    .bind(&a.username)
    .bind(a.inbox.as_str())
    .bind(a.shared_inbox.as_ref().map(Url::as_str))
    .bind(Json(&a.keys))
    .bind(a.fetched_at)
    .bind(&a.name)
    .bind(&a.icon_url)
    .bind(&a.profile_url)
    .execute(db.inner())
    .await?;
    Ok(())
}

pub async fn delete(db: impl Executor<'_>, id: &Url) -> Result<()> {
    sqlx::query("DELETE FROM remote_actors WHERE id = ?")
        .bind(id.as_str())
        .execute(db.inner())
        .await?;
    Ok(())
}
