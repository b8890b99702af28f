//! The "follow from your server" form: a reader types their own server's name and is
//! sent there to follow the author (or reply to a post). Their server does the rest,
//! so this needs no JavaScript, no account here and no request from us.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::views;
use crate::{app::App, domain::ServerName};

#[derive(Debug, Deserialize)]
pub struct FollowQuery {
    /// What to follow or reply to: one of our actor or post URLs.
    uri: Option<String>,
    /// The reader's server, as typed.
    server: Option<String>,
}

/// `GET /follow?uri=<our actor or post URL>&server=<their server>`: 303 to
/// `https://<server>/authorize_interaction?uri=<uri>`.
pub async fn follow(State(app): State<App>, Query(q): Query<FollowQuery>) -> Response {
    let uri = q.uri.unwrap_or_default();
    // Only our own URLs: the form must not become a way to send people anywhere.
    let ours = app.uris().handle_of_actor(&uri).is_some() || app.uris().post_of(&uri).is_some();
    if !ours {
        return views::message_page(
            &app,
            StatusCode::BAD_REQUEST,
            "Nothing to follow",
            "This link does not name an author or a post on this site.",
        );
    }
    match ServerName::parse(q.server.as_deref().unwrap_or_default()) {
        Ok(server) => Redirect::to(&server.interaction_url(&uri)).into_response(),
        Err(e) => views::message_page(
            &app,
            StatusCode::BAD_REQUEST,
            "That is not a server name",
            &format!(
                "{e}. Go back and try again, or search for the author's address on your server."
            ),
        ),
    }
}
