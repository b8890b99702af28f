//! `GET /@alice/quote_authorizations/<token>`: the FEP-044f stamp of a quote we
//! approved, which quoting and third servers dereference (404 unknown, 410 revoked).

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::Response,
};

use super::{activity_json, handle_from_path};
use crate::{app::App, error::AppResult, federation::objects::post::WithContext, service::quotes};

pub async fn authorization(
    State(app): State<App>,
    Path((at_handle, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    let stamp = quotes::authorization(&app, &handle, &token).await?;
    // Not through the response cache: a revocation must answer 410 at once.
    Ok(activity_json(StatusCode::OK, &WithContext::new(stamp)))
}
