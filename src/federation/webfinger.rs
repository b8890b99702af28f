//! WebFinger (RFC 7033) as a client: `acct:user@domain` → actor id, and for a known
//! actor the handle its WebFinger confirms. Every request goes through the hardened
//! fetcher (address policy, redirects, one deadline, a small body cap).
//!
//! A handle is believed only by the round trip Mastodon does
//! (`app/services/activitypub/process_account_service.rb`, `check_webfinger!`): the
//! actor's host answers for `preferredUsername@host` with this actor; if its `subject`
//! names another domain (a split domain: `@me@example.com` for an actor at
//! `social.example.com`), that domain's WebFinger must answer with the same actor.

use serde::Deserialize;
use url::Url;

use super::{
    Context,
    activities::Reach,
    fetch::{FetchError, Fetcher},
    remote_actor::RemoteActor,
};
use crate::{
    db,
    domain::{Acct, Mention},
    error::{AppError, AppResult},
};

/// Largest WebFinger document read (Mastodon's are well under 2 KiB).
pub const MAX_JRD_BYTES: usize = 64 * 1024;
/// What we ask for.
const ACCEPT_JRD: &str = "application/jrd+json, application/json";

/// Why an account or a handle could not be had.
#[derive(Debug, thiserror::Error)]
pub enum WebfingerError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("{0}: the WebFinger answer is not JSON we can read: {1}")]
    Malformed(Url, String),
    #[error("{0}: the WebFinger answer names no ActivityPub actor")]
    NoActor(Url),
    #[error("the WebFinger of {acct} names {found}, not {expected}")]
    OtherActor {
        acct: String,
        found: String,
        expected: String,
    },
}

impl WebfingerError {
    /// Whether asking again later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, Self::Fetch(e) if e.is_transient())
    }
}

/// What a domain's WebFinger says about an account.
#[derive(Debug, Clone)]
pub struct Finger {
    /// The account as the server names it (may be on another domain).
    pub subject: Option<Acct>,
    /// The `self` link: the ActivityPub actor.
    pub actor: Url,
}

#[derive(Deserialize)]
struct Jrd {
    subject: Option<String>,
    #[serde(default)]
    links: Vec<JrdLink>,
}

#[derive(Deserialize)]
struct JrdLink {
    rel: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    href: Option<String>,
}

/// The WebFinger URLs of `acct`, in the order tried: https, and plain http first only
/// where the address policy allows http (dev mode, `allowed_private_hosts`).
fn urls(fetcher: &Fetcher, acct: &Acct) -> Vec<Url> {
    let url = |scheme: &str| {
        let mut u = Url::parse(&format!(
            "{scheme}://{}/.well-known/webfinger",
            acct.domain()
        ))
        .ok()?;
        u.query_pairs_mut()
            .append_pair("resource", &format!("acct:{acct}"));
        Some(u)
    };
    let https = url("https");
    match url("http").filter(|u| fetcher.policy().check_url(u).is_ok()) {
        Some(http) => [Some(http), https].into_iter().flatten().collect(),
        None => https.into_iter().collect(),
    }
}

