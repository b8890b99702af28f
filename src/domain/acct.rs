//! `user@domain` accounts (WebFinger `acct:` URIs, `@user@domain` mentions and the
//! handles pages show) and the mentions a post carries.

use std::fmt;

use super::normal_host;

/// Longest account we accept (a user part and a domain, with a port).
const MAX_ACCT_BYTES: usize = 320;

/// An account: a user and a domain (`host` or `host:port`), the domain in its one
/// spelling (lower case, punycode). Compared as written by the user part, which some
/// servers treat case-insensitively: [`Acct::key`] is the lower-case form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acct {
    user: String,
    domain: String,
}

impl Acct {
    /// `user@domain`, `@user@domain` or `acct:user@domain`. The user part is what
    /// Mastodon, GoToSocial and Misskey allow in usernames (letters, digits, `_`, `.`,
    /// `-`); the domain a host name or IP with an optional port.
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() > MAX_ACCT_BYTES {
            return None;
        }
        let s = s.strip_prefix("acct:").unwrap_or(s);
        let s = s.strip_prefix('@').unwrap_or(s);
        let (user, domain) = s.split_once('@')?;
        let user_ok = !user.is_empty()
            && user
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if !user_ok {
            return None;
        }
        let url = url::Url::parse(&format!("http://{domain}/")).ok()?;
        if url.path() != "/" || url.username() != "" || url.query().is_some() {
            return None;
        }
        let host = normal_host(url.host_str()?)?;
        if !host.contains('.') && host != "localhost" && !host.ends_with(".localhost") {
            return None;
        }
        let domain = match url.port() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        };
        Some(Self {
            user: user.to_owned(),
            domain,
        })
    }

    /// An account on the authority (`host[:port]`) of `url`.
    pub fn on(user: &str, url: &url::Url) -> Option<Self> {
        Self::parse(&format!("{user}@{}", super::host_key(url)))
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    /// `host` or `host:port`.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The form lookups are keyed by: lower case.
    pub fn key(&self) -> String {
        self.to_string().to_lowercase()
    }

    /// Whether two accounts are the same, the user part compared case-insensitively.
    pub fn same(&self, other: &Acct) -> bool {
        self.key() == other.key()
    }
}

impl fmt::Display for Acct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.user, self.domain)
    }
}

/// An account a post mentions: its actor, the handle shown (`@user@domain`) and the
/// page the link goes to.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mention {
    pub actor: String,
    pub name: String,
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_parse_with_ports_and_one_host_spelling() {
        let a = Acct::parse("@Bob@Social.Example:8443").expect("parses");
        assert_eq!(a.to_string(), "Bob@social.example:8443");
        assert_eq!(a.key(), "bob@social.example:8443");
        assert_eq!(
            Acct::parse("acct:bob@localhost").map(|a| a.to_string()),
            Some("bob@localhost".into())
        );
        for bad in [
            "bob",
            "@bob",
            "bob@",
            "b b@x.example",
            "bob@x.example/path",
            "bob@nodot",
        ] {
            assert!(Acct::parse(bad).is_none(), "{bad}");
        }
    }
}
