//! `/actor`, the instance actor, and the authorized-fetch layer.
//!
//! With `[federation] authorized_fetch = true`, ActivityPub JSON under `/@…` and
//! `/activities/…` is served only to signed GETs, as Mastodon's secure mode does.
//! As there, an unsigned request for an actor still gets the fields others need to
//! verify that actor's signatures (id, type, preferredUsername, inbox, publicKey,
//! endpoints); posts, activities and collections get 401. HTML, WebFinger, NodeInfo,
//! feeds and `/actor` stay public. This layer runs before the response cache, so a
//! cached document is never a way around it, and decides on the decoded path the
//! router routes by, so an encoded `@` is no way around it either.

use axum::{
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::{
    activity_json,
    negotiate::{Wants, wants},
};
use crate::{
    app::App,
    error::{AppError, AppResult},
    federation::objects::actor::application,
    service::authorized_fetch,
};

/// `GET /actor`: the instance actor (JSON for everyone, like Mastodon's).
pub async fn instance_actor(State(app): State<App>) -> AppResult<Response> {
    let pem = app.fed().keys.instance_public_pem().await?;
    Ok(activity_json(StatusCode::OK, &application(app.uris(), pem)))
}

/// Fields of an actor an unsigned request may see in secure mode (Mastodon's list).
const PUBLIC_ACTOR_FIELDS: [&str; 7] = [
    "@context",
    "id",
    "type",
    "preferredUsername",
    "inbox",
    "publicKey",
    "endpoints",
];

/// The layer: a no-op unless `authorized_fetch` is on.
pub async fn require_signature(State(app): State<App>, req: Request, next: Next) -> Response {
    if !app.config().federation.authorized_fetch || !is_protected(&req) {
        return next.run(req).await;
    }
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let signed =
        req.headers().contains_key("signature") || req.headers().contains_key("signature-input");
    if signed {
        return match authorized_fetch::signer(&app, req.method(), &path_and_query, req.headers())
            .await
        {
            Ok(signer) => {
                tracing::debug!(signer = %signer.id, path = %path_and_query, "authorized fetch");
                let mut res = next.run(req).await;
                // Only signed requests get this document: no shared cache may keep it.
                let h = res.headers_mut();
                h.insert(
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("private, max-age=60"),
                );
                h.append(header::VARY, HeaderValue::from_static("Signature"));
                res
            }
            Err(e) => e.into_response(),
        };
    }
    if is_actor_path(&decoded_path(req.uri().path())) {
        return public_actor_fields(req, next).await;
    }
    AppError::unauthorized(format!(
        "this server requires signed requests for ActivityPub documents (authorized fetch): sign the GET of {path_and_query} with an actor's key"
    ))
    .into_response()
}

/// ActivityPub JSON of actors, posts, activities and collections, decided on the path
/// as the router's extractors see it (percent-decoded: `/%40alice` is `/@alice`).
fn is_protected(req: &Request) -> bool {
    let path = decoded_path(req.uri().path());
    matches!(*req.method(), Method::GET | Method::HEAD)
        && (path.starts_with("/@") || path.starts_with("/activities/"))
        && wants(req.headers()) == Wants::ActivityJson
}

/// A path percent-decoded, as axum's `Path` decodes each segment (invalid UTF-8
/// replaced; such a path names nothing here anyway).
fn decoded_path(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let v = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(v).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `/@alice`, the actor itself (not its collections or posts).
fn is_actor_path(path: &str) -> bool {
    path.starts_with("/@") && !path[2..].contains('/')
}

/// Runs the actor handler (through the cache, asking for the plain full document) and
/// keeps only the fields anyone may see.
async fn public_actor_fields(mut req: Request, next: Next) -> Response {
    for h in [
        header::ACCEPT_ENCODING,
        header::IF_NONE_MATCH,
        header::IF_MODIFIED_SINCE,
    ] {
        req.headers_mut().remove(h);
    }
    let res = next.run(req).await;
    if res.status() != StatusCode::OK {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let full: serde_json::Value = match to_bytes(body, usize::MAX)
        .await
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(v) => v,
        None => {
            return AppError::Internal(anyhow::anyhow!("the actor document is not JSON"))
                .into_response();
        }
    };
    let public: serde_json::Map<String, serde_json::Value> = PUBLIC_ACTOR_FIELDS
        .iter()
        .filter_map(|k| full.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect();
    for h in [header::CONTENT_LENGTH, header::ETAG, header::LAST_MODIFIED] {
        parts.headers.remove(h);
    }
    // Shared caches must not hand this reduced document to signed requests.
    parts
        .headers
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Response::from_parts(
        parts,
        Body::from(serde_json::Value::Object(public).to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_decided_as_the_router_decodes_them() {
        assert_eq!(decoded_path("/%40alice/hello-world"), "/@alice/hello-world");
        assert_eq!(decoded_path("/%40Alice%2fx"), "/@Alice/x");
        assert_eq!(decoded_path("/100%"), "/100%");
        assert_eq!(decoded_path("/%zz%4"), "/%zz%4");
        assert!(is_actor_path(&decoded_path("/%40alice")));
        assert!(!is_actor_path(&decoded_path("/%40alice%2Foutbox")));
    }
}
