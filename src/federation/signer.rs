//! Who signed a request, bound end to end: the key id names a key document; the
//! document is the actor, or a key whose `owner` is; that actor lists the key; and the
//! key's host and the actor's host agree (the activity id's host is checked against
//! the actor's at the door).
//!
//! Until the signature verifies, the signer is a stranger and may cost only a bounded
//! amount ([`KeyFetches`], `[limits.fetch]`): each document read for it is capped in
//! bytes and keys, counts against one budget per minute for the whole server, and a
//! URL that failed is not fetched again for a while (remembered by a keyed hash, in a
//! bounded cache). Nothing is stored, or remembered as known, until the signature
//! verifies with the key. A document whose `id` is not the URL asked for is fetched
//! once more at its id and believed only if that answers with the same id
//! (Mastodon's rule).

use std::{collections::hash_map::RandomState, hash::BuildHasher, sync::Arc, time::Duration};

use url::Url;

use super::{
    Context,
    fetch::FetchError,
    remote_actor::{RemoteActor, RemoteActorJson},
    signatures::{PublicKey, RequestSignature},
};
use crate::{
    config::FetchLimits,
    domain::host_key,
    error::{AppError, AppResult},
    metrics::Metrics,
};

/// How a URL failed, and so what a request that needs it again is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Not found, gone, or no usable key there: 401.
    Refused,
    /// Unreachable or failing: 503, later.
    Retry,
}

/// The bounds on fetching keys of unverified signers: the budget, the failures
/// remembered and the candidates kept. One per server.
pub struct KeyFetches {
    limits: FetchLimits,
    budget: governor::DefaultDirectRateLimiter,
    /// By a keyed hash of the URL: a fixed size per entry whatever the sender sends.
    failed: moka::sync::Cache<u64, Failure>,
    /// Actors fetched for a request that did not verify, kept (unverified, never as
    /// known) so the next request naming them is checked without another fetch; by a
    /// keyed hash of the URL fetched, bounded in bytes.
    candidates: moka::sync::Cache<u64, Arc<RemoteActorJson>>,
    hasher: RandomState,
    metrics: Arc<Metrics>,
}

impl KeyFetches {
    pub fn new(limits: &FetchLimits, metrics: Arc<Metrics>) -> Self {
        let per_minute = limits.key_fetches_per_minute;
        Self {
            limits: limits.clone(),
            budget: governor::RateLimiter::direct(
                governor::Quota::per_minute(per_minute).allow_burst(per_minute),
            ),
            failed: moka::sync::Cache::builder()
                .max_capacity(limits.negative_cache_entries.get().into())
                .time_to_live(Duration::from_secs(
                    limits.negative_cache_seconds.get().into(),
                ))
                .build(),
            candidates: moka::sync::Cache::builder()
                .max_capacity(limits.unverified_cache_bytes.get().into())
                .weigher(|_, actor| weight(actor))
                .time_to_live(Duration::from_secs(
                    limits.negative_cache_seconds.get().into(),
                ))
                .build(),
            hasher: RandomState::new(),
            metrics,
        }
    }

    fn retry_after(&self) -> u64 {
        u64::from(self.limits.negative_cache_seconds.get()).min(300)
    }

    fn unavailable(&self, message: String, source: Option<FetchError>) -> AppError {
        AppError::KeyUnavailable {
            message,
            retry_after: self.retry_after(),
            source: source.map(|e| Box::new(e) as _),
        }
    }

    fn remember(&self, url: &Url, failure: Failure) {
        if self.failed.entry_count() >= self.failed.policy().max_capacity().unwrap_or(u64::MAX) {
            // The oldest entries make room: a URL may then be fetched sooner.
            self.metrics
                .limit_tripped("limits.fetch.negative_cache_entries");
        }
        self.failed
            .insert(self.hasher.hash_one(url.as_str()), failure);
    }

