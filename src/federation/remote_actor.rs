//! Remote actors (followers, senders): fetched through `federation::fetch` (address
//! policy, redirects, size and time bounds, content-type and id checks), checked with
//! activitypub_federation's `Object::verify` shape, and cached in `remote_actors`.

use activitypub_federation::{
    protocol::verification::verify_domains_match,
    traits::{Actor, Object},
};
use async_trait::async_trait;
use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{
    db::{self, remote_actors::RemoteActorRow},
    domain::ActorKey,
    error::{AppError, AppResult},
    federation::{
        fetch,
        signatures::{PublicKey, RequestSignature, SignatureError},
    },
    state::{AppState, FedData},
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

#[async_trait]
impl Object for RemoteActor {
    type DataType = AppState;
    type Kind = RemoteActorJson;
    type Error = AppError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        Some(self.fetched_at)
    }

    async fn read_from_id(id: Url, data: &FedData) -> Result<Option<Self>, AppError> {
        if let Some(known) = data.actors.get(&id) {
            return Ok(Some(known));
        }
        let stored: Option<Self> = db::remote_actors::get(data.db.read(), &id)
            .await?
            .map(Into::into);
        if let Some(a) = &stored {
            data.actors.put(a);
        }
        Ok(stored)
    }

    async fn into_json(self, _data: &FedData) -> Result<RemoteActorJson, AppError> {
        Err(AppError::Internal(anyhow::anyhow!(
            "remote actors are not served"
        )))
    }

    async fn verify(
        json: &RemoteActorJson,
        expected_domain: &Url,
        _data: &FedData,
    ) -> Result<(), AppError> {
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

    async fn from_json(json: RemoteActorJson, data: &FedData) -> Result<Self, AppError> {
        let keys: Vec<ActorKey> = json
            .public_key
            .into_iter()
            .map(|k| ActorKey {
                id: k.id,
                pem: k.public_key_pem,
            })
            .collect();
        let now = db::now_ms();
        let row = RemoteActorRow {
            id: json.id,
            username: json.preferred_username,
            inbox: json.inbox,
            shared_inbox: json.endpoints.and_then(|e| e.shared_inbox),
            keys,
            fetched_at: now,
            name: json.name.as_ref().and_then(display_name),
            icon_url: json.icon.as_ref().and_then(link_of).map(String::from),
            profile_url: json.url.as_ref().and_then(link_of).map(String::from),
        };
        db::remote_actors::upsert(data.db.write(), &row).await?;
        let actor: Self = row.into();
        data.actors.put(&actor);
        Ok(actor)
    }
}

impl Actor for RemoteActor {
    fn public_key_pem(&self) -> &str {
        self.keys
            .first()
            .map(|k| k.pem.as_str())
            .unwrap_or_default()
    }

    fn private_key_pem(&self) -> Option<String> {
        None
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.shared_inbox.clone()
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

    /// The key in `pem`, parsed once.
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
pub async fn dereference(id: &Url, data: &FedData) -> Result<RemoteActor, AppError> {
    let cached = RemoteActor::read_from_id(id.clone(), data).await?;
    match cached {
        Some(a) if (Utc::now() - a.fetched_at).num_hours() < REFRESH_AFTER_HOURS => Ok(a),
        Some(a) => match refetch(id, data).await {
            Ok(fresh) => Ok(fresh),
            Err(e) => {
                tracing::info!(actor = %id, error = %e, "refresh failed; using the cached actor");
                Ok(a)
            }
        },
        None => refetch(id, data).await,
    }
}

/// Fetches the actor at `id` (through `federation::fetch`), checks it and caches it,
/// ignoring any cached copy (its key may have rotated).
pub async fn refetch(id: &Url, data: &FedData) -> Result<RemoteActor, AppError> {
    let json = fetch::get_json(data, id).await?;
    let actor: RemoteActorJson = serde_json::from_value(json).map_err(|e| {
        AppError::unauthorized(format!("{id} is not an actor document we can read: {e}"))
    })?;
    RemoteActor::verify(&actor, id, data).await?;
    RemoteActor::from_json(actor, data).await
}

/// Finds the actor (the activity's, or the key id's owner for a GET) and checks that it owns the signing key and that the
/// signature verifies. A cached key that fails is refetched once (the key may have rotated).
pub async fn authenticate(
    data: &FedData,
    actor: &Url,
    sig: &RequestSignature,
) -> AppResult<RemoteActor> {
    // A signer whose actor or key cannot be had is not authenticated (401).
    verify_signer(data, actor, sig)
        .await
        .map_err(AppError::remote_as_unauthorized)
}

async fn verify_signer(
    data: &FedData,
    actor: &Url,
    sig: &RequestSignature,
) -> AppResult<RemoteActor> {
    let check = |a: &RemoteActor| -> AppResult<()> {
        let key = a.key(&sig.key_id).ok_or_else(|| {
            AppError::unauthorized(format!(
                "the signing key {} is not a key of the actor {actor}",
                sig.key_id
            ))
        })?;
        sig.verify_with(&*data.actors.public_key(&key.id, &key.pem)?)?;
        Ok(())
    };
    let cached = dereference(actor, data).await?;
    match check(&cached) {
        Ok(()) => Ok(cached),
        Err(first) => {
            // A fresh fetch is pointless if the cache was just filled.
            if (chrono::Utc::now() - cached.fetched_at).num_seconds() < 5 {
                return Err(first);
            }
            let fresh = refetch(actor, data).await?;
            check(&fresh)?;
            Ok(fresh)
        }
    }
}
