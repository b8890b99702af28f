//! Incoming activities, one file each (verify, then an idempotent receive), and the
//! builders of the activities we send.
//!
//! The dispatch table, in the order a reader meets them:
//! `Follow -> follow::receive`, `Undo{Follow} -> undo::receive`,
//! `Delete{actor} -> delete::receive_actor_delete`; every other type is acknowledged and ignored.

pub mod delete;
pub mod follow;
pub mod outgoing;
pub mod undo;

use serde_json::Value;
use url::Url;

use crate::error::AppError;

/// What the inbox recognised in a request body.
#[derive(Debug)]
pub enum Incoming {
    Follow(follow::Follow),
    Undo(undo::Undo),
    /// Delete whose object is the actor itself: the account is gone.
    DeleteActor,
    /// Any other valid activity: acknowledged, not acted upon (yet).
    Other(String),
}

/// The fields every activity must have.
#[derive(Debug)]
pub struct Envelope {
    pub id: Option<Url>,
    pub kind: String,
    pub actor: Url,
    pub object: Option<Value>,
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
    Ok(Envelope {
        id,
        kind,
        actor,
        object: obj.get("object").cloned(),
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
        "Delete" if env.object.as_ref().and_then(id_of).as_ref() == Some(&env.actor) => {
            Incoming::DeleteActor
        }
        other => Incoming::Other(other.to_owned()),
    })
}
