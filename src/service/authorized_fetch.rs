//! Authorized fetch (Mastodon's "secure mode"): who signed a GET.

use axum::http::{HeaderMap, Method};
use url::Url;

use crate::{
    app::App,
    domain::{Handle, host_key},
    error::{AppError, AppResult},
    federation::{
        follower_sync,
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
    if let Ok(mut key_url) = Url::parse(&sig.key_id) {
        key_url.set_fragment(None);
        refuse_blocked(app, &key_url).await?;
    }
    let signer = signer::authenticate(app.fed(), None, &sig).await?;
    refuse_blocked(app, &signer.id).await?;
    Ok(signer)
}

/// FEP-8fcf's partial followers collection for a signed GET: only the signer's
/// server may ask (the signer's host must be `domain`, when named: 403 otherwise), and
/// it gets only the author's followers on its own origin. Unsigned: 401.
pub async fn partial_followers(
    app: &App,
    handle: &Handle,
    domain: Option<&str>,
    path_and_query: &str,
    headers: &HeaderMap,
) -> AppResult<serde_json::Value> {
    crate::service::read::author(app, handle).await?;
    let signer = signer(app, &Method::GET, path_and_query, headers).await?;
    let signer_host = host_key(&signer.id);
    if domain.is_some_and(|d| !d.eq_ignore_ascii_case(&signer_host)) {
        return Err(AppError::Forbidden(
            "this list is for the named domain's own server: sign with a key on that domain"
                .to_owned(),
        ));
    }
    let origin = follower_sync::origin(&signer.id);
    let json =
        follower_sync::collection(app.db(), app.uris(), handle, &origin, &signer_host).await?;
    Ok(json)
}

/// 403 if a block (configured or stored) covers `url` or its domain.
async fn refuse_blocked(app: &App, url: &Url) -> AppResult<()> {
    let configured = inbox::configured_blocks(&app.config().moderation)?;
    let blocked = inbox::blocked_among(app.db(), &configured, std::slice::from_ref(url)).await?;
    if blocked.is_empty() {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "the signer or its domain is blocked here".to_owned(),
        ))
    }
}