    /// Keeps an actor fetched for a request that did not verify.
    fn keep(&self, slot: u64, actor: Arc<RemoteActorJson>) {
        let cap = self.candidates.policy().max_capacity().unwrap_or(u64::MAX);
        if self.candidates.weighted_size() + u64::from(weight(&actor)) > cap {
            // Older documents make room: naming one again may cost a fetch.
            self.metrics
                .limit_tripped("limits.fetch.unverified_cache_bytes");
        }
        self.candidates.insert(slot, actor);
    }

    /// Refuses a URL that failed recently, without fetching it.
    fn check(&self, url: &Url) -> AppResult<()> {
        match self.failed.get(&self.hasher.hash_one(url.as_str())) {
            None => Ok(()),
            Some(Failure::Refused) => Err(AppError::unauthorized(format!(
                "the signer's key at {url} could not be used recently; not fetched again yet"
            ))),
            Some(Failure::Retry) => Err(self.unavailable(
                format!("the signer's key at {url} failed recently; retry later"),
                None,
            )),
        }
    }

    /// One fetch from the budget, or 503.
    fn spend(&self) -> AppResult<()> {
        self.budget.check().map_err(|_| {
            self.metrics
                .limit_tripped("limits.fetch.key_fetches_per_minute");
            self.unavailable(
                "too many signers' keys fetched this minute; retry later".into(),
                None,
            )
        })
    }

    /// The largest document read for a signer.
    fn max_bytes(&self) -> usize {
        usize::try_from(self.limits.key_document_bytes.get()).unwrap_or(usize::MAX)
    }
}

/// What an unverified actor kept in memory weighs: its size as JSON.
fn weight(actor: &Arc<RemoteActorJson>) -> u32 {
    let bytes = serde_json::to_vec(&**actor).map_or(usize::MAX, |v| v.len());
    u32::try_from(bytes).unwrap_or(u32::MAX)
}

/// Authenticates a request's signer and returns it. `claimed`: the actor an inbox
/// activity names (its key must be that actor's); `None` for a signed GET (the key
/// id's owner signed). A known actor's key is tried first; otherwise, or when it does
/// not verify (the key may have rotated), the key is fetched within the bounds.
pub async fn authenticate(
    ctx: &Context,
    claimed: Option<&Url>,
    sig: &RequestSignature,
) -> AppResult<RemoteActor> {
    let key_url = key_url(&sig.key_id)?;
    if let Some(actor) = claimed
        && host_key(&key_url) != host_key(actor)
    {
        return Err(AppError::unauthorized(format!(
            "the signing key {} is not on the host of the actor {actor}",
            sig.key_id
        )));
    }
    let known_id = claimed
        .cloned()
        .or_else(|| ctx.actors.owner_of(&sig.key_id))
        .unwrap_or_else(|| key_url.clone());
    let known = RemoteActor::known(ctx, &known_id).await?;
    if let Some(actor) = &known
        && let Some(key) = actor.key(&sig.key_id)
    {
        if sig
            .verify_with(&*ctx.actors.public_key(&key.id, &key.pem)?)
            .is_ok()
        {
            ctx.actors.remember_owner(&sig.key_id, &actor.id);
            return Ok(actor.clone());
        }
        // A fresh fetch is pointless if the actor was fetched a moment ago.
        if (chrono::Utc::now() - actor.fetched_at).num_seconds() < 5 {
            return Err(AppError::unauthorized(format!(
                "the signature does not verify against the key {}",
                sig.key_id
            )));
        }
    }
    // Fetch the claimed actor (its document lists its keys), or what the key id names;
    // unless it was fetched a moment ago for a request that did not verify.
    let start = claimed.unwrap_or(&key_url);
    let guard = &ctx.key_fetches;
    let slot = guard.hasher.hash_one(start.as_str());
    let candidate = match guard.candidates.get(&slot) {
        Some(c) => c,
        None => Arc::new(fetch_actor(ctx, start).await?),
    };
    match check_candidate(ctx, &candidate, claimed, sig) {
        Ok(()) => guard.candidates.invalidate(&slot),
        Err(e) => {
            // The next request naming it is checked against it without a fetch.
            guard.keep(slot, candidate);
            return Err(e);
        }
    }
    // Verified: only now is the actor stored and its key remembered.
    let actor = RemoteActor::store(ctx, (*candidate).clone()).await?;
    ctx.actors.remember_owner(&sig.key_id, &actor.id);
    Ok(actor)
}

