use serde_json::Value;
use url::Url;

use super::{
    Envelope, id_of,
    reaction::{self, ReactionKind},
};
use crate::{db, error::AppResult, federation::Context};

/// What an `Undo` takes back. Only its own actor's activities can be undone: the
/// handlers match on the signer as well as on the ids.
#[derive(Debug, Clone)]
pub enum Undo {
    Follow {
        actor: Url,
        follow_id: Option<Url>,
        /// Our actor that was followed, when the Follow is embedded.
        followed: Option<Url>,
    },
    Reaction {
        kind: ReactionKind,
        actor: Url,
        id: Option<Url>,
        object: Option<Url>,
        /// An emoji reaction's emoji.
        emoji: Option<crate::domain::Emoji>,
    },
    /// Only the undone activity's id was given: it may be a Follow, a Like or a boost.
    ById { actor: Url, id: Url },
}

impl Undo {
    /// `None` for an Undo of something we do not keep, or of another actor's activity.
    pub fn parse(env: &Envelope) -> AppResult<Option<Self>> {
        let Some(object) = &env.object else {
            return Ok(None);
        };
        let actor = env.actor.clone();
        match object {
            Value::Object(o) => {
                // Only the author of an activity may undo it.
                if o.get("actor")
                    .and_then(id_of)
                    .is_some_and(|a| a != env.actor)
                {
                    return Ok(None);
                }
                let id = o.get("id").and_then(id_of);
                let target = o.get("object").and_then(id_of);
                let kind = o.get("type").and_then(Value::as_str).unwrap_or_default();
                Ok(match kind {
                    "Follow" => Some(Self::Follow {
                        actor,
                        follow_id: id,
                        followed: target,
                    }),
                    _ => ReactionKind::from_activity_type(kind).map(|kind| Self::Reaction {
                        kind,
                        actor,
                        id,
                        object: target,
                        emoji: reaction::emoji_of(o),
                    }),
                })
            }
            Value::String(_) => Ok(id_of(object).map(|id| Self::ById { actor, id })),
            _ => Ok(None),
        }
    }
}

/// Takes the activity back. Unknown ones are ignored: Undo is idempotent.
pub async fn receive(ctx: &Context, undo: &Undo) -> AppResult<String> {
    match undo {
        Undo::Follow {
            actor,
            follow_id,
            followed,
        } => {
            let removed = unfollow(ctx, actor, follow_id.as_ref(), followed.as_ref()).await?;
            Ok(format!("follow undone ({removed} removed)"))
        }
        Undo::Reaction {
            kind,
            actor,
            id,
            object,
            emoji,
        } => {
            let what = (object.as_ref(), emoji.as_ref());
            reaction::undo(ctx, *kind, actor, id.as_ref(), what).await
        }
        Undo::ById { actor, id } => {
            let follows = unfollow(ctx, actor, Some(id), None).await?;
            let mut reactions = 0;
            for kind in [ReactionKind::Like, ReactionKind::Announce] {
                reactions += db::reactions::remove_by_ap_id(
                    ctx.db.write(),
                    kind,
                    id.as_str(),
                    actor.as_str(),
                )
                .await?;
            }
            Ok(format!(
                "undone by id ({follows} follows, {reactions} reactions removed)"
            ))
        }
    }
}

async fn unfollow(
    ctx: &Context,
    actor: &Url,
    follow_id: Option<&Url>,
    followed: Option<&Url>,
) -> AppResult<u64> {
    let removed = match (followed, follow_id) {
        (Some(target), _) => match ctx.uris.handle_of_actor(target.as_str()) {
            Some(h) => db::followers::remove(ctx.db.write(), &h, actor.as_str()).await?,
            None => 0,
        },
        (None, Some(follow_id)) => {
            db::followers::remove_by_follow_id(ctx.db.write(), actor.as_str(), follow_id.as_str())
                .await?
        }
        (None, None) => 0,
    };
    if removed > 0 {
        tracing::info!(follower = %actor, "unfollowed");
    }
    Ok(removed)
}
