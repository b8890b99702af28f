//! Our authors following remote accounts: the Follow and Undo{Follow} we send, and the
//! Accept or Reject that answers our Follow. An answer counts only from the account
//! we asked, naming our Follow (by its id, or embedded with our author and them).

use serde_json::{Value, json};
use url::Url;

use super::{Envelope, id_of};
use crate::{
    db::{self, following::FollowingRow, outbox::Outgoing},
    domain::{Handle, hash_hex},
    error::AppResult,
    federation::{Context, context},
    uris::Uris,
};

/// `Follow` of `target` by `handle`. The id is new for each follow (a follow after
/// an unfollow is a new request), derived from the account and the time.
pub fn follow(uris: &Uris, handle: &Handle, target: &Url, at_ms: i64) -> Outgoing {
    let digest = hash_hex(&[target.as_str().as_bytes()]);
    let ap_id = uris.activity(&format!("{handle}/follow/{}/{at_ms}", &digest[..16]));
    Outgoing {
        body: json!({
            "@context": context(),
            "id": ap_id,
            "type": "Follow",
            "actor": uris.actor(handle),
            "object": target,
            "to": [target],
        }),
        ap_id,
        author: handle.clone(),
        kind: "Follow",
    }
}

/// `Undo{Follow}`, embedding the Follow as Mastodon matches it.
pub fn undo_follow(uris: &Uris, row: &FollowingRow) -> Outgoing {
    let actor = uris.actor(&row.author);
    let ap_id = format!("{}#undo", row.follow_id);
    Outgoing {
        body: json!({
            "@context": context(),
            "id": ap_id,
            "type": "Undo",
            "actor": actor,
            "to": [row.actor_id],
            "object": {
                "id": row.follow_id, "type": "Follow", "actor": actor, "object": row.actor_id,
            },
        }),
        ap_id,
        author: row.author.clone(),
        kind: "Undo",
    }
}

/// An Accept or Reject whose object may be our Follow.
#[derive(Debug, Clone)]
pub struct Answer {
    pub accepted: bool,
    /// Who answers (the signer).
    pub actor: Url,
    /// The Follow's id, when given.
    pub follow_id: Option<Url>,
    /// The embedded Follow's actor and object, when embedded.
    pub follower: Option<Url>,
    pub followed: Option<Url>,
}

impl Answer {
    /// `None` when the object is not a Follow (an answer to something else).
    pub fn parse(env: &Envelope) -> Option<Self> {
        let object = env.object.as_ref()?;
        let accepted = env.kind == "Accept";
        let (follow_id, follower, followed) = match object {
            Value::Object(o) => {
                if o.get("type").and_then(Value::as_str) != Some("Follow") {
                    return None;
                }
                (
                    o.get("id").and_then(id_of),
                    o.get("actor").and_then(id_of),
                    o.get("object").and_then(id_of),
                )
            }
            other => (id_of(other), None, None),
        };
        Some(Self {
            accepted,
            actor: env.actor.clone(),
            follow_id,
            follower,
            followed,
        })
    }
}

/// Applies an answer to one of our Follows: Accept makes the follow accepted, Reject
/// removes it (also a follow accepted before: the account removed us).
pub async fn receive_answer(ctx: &Context, a: &Answer) -> AppResult<String> {
    let Some(row) = our_follow(ctx, a).await? else {
        return Ok(format!(
            "ignored: {} answers no Follow of ours to it",
            a.actor
        ));
    };
    if a.accepted {
        db::following::accept(ctx.db.write(), &row.follow_id).await?;
        tracing::info!(author = %row.author, account = %a.actor, "follow accepted");
        Ok(format!("{} accepted {}'s follow", a.actor, row.author))
    } else {
        db::following::remove_by_follow_id(ctx.db.write(), &row.follow_id).await?;
        tracing::info!(author = %row.author, account = %a.actor, "follow rejected");
        Ok(format!("{} rejected {}'s follow", a.actor, row.author))
    }
}

/// The follow the answer names, if it is ours and was sent to the answering actor.
async fn our_follow(ctx: &Context, a: &Answer) -> AppResult<Option<FollowingRow>> {
    // An embedded Follow must be between our author and the one answering.
    if a.followed.as_ref().is_some_and(|f| f != &a.actor) {
        return Ok(None);
    }
    let by_id = match &a.follow_id {
        Some(id) => db::following::by_follow_id(ctx.db.write(), id.as_str()).await?,
        None => None,
    };
    let row = match (by_id, &a.follower) {
        (Some(row), _) => Some(row),
        // Some servers answer with a Follow of their own making: matched by who.
        (None, Some(follower)) if a.followed.is_some() => {
            match ctx.uris.handle_of_actor(follower.as_str()) {
                Some(handle) => {
                    db::following::get(ctx.db.write(), &handle, a.actor.as_str()).await?
                }
                None => None,
            }
        }
        _ => None,
    };
    Ok(row.filter(|r| {
        r.actor_id == a.actor.as_str()
            && a.follower
                .as_ref()
                .is_none_or(|f| ctx.uris.handle_of_actor(f.as_str()).as_ref() == Some(&r.author))
    }))
}