/// Whether a fetched actor is the claimed one, lists the signing key on its own host,
/// and that key (bounded in size) verifies the signature.
fn check_candidate(
    ctx: &Context,
    actor: &RemoteActorJson,
    claimed: Option<&Url>,
    sig: &RequestSignature,
) -> AppResult<()> {
    let key_id = &sig.key_id;
    if let Some(c) = claimed
        && &actor.id != c
    {
        return Err(AppError::unauthorized(format!(
            "the signing key {key_id} belongs to {}, not to the activity's actor {c}",
            actor.id
        )));
    }
    let listed = actor
        .public_key
        .iter()
        .find(|k| &k.id == key_id)
        .ok_or_else(|| {
            AppError::unauthorized(format!(
                "the signing key {key_id} is not a key of the actor {}",
                actor.id
            ))
        })?;
    if host_key(&key_url(&listed.id)?) != host_key(&actor.id) {
        return Err(AppError::unauthorized(format!(
            "the key {key_id} is not on the host of its actor {}",
            actor.id
        )));
    }
    let limits = &ctx.key_fetches.limits;
    if listed.public_key_pem.len() > limits.key_pem_bytes.get() as usize {
        ctx.key_fetches
            .metrics
            .limit_tripped("limits.fetch.key_pem_bytes");
        return Err(AppError::unauthorized(format!(
            "the key {key_id} is too long"
        )));
    }
    let key = PublicKey::from_pem(&listed.public_key_pem)
        .map_err(|e| AppError::unauthorized(format!("the key {key_id} cannot be used: {e}")))?;
    sig.verify_with(&key)?;
    Ok(())
}

/// The key id as a URL without its fragment: where its document is.
fn key_url(key_id: &str) -> AppResult<Url> {
    let mut url = Url::parse(key_id)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
        .ok_or_else(|| {
            AppError::unauthorized("the signature's key id is not an http(s) URL".to_owned())
        })?;
    url.set_fragment(None);
    Ok(url)
}

/// The actor behind `start` (the actor, or a key's own URL), fetched, checked and
/// bounded but not stored. A failure is remembered for `start`.
async fn fetch_actor(ctx: &Context, start: &Url) -> AppResult<RemoteActorJson> {
    let limits = &ctx.key_fetches.limits;
    let refuse = |message: String| {
        ctx.key_fetches.remember(start, Failure::Refused);
        AppError::unauthorized(message)
    };
    let doc = fetch_identified(ctx, start).await?;
    let (doc, at) = match key_owner(&doc) {
        // A key document (`{id, owner, publicKeyPem}`): its owner is the actor.
        Some(owner) if host_key(&owner) == host_key(start) => {
            (fetch_identified(ctx, &owner).await?, owner)
        }
        Some(owner) => {
            return Err(refuse(format!(
                "the key document {start} names an owner on another host ({owner})"
            )));
        }
        None => {
            let at = doc_id(&doc).unwrap_or_else(|| start.clone());
            (doc, at)
        }
    };
    let keys = doc
        .get("publicKey")
        .map_or(0, |k| k.as_array().map_or(1, Vec::len));
    if keys > limits.keys_per_actor.get() as usize {
        ctx.key_fetches
            .metrics
            .limit_tripped("limits.fetch.keys_per_actor");
        return Err(refuse(format!(
            "{at} lists {keys} keys; at most {} are read",
            limits.keys_per_actor
        )));
    }
    let actor: RemoteActorJson = serde_json::from_value(doc)
        .map_err(|e| refuse(format!("{at} is not an actor document we can read: {e}")))?;
    RemoteActor::verify(&actor, &at).map_err(|e| refuse(e.to_string()))?;
    Ok(actor)
}

