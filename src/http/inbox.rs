//! `POST /inbox` (shared) and `POST /@alice/inbox`: the inbox's door, and its count
//! for `/metrics`.

use axum::{
    extract::{Path, State},
    http::StatusCode,
};

use super::{error, extract::SignedRequest, handle_from_path};
use crate::{app::App, error::AppResult, inbox::Receipt, service::read};

/// The shared inbox: Mastodon delivers here when it can.
pub async fn shared_inbox(
    State(app): State<App>,
    req: SignedRequest,
) -> AppResult<(StatusCode, &'static str)> {
    receive(&app, &req).await
}

/// An author's own inbox; 404 if there is no such author.
pub async fn author_inbox(
    State(app): State<App>,
    Path(at_handle): Path<String>,
    req: SignedRequest,
) -> AppResult<(StatusCode, &'static str)> {
    let handle = handle_from_path(&at_handle)?;
    read::author(&app, &handle).await?;
    receive(&app, &req).await
}

/// Stores the activity (202), or recognises a replay (200); counts it by type and
/// answer.
async fn receive(app: &App, req: &SignedRequest) -> AppResult<(StatusCode, &'static str)> {
    let result = app
        .inbox()
        .receive(req.parts(app.config().scheme()))
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
