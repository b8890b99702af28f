use url::Url;

use crate::{
    db,
    error::{AppError, AppResult},
    federation::{Context, fetch::FetchError, remote_actor, signatures},
};

/// A Delete of an actor by itself. Mastodon sends it after the account is gone, when
/// its URL already answers 410 and its key cannot be fetched. We act only when the
/// signature verifies against a key we already hold, or the actor's URL answers 410;
/// otherwise the request is acknowledged and nothing changes.
pub async fn receive_actor_delete(
    ctx: &Context,
    actor: &Url,
    sig: &signatures::RequestSignature,
) -> AppResult<bool> {
    let held = remote_actor::RemoteActor::known(ctx, actor).await?;
    let verified_with_held_key = held
        .and_then(|a| a.key(&sig.key_id).cloned())
        .and_then(|k| ctx.actors.public_key(&k.id, &k.pem).ok())
        .is_some_and(|k| sig.verify_with(&k).is_ok());
    let gone = if verified_with_held_key {
        false
    } else {
        match remote_actor::refetch(ctx, actor).await {
            Err(AppError::Remote { source, .. }) => {
                matches!(source.downcast_ref(), Some(FetchError::Gone(_)))
            }
            _ => false,
        }
    };
    if !(verified_with_held_key || gone) {
        tracing::info!(%actor, "ignored an actor Delete that could not be verified");
        return Ok(false);
    }
    let mut tx = ctx.db.begin().await?;
    let removed = db::followers::remove_actor(&mut tx, actor.as_str()).await?;
    let replies = db::replies::delete_of_actor(&mut tx, actor.as_str()).await?;
    let reactions = db::reactions::delete_of_actor(&mut tx, actor.as_str()).await?;
    db::remote_actors::delete(&mut tx, actor).await?;
    tx.commit().await?;
    ctx.actors.forget(actor);
    tracing::info!(%actor, removed, replies, reactions, "actor deleted; follows, replies and reactions removed");
    Ok(true)
}
