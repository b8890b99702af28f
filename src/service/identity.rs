//! The author as an account: telling followers about profile changes, moving to
//! another account (Move, as Mastodon does) and replacing the key pair.

use anyhow::Context;
use url::Url;

use crate::{
    app::App,
    db::{self, outbox::Audience},
    domain::Handle,
    error::{AppError, AppResult},
    federation::{activities::outgoing, objects::actor::person, signatures},
};

/// Queues `Update{Person}` with the author's profile as stored now in `tx`, to every
/// follower. Returns the activity's row id and the deliveries queued.
pub async fn announce_profile(
    tx: &mut db::Tx,
    app: &App,
    handle: &Handle,
    now: i64,
) -> AppResult<(i64, u64)> {
    let row = db::authors::get(&mut *tx, handle)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no author `{handle}`")))?;
    let activity = outgoing::update_actor(
        app.uris(),
        handle,
        &person(&row, app.uris(), &app.config().attribution_domains),
        now,
    );
    Ok(db::outbox::queue(tx, &activity, Audience::Followers, now).await?)
}

/// What a move or a key rotation queued.
#[derive(Debug)]
pub struct Announced {
    pub activities: Vec<i64>,
    pub deliveries: u64,
}

/// Why a move cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum MoveError {
    #[error("`{0}` is neither @user@server nor an actor URL")]
    BadTarget(String),
    #[error("cannot look up {target}: {reason}")]
    Lookup { target: String, reason: String },
    #[error(
        "{target} does not list {ours} in its alsoKnownAs: on the new account add this blog's \
         address (@{handle}@{domain}) as an alias first (Mastodon: Preferences → Account → \
         Moving from a different account), then run the move again"
    )]
    NotAnAlias {
        target: String,
        ours: String,
        handle: Handle,
        domain: String,
    },
}

/// Resolves `@user@server` (WebFinger) or an actor URL to the target's actor id.
async fn resolve_target(app: &App, to: &str) -> Result<Url, MoveError> {
    let bad = || MoveError::BadTarget(to.to_owned());
    if let Ok(url) = Url::parse(to)
        && matches!(url.scheme(), "https" | "http")
    {
        return Ok(url);
    }
    let (user, host) = to
        .trim_start_matches('@')
        .split_once('@')
        .filter(|(u, h)| !u.is_empty() && !h.is_empty())
        .ok_or_else(bad)?;
    let wf = Url::parse(&format!(
        "{}://{host}/.well-known/webfinger?resource=acct:{user}@{host}",
        app.config().scheme()
    ))
    .map_err(|_| bad())?;
    let lookup = |reason: String| MoveError::Lookup {
        target: to.to_owned(),
        reason,
    };
    let fetched = app
        .fed()
        .fetcher
        .get(&wf, "application/jrd+json, application/json")
        .await
        .map_err(|e| lookup(e.to_string()))?;
    let jrd: serde_json::Value =
        serde_json::from_slice(&fetched.body).map_err(|e| lookup(format!("WebFinger: {e}")))?;
    jrd["links"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| {
            l["rel"] == "self"
                && l["type"]
                    .as_str()
                    .is_some_and(|t| t.contains("activity+json") || t.contains("ld+json"))
        })
        .and_then(|l| l["href"].as_str())
        .and_then(|h| Url::parse(h).ok())
        .ok_or_else(|| lookup("WebFinger has no ActivityPub self link".into()))
}

/// Moves `handle` to the account `to`: checks, as followers' servers will, that the
/// target lists this author in `alsoKnownAs`; then records `movedTo` and queues
/// `Update{Person}` and `Move` to every follower in one transaction.
pub async fn move_author(app: &App, handle: &Handle, to: &str) -> AppResult<Announced> {
    db::authors::get(app.db().write(), handle)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no author `{handle}`")))?;
    let ours = app.uris().actor(handle);
    let refuse = |e: MoveError| AppError::BadRequest(e.to_string());
    let target = resolve_target(app, to).await.map_err(refuse)?;
    let doc = app.fed().fetcher.get_json(&target).await.map_err(|e| {
        refuse(MoveError::Lookup {
            target: target.to_string(),
            reason: e.to_string(),
        })
    })?;
    let target_id = doc["id"].as_str().unwrap_or(target.as_str()).to_owned();
    let aliases: Vec<&str> = match &doc["alsoKnownAs"] {
        serde_json::Value::String(s) => vec![s.as_str()],
        serde_json::Value::Array(a) => a.iter().filter_map(|v| v.as_str()).collect(),
        _ => vec![],
    };
    if !aliases.contains(&ours.as_str()) {
        return Err(refuse(MoveError::NotAnAlias {
            target: target_id,
            ours,
            handle: handle.clone(),
            domain: app.config().domain.clone(),
        }));
    }
    let now = db::now_ms();
    let mut tx = app.db().begin().await?;
    db::authors::set_moved_to(&mut tx, handle, &target_id, now).await?;
    let (update, n1) = announce_profile(&mut tx, app, handle, now).await?;
    let activity = outgoing::move_to(app.uris(), handle, &target_id, now);
    let (moved, n2) = db::outbox::queue(&mut tx, &activity, Audience::Followers, now).await?;
    tx.commit().await?;
    tracing::info!(author = %handle, to = %target_id, "moved");
    Ok(Announced {
        activities: vec![update, moved],
        deliveries: n1 + n2,
    })
}

/// Gives `handle` a new key pair under the same key id and queues `Update{Person}`
/// with the new public key. Followers stay: servers that cached the old key refetch
/// the actor when a signature fails to verify, as Mastodon does.
pub async fn rotate_key(app: &App, handle: &Handle) -> AppResult<Announced> {
    db::authors::get(app.db().write(), handle)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no author `{handle}`")))?;
    let (public, private) = tokio::task::spawn_blocking(signatures::generate_keypair)
        .await
        .context("generating a key pair")??;
    let now = db::now_ms();
    let mut tx = app.db().begin().await?;
    db::authors::set_keys(&mut tx, handle, &public, &private, now).await?;
    let (update, n) = announce_profile(&mut tx, app, handle, now).await?;
    tx.commit().await?;
    tracing::info!(author = %handle, "key pair replaced");
    Ok(Announced {
        activities: vec![update],
        deliveries: n,
    })
}
