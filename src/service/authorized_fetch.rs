//! Authorized fetch (Mastodon's "secure mode"): who signed a GET.

use axum::http::{HeaderMap, Method};
use url::Url;

use crate::{
    app::App,
    error::{AppError, AppResult},
    federation::{
        remote_actor::{self, RemoteActor},
        signatures::{self, SignedRequest},
    },
};

/// Authenticates a signed GET, verified as inbox POSTs are (draft-cavage or RFC 9421):
/// the key id, without its fragment, names the signing actor, which must publish that
/// key. Returns the signer.
pub async fn signer(
    app: &App,
    method: &Method,
    path_and_query: &str,
    headers: &HeaderMap,
) -> AppResult<RemoteActor> {
    let req = SignedRequest {
        scheme: app.config().scheme(),
        method,
        path_and_query,
        headers,
        body: &[],
    };
    let sig = signatures::prepare_verification(&req, chrono::Utc::now().timestamp())?;
    let mut owner = Url::parse(&sig.key_id)
        .map_err(|_| AppError::unauthorized(format!("the key id `{}` is not a URL", sig.key_id)))?;
    owner.set_fragment(None);
    remote_actor::authenticate(app.fed(), &owner, &sig).await
}
