use url::Url;

use crate::{
    db,
    domain::host_key,
    error::AppResult,
    federation::{Context, remote_actor, signatures, signer},
};

/// A Delete of an actor by itself. Mastodon sends it after the account is gone, when
/// its URL already answers 410 and its key cannot be fetched. An actor we do not know
/// costs nothing: no fetch, nothing stored. One we know is removed when the signature
/// verifies against the key we hold (on the actor's host), or, failing that, when the
/// actor's URL answers 404 or 410 (asked once while a failure is remembered, within
/// the key-fetch budget); otherwise the request is acknowledged and nothing changes.
pub async fn receive_actor_delete(
    ctx: &Context,
    actor: &Url,
    sig: &signatures::RequestSignature,
) -> AppResult<bool> {
    let Some(held) = remote_actor::RemoteActor::known(ctx, actor).await? else {
        tracing::debug!(%actor, "ignored the Delete of an actor we do not know");
        return Ok(false);
    };
    let verified_with_held_key = held
        .key(&sig.key_id)
        .filter(|k| Url::parse(&k.id).is_ok_and(|u| host_key(&u) == host_key(actor)))
        .and_then(|k| ctx.actors.public_key(&k.id, &k.pem).ok())
        .is_some_and(|k| sig.verify_with(&k).is_ok());
    if !verified_with_held_key && !signer::is_gone(ctx, actor).await? {
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
