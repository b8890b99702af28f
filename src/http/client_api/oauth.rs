//! `POST /api/v1/apps`, the authorization server's metadata (RFC 8414), and
//! `/oauth/token` and `/oauth/revoke`. The sign-in page is in `authorize`.

use axum::{Json, extract::State};
use serde_json::{Value, json};

use super::{
    entities,
    extract::{Auth, ClientPeer, FormOrJson},
};
use crate::{
    app::App,
    error::AppResult,
    service::client_api::oauth::{self, AppRegistration, RevokeRequest, TokenRequest},
};

/// Every scope we grant, as the metadata lists them.
const SCOPES: &[&str] = &[
    "read",
    "write",
    "follow",
    "push",
    "profile",
    "read:accounts",
    "read:blocks",
    "read:bookmarks",
    "read:favourites",
    "read:filters",
    "read:follows",
    "read:lists",
    "read:mutes",
    "read:notifications",
    "read:search",
    "read:statuses",
    "write:accounts",
    "write:blocks",
    "write:bookmarks",
    "write:conversations",
    "write:favourites",
    "write:filters",
    "write:follows",
    "write:lists",
    "write:media",
    "write:mutes",
    "write:notifications",
    "write:reports",
    "write:statuses",
];

pub async fn register_app(
    State(app): State<App>,
    FormOrJson(r): FormOrJson<AppRegistration>,
) -> AppResult<Json<Value>> {
    let registered = oauth::register(&app, r).await?;
    Ok(Json(entities::application(
        &registered.row,
        Some(&registered.client_secret),
    )))
}

/// The app a token belongs to.
pub async fn verify_app(State(app): State<App>, Auth(grant): Auth) -> AppResult<Json<Value>> {
    let row = oauth::grant_app(&app, &grant).await?;
    Ok(Json(entities::application(&row, None)))
}

/// `/.well-known/oauth-authorization-server`: Mastodon.py reads it to allow the
/// password grant; Phanpy uses PKCE when it lists S256.
pub async fn server_metadata(State(app): State<App>) -> Json<Value> {
    let base = app.uris().base();
    Json(json!({
        "issuer": app.uris().home(),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "app_registration_endpoint": format!("{base}/api/v1/apps"),
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

pub async fn token(
    State(app): State<App>,
    ClientPeer(peer): ClientPeer,
    FormOrJson(r): FormOrJson<TokenRequest>,
) -> AppResult<Json<Value>> {
    let issued = oauth::token(&app, &r, peer).await?;
    Ok(Json(json!({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "scope": issued.scopes.to_string(),
        "created_at": issued.created_at / 1000,
    })))
}

pub async fn revoke(
    State(app): State<App>,
    FormOrJson(r): FormOrJson<RevokeRequest>,
) -> AppResult<Json<Value>> {
    oauth::revoke(&app, &r).await?;
    Ok(Json(json!({})))
}
