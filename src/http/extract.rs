//! Extractors: what a handler takes from a request besides its path and query.
//! (`negotiate::Wants` is the other one.)

use axum::{
    body::Bytes,
    extract::{FromRequest, Request},
    http::{HeaderMap, Method},
};

use crate::{app::App, federation::signatures};

/// A request to be authenticated by its HTTP signature (an inbox POST): what
/// verifying needs, taken whole. The body is read here, within the route's limit.
pub struct SignedRequest {
    method: Method,
    path_and_query: String,
    headers: HeaderMap,
    pub body: Bytes,
}

impl SignedRequest {
    /// The request as the signature checks see it; `scheme` is how senders reach us
    /// (we may sit behind a TLS proxy).
    pub fn parts<'a>(&'a self, scheme: &'a str) -> signatures::SignedRequest<'a> {
        signatures::SignedRequest {
            scheme,
            method: &self.method,
            path_and_query: &self.path_and_query,
            headers: &self.headers,
            body: &self.body,
        }
    }
}

impl FromRequest<App> for SignedRequest {
    type Rejection = <Bytes as FromRequest<App>>::Rejection;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let path_and_query = parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |p| p.as_str())
            .to_owned();
        let method = parts.method.clone();
        let headers = std::mem::take(&mut parts.headers);
        // The route's body limit travels in the extensions: over it, 413.
        let body = Bytes::from_request(Request::from_parts(parts, body), &app).await?;
        Ok(Self {
            method,
            path_and_query,
            headers,
            body,
        })
    }
}
