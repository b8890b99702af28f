//! The author's social graph in the client API: remote accounts by API id, follow and
//! unfollow (an outgoing Follow / Undo through the outbox), relationships, followers
//! and following lists, block (the same as `fedblog block`) and mute.

use url::Url;

use super::accounts::{self, Account};
use crate::{
    app::App,
    db::{self, following::FollowingRow, outbox::Audience, remote_actors::RemoteActorRow},
    domain::{BlockTarget, Handle},
    error::{AppError, AppResult},
    federation::{activities::following, remote_actor},
    inbox::{self as blocks},
    service::moderation,
};

fn not_found() -> AppError {
    AppError::NotFound("Record not found".into())
}

/// What an account id names: one of our authors or a stored remote actor.
pub enum Target {
    Local(Box<Account>),
    Remote(Box<RemoteActorRow>),
}

/// A remote account's API id: `r.` and the hash stored beside its actor.
pub async fn remote(app: &App, id: &str) -> AppResult<RemoteActorRow> {
    let hash = id.strip_prefix("r.").ok_or_else(not_found)?;
    if hash.len() != 20 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    db::remote_actors::by_api_hash(app.db().read(), hash)
        .await?
        .ok_or_else(not_found)
}

pub async fn target(app: &App, id: &str) -> AppResult<Target> {
    if id.starts_with("r.") {
        return Ok(Target::Remote(Box::new(remote(app, id).await?)));
    }
    Ok(Target::Local(Box::new(
        accounts::account_by_id(app, id).await?,
    )))
}

/// How the author and an account stand (Mastodon's Relationship).
#[derive(Debug, Clone, Default)]
pub struct Relationship {
    pub id: String,
    pub following: bool,
    pub requested: bool,
    pub followed_by: bool,
    pub blocking: bool,
    pub domain_blocking: bool,
    pub muting: bool,
}

/// The relationship with the account `id` (unknown ids: all false, as Mastodon does
/// for ids it cannot find among many).
pub async fn relationship(app: &App, author: &Handle, id: &str) -> AppResult<Relationship> {
    let mut r = Relationship {
        id: id.to_owned(),
        ..Relationship::default()
    };
    let Ok(actor) = remote(app, id).await else {
        return Ok(r);
    };
    let db = app.db().read();
    let actor_id = actor.id.as_str();
    let follow = db::following::get(db, author, actor_id).await?;
    r.following = follow.as_ref().is_some_and(FollowingRow::accepted);
    r.requested = follow.as_ref().is_some_and(|f| !f.accepted());
    r.followed_by = db::followers::is_follower(db, author, actor_id).await?;
    r.muting = db::following::is_muted(db, author, actor_id).await?;
    let configured = blocks::configured_blocks(&app.config().moderation)?;
    let covered = !blocks::blocked_among(app.db(), &configured, std::slice::from_ref(&actor.id))
        .await?
        .is_empty();
    let own = BlockTarget::Actor(actor.id.clone());
    r.blocking = covered
        && (configured.contains(&own)
            || !db::blocks::which_of(db, &[own.as_string()])
                .await?
                .is_empty());
    r.domain_blocking = covered && !r.blocking;
    Ok(r)
}

/// Follows a remote account: a pending follow and a Follow queued to its inbox, in
/// one transaction (delivered, retried, crash-safe by the outbox). Following again is
/// no new request.
pub async fn follow(app: &App, author: &Handle, id: &str) -> AppResult<Relationship> {
    let actor = followable(app, id).await?;
    let db = app.db();
    if db::following::get(db.write(), author, actor.id.as_str())
        .await?
        .is_none()
    {
        let limit = app.config().limits.timeline.following_per_author.get();
        if db::following::count(db.read(), author).await? >= i64::from(limit) {
            return Err(AppError::Unprocessable(format!(
                "an author follows at most {limit} accounts ([limits.timeline] following_per_author)"
            )));
        }
        // Where to send it: the actor as last fetched (refreshed when a day old).
        let fresh = remote_actor::dereference(app.fed(), &actor.id).await?;
        let now = db::now_ms();
        let activity = following::follow(app.uris(), author, &fresh.id, now);
        let row = FollowingRow {
            author: author.clone(),
            actor_id: fresh.id.to_string(),
            state: "pending".into(),
            follow_id: activity.ap_id.clone(),
            created_at: now,
        };
        let mut tx = db.begin().await?;
        if db::following::insert(&mut tx, &row).await? {
            db::outbox::queue(&mut tx, &activity, Audience::Inbox(&fresh.inbox), now).await?;
        }
        tx.commit().await?;
        tracing::info!(%author, account = %fresh.id, "follow requested");
    }
    relationship(app, author, id).await
}

