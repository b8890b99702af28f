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
    key_id: &str,
    signing_string: &str,
    signature: &[u8],
) -> AppResult<bool> {
    let held = db::remote_actors::get(&data.db, actor.as_str()).await?;
    let verified_with_held_key = held
        .map(remote_actor::RemoteActor::try_from)
        .transpose()?
        .and_then(|a| a.key(key_id).cloned())
        .is_some_and(|k| {
            signatures::verify_rsa_sha256(&k.pem, key_id, signing_string.as_bytes(), signature)
                .is_ok()
        });
    let gone = if verified_with_held_key {
        false
    } else {
        matches!(
            remote_actor::refetch(actor, data).await,
            Err(AppError::Federation(
                activitypub_federation::error::Error::ObjectDeleted(_)
            ))
        )
    };
    if !(verified_with_held_key || gone) {
        tracing::info!(%actor, "ignored an actor Delete that could not be verified");
        return Ok(false);
    }
    let mut tx = crate::service::begin(&data.db).await?;
    let removed = db::followers::remove_actor(&mut *tx, actor.as_str()).await?;
    db::remote_actors::delete(&mut *tx, actor.as_str()).await?;
    tx.commit().await?;
    tracing::info!(%actor, removed, "actor deleted; follows removed");
    Ok(true)
}
