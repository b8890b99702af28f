//! Authorized fetch (Mastodon's "secure mode") and the instance actor that makes our
//! own fetches acceptable to servers running it.

use axum::http::{HeaderMap, Method};
use url::Url;

use crate::{
    db,
    error::{AppError, AppResult},
    federation::{
        remote_actor::{self, RemoteActor},
        signatures::{self, SignedRequest},
    },
    state::{AppState, FedData},
};

/// The instance actor's public key (the key pair is created on first use).
pub async fn instance_public_key(state: &AppState) -> AppResult<String> {
    state.instance_key().await?;
    db::instance_actor::get(state.db.read())
        .await?
        .map(|row| row.public_key_pem)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("the instance actor has no key")))
}

/// Authenticates a signed GET, verified as inbox POSTs are (draft-cavage or RFC 9421):
/// the key id, without its fragment, names the signing actor, which must publish that
/// key. Returns the signer.
pub async fn signer(
    data: &FedData,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
) -> AppResult<RemoteActor> {
    let req = SignedRequest {
        scheme: data.config.scheme(),
        method,
        path_and_query,
        headers,
        body: &[],
    };
    let sig = signatures::prepare_verification(&req, chrono::Utc::now().timestamp())?;
    let mut owner = Url::parse(&sig.key_id)
        .map_err(|_| AppError::unauthorized(format!("the key id `{}` is not a URL", sig.key_id)))?;
    owner.set_fragment(None);
    remote_actor::authenticate(data, &owner, &sig).await
}
