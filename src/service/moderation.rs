//! Blocks (from `config.toml` and `fedblog block`) and reply moderation.
//!
//! A blocked party's Follow is answered with Reject, its other activities are
//! dropped, and what it already left here (follows, replies, reactions) is purged.

use url::Url;

pub use crate::domain::BlockTarget;
use crate::{
    db::{self, outbox::Audience},
    domain::ReplyState,
    error::{AppError, AppResult},
    federation::{
        activities::{follow::Follow, follow::local_target, outgoing},
        remote_actor::RemoteActor,
    },
    state::AppState,
};

/// Which of `actors` a block in config.toml or in the database covers. Asked for every
/// round of inbox activities, so the database is asked once, and only about the
/// targets that could match: each actor and its host with each parent domain.
pub async fn blocked_among(
    state: &AppState,
    actors: &[Url],
) -> AppResult<std::collections::HashSet<Url>> {
    let m = &state.config.moderation;
    let configured = m
        .blocked_domains
        .iter()
        .chain(&m.blocked_actors)
        .map(|s| BlockTarget::parse(s))
        .collect::<Result<Vec<_>, _>>()?;
    let all: Vec<String> = actors.iter().flat_map(BlockTarget::candidates).collect();
    let stored: std::collections::HashSet<String> = db::blocks::which_of(state.db.read(), &all)
        .await?
        .into_iter()
        .collect();
    Ok(actors
        .iter()
        .filter(|a| {
            configured.iter().any(|t| t.matches(a))
                || BlockTarget::candidates(a)
                    .iter()
                    .any(|c| stored.contains(c))
        })
        .cloned()
        .collect())
}

/// Answers a blocked actor's Follow with Reject, queued like every delivery.
pub async fn reject_follow(
    state: &AppState,
    follow: &Follow,
    sender: &RemoteActor,
) -> AppResult<()> {
    let handle = local_target(state, &follow.object).await?;
    let reject = outgoing::reject(&state.uris, &handle, follow);
    let now = db::now_ms();
    let mut tx = state.db.begin().await?;
    db::followers::remove(&mut tx, &handle, sender.id.as_str()).await?;
    db::outbox::queue(&mut tx, &reject, Audience::Inbox(&sender.inbox), now).await?;
    tx.commit().await?;
    tracing::info!(author = %handle, actor = %sender.id, "follow from a blocked actor rejected");
    Ok(())
}

/// What a purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub actors: u64,
    pub follows: u64,
    pub replies: u64,
    pub reactions: u64,
}

/// Removes follows, replies and reactions of every actor the target covers.
pub async fn purge(state: &AppState, target: &BlockTarget) -> AppResult<Purged> {
    let actors: Vec<Url> = db::replies::known_actor_ids(state.db.write())
        .await?
        .into_iter()
        .filter(|a| target.matches(a))
        .collect();
    let mut purged = Purged::default();
    let mut tx = state.db.begin().await?;
    for actor in &actors {
        purged.actors += 1;
        purged.follows += db::followers::remove_actor(&mut tx, actor.as_str()).await?;
        purged.replies += db::replies::delete_of_actor(&mut tx, actor.as_str()).await?;
        purged.reactions += db::reactions::delete_of_actor(&mut tx, actor.as_str()).await?;
    }
    tx.commit().await?;
    Ok(purged)
}

/// `fedblog block`: records the block and purges what the target left.
pub async fn block(state: &AppState, target: &BlockTarget) -> AppResult<Purged> {
    db::blocks::add(
        state.db.write(),
        &target.as_string(),
        target.kind(),
        db::now_ms(),
    )
    .await?;
    purge(state, target).await
}

/// `fedblog unblock`; `false` if there was no such block in the database.
pub async fn unblock(state: &AppState, target: &BlockTarget) -> AppResult<bool> {
    Ok(db::blocks::remove(state.db.write(), &target.as_string()).await?)
}

/// Applies the config's blocks to what is stored (run at start: the config may have
/// gained a block since the last run).
pub async fn purge_config_blocks(state: &AppState) -> AppResult<Purged> {
    let m = &state.config.moderation;
    let mut total = Purged::default();
    for s in m.blocked_domains.iter().chain(&m.blocked_actors) {
        let p = purge(state, &BlockTarget::parse(s)?).await?;
        total.actors += p.actors;
        total.follows += p.follows;
        total.replies += p.replies;
        total.reactions += p.reactions;
    }
    Ok(total)
}

/// `fedblog comments approve|hide|delete <id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyAction {
    Approve,
    Hide,
    Delete,
}

pub async fn moderate_reply(state: &AppState, id: i64, action: ReplyAction) -> AppResult<()> {
    let found = match action {
        ReplyAction::Approve => {
            db::replies::set_state(state.db.write(), id, ReplyState::Visible).await?
        }
        ReplyAction::Hide => {
            db::replies::set_state(state.db.write(), id, ReplyState::Hidden).await?
        }
        ReplyAction::Delete => db::replies::delete(state.db.write(), id).await?,
    };
    if found {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "there is no reply {id}; `fedblog comments list` shows their numbers"
        )))
    }
}
