use sqlx::{Row, any::AnyRow};

use super::types::Json;
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
    /// The handle WebFinger confirmed (`user@domain`); never written by [`upsert`].
    pub handle: Option<String>,
    /// When the account was made (ms): its `published`, else when first stored. To
    /// [`upsert`], the document's `published` (None: keep what is stored).
    pub created_at: Option<i64>,
}

impl sqlx::FromRow<'_, AnyRow> for RemoteActorRow {
    fn from_row(row: &AnyRow) -> sqlx::Result<Self> {
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
            handle: row.try_get("handle")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

pub async fn get(db: impl Executor<'_>, id: &Url) -> Result<Option<RemoteActorRow>> {
    sqlx::query_as("SELECT * FROM remote_actors WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

pub async fn upsert(db: impl Executor<'_>, a: &RemoteActorRow) -> Result<()> {
    sqlx::query(
        "INSERT INTO remote_actors (id, username, inbox, shared_inbox, keys_json, fetched_at,
            name, icon_url, profile_url, api_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11, $6))
         ON CONFLICT(id) DO UPDATE SET username = excluded.username, inbox = excluded.inbox,
            shared_inbox = excluded.shared_inbox, keys_json = excluded.keys_json,
            fetched_at = excluded.fetched_at, name = excluded.name,
            icon_url = excluded.icon_url, profile_url = excluded.profile_url,
            created_at = COALESCE($11, remote_actors.created_at, excluded.created_at)",
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
    .bind(api_hash(a.id.as_str()))
    .bind(a.created_at)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// The hash in a remote account's API id (`r.<hash>`): 20 hex digits of SHA-256 of
/// its actor id, stored beside the actor so the id leads back to it.
pub fn api_hash(actor_id: &str) -> String {
    crate::domain::hash_hex(&[actor_id.as_bytes()])[..20].to_owned()
}

/// The stored actor whose API id hash is `hash`.
pub async fn by_api_hash(db: impl Executor<'_>, hash: &str) -> Result<Option<RemoteActorRow>> {
    sqlx::query_as("SELECT * FROM remote_actors WHERE api_id = $1")
        .bind(hash)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// Fills in the API id hash of up to `batch` actors stored before it existed;
/// returns how many it filled.
pub async fn backfill_api_hashes(db: &super::Db, batch: i64) -> Result<usize> {
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT id FROM remote_actors WHERE api_id IS NULL LIMIT $1")
            .bind(batch)
            .fetch_all(db.write().inner())
            .await?;
    for id in &ids {
        sqlx::query("UPDATE remote_actors SET api_id = $1 WHERE id = $2")
            .bind(api_hash(id))
            .bind(id)
            .execute(db.write().inner())
            .await?;
    }
    Ok(ids.len())
}

/// Stored actors whose handle, username or name starts with `prefix` (any case).
pub async fn search(
    db: impl Executor<'_>,
    prefix: &str,
    limit: i64,
) -> Result<Vec<RemoteActorRow>> {
    let escaped = prefix
        .to_lowercase()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("{escaped}%");
    sqlx::query_as(
        "SELECT * FROM remote_actors
         WHERE lower(handle) LIKE $1 ESCAPE '\\' OR lower(username) LIKE $1 ESCAPE '\\'
            OR lower(name) LIKE $1 ESCAPE '\\'
         ORDER BY handle IS NULL, handle, id LIMIT $2",
    )
    .bind(pattern)
    .bind(limit)
    .fetch_all(db.inner())
    .await
    .map_err(Into::into)
}

pub async fn delete(db: impl Executor<'_>, id: &Url) -> Result<()> {
    sqlx::query("DELETE FROM remote_actors WHERE id = $1")
        .bind(id.as_str())
        .execute(db.inner())
        .await?;
    Ok(())
}

/// A remote actor's checked handle (`user@domain`, `None` when WebFinger did not
/// confirm one) and when it was checked (`None`: never).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct HandleCheck {
    pub handle: Option<String>,
    pub checked_at: Option<i64>,
}

pub async fn handle_of(db: impl Executor<'_>, id: &Url) -> Result<HandleCheck> {
    Ok(sqlx::query_as(
        "SELECT handle, handle_checked_at AS checked_at FROM remote_actors WHERE id = $1",
    )
    .bind(id.as_str())
    .fetch_optional(db.inner())
    .await?
    .unwrap_or_default())
}

pub async fn set_handle(
    db: impl Executor<'_>,
    id: &Url,
    handle: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE remote_actors SET handle = $1, handle_checked_at = $2 WHERE id = $3")
        .bind(handle)
        .bind(now)
        .bind(id.as_str())
        .execute(db.inner())
        .await?;
    Ok(())
}

/// The stored actor whose checked handle is `acct` (lower case), checked since `since`.
pub async fn by_handle(
    db: impl Executor<'_>,
    acct: &str,
    since: i64,
) -> Result<Option<RemoteActorRow>> {
    sqlx::query_as(
        "SELECT * FROM remote_actors WHERE lower(handle) = $1 AND handle_checked_at >= $2 LIMIT 1",
    )
    .bind(acct)
    .bind(since)
    .fetch_optional(db.inner())
    .await
    .map_err(Into::into)
}

/// What looking up an account by WebFinger found (`actor_id` `None`: nothing), and when.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AccountLookup {
    pub actor_id: Option<String>,
    pub checked_at: i64,
}

pub async fn account_lookup(db: impl Executor<'_>, acct: &str) -> Result<Option<AccountLookup>> {
    sqlx::query_as("SELECT actor_id, checked_at FROM account_lookups WHERE acct = $1")
        .bind(acct)
        .fetch_optional(db.inner())
        .await
        .map_err(Into::into)
}

/// Records a lookup; [`prune_account_lookups`] keeps the table bounded.
pub async fn record_account_lookup(
    db: impl Executor<'_>,
    acct: &str,
    actor_id: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO account_lookups (acct, actor_id, checked_at) VALUES ($1, $2, $3)
         ON CONFLICT(acct) DO UPDATE SET actor_id = $2, checked_at = $3",
    )
    .bind(acct)
    .bind(actor_id)
    .bind(now)
    .execute(db.inner())
    .await?;
    Ok(())
}

/// Keeps the `keep` newest lookups.
pub async fn prune_account_lookups(db: impl Executor<'_>, keep: u32) -> Result<()> {
    sqlx::query(
        "DELETE FROM account_lookups WHERE acct IN (
             SELECT acct FROM account_lookups ORDER BY checked_at DESC LIMIT 9223372036854775807 OFFSET $1)",
    )
    .bind(i64::from(keep))
    .execute(db.inner())
    .await?;
    Ok(())
}
