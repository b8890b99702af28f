use std::fmt;

use url::Url;

use super::ParseError;

/// A host name as every comparison (blocks, limits, "same host") sees it: lower case,
/// internationalised names in their ASCII (punycode) form, no trailing dot (the root
/// label: `blocked.example.` is `blocked.example`). `None` if it is not a host.
pub fn normal_host(host: &str) -> Option<String> {
    let h = host.trim().trim_end_matches('.');
    if h.is_empty() {
        return None;
    }
    match url::Host::parse(h).ok()? {
        url::Host::Domain(d) => Some(d.trim_end_matches('.').to_owned()),
        ip => Some(ip.to_string()),
    }
}

/// The normal host of a URL (see [`normal_host`]), without the port.
pub fn url_host(url: &Url) -> String {
    let raw = url.host_str().unwrap_or_default();
    normal_host(raw).unwrap_or_else(|| raw.to_ascii_lowercase())
}

/// The URL with its host normal (see [`normal_host`]), so one actor has one spelling.
pub fn normal_url(url: &Url) -> Url {
    let mut u = url.clone();
    if let Some(h) = url.host_str()
        && h.ends_with('.')
    {
        let _ = u.set_host(Some(&url_host(url)));
    }
    u
}

/// A reader's fediverse server, as typed into a follow form: `mastodon.social`.
/// Also accepts what people paste instead: `https://mastodon.social/`, their own
/// address `@me@mastodon.social`, or a profile URL. Holds `host[:port]`, lowercase,
/// internationalised names in their ASCII (punycode) form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerName(String);

impl ServerName {
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let bad = || {
            ParseError(format!(
                "`{}` is not a server name: type the address of your server, such as mastodon.social",
                input.trim()
            ))
        };
        let s = input.trim();
        let s = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .unwrap_or(s);
        // `https://host/path?query`: the host part only.
        let s = s.split(['/', '?', '#']).next().unwrap_or_default();
        // `@me@host` or `me@host`: the part after the last `@`.
        let s = s.rsplit('@').next().unwrap_or_default();
        if s.is_empty() || s.len() > 253 || s.contains(char::is_whitespace) {
            return Err(bad());
        }
        let url = url::Url::parse(&format!("https://{s}/")).map_err(|_| bad())?;
        let host = match url.host() {
            Some(url::Host::Domain(d)) if d.contains('.') || d == "localhost" => d.to_owned(),
            _ => return Err(bad()),
        };
        if host.starts_with('.') || host.contains("..") {
            return Err(bad());
        }
        let host = normal_host(&host).ok_or_else(bad)?;
        Ok(Self(match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The server's page for following or replying to `uri` (Mastodon's
    /// `authorize_interaction`, which other servers mirror).
    pub fn interaction_url(&self, uri: &str) -> String {
        let mut url = url::Url::parse(&format!("https://{}/authorize_interaction", self.0))
            .unwrap_or_else(|_| unreachable!("a parsed server name makes a valid URL"));
        url.query_pairs_mut().append_pair("uri", uri);
        url.into()
    }
}

impl fmt::Display for ServerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        ServerName::parse(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .to_string()
    }

    #[test]
    fn accepts_what_readers_type_or_paste() {
        assert_eq!(ok("mastodon.social"), "mastodon.social");
        assert_eq!(ok("  Mastodon.Social  "), "mastodon.social");
        assert_eq!(ok("https://mastodon.social/"), "mastodon.social");
        assert_eq!(ok("https://fosstodon.org/@me"), "fosstodon.org");
        assert_eq!(ok("@me@hachyderm.io"), "hachyderm.io");
        assert_eq!(ok("me@social.example:8443"), "social.example:8443");
        assert_eq!(ok("bücher.example"), "xn--bcher-kva.example");
        assert_eq!(ok("Mastodon.Social."), "mastodon.social");
    }

    #[test]
    fn hosts_have_one_spelling() {
        for (raw, normal) in [
            ("Blocked.Example.", "blocked.example"),
            ("blocked.example", "blocked.example"),
            ("BÜCHER.example.", "xn--bcher-kva.example"),
            ("xn--bcher-kva.example", "xn--bcher-kva.example"),
            ("127.0.0.1", "127.0.0.1"),
            ("[::1]", "[::1]"),
        ] {
            assert_eq!(normal_host(raw).as_deref(), Some(normal), "{raw}");
        }
        assert_eq!(normal_host("."), None);
        let u = Url::parse("https://Blocked.Example.:8443/users/x").unwrap();
        assert_eq!(url_host(&u), "blocked.example");
        assert_eq!(
            normal_url(&u).as_str(),
            "https://blocked.example:8443/users/x"
        );
    }

    #[test]
    fn rejects_what_is_not_a_host_name() {
        for s in [
            "",
            "   ",
            "mastodon",
            "not a server",
            "127.0.0.1",
            "[::1]",
            ".example",
            "a..example",
            "https://",
            "javascript:alert(1)",
        ] {
            assert!(ServerName::parse(s).is_err(), "{s:?} was accepted");
        }
    }

    #[test]
    fn interaction_url_encodes_the_uri() {
        let s = ServerName::parse("mastodon.social").unwrap();
        assert_eq!(
            s.interaction_url("https://blog.example/@alice"),
            "https://mastodon.social/authorize_interaction?uri=https%3A%2F%2Fblog.example%2F%40alice"
        );
    }
}
