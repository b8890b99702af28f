//! The one table from an incoming activity to what happens to it: what the door
//! checks before storing it ([`admit`]) and what the processor does with it
//! ([`apply`]). The wire types, their checks and the idempotent receive of each are
//! in `federation::activities`, one file each.
//!
//! | activity                     | at the door                 | when processed           |
//! |------------------------------|-----------------------------|--------------------------|
//! | Follow                       | 404 unless an author here   | `follow::receive` (Accept), or `follow::reject` if blocked |
//! | Undo{Follow, Like, EmojiReact, Announce} |                             | `undo::receive`          |
//! | Delete{the actor itself}     | `delete::receive_actor_delete`: unknown, nothing; known, the stored key or its URL's 404/410 | — |
//! | Create, Update, Delete{Note} |                             | `reply::receive_*`       |
//! | Like, EmojiReact, Announce   |                             | `reaction::receive`      |
//! | QuoteRequest                 |                             | `quote::receive_request` (Accept or Reject) |
//! | Accept, Reject{our Follow}   |                             | `following::receive_answer` |
//! | Create, Update, Delete of a followed account's status | | also `home::receive_*` |
//! | Create, Update, Delete of a direct message to an author | | also `direct::receive_*` |
//! | anything else                |                             | acknowledged, ignored    |
//!
//! An activity from a blocked actor or domain is dropped when processed; a Follow
//! is answered with Reject.

use url::Url;

use crate::{
    error::AppResult,
    federation::{
        Context,
        activities::{
            Incoming, Reach, delete, direct, follow, following, home, quote, reaction, reply, undo,
        },
        remote_actor,
        signatures::RequestSignature,
        webfinger,
    },
};

/// What the door does next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// Authenticate the signer and store the activity for the processor.
    Store,
    /// Already handled at the door: answer 202 and store nothing.
    Handled,
}

/// The checks that need no fetch, made at the door so the sender gets a clear status,
/// and the one activity handled there.
pub async fn admit(
    ctx: &Context,
    incoming: &Incoming,
    actor: &Url,
    sig: &RequestSignature,
) -> AppResult<Admission> {
    match incoming {
        // A Follow of someone who is not here is refused now (404), not after the 202.
        Incoming::Follow(f) => {
            follow::local_target(ctx, &f.object).await?;
            Ok(Admission::Store)
        }
        // The actor's key may already be gone: verified here against the key we hold,
        // or by the actor's URL answering 404/410; an actor we never knew costs nothing.
        Incoming::DeleteActor => {
            delete::receive_actor_delete(ctx, actor, sig).await?;
            Ok(Admission::Handled)
        }
        _ => Ok(Admission::Store),
    }
}

/// Applies one stored activity of `actor`; the text says what happened. `blocked`:
/// a block covers the actor; `reach`: what the handlers may fetch.
pub async fn apply(
    ctx: &Context,
    incoming: Incoming,
    actor: &Url,
    blocked: bool,
    reach: &Reach<'_>,
) -> AppResult<String> {
    if blocked {
        if let Incoming::Follow(f) = &incoming {
            let sender = remote_actor::dereference(ctx, actor).await?;
            follow::reject(ctx, f, &sender).await?;
            return Ok("follow rejected: the actor or its domain is blocked".into());
        }
        return Ok("dropped: the actor or its domain is blocked".into());
    }
    // Pages show who replied, reacted or follows by the handle WebFinger confirms:
    // checked here, off the page path, out of the same budget.
    let shown = matches!(
        incoming,
        Incoming::Follow(_) | Incoming::Create(_) | Incoming::React(_) | Incoming::QuoteRequest(_)
    );
    let done = match incoming {
        Incoming::Follow(f) => {
            let sender = remote_actor::dereference(ctx, actor).await?;
            follow::receive(ctx, &f, &sender).await?;
            Ok("follow accepted".into())
        }
        Incoming::Undo(u) => undo::receive(ctx, &u).await,
        Incoming::DeleteActor => Ok("actor deletions are applied when received".into()),
        Incoming::Delete(object) => home::beside(
            home::beside(
                reply::receive_delete(ctx, actor, &object).await,
                home::receive_delete(ctx, actor, &object).await,
            ),
            direct::receive_delete(ctx, actor, &object).await,
        ),
        Incoming::Create(object) => home::beside(
            home::beside(
                reply::receive_create(ctx, reach, actor, &object).await,
                home::receive_create(ctx, reach, actor, &object).await,
            ),
            direct::receive_create(ctx, reach, actor, &object).await,
        ),
        Incoming::Update(object) => home::beside(
            home::beside(
                reply::receive_update(ctx, reach, actor, &object).await,
                home::receive_update(ctx, reach, actor, &object).await,
            ),
            direct::receive_update(ctx, reach, actor, &object).await,
        ),
        Incoming::FollowAnswer(a) => following::receive_answer(ctx, &a).await,
        Incoming::React(r) => reaction::receive(ctx, &r).await,
        Incoming::QuoteRequest(q) => quote::receive_request(ctx, reach, &q).await,
        Incoming::Other(kind) => Ok(format!("ignored: {kind} is not acted upon")),
    }?;
    if shown {
        webfinger::refresh_handle(ctx, reach, actor).await?;
    }
    Ok(done)
}
