use serde_json::Value;
use url::Url;

use super::{Envelope, id_of};
use crate::{db, error::AppResult, state::AppState};

/// `Undo{Follow}`: the object is the Follow, embedded or by id.
#[derive(Debug, Clone)]
pub struct Undo {
    pub actor: Url,
    pub follow_id: Option<Url>,
    /// Our actor that was followed, when the Follow is embedded.
    pub followed: Option<Url>,
}

impl Undo {
    /// `None` for an Undo of something other than a Follow (Like, Announce...).
    pub fn parse(env: &Envelope) -> AppResult<Option<Self>> {
        let Some(object) = &env.object else {
            return Ok(None);
        };
        match object {
            Value::Object(o) => {
                if o.get("type").and_then(Value::as_str) != Some("Follow") {
                    return Ok(None);
                }
                // Only the follower may undo their Follow.
                if o.get("actor")
                    .and_then(id_of)
                    .is_some_and(|a| a != env.actor)
                {
                    return Ok(None);
                }
                Ok(Some(Self {
                    actor: env.actor.clone(),
                    follow_id: o.get("id").and_then(id_of),
                    followed: o.get("object").and_then(id_of),
                }))
            }
            Value::String(_) => Ok(Some(Self {
                actor: env.actor.clone(),
                follow_id: id_of(object),
                followed: None,
            })),
            _ => Ok(None),
        }
    }
}

/// Removes the follow. Unknown follows are ignored: Undo is idempotent.
pub async fn receive(state: &AppState, undo: &Undo) -> AppResult<()> {
    let removed = match (&undo.followed, &undo.follow_id) {
        (Some(target), _) => match state.uris.handle_of_actor(target.as_str()) {
            Some(h) => db::followers::remove(&state.db, h.as_str(), undo.actor.as_str()).await?,
            None => 0,
        },
        (None, Some(follow_id)) => {
            db::followers::remove_by_follow_id(&state.db, undo.actor.as_str(), follow_id.as_str())
                .await?
        }
        (None, None) => 0,
    };
    if removed > 0 {
        tracing::info!(follower = %undo.actor, "unfollowed");
    }
    Ok(())
}