/// A remote account that may be followed: not ours, not blocked.
async fn followable(app: &App, id: &str) -> AppResult<RemoteActorRow> {
    if !id.starts_with("r.") {
        accounts::account_by_id(app, id).await?;
        return Err(AppError::Unprocessable(
            "our authors cannot follow each other from an app".into(),
        ));
    }
    let actor = remote(app, id).await?;
    let configured = blocks::configured_blocks(&app.config().moderation)?;
    if !blocks::blocked_among(app.db(), &configured, std::slice::from_ref(&actor.id))
        .await?
        .is_empty()
    {
        return Err(AppError::Unprocessable(
            "the account or its domain is blocked; unblock it first".into(),
        ));
    }
    Ok(actor)
}

/// Stops following (or asking to follow): the follow is forgotten and an Undo{Follow}
/// queued, in one transaction.
pub async fn unfollow(app: &App, author: &Handle, id: &str) -> AppResult<Relationship> {
    let actor = remote(app, id).await?;
    stop_following(app, author, &actor).await?;
    relationship(app, author, id).await
}

async fn stop_following(app: &App, author: &Handle, actor: &RemoteActorRow) -> AppResult<()> {
    let db = app.db();
    let Some(row) = db::following::get(db.write(), author, actor.id.as_str()).await? else {
        return Ok(());
    };
    let undo = following::undo_follow(app.uris(), &row);
    let now = db::now_ms();
    let mut tx = db.begin().await?;
    db::following::remove(&mut tx, author, actor.id.as_str()).await?;
    db::outbox::queue(&mut tx, &undo, Audience::Inbox(&actor.inbox), now).await?;
    tx.commit().await?;
    tracing::info!(%author, account = %actor.id, "unfollowed");
    Ok(())
}

/// A block from an app is `fedblog block <actor URL>` (the whole server's block, with
/// its purge); the author's follow of the account ends with it.
pub async fn block(app: &App, author: &Handle, id: &str) -> AppResult<Relationship> {
    let actor = remote(app, id).await?;
    stop_following(app, author, &actor).await?;
    moderation::block(app, &BlockTarget::Actor(actor.id.clone())).await?;
    relationship(app, author, id).await
}

/// `fedblog unblock <actor URL>`.
pub async fn unblock(app: &App, author: &Handle, id: &str) -> AppResult<Relationship> {
    let actor = remote(app, id).await?;
    moderation::unblock(app, &BlockTarget::Actor(actor.id.clone())).await?;
    relationship(app, author, id).await
}

/// Mutes (per author): hidden from their notifications and home timeline.
pub async fn mute(app: &App, author: &Handle, id: &str) -> AppResult<Relationship> {
    let actor = remote(app, id).await?;
    let db = app.db();
    if !db::following::is_muted(db.write(), author, actor.id.as_str()).await? {
        let limit = app.config().limits.timeline.mutes_per_author.get();
        if db::following::mute_count(db.read(), author).await? >= i64::from(limit) {
            return Err(AppError::Unprocessable(format!(
                "an author mutes at most {limit} accounts ([limits.timeline] mutes_per_author)"
            )));
        }
        db::following::mute(db.write(), author, actor.id.as_str(), db::now_ms()).await?;
    }
    relationship(app, author, id).await
}

pub async fn unmute(app: &App, author: &Handle, id: &str) -> AppResult<Relationship> {
    let actor = remote(app, id).await?;
    db::following::unmute(app.db().write(), author, actor.id.as_str()).await?;
    relationship(app, author, id).await
}

/// One account of a followers or following list: the list's cursor, the actor's id
/// and its stored row when there is one.
pub type Listed = (i64, Url, Option<RemoteActorRow>);

/// A page of an account's followers (`followers == true`) or follows, newest first.
/// Remote accounts' lists are theirs to show: empty here.
pub async fn list(
    app: &App,
    id: &str,
    followers: bool,
    max_id: Option<i64>,
    limit: i64,
) -> AppResult<Vec<Listed>> {
    let handle = match target(app, id).await? {
        Target::Local(a) => a.author.handle,
        Target::Remote(_) => return Ok(Vec::new()),
    };
    let db = app.db().read();
    let rows = if followers {
        db::following::followers_page(db, &handle, max_id, limit).await?
    } else {
        db::following::page(db, &handle, max_id, limit).await?
    };
    let mut out = Vec::with_capacity(rows.len());
    for (cursor, actor_id) in rows {
        let Ok(url) = Url::parse(&actor_id) else {
            continue;
        };
        let row = db::remote_actors::get(db, &url).await?;
        out.push((cursor, url, row));
    }
    Ok(out)
}

/// How many accounts the author follows (accepted), for their Account.
pub async fn following_count(app: &App, author: &Handle) -> AppResult<i64> {
    Ok(db::following::accepted_count(app.db().read(), author).await?)
}
