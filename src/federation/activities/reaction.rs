//! `Like` and `Announce` (a boost) of our posts, and their Undo; emoji reactions
//! (Misskey's `Like` with `_misskey_reaction`, Akkoma's and Pleroma's `EmojiReact`)
//! are likes with an emoji.

use serde_json::{Map, Value};
use url::Url;

use super::{Envelope, bad, id_of, local_post};
pub use crate::domain::ReactionKind;
use crate::{
    db::{self, reactions::NewReaction},
    domain::Emoji,
    error::AppResult,
    federation::Context,
};

/// Bytes of a reaction's text looked at; anything longer is no emoji.
const EMOJI_TEXT_BYTES: usize = 256;

/// `{"type":"Like","id":..,"actor":..,"object":"<our post>"}`; Announce alike.
#[derive(Debug, Clone)]
pub struct Reaction {
    pub kind: ReactionKind,
    pub id: Option<Url>,
    pub actor: Url,
    pub object: Url,
    /// A like's emoji, when it has one we show.
    pub emoji: Option<Emoji>,
}

/// Whether an activity of this type may carry an emoji.
pub fn is_reaction_type(kind: &str) -> bool {
    matches!(kind, "Like" | "EmojiReact")
}

/// The emoji of a reaction (`_misskey_reaction`, else `content`), if it is a Unicode
/// emoji or a `:shortcode:`; anything else (markup, text, a huge string) is dropped
/// and the reaction counts as a plain like. A custom emoji's image (its `tag`) is not
/// fetched: pages show the shortcode.
pub fn emoji_of(activity: &Map<String, Value>) -> Option<Emoji> {
    ["_misskey_reaction", "content"]
        .iter()
        .find_map(|k| activity.get(*k).and_then(Value::as_str))
        .filter(|s| s.len() <= EMOJI_TEXT_BYTES)
        .and_then(|s| Emoji::parse(s).ok())
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
            emoji: env.emoji.clone().filter(|_| kind == ReactionKind::Like),
        })
    }
}

/// Records the reaction if it is about one of our live posts.
pub async fn receive(ctx: &Context, r: &Reaction) -> AppResult<String> {
    let Some(post) = local_post(ctx, &r.object).await? else {
        return Ok(format!("ignored: {} is not one of our posts", r.object));
    };
    let new = NewReaction {
        kind: r.kind,
        ap_id: r.id.as_ref().map(Url::as_str),
        emoji: r.emoji.as_ref(),
    };
    db::reactions::upsert(ctx.db.write(), new, post.id, r.actor.as_str(), db::now_ms()).await?;
    Ok(match &r.emoji {
        Some(e) => format!("{} {e} of {} recorded", r.kind.as_str(), r.object),
        None => format!("{} of {} recorded", r.kind.as_str(), r.object),
    })
}

/// Removes a reaction: by its activity id, or by what it was about (an emoji
/// reaction only while that emoji is still the actor's).
pub async fn undo(
    ctx: &Context,
    kind: ReactionKind,
    actor: &Url,
    id: Option<&Url>,
    (object, emoji): (Option<&Url>, Option<&Emoji>),
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
        removed = match emoji {
            Some(e) => {
                db::reactions::remove_emoji(ctx.db.write(), post.id, actor.as_str(), e).await?
            }
            None => db::reactions::remove(ctx.db.write(), kind, post.id, actor.as_str()).await?,
        };
    }
    Ok(format!("{} undone ({removed} removed)", kind.as_str()))
}
