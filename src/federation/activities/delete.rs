use url::Url;

use crate::{
    db,
    error::{AppError, AppResult},
    federation::{remote_actor, signatures},
    state::FedData,
};

/// A Delete of an actor by itself. Mastodon sends it after the account is gone, when
/// its URL already answers 410 and its key cannot be fetched. We act only when the
/// signature verifies against a key we already hold, or the actor's URL answers 410;
/// otherwise the request is acknowledged and nothing changes.
pub async fn receive_actor_delete(
    data: &FedData,
    actor: &Url,
    sig: &signatures::RequestSignature,
) -> AppResult<bool> {
    let held = db::remote_actors::get(&data.db, actor.as_str()).await?;
    let verified_with_held_key = held
        .map(remote_actor::RemoteActor::try_from)
        .transpose()?
        .and_then(|a| a.key(&sig.key_id).cloned())
        .is_some_and(|k| sig.verify(&k.pem).is_ok());
    let gone = if verified_with_held_key {
        false
    } else {
        matches!(
            remote_actor::refetch(actor, data).await,
            Err(AppError::Fetch(crate::federation::fetch::FetchError::Gone(
                _
            )))
        )
    };
    if !(verified_with_held_key || gone) {
        tracing::info!(%actor, "ignored an actor Delete that could not be verified");
        return Ok(false);
    }
    let mut tx = crate::service::begin(&data.db).await?;
    let removed = db::followers::remove_actor(&mut *tx, actor.as_str()).await?;
    let replies = db::replies::delete_of_actor(&mut *tx, actor.as_str()).await?;
    let reactions = db::reactions::delete_of_actor(&mut *tx, actor.as_str()).await?;
    db::remote_actors::delete(&mut *tx, actor.as_str()).await?;
    tx.commit().await?;
    tracing::info!(%actor, removed, replies, reactions, "actor deleted; follows, replies and reactions removed");
    Ok(true)
}
