//! The inbox: authenticate a signed POST, then dispatch its activity.
//!
//! Order of checks, cheapest first: signature header shape, Digest and Date (401),
//! JSON shape (400), then the signer's key, fetched by the activity's actor, must be
//! that actor's own (401). Only then does anything change.

use axum::http::StatusCode;
use url::Url;

use crate::{
    error::{AppError, AppResult},
    federation::{
        activities::{self, Incoming, delete, follow, undo},
        remote_actor::{self, RemoteActor},
        signatures::{self, CavageSignature, SignedRequest},
    },
    state::FedData,
};

/// Receives one activity. `target` is the author whose personal inbox was used
/// (`None` for the shared inbox); it must exist.
pub async fn receive(data: &FedData, req: SignedRequest<'_>) -> AppResult<StatusCode> {
    let now = chrono::Utc::now().timestamp();
    let (sig, signing_string) = signatures::prepare_verification(&req, now)?;
    let json: serde_json::Value = serde_json::from_slice(req.body)
        .map_err(|e| AppError::BadRequest(format!("malformed JSON: {e}")))?;
    let env = activities::envelope(&json)?;
    let incoming = activities::classify(&env)?;

    if let Incoming::DeleteActor = incoming {
        delete::receive_actor_delete(
            data,
            &env.actor,
            &sig.key_id,
            &signing_string,
            &sig.signature,
        )
        .await?;
        return Ok(StatusCode::ACCEPTED);
    }

    let sender = authenticate(data, &env.actor, &sig, &signing_string).await?;
    match incoming {
        Incoming::Follow(f) => follow::receive(data, &f, &sender).await?,
        Incoming::Undo(u) => undo::receive(data, &u).await?,
        Incoming::DeleteActor => {}
        Incoming::Other(kind) => {
            tracing::debug!(%kind, actor = %env.actor, "activity acknowledged and ignored")
        }
    }
    Ok(StatusCode::ACCEPTED)
}

/// Finds the activity's actor and checks that it owns the signing key and that the
/// signature verifies. A cached key that fails is refetched once (the key may have rotated).
async fn authenticate(
    data: &FedData,
    actor: &Url,
    sig: &CavageSignature,
    signing_string: &str,
) -> AppResult<RemoteActor> {
    let check = |a: &RemoteActor| -> AppResult<()> {
        let key = a.key(&sig.key_id).ok_or_else(|| {
            AppError::Unauthorized(format!(
                "the signing key {} is not a key of the actor {actor}",
                sig.key_id
            ))
        })?;
        signatures::verify_rsa_sha256(
            &key.pem,
            &sig.key_id,
            signing_string.as_bytes(),
            &sig.signature,
        )?;
        Ok(())
    };
    let cached = remote_actor::dereference(actor, data).await?;
    match check(&cached) {
        Ok(()) => Ok(cached),
        Err(first) => {
            // A fresh fetch is pointless if the cache was just filled.
            if (chrono::Utc::now() - cached.fetched_at).num_seconds() < 5 {
                return Err(first);
            }
            let fresh = remote_actor::refetch(actor, data).await?;
            check(&fresh)?;
            Ok(fresh)
        }
    }
}
