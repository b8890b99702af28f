//! One remote object, one status id. The inbox keeps a followed account's answer to
//! one of our posts twice: in `replies` (threads and notifications: `reply.<n>`) and
//! in `remote_statuses` (the home store: `s.<n>`). Wherever a stored remote status is
//! read, it is shown as that reply while the reply shows, so an app meets one status
//! (one id, one JSON, its `in_reply_to_id`), whichever id it was given.

use std::collections::{HashMap, HashSet};

use crate::{
    app::App,
    db::{self, replies::ShownReply, timeline::Key},
    domain::{Handle, ReplyState},
    error::AppResult,
};

use super::statuses::{Status, may_see};

/// `statuses` with each stored remote status that is also a reply `viewer` may see
/// replaced by that reply; the rest as they are, in the same order.
pub async fn as_replies(
    app: &App,
    viewer: Option<&Handle>,
    statuses: Vec<Status>,
) -> AppResult<Vec<Status>> {
    let ap_ids: Vec<&str> = statuses
        .iter()
        .filter_map(|s| match s {
            Status::Remote(r, _) => Some(r.ap_id.as_str()),
            _ => None,
        })
        .collect();
    if ap_ids.is_empty() {
        return Ok(statuses);
    }
    let db = app.db().read();
    let replies: Vec<ShownReply> = db::status_batch::replies_by_ap_id(db, &ap_ids)
        .await?
        .into_iter()
        .filter(|r| r.reply.state == ReplyState::Visible && r.reply.note_id.is_none())
        .collect();
    if replies.is_empty() {
        return Ok(statuses);
    }
    let post_ids: Vec<i64> = replies.iter().map(|r| r.reply.post_id).collect();
    let shown: HashSet<i64> = db::status_batch::posts(db, &post_ids)
        .await?
        .into_iter()
        .filter(|p| may_see(p, viewer))
        .map(|p| p.id)
        .collect();
    let by_ap_id: HashMap<String, ShownReply> = replies
        .into_iter()
        .filter(|r| shown.contains(&r.reply.post_id))
        .map(|r| (r.reply.ap_id.clone(), r))
        .collect();
    Ok(statuses
        .into_iter()
        .map(|s| match s {
            // The same author too: both stores believed it only from them.
            Status::Remote(r, a) => match by_ap_id.get(&r.ap_id) {
                Some(reply) if reply.reply.actor_id == r.actor_id => {
                    Status::Reply(Box::new(reply.clone()))
                }
                _ => Status::Remote(r, a),
            },
            other => other,
        })
        .collect())
}

/// Where the reply `n` sits in the home timeline: at its copy in the home store (so
/// `max_id=reply.<n>` pages on below it); None if it has none.
pub async fn key_of_reply(app: &App, n: i64) -> AppResult<Option<Key>> {
    let db = app.db().read();
    let Some(reply) = db::replies::by_id(db, n).await? else {
        return Ok(None);
    };
    Ok(db::timeline::by_ap_id(db, &reply.ap_id)
        .await?
        .filter(|s| s.actor_id == reply.actor_id)
        .map(|s| (s.published_at, 1, s.id)))
}
