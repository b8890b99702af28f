//! Blocks (from `config.toml` and `fedblog block`) and reply moderation.
//!
//! A blocked party's Follow is answered with Reject, its other activities are
//! dropped, and what it already left here (follows, replies, reactions) is purged.

use url::Url;

pub use crate::domain::BlockTarget;
use crate::{
    app::App,
    db,
    domain::ReplyState,
    error::{AppError, AppResult},
};

/// What a purge removed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Purged {
    pub actors: u64,
    pub follows: u64,
    pub replies: u64,
    pub reactions: u64,
}

/// Removes follows, replies and reactions of every actor the target covers.
pub async fn purge(app: &App, target: &BlockTarget) -> AppResult<Purged> {
    let actors: Vec<Url> = db::replies::known_actor_ids(app.db().write())
        .await?
        .into_iter()
        .filter(|a| target.matches(a))
        .collect();
    let mut purged = Purged::default();
    let mut tx = app.db().begin().await?;
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
pub async fn block(app: &App, target: &BlockTarget) -> AppResult<Purged> {
    db::blocks::add(
        app.db().write(),
        &target.as_string(),
        target.kind(),
        db::now_ms(),
    )
    .await?;
    purge(app, target).await
}

/// `fedblog unblock`; `false` if there was no such block in the database.
pub async fn unblock(app: &App, target: &BlockTarget) -> AppResult<bool> {
    Ok(db::blocks::remove(app.db().write(), &target.as_string()).await?)
}

/// Applies the config's blocks to what is stored (run at start: the config may have
/// gained a block since the last run).
pub async fn purge_config_blocks(app: &App) -> AppResult<Purged> {
    let m = &app.config().moderation;
    let mut total = Purged::default();
    for s in m.blocked_domains.iter().chain(&m.blocked_actors) {
        let p = purge(app, &BlockTarget::parse(s)?).await?;
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

pub async fn moderate_reply(app: &App, id: i64, action: ReplyAction) -> AppResult<()> {
    let found = match action {
        ReplyAction::Approve => {
            db::replies::set_state(app.db().write(), id, ReplyState::Visible).await?
        }
        ReplyAction::Hide => {
            db::replies::set_state(app.db().write(), id, ReplyState::Hidden).await?
        }
        ReplyAction::Delete => db::replies::delete(app.db().write(), id).await?,
    };
    if found {
        Ok(())
    } else {
        Err(AppError::NotFound(format!(
            "there is no reply {id}; `fedblog comments list` shows their numbers"
        )))
    }
}
