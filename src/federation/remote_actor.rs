//! Remote actors (followers, senders): fetched through `federation::fetch` (address
//! policy, redirects, size and time bounds, content-type and id checks), checked
//! (ids on their own host, keys owned by the actor), and cached in `remote_actors`
//! and in memory. A signer is authenticated in `federation::signer`, which stores
//! its actor here only once the signature verifies.

use std::{sync::Arc, time::Duration};

use activitypub_federation::protocol::verification::verify_domains_match;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    db::{self, remote_actors::RemoteActorRow},
    domain::{ActorKey, host_key},
    error::{AppError, AppResult},
    federation::{
        Context,
        signatures::{PublicKey, SignatureError},
    },
};

/// A remote actor as we keep it.
#[derive(Debug, Clone)]
pub struct RemoteActor {
    pub id: Url,
    pub username: Option<String>,
    pub inbox: Url,
    pub shared_inbox: Option<Url>,
    pub keys: Vec<ActorKey>,
    pub fetched_at: DateTime<Utc>,
}

impl RemoteActor {
    /// The published key with this id, if the actor owns it.
    pub fn key(&self, key_id: &str) -> Option<&ActorKey> {
        self.keys.iter().find(|k| k.id == key_id)
    }

    /// Its shared inbox, only if on its own host (a row stored before that rule may
    /// hold another): where deliveries to it go.
    pub fn shared_inbox(&self) -> Option<&Url> {
        self.shared_inbox
            .as_ref()
            .filter(|s| host_key(s) == host_key(&self.id))
    }

    /// Where deliveries to it go: its shared inbox, else its own.
    pub fn delivery_inbox(&self) -> &Url {
        self.shared_inbox().unwrap_or(&self.inbox)
    }
}

/// The parts of a remote actor document we read.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoteActorJson {
    pub id: Url,
    #[serde(rename = "type")]
    pub kind: String,
    pub preferred_username: Option<String>,
    pub inbox: Url,
    pub endpoints: Option<EndpointsJson>,
    #[serde(deserialize_with = "deserialize_keys", default)]
    pub public_key: Vec<KeyJson>,
    /// Display name; may be absent or empty.
    pub name: Option<serde_json::Value>,
    /// Avatar: an Image object, a list of them, or a URL.
    pub icon: Option<serde_json::Value>,
    /// Profile page: a URL, a Link, or a list of them.
    pub url: Option<serde_json::Value>,
    /// When the account was made (Mastodon sends the day, at midnight).
    pub published: Option<serde_json::Value>,
}

/// The first http(s) URL in a value shaped as a URL, a Link/Image (`href`/`url`) or a list.
pub fn link_of(v: &serde_json::Value) -> Option<Url> {
    use serde_json::Value;
    match v {
        Value::String(s) => Url::parse(s)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https")),
        Value::Array(items) => items.iter().find_map(link_of),
        Value::Object(o) => o.get("href").or_else(|| o.get("url")).and_then(link_of),
        _ => None,
    }
}

/// A display name as plain text, bounded so a hostile actor cannot flood a page.
fn display_name(v: &serde_json::Value) -> Option<String> {
    let name = v.as_str()?.trim();
    (!name.is_empty()).then(|| name.chars().take(100).collect())
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EndpointsJson {
    pub shared_inbox: Option<Url>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyJson {
    pub id: String,
    pub owner: Option<Url>,
    pub public_key_pem: String,
}

/// `publicKey` may be one key or several.
fn deserialize_keys<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<KeyJson>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(KeyJson),
        Many(Vec<KeyJson>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(k) => vec![k],
        OneOrMany::Many(v) => v,
    })
}

impl From<RemoteActorRow> for RemoteActor {
    fn from(r: RemoteActorRow) -> Self {
        Self {
            id: r.id,
            username: r.username,
            inbox: r.inbox,
            shared_inbox: r.shared_inbox,
            keys: r.keys,
            fetched_at: DateTime::from_timestamp_millis(r.fetched_at).unwrap_or_default(),
        }
    }
}

impl RemoteActor {
    /// The actor as this process last saw it: in memory, else in the database.
    pub async fn known(ctx: &Context, id: &Url) -> AppResult<Option<Self>> {
        if let Some(known) = ctx.actors.get(id) {
            return Ok(Some(known));
        }
        let stored: Option<Self> = db::remote_actors::get(ctx.db.read(), id)
            .await?
            .map(Into::into);
        if let Some(a) = &stored {
            ctx.actors.put(a);
        }
        Ok(stored)
    }

    /// Checks a fetched actor document: its id on the host we asked, its inbox on its
    /// own host, and every key it lists owned by it.
    pub(super) fn verify(json: &RemoteActorJson, expected_domain: &Url) -> AppResult<()> {
        // activitypub_federation's check: the same host (and scheme and port).
        let same_origin = |a: &Url, b: &Url| {
            verify_domains_match(a, b).map_err(|e| AppError::unauthorized(e.to_string()))
        };
        same_origin(&json.id, expected_domain)?;
        same_origin(&json.id, &json.inbox)?;
        for key in &json.public_key {
            if let Some(owner) = &key.owner
                && owner != &json.id
            {
                return Err(AppError::unauthorized(format!(
                    "key {} belongs to {owner}, not {}",
                    key.id, json.id
                )));
            }
        }
        Ok(())
    }