/// Asks `acct`'s domain who it is.
pub async fn lookup(fetcher: &Fetcher, acct: &Acct) -> Result<Finger, WebfingerError> {
    let mut last = None;
    for url in urls(fetcher, acct) {
        match fetcher.get_within(&url, ACCEPT_JRD, MAX_JRD_BYTES).await {
            Ok(fetched) => return parse(&url, &fetched.body),
            // The other scheme may answer where this one cannot connect.
            Err(e @ FetchError::Network { .. }) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(last
        .map(Into::into)
        .unwrap_or_else(|| WebfingerError::Fetch(FetchError::Refused(format!("{acct}: no URL")))))
}

fn parse(url: &Url, body: &[u8]) -> Result<Finger, WebfingerError> {
    let jrd: Jrd = serde_json::from_slice(body)
        .map_err(|e| WebfingerError::Malformed(url.clone(), e.to_string()))?;
    let is_ap = |t: &str| t == "application/activity+json" || t.starts_with("application/ld+json");
    let actor = jrd
        .links
        .iter()
        .filter(|l| l.rel.as_deref() == Some("self"))
        .filter(|l| l.kind.as_deref().is_none_or(is_ap))
        .find_map(|l| l.href.as_deref().and_then(|h| Url::parse(h).ok()))
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| WebfingerError::NoActor(url.clone()))?;
    Ok(Finger {
        subject: jrd.subject.as_deref().and_then(Acct::parse),
        actor,
    })
}

/// The handle `actor`'s WebFinger confirms for `username`, by the round trip: its
/// host answers with this actor, and a subject on another domain is answered for by
/// that domain with this actor too. Two requests at most.
pub async fn verified_handle(
    fetcher: &Fetcher,
    actor: &Url,
    username: &str,
) -> Result<Acct, WebfingerError> {
    let malformed =
        || WebfingerError::Malformed(actor.clone(), format!("`{username}` is no account name"));
    let first = Acct::on(username, actor).ok_or_else(malformed)?;
    let finger = lookup(fetcher, &first).await?;
    confirm(&first, &finger, actor)?;
    let subject = finger.subject.unwrap_or_else(|| first.clone());
    if subject.domain() == first.domain() {
        return Ok(if subject.same(&first) { subject } else { first });
    }
    let second = lookup(fetcher, &subject).await?;
    confirm(&subject, &second, actor)?;
    Ok(subject)
}

fn confirm(acct: &Acct, finger: &Finger, expected: &Url) -> Result<(), WebfingerError> {
    if &finger.actor == expected {
        return Ok(());
    }
    Err(WebfingerError::OtherActor {
        acct: acct.to_string(),
        found: finger.actor.to_string(),
        expected: expected.to_string(),
    })
}

/// Checks a stored actor's handle again if it was never checked or the check is older
/// than `[limits.fetch] handle_refresh_hours`, out of `reach`'s budget (two GETs at
/// most). Called where an actor's activity is applied, never on a page view; a failure
/// is logged and leaves the actor shown by `preferredUsername@host`.
pub async fn refresh_handle(ctx: &Context, reach: &Reach<'_>, actor: &Url) -> AppResult<()> {
    let Some(known) = RemoteActor::known(ctx, actor).await? else {
        return Ok(());
    };
    let Some(username) = known.username.as_deref() else {
        return Ok(());
    };
    let row = db::remote_actors::handle_of(ctx.db.read(), actor).await?;
    let now = db::now_ms();
    let refresh_ms = i64::from(ctx.handle_refresh_hours) * 3_600_000;
    if row.checked_at.is_some_and(|t| now - t < refresh_ms) {
        return Ok(());
    }
    if !(reach.take_fetch() && reach.take_fetch()) {
        tracing::info!(%actor, "handle not checked: the activity's fetch budget is spent");
        return Ok(());
    }
    let handle = match verified_handle(&ctx.fetcher, actor, username).await {
        Ok(h) => Some(h.to_string()),
        Err(e) if e.is_transient() => {
            tracing::info!(%actor, error = %e, "handle not checked now");
            row.handle
        }
        Err(e) => {
            tracing::info!(%actor, error = %e, "WebFinger does not confirm the actor's handle");
            None
        }
    };
    db::remote_actors::set_handle(ctx.db.write(), actor, handle.as_deref(), now).await?;
    Ok(())
}

impl From<WebfingerError> for AppError {
    fn from(e: WebfingerError) -> Self {
        match e {
            WebfingerError::Fetch(f) => f.into(),
            other => AppError::Remote {
                message: other.to_string(),
                transient: false,
                source: Box::new(other),
            },
        }
    }
}

/// The remote account `acct` names, for a mention: from the actors whose handle was
/// checked lately, else from a recent lookup (found or not), else by WebFinger, then
/// the actor fetched and its handle checked by the round trip. The account is believed
/// when its checked handle is `acct`, or when `acct` is on the actor's own host (its
/// web domain, where the handle is on a split domain). `keep`: lookups remembered.
pub async fn resolve_account(ctx: &Context, acct: &Acct, keep: u32) -> AppResult<Option<Mention>> {
    let now = db::now_ms();
    let since = now - i64::from(ctx.handle_refresh_hours) * 3_600_000;
    let key = acct.key();
    if let Some(row) = db::remote_actors::by_handle(ctx.db.read(), &key, since).await? {
        return Ok(Some(mention_of(&row)));
    }
    if let Some(seen) = db::remote_actors::account_lookup(ctx.db.read(), &key).await?
        && seen.checked_at >= since
    {
        let Some(id) = seen.actor_id.as_deref().and_then(|i| Url::parse(i).ok()) else {
            return Ok(None);
        };
        if let Some(row) = db::remote_actors::get(ctx.db.read(), &id).await? {
            return Ok(Some(mention_of(&row)));
        }
    }
    let found = match find_account(ctx, acct).await {
        Ok(found) => found,
        Err(e) => {
            tracing::info!(%acct, error = %e, "mentioned account not found");
            None
        }
    };
    let id = found.as_ref().map(|m| m.actor.as_str());
    db::remote_actors::record_account_lookup(ctx.db.write(), &key, id, now).await?;
    db::remote_actors::prune_account_lookups(ctx.db.write(), keep).await?;
    Ok(found)
}

async fn find_account(ctx: &Context, acct: &Acct) -> AppResult<Option<Mention>> {
    let finger = lookup(&ctx.fetcher, acct).await?;
    let actor = super::remote_actor::dereference(ctx, &finger.actor).await?;
    let Some(username) = actor.username.as_deref() else {
        return Ok(None);
    };
    let checked = verified_handle(&ctx.fetcher, &actor.id, username).await;
    let handle = checked.as_ref().ok().map(ToString::to_string);
    db::remote_actors::set_handle(ctx.db.write(), &actor.id, handle.as_deref(), db::now_ms())
        .await?;
    let believed = match &checked {
        Ok(h) => h.same(acct) || acct.domain() == crate::domain::host_key(&actor.id),
        Err(_) => false,
    };
    if !believed {
        return Ok(None);
    }
    Ok(db::remote_actors::get(ctx.db.read(), &actor.id)
        .await?
        .as_ref()
        .map(mention_of))
}

/// A mention of a stored actor: its checked handle (else `preferredUsername@host`),
/// linked to its profile page.
fn mention_of(row: &db::remote_actors::RemoteActorRow) -> Mention {
    let handle = row.handle.clone().unwrap_or_else(|| {
        format!(
            "{}@{}",
            row.username.as_deref().unwrap_or_default(),
            crate::domain::host_key(&row.id)
        )
    });
    Mention {
        actor: row.id.to_string(),
        name: format!("@{handle}"),
        url: row
            .profile_url
            .clone()
            .unwrap_or_else(|| row.id.to_string()),
    }
}
