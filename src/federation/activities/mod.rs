//! Incoming activities, one file each (wire type, checks, an idempotent receive), the
//! envelope every activity has and its sorting into [`Incoming`], and the builders
//! of the activities we send (`outgoing`). Which handler runs for which activity,
//! at the door or when processed, is the table in `inbox::dispatch`.

pub mod delete;
pub mod direct;
pub mod follow;
pub mod following;
pub mod home;
pub mod outgoing;
pub mod quote;
pub mod reaction;
pub mod reply;
pub mod undo;

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};

use serde_json::Value;
use url::Url;

use super::Context;
use crate::{domain::BlockList, error::AppError};

/// How far applying one activity may reach beyond our database: a budget of GETs (a
/// reply's object, its unknown parents and their authors), and no host a block covers.
pub struct Reach<'a> {
    blocks: &'a BlockList,
    fetches_left: AtomicU32,
    spent: AtomicBool,
}

impl<'a> Reach<'a> {
    pub fn new(blocks: &'a BlockList, fetches: u32) -> Self {
        Self {
            blocks,
            fetches_left: AtomicU32::new(fetches),
            spent: AtomicBool::new(false),
        }
    }

    /// Whether a block covers `url` (an object's id, its author).
    pub fn blocked(&self, url: &Url) -> bool {
        self.blocks.covers(url)
    }

    /// Takes one GET from the budget; `false` once it is spent.
    pub fn take_fetch(&self) -> bool {
        let took = self
            .fetches_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok();
        if !took {
            self.spent.store(true, Ordering::Relaxed);
        }
        took
    }

    /// Whether a GET was refused for want of budget.
    pub fn spent(&self) -> bool {
        self.spent.load(Ordering::Relaxed)
    }
}

/// What the inbox recognised in a request body.
#[derive(Debug)]
pub enum Incoming {
    Follow(follow::Follow),
    Undo(undo::Undo),
    /// Delete whose object is the actor itself: the account is gone.
    DeleteActor,
    /// Delete of an object (a reply), by its id.
    Delete(Url),
    /// Create or Update of an object (a reply), embedded or by id.
    Create(Value),
    Update(Value),
    /// Like (with or without an emoji), EmojiReact or Announce of an object, by its id.
    React(reaction::Reaction),
    /// FEP-044f: someone asks to quote one of our posts.
    QuoteRequest(quote::QuoteRequest),
    /// Accept or Reject of a Follow (ours: an author following someone).
    FollowAnswer(following::Answer),
    /// Any other valid activity: acknowledged, not acted upon.
    Other(String),
}

/// The fields every activity must have.
#[derive(Debug)]
pub struct Envelope {
    pub id: Option<Url>,
    pub kind: String,
    pub actor: Url,
    pub object: Option<Value>,
    /// A reaction's emoji (Misskey's `_misskey_reaction`, an `EmojiReact`'s `content`),
    /// when it is one we show.
    pub emoji: Option<crate::domain::Emoji>,
    /// What an activity is done with (a QuoteRequest's quoting post).
    pub instrument: Option<Value>,
}

fn bad(msg: impl Into<String>) -> AppError {
    AppError::BadRequest(msg.into())
}

/// The id of a value that is either a URL string or an object with an `id`.
pub fn id_of(v: &Value) -> Option<Url> {
    match v {
        Value::String(s) => Url::parse(s).ok(),
        Value::Object(o) => o
            .get("id")
            .and_then(Value::as_str)
            .and_then(|s| Url::parse(s).ok()),
        _ => None,
    }
}

/// Reads the envelope of an activity; anything not shaped like an activity is a 400.
pub fn envelope(json: &Value) -> Result<Envelope, AppError> {
    let obj = json
        .as_object()
        .ok_or_else(|| bad("the body must be a JSON object (an ActivityPub activity)"))?;
    let kind = obj
        .get("type")
        .and_then(|t| {
            t.as_str()
                .or_else(|| t.as_array().and_then(|a| a.first()).and_then(Value::as_str))
        })
        .ok_or_else(|| bad("the activity has no `type`"))?
        .to_owned();
    let actor = obj
        .get("actor")
        .ok_or_else(|| bad("the activity has no `actor`"))?;
    let actor =
        id_of(actor).ok_or_else(|| bad("`actor` must be a URL or an object with an `id`"))?;
    let id = match obj.get("id") {
        Some(v) => Some(id_of(v).ok_or_else(|| bad("`id` must be a URL"))?),
        None => None,
    };
    let emoji = reaction::is_reaction_type(&kind)
        .then(|| reaction::emoji_of(obj))
        .flatten();
    Ok(Envelope {
        id,
        kind,
        actor,
        object: obj.get("object").cloned(),
        emoji,
        instrument: obj.get("instrument").cloned(),
    })
}

/// Sorts an activity into the dispatch table.
pub fn classify(env: &Envelope) -> Result<Incoming, AppError> {
    Ok(match env.kind.as_str() {
        "Follow" => Incoming::Follow(follow::Follow::parse(env)?),
        "Undo" => match undo::Undo::parse(env)? {
            Some(u) => Incoming::Undo(u),
            None => Incoming::Other("Undo".into()),
        },
        "Delete" => match env.object.as_ref().and_then(id_of) {
            Some(object) if object == env.actor => Incoming::DeleteActor,
            Some(object) => Incoming::Delete(object),
            None => return Err(bad("a Delete needs an `object` with an id")),
        },
        "Create" | "Update" => {
            let object = env
                .object
                .clone()
                .filter(|o| id_of(o).is_some())
                .ok_or_else(|| bad(format!("a {} needs an `object` with an id", env.kind)))?;
            if env.kind == "Create" {
                Incoming::Create(object)
            } else {
                Incoming::Update(object)
            }
        }
        "Like" | "Announce" | "EmojiReact" => Incoming::React(reaction::Reaction::parse(env)?),
        "QuoteRequest" => Incoming::QuoteRequest(quote::QuoteRequest::parse(env)?),
        "Accept" | "Reject" => match following::Answer::parse(env) {
            Some(a) => Incoming::FollowAnswer(a),
            None => Incoming::Other(env.kind.clone()),
        },
        other => Incoming::Other(other.to_owned()),
    })
}

/// Our live post at `url`, if it is one.
pub async fn local_post(
    ctx: &Context,
    url: &Url,
) -> Result<Option<crate::db::posts::PostRow>, AppError> {
    let Some((handle, slug)) = ctx.uris.post_of(url.as_str()) else {
        return Ok(None);
    };
    Ok(crate::db::posts::by_slug(ctx.db.read(), &handle, &slug)
        .await?
        .filter(|p| p.deleted_at.is_none()))
}