    /// Stores a verified actor document and keeps it in memory. A shared inbox on
    /// another host is dropped: strangers do not choose where we send.
    pub(super) async fn store(ctx: &Context, json: RemoteActorJson) -> AppResult<Self> {
        let keys: Vec<ActorKey> = json
            .public_key
            .into_iter()
            .map(|k| ActorKey {
                id: k.id,
                pem: k.public_key_pem,
            })
            .collect();
        let shared_inbox = json
            .endpoints
            .and_then(|e| e.shared_inbox)
            .filter(|s| host_key(s) == host_key(&json.id));
        let row = RemoteActorRow {
            id: json.id,
            username: json.preferred_username,
            inbox: json.inbox,
            shared_inbox,
            keys,
            fetched_at: db::now_ms(),
            name: json.name.as_ref().and_then(display_name),
            icon_url: json.icon.as_ref().and_then(link_of).map(String::from),
            profile_url: json.url.as_ref().and_then(link_of).map(String::from),
            handle: None,
            created_at: json
                .published
                .as_ref()
                .and_then(serde_json::Value::as_str)
                .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
                .map(|d| d.timestamp_millis()),
        };
        db::remote_actors::upsert(ctx.db.write(), &row).await?;
        let actor: Self = row.into();
        ctx.actors.put(&actor);
        Ok(actor)
    }
}

/// How long a remote actor read from the database is kept in memory. Another process
/// may change the row (rarely: only this server fetches actors), so not for long.
const KNOWN_FOR: Duration = Duration::from_secs(300);
/// Actors and parsed keys kept in memory: a few KiB each.
const KNOWN_ACTORS: u64 = 20_000;

/// Remote actors read recently and their parsed public keys, so that a storm of
/// activities from known senders costs neither a database read nor a key parse per
/// request. This process replaces an entry whenever it fetches or deletes the actor.
#[derive(Clone)]
pub struct KnownActors {
    actors: moka::sync::Cache<String, RemoteActor>,
    /// By PEM: a rotated key is a different entry, so none can go stale.
    keys: moka::sync::Cache<String, Arc<PublicKey>>,
    /// Key id -> actor, for keys that verified a signature (GoToSocial's key ids are
    /// not their actor's URL).
    owners: moka::sync::Cache<String, Url>,
}

impl Default for KnownActors {
    fn default() -> Self {
        Self {
            actors: moka::sync::Cache::builder()
                .max_capacity(KNOWN_ACTORS)
                .time_to_live(KNOWN_FOR)
                .build(),
            keys: moka::sync::Cache::builder()
                .max_capacity(KNOWN_ACTORS)
                .build(),
            owners: moka::sync::Cache::builder()
                .max_capacity(KNOWN_ACTORS)
                .time_to_live(KNOWN_FOR)
                .build(),
        }
    }
}

impl KnownActors {
    pub fn get(&self, id: &Url) -> Option<RemoteActor> {
        self.actors.get(id.as_str())
    }

    pub fn put(&self, actor: &RemoteActor) {
        self.actors.insert(actor.id.to_string(), actor.clone());
    }

    pub fn forget(&self, id: &Url) {
        self.actors.invalidate(id.as_str());
    }

    /// The actor whose key `key_id` verified a signature lately.
    pub fn owner_of(&self, key_id: &str) -> Option<Url> {
        self.owners.get(key_id)
    }

    /// Only after the key verified a signature.
    pub fn remember_owner(&self, key_id: &str, actor: &Url) {
        self.owners.insert(key_id.to_owned(), actor.clone());
    }

    /// The key in `pem` (of an actor we store: verified), parsed once.
    pub fn public_key(&self, key_id: &str, pem: &str) -> Result<Arc<PublicKey>, SignatureError> {
        if let Some(k) = self.keys.get(pem) {
            return Ok(k);
        }
        let key = Arc::new(
            PublicKey::from_pem(pem).map_err(|e| SignatureError::BadKey(key_id.to_owned(), e))?,
        );
        self.keys.insert(pem.to_owned(), key.clone());
        Ok(key)
    }
}

/// A cached actor older than this is fetched again when next needed.
const REFRESH_AFTER_HOURS: i64 = 24;

/// The actor at `id`, from the cache while it is fresh, else fetched. If a refresh
/// fails, the cached copy is used (the server may be briefly down).
pub async fn dereference(ctx: &Context, id: &Url) -> AppResult<RemoteActor> {
    let cached = RemoteActor::known(ctx, id).await?;
    match cached {
        Some(a) if (Utc::now() - a.fetched_at).num_hours() < REFRESH_AFTER_HOURS => Ok(a),
        Some(a) => match refetch(ctx, id).await {
            Ok(fresh) => Ok(fresh),
            Err(e) => {
                tracing::info!(actor = %id, error = %e, "refresh failed; using the cached actor");
                Ok(a)
            }
        },
        None => refetch(ctx, id).await,
    }
}

/// Fetches the actor at `id` (through `federation::fetch`), checks it and caches it,
/// ignoring any cached copy (its key may have rotated). Its document must say it is
/// `id`: one that names another actor (even on the same host) speaks for no one here.
pub async fn refetch(ctx: &Context, id: &Url) -> AppResult<RemoteActor> {
    let json = ctx.fetcher.get_json(id).await?;
    let actor: RemoteActorJson = serde_json::from_value(json).map_err(|e| {
        AppError::unauthorized(format!("{id} is not an actor document we can read: {e}"))
    })?;
    if &actor.id != id {
        return Err(AppError::unauthorized(format!(
            "{id} serves the actor {}; a document is believed only at its own id",
            actor.id
        )));
    }
    RemoteActor::verify(&actor, id)?;
    RemoteActor::store(ctx, actor).await
}
