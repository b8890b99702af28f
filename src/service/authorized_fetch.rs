//! Authorized fetch (Mastodon's "secure mode"): who signed a GET.

use axum::http::{HeaderMap, Method};
use url::Url;

use crate::{
    app::App,
    domain::BlockList,
    error::{AppError, AppResult},
    federation::{
        remote_actor::RemoteActor,
        signatures::{self, SignedRequest},
        signer,
    },
    inbox,
};

/// Authenticates a signed GET, verified as inbox POSTs are (draft-cavage or RFC 9421):
/// addressed to us, the key id resolved to an actor that lists that key (a key
/// document's `owner`, as GoToSocial's), neither blocked here (403). Returns the signer.
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
    let domain = app.uris().domain();
    if !signatures::is_addressed_to(headers, domain) {
        return Err(AppError::Misdirected(format!(
            "this server is {domain}; the request is addressed to another host (behind a proxy, pass the original Host)"
        )));
    }
    let sig = signatures::prepare_verification(&req, chrono::Utc::now().timestamp())?;
    // A blocked domain's key is not even fetched; a blocked actor is refused once known.
    let configured = inbox::configured_blocks(&app.config().moderation)?;
    let blocks = inbox::load_blocks(app.db(), &configured).await?;
    if let Ok(mut key_url) = Url::parse(&sig.key_id) {
        key_url.set_fragment(None);
        refuse_blocked(&blocks, &key_url)?;
    }
    let signer = signer::authenticate(app.fed(), None, &sig).await?;
    refuse_blocked(&blocks, &signer.id)?;
    Ok(signer)
}

/// 403 if a block (configured or stored) covers `url` or its domain.
fn refuse_blocked(blocks: &BlockList, url: &Url) -> AppResult<()> {
    if blocks.covers(url) {
        Err(AppError::Forbidden(
            "the signer or its domain is blocked here".to_owned(),
        ))
    } else {
        Ok(())
    }
}
