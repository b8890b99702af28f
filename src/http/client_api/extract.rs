//! What the client API's handlers take from a request: a body as a form or JSON
//! (apps send either), the bearer token's grant, and the client's address.

use std::net::{Ipv4Addr, SocketAddr};

use axum::{
    Form, Json,
    extract::{ConnectInfo, FromRequest, FromRequestParts, Request},
    http::{header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::{
    app::App,
    domain::PeerKey,
    error::AppError,
    inbox::rate::client_address,
    service::client_api::oauth::{self, Grant},
};

/// A body sent as `application/json` or as a form, as Mastodon accepts both.
pub struct FormOrJson<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequest<App> for FormOrJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, app: &App) -> Result<Self, AppError> {
        let json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        let refused = |m: String| AppError::Unprocessable(format!("cannot read the request: {m}"));
        if json {
            let Json(v) = Json::<T>::from_request(req, app)
                .await
                .map_err(|e| refused(e.body_text()))?;
            Ok(Self(v))
        } else {
            let Form(v) = Form::<T>::from_request(req, app)
                .await
                .map_err(|e| refused(e.body_text()))?;
            Ok(Self(v))
        }
    }
}

/// The grant of the request's bearer token; 401 without a valid one.
pub struct Auth(pub Grant);

impl FromRequestParts<App> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|t| !t.is_empty())
            .ok_or_else(|| AppError::InvalidToken("The access token is invalid".into()))?;
        Ok(Self(oauth::authenticate(app, token).await?))
    }
}

/// Who is asking, for the sign-in throttle: the TCP peer, or the client a trusted
/// proxy names (`[limits.inbox] trusted_proxies`).
pub struct ClientPeer(pub PeerKey);

impl FromRequestParts<App> for ClientPeer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)), |c| c.0);
        let ip = client_address(peer, &parts.headers, &app.config().limits.inbox);
        Ok(Self(PeerKey::of(ip)))
    }
}
