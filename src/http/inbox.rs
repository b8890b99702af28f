//! `POST /inbox` (shared) and `POST /@alice/inbox`: the inbox's door, and its count
//! for `/metrics`.

use std::net::{Ipv4Addr, SocketAddr};

use axum::{
    Extension,
    extract::{ConnectInfo, Path, State},
    http::StatusCode,
};

use super::{error, extract::SignedRequest, handle_from_path};
use crate::{app::App, error::AppResult, inbox::Receipt, service::read};

/// The shared inbox: Mastodon delivers here when it can.
pub async fn shared_inbox(
    State(app): State<App>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    req: SignedRequest,
) -> AppResult<(StatusCode, &'static str)> {
    receive(&app, peer, &req).await
}

/// An author's own inbox; 404 if there is no such author.
pub async fn author_inbox(
    State(app): State<App>,
    Path(at_handle): Path<String>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    req: SignedRequest,
) -> AppResult<(StatusCode, &'static str)> {
    let handle = handle_from_path(&at_handle)?;
    read::author(&app, &handle).await?;
    receive(&app, peer, &req).await
}

/// Stores the activity (202), or recognises a replay (200); counts it by type and
/// answer. `peer`: the TCP peer; a server that does not record it (an in-process
/// test harness) makes every sender one unspecified address.
async fn receive(
    app: &App,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    req: &SignedRequest,
) -> AppResult<(StatusCode, &'static str)> {
    let peer = peer.map_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), |p| p.0.0);
    let result = app
        .inbox()
        .receive(peer, req.parts(app.config().scheme()))
        .await
        .map(|receipt| match receipt {
            Receipt::Accepted => (StatusCode::ACCEPTED, "accepted"),
            Receipt::Duplicate => (StatusCode::OK, "already received; nothing changed"),
        });
    let status = match &result {
        Ok((status, _)) => *status,
        Err(e) => error::status(e),
    };
    app.metrics().inbox_activity(&req.body, status.as_u16());
    result
}
