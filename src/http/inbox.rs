//! `POST /inbox` (shared) and `POST /@alice/inbox`.

use axum::{
    body::Bytes,
    extract::{Path, State},
    http::{HeaderMap, Method, StatusCode, Uri},
};

use super::handle_from_path;
use crate::{
    error::AppResult,
    federation::signatures::SignedRequest,
    service::{inbox, read},
    state::{Federation, Site},
};

/// The shared inbox: Mastodon delivers here when it can.
pub async fn shared_inbox(
    State(fed): State<Site>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<(StatusCode, &'static str)> {
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let result = inbox::receive(
        &fed.to_request_data(),
        SignedRequest {
            scheme: fed.config.scheme(),
            method: &method,
            path_and_query: path,
            headers: &headers,
            body: &body,
        },
    )
    .await
    .map(answer);
    counted(&fed, &body, result)
}

/// An author's own inbox; 404 if there is no such author.
pub async fn author_inbox(
    State(fed): State<Site>,
    Path(at_handle): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<(StatusCode, &'static str)> {
    let handle = handle_from_path(&at_handle)?;
    read::author(&fed, &handle).await?;
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let result = inbox::receive(
        &fed.to_request_data(),
        SignedRequest {
            scheme: fed.config.scheme(),
            method: &method,
            path_and_query: path,
            headers: &headers,
            body: &body,
        },
    )
    .await
    .map(answer);
    counted(&fed, &body, result)
}

/// 202: stored, to be processed. 200: this activity id was received before.
fn answer(receipt: inbox::Receipt) -> (StatusCode, &'static str) {
    match receipt {
        inbox::Receipt::Accepted => (StatusCode::ACCEPTED, "accepted"),
        inbox::Receipt::Duplicate => (StatusCode::OK, "already received; nothing changed"),
    }
}

/// Counts the activity by type and answer for `/metrics`.
fn counted(
    fed: &Federation,
    body: &[u8],
    result: AppResult<(StatusCode, &'static str)>,
) -> AppResult<(StatusCode, &'static str)> {
    let status = match &result {
        Ok((status, _)) => *status,
        Err(e) => super::error::status(e),
    };
    fed.metrics.inbox_activity(body, status.as_u16());
    result
}