/// A document's `id`, if it is a URL.
fn doc_id(doc: &serde_json::Value) -> Option<Url> {
    doc.get("id")
        .and_then(serde_json::Value::as_str)
        .and_then(|s| Url::parse(s).ok())
}

/// The owner of a key document (one with a `publicKeyPem` and an `owner` of its own,
/// and no inbox).
fn key_owner(doc: &serde_json::Value) -> Option<Url> {
    if doc.get("inbox").is_some() || doc.get("publicKeyPem").is_none() {
        return None;
    }
    doc.get("owner")
        .and_then(serde_json::Value::as_str)
        .and_then(|s| Url::parse(s).ok())
}

/// The document at `url`, believed only as what it says it is: one whose id differs
/// is fetched once more at its id, and must answer with that id. GoToSocial's key
/// URLs answer with a stub whose id is the actor, so this finds the actor.
async fn fetch_identified(ctx: &Context, url: &Url) -> AppResult<serde_json::Value> {
    let doc = fetch_bounded(ctx, url).await?;
    let id = doc_id(&doc);
    if id.as_ref() == Some(url) {
        return Ok(doc);
    }
    let Some(id) = id else {
        ctx.key_fetches.remember(url, Failure::Refused);
        return Err(AppError::unauthorized(format!("{url} has no id")));
    };
    let again = fetch_bounded(ctx, &id).await?;
    if doc_id(&again).as_ref() == Some(&id) {
        return Ok(again);
    }
    ctx.key_fetches.remember(url, Failure::Refused);
    Err(AppError::unauthorized(format!(
        "{url} says it is {id}, which does not say so itself"
    )))
}

/// One document for verifying a signer: unless it failed recently, within the budget
/// and the size cap. A failure is remembered: 401 if it is the document's fault,
/// 503 (retry later) if its server's.
async fn fetch_bounded(ctx: &Context, url: &Url) -> AppResult<serde_json::Value> {
    let guard = &ctx.key_fetches;
    guard.check(url)?;
    guard.spend()?;
    match ctx.fetcher.get_json_within(url, guard.max_bytes()).await {
        Ok(doc) => Ok(doc),
        // Our own failure (the instance key): no fault of the document, nothing shown.
        Err(e @ FetchError::Signing(_)) => Err(AppError::Internal(anyhow::Error::new(e))),
        Err(e) if e.is_transient() => {
            guard.remember(url, Failure::Retry);
            Err(guard.unavailable(
                format!("the signer's key cannot be fetched now: {e}"),
                Some(e),
            ))
        }
        Err(e) => {
            if matches!(e, FetchError::TooLarge(..)) {
                guard
                    .metrics
                    .limit_tripped("limits.fetch.key_document_bytes");
            }
            guard.remember(url, Failure::Refused);
            Err(AppError::Unauthorized {
                message: format!("the signer's key cannot be had: {e}"),
                source: Some(Box::new(e)),
            })
        }
    }
}

/// Whether the actor at `url` is gone (404 or 410), asked for an actor `Delete` whose
/// signature our stored key does not verify. Within the budget, and once per URL
/// while a failure is remembered: a stream of such Deletes costs one fetch.
pub async fn is_gone(ctx: &Context, url: &Url) -> AppResult<bool> {
    let guard = &ctx.key_fetches;
    // Apart from the keys' entries: asking says nothing of the actor's key.
    let slot = guard.hasher.hash_one(("gone?", url.as_str()));
    if guard.failed.contains_key(&slot) {
        return Ok(false);
    }
    guard.spend()?;
    let result = ctx.fetcher.get_json_within(url, guard.max_bytes()).await;
    guard.failed.insert(slot, Failure::Retry);
    Ok(match result {
        Err(FetchError::Gone(_)) => true,
        Err(FetchError::Status { status, .. }) => status == axum::http::StatusCode::NOT_FOUND,
        _ => false,
    })
}
