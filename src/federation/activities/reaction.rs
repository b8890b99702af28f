//! `Like` and `Announce` (a boost) of our posts, and their Undo.

use url::Url;

use super::{Envelope, bad, id_of, local_post};
pub use crate::domain::ReactionKind;
use crate::{db, error::AppResult, federation::Context};

/// `{"type":"Like","id":..,"actor":..,"object":"<our post>"}`; Announce alike.
#[derive(Debug, Clone)]
pub struct Reaction {
    pub kind: ReactionKind,
    pub id: Option<Url>,
    pub actor: Url,
    pub object: Url,
}

impl Reaction {
    pub fn parse(env: &Envelope) -> AppResult<Self> {
        let kind = ReactionKind::from_activity_type(&env.kind)
            .ok_or_else(|| bad(format!("{} is not a Like or Announce", env.kind)))?;
        Ok(Self {
            kind,
            id: env.id.clone(),
            actor: env.actor.clone(),
            object: env
                .object
                .as_ref()
                .and_then(id_of)
                .ok_or_else(|| bad(format!("a {} needs an `object`", env.kind)))?,
        })
    }
}

/// Records the reaction if it is about one of our live posts.
pub async fn receive(ctx: &Context, r: &Reaction) -> AppResult<String> {
    let Some(post) = local_post(ctx, &r.object).await? else {
        return Ok(format!("ignored: {} is not one of our posts", r.object));
    };
    db::reactions::upsert(
        ctx.db.write(),
        r.kind,
        r.id.as_ref().map(Url::as_str),
        post.id,
        r.actor.as_str(),
        db::now_ms(),
    )
    .await?;
    Ok(format!("{} of {} recorded", r.kind.as_str(), r.object))
}

/// Removes a reaction: by its activity id, or by what it was about.
pub async fn undo(
    ctx: &Context,
    kind: ReactionKind,
    actor: &Url,
    id: Option<&Url>,
    object: Option<&Url>,
) -> AppResult<String> {
    let mut removed = match id {
        Some(id) => {
            db::reactions::remove_by_ap_id(ctx.db.write(), kind, id.as_str(), actor.as_str())
                .await?
        }
        None => 0,
    };
    if removed == 0
        && let Some(object) = object
        && let Some(post) = local_post(ctx, object).await?
    {
        removed = db::reactions::remove(ctx.db.write(), kind, post.id, actor.as_str()).await?;
    }
    Ok(format!("{} undone ({removed} removed)", kind.as_str()))
}
