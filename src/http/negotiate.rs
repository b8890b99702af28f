//! Content negotiation: one URL serves HTML to browsers and ActivityStreams JSON to
//! servers. `application/activity+json` or `application/ld+json` (with the
//! ActivityStreams profile, or none) anywhere in Accept, with a q-value not below
//! HTML's, selects JSON; q=0 excludes a type.

use std::convert::Infallible;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, header::ACCEPT, request::Parts},
};

/// What the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    Html,
    ActivityJson,
}

impl<S: Send + Sync> FromRequestParts<S> for Wants {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(wants(&parts.headers))
    }
}

/// What a request's Accept headers (all of them) ask for.
pub fn wants(headers: &HeaderMap) -> Wants {
    let accept = headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    negotiate(&accept)
}

/// Whether a request asks for a page, as browsers do: its Accept names HTML with a
/// q-value above 0 and not below any JSON type's. Clients that send no Accept, or
/// only `*/*`, are not browsers. Decides the form of error answers only.
pub fn asks_for_html(headers: &HeaderMap) -> bool {
    let (mut html_q, mut json_q) = (0.0f32, 0.0f32);
    for value in headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
    {
        for range in value.split(',') {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(1.0, |(_, v)| v.trim().parse().unwrap_or(0.0));
            match media.as_str() {
                "text/html" | "application/xhtml+xml" => html_q = html_q.max(q),
                "application/json" | "application/activity+json" | "application/ld+json" => {
                    json_q = json_q.max(q)
                }
                _ => {}
            }
        }
    }
    html_q > 0.0 && html_q >= json_q
}

/// Picks HTML or ActivityStreams JSON for an Accept header value.
pub fn negotiate(accept: &str) -> Wants {
    let mut ap_q: f32 = 0.0;
    let mut html_q: f32 = 0.0;
    for range in accept.split(',') {
        let mut parts = range.split(';').map(str::trim);
        let media = parts.next().unwrap_or_default().to_ascii_lowercase();
        let mut q = 1.0f32;
        let mut profile: Option<String> = None;
        for p in parts {
            if let Some((k, v)) = p.split_once('=') {
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "q" => q = v.parse().unwrap_or(0.0),
                    "profile" => profile = Some(v.to_owned()),
                    _ => {}
                }
            }
        }
        let is_ap = match media.as_str() {
            "application/activity+json" => true,
            "application/ld+json" => profile.as_deref().is_none_or(|p| {
                p.split_whitespace()
                    .any(|p| p == "https://www.w3.org/ns/activitystreams")
            }),
            _ => false,
        };
        if is_ap {
            ap_q = ap_q.max(q);
        } else if matches!(media.as_str(), "text/html" | "application/xhtml+xml") {
            html_q = html_q.max(q);
        }
    }
    if ap_q > 0.0 && ap_q >= html_q {
        Wants::ActivityJson
    } else {
        Wants::Html
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_as_peers_and_browsers_ask() {
        use Wants::*;
        assert_eq!(
            negotiate("application/activity+json, application/ld+json"),
            ActivityJson
        );
        assert_eq!(
            negotiate(r#"application/ld+json; profile="https://www.w3.org/ns/activitystreams""#),
            ActivityJson
        );
        assert_eq!(
            negotiate("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"),
            Html
        );
        assert_eq!(negotiate(""), Html);
        assert_eq!(negotiate("application/activity+json;q=0"), Html);
        assert_eq!(
            negotiate("text/html;q=0.5, application/activity+json;q=0.9"),
            ActivityJson
        );
        assert_eq!(
            negotiate("text/html, application/activity+json;q=0.5"),
            Html
        );
        assert_eq!(
            negotiate(r#"application/ld+json; profile="http://example.com/other""#),
            Html
        );
        assert_eq!(negotiate("*/*, application/activity+json"), ActivityJson);
    }

    #[test]
    fn only_browsers_ask_for_html_error_pages() {
        let asks = |accept: &str| {
            let mut h = HeaderMap::new();
            h.insert(ACCEPT, accept.parse().unwrap());
            asks_for_html(&h)
        };
        assert!(asks(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        ));
        assert!(asks("text/html"));
        assert!(!asks("*/*"));
        assert!(!asks("application/activity+json, application/ld+json"));
        assert!(!asks("application/json, text/html;q=0.5"));
        assert!(!asks("text/html;q=0"));
        assert!(!asks_for_html(&HeaderMap::new()));
    }
}
