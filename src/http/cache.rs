//! Serving from the response cache: handlers mark what may be cached and what it was
//! built from ([`cacheable`]); this layer answers repeats from memory with strong
//! ETags and Last-Modified, 304 on revalidation, and gzip for clients that ask.

use axum::{
    body::{Body, to_bytes},
    extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Response},
};

use super::negotiate::{Wants, wants};
use crate::{
    app::App,
    cache::{Entry, Key},
};

/// How long shared caches and clients may reuse a response without asking again.
#[derive(Debug, Clone, Copy)]
pub enum Freshness {
    /// Posts, actors, pages: edits should show within a minute; revalidating is cheap.
    Minute,
    /// Feeds and the sitemap, which readers poll.
    FiveMinutes,
    /// WebFinger, NodeInfo and discovery documents, which change rarely.
    Hour,
}

impl Freshness {
    fn header(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Freshness::Minute => "public, max-age=60",
            Freshness::FiveMinutes => "public, max-age=300",
            Freshness::Hour => "public, max-age=3600",
        })
    }
}

/// Marks a response as cacheable, built from `scopes` (see [`crate::cache::scope`]).
#[derive(Debug, Clone)]
struct Cacheable(Vec<String>);

/// Lets the cache keep `res` until a change touches one of `scopes`.
pub fn cacheable(mut res: Response, freshness: Freshness, scopes: Vec<String>) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, freshness.header());
    res.extensions_mut().insert(Cacheable(scopes));
    res
}

/// The middleware: GET and HEAD are answered from the cache when it holds a fresh
/// response; otherwise the handler runs and a response it marked is stored.
pub async fn serve(State(app): State<App>, req: Request, next: Next) -> Response {
    let cache = app.cache();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Some(route) = route_key(&mut parts).await else {
        return next.run(Request::from_parts(parts, body)).await;
    };
    let req = Request::from_parts(parts, body);
    let key = Key {
        path_and_query: route,
        json: wants(req.headers()) == Wants::ActivityJson,
    };
    let conditions = Conditions::of(req.headers());
    if let Some(entry) = cache.get(&key) {
        return respond(&entry, &conditions);
    }
    let ticket = cache.ticket();
    let res = next.run(req).await;
    let Some(Cacheable(scopes)) = res.extensions().get::<Cacheable>().cloned() else {
        return res;
    };
    let (parts, body) = res.into_parts();
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "reading a response to cache it");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let mut headers = parts.headers;
    headers.remove(header::CONTENT_LENGTH);
    let entry = cache.insert(key, ticket, scopes, parts.status, headers, bytes);
    respond(&entry, &conditions)
}

/// What the router saw: the route matched and its parameters, percent-decoded, and
/// the query as sent. Two spellings of one path (`/%40alice` and `/@alice`) share an
/// entry; an encoded slash, which the router takes as part of a segment, does not.
/// `None` for what matched no route or does not decode: those are never cached.
async fn route_key(parts: &mut Parts) -> Option<String> {
    let route = parts.extensions.get::<MatchedPath>()?.as_str().to_owned();
    let params = RawPathParams::from_request_parts(parts, &()).await.ok()?;
    let mut key = route;
    // Length-prefixed: no parameter's text can pose as another's.
    for (_, value) in &params {
        key.push_str(&format!("\n{}:{value}", value.len()));
    }
    if let Some(q) = parts.uri.query() {
        key.push('?');
        key.push_str(q);
    }
    Some(key)
}

/// What the request says about revalidation and encodings.
struct Conditions {
    if_none_match: Option<String>,
    if_modified_since: Option<std::time::SystemTime>,
    gzip: bool,
}

impl Conditions {
    fn of(h: &HeaderMap) -> Self {
        let text = |name| h.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
        Self {
            if_none_match: text(header::IF_NONE_MATCH).map(str::to_owned),
            if_modified_since: text(header::IF_MODIFIED_SINCE)
                .and_then(|v| httpdate::parse_http_date(v).ok()),
            gzip: h
                .get_all(header::ACCEPT_ENCODING)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(accepts_gzip),
        }
    }

    /// RFC 9110 §13.1.2: weak comparison; `*` matches any current representation.
    fn none_match(&self, e: &Entry) -> Option<bool> {
        let list = self.if_none_match.as_deref()?;
        Some(!list.split(',').map(str::trim).any(|tag| {
            let tag = tag.trim_start_matches("W/");
            tag == "*" || e.etag == tag || e.etag_gzip == tag
        }))
    }

    /// RFC 9110 §13.1.3, only when there is no If-None-Match.
    fn modified(&self, e: &Entry) -> bool {
        let Some(since) = self.if_modified_since else {
            return true;
        };
        // HTTP dates have whole seconds.
        let secs = |t: std::time::SystemTime| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs())
        };
        secs(e.last_modified) > secs(since)
    }
}

/// Whether an Accept-Encoding value allows gzip (`gzip` or `*` without q=0).
fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| {
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("q")
                    && v.trim().parse::<f32>().is_ok_and(|q| q == 0.0)
            })
        });
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

fn respond(e: &Entry, c: &Conditions) -> Response {
    let (body, headers) = match (&e.gzip, c.gzip) {
        (Some((z, h)), true) => (z, h),
        _ => (&e.body, &e.headers),
    };
    let unchanged = e.status == StatusCode::OK
        && match c.none_match(e) {
            Some(none_match) => !none_match,
            None => !c.modified(e),
        };
    if unchanged {
        let mut headers = headers.clone();
        headers.remove(header::CONTENT_TYPE);
        headers.remove(header::CONTENT_ENCODING);
        let mut res = StatusCode::NOT_MODIFIED.into_response();
        *res.headers_mut() = headers;
        return res;
    }
    let mut res = Response::new(Body::from(body.clone()));
    *res.status_mut() = e.status;
    *res.headers_mut() = headers.clone();
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_is_used_only_when_accepted() {
        assert!(accepts_gzip("gzip, deflate, br"));
        assert!(accepts_gzip("br;q=1.0, gzip;q=0.8"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("br, deflate"));
        assert!(!accepts_gzip("identity"));
    }
}
