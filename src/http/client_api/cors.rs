//! CORS for the client API, the token endpoints and the discovery documents, so web
//! apps (Phanpy, Elk) on other origins can use them, as Mastodon allows: any origin,
//! no cookies, preflights answered with the method and headers they ask for.
//! The sign-in page is not among them: it is a page to navigate to, not to fetch.

use axum::{
    extract::Request,
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Headers a web app may read from our answers (pagination, rate limits).
const EXPOSED: &str =
    "Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, X-Request-Id";

fn is_cors_path(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/.well-known/")
        || path.starts_with("/nodeinfo/")
        || matches!(path, "/oauth/token" | "/oauth/revoke")
}

/// Public images apps load with `crossorigin` (avatars, headers, theme assets, media):
/// readable from any origin, as a CDN serves Mastodon's.
fn is_public_image_path(path: &str) -> bool {
    path.starts_with("/static/")
        || path.starts_with("/media/")
        || (path.starts_with("/@") && (path.contains("/avatar/") || path.contains("/header/")))
}

/// The layer: answers preflights itself, and marks the answers of its paths.
pub async fn cors(req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if is_public_image_path(path) {
        let mut res = next.run(req).await;
        res.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        return res;
    }
    if !is_cors_path(path) {
        return next.run(req).await;
    }
    let api = path.starts_with("/api/") || path.starts_with("/oauth/");
    let headers = req.headers();
    if req.method() == Method::OPTIONS
        && let Some(method) = headers.get(header::ACCESS_CONTROL_REQUEST_METHOD)
    {
        let mut res = StatusCode::NO_CONTENT.into_response();
        let h = res.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, method.clone());
        if let Some(asked) = headers.get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, asked.clone());
        }
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("86400"),
        );
        h.insert(
            header::VARY,
            HeaderValue::from_static(
                "Access-Control-Request-Method, Access-Control-Request-Headers",
            ),
        );
        return res;
    }
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static(EXPOSED),
    );
    // Answers for one token's holder: no cache may keep them (the discovery
    // documents keep their own freshness).
    if api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
