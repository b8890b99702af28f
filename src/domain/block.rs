use std::collections::HashSet;

use url::Url;

use super::{ParseError, normal_host, normal_url, url_host};

/// What can be blocked: a domain (and its subdomains) or one actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockTarget {
    Domain(String),
    Actor(Url),
}

impl BlockTarget {
    /// `spam.example` or `https://spam.example/users/x`; hosts in their normal form
    /// (`Spam.Example.` is `spam.example`, IDN as punycode).
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.starts_with("https://") || s.starts_with("http://") {
            let url = Url::parse(s)
                .map_err(|e| ParseError(format!("`{s}` is not a valid actor URL: {e}")))?;
            return Ok(Self::Actor(normal_url(&url)));
        }
        let domain = normal_host(s.trim_start_matches('.')).unwrap_or_default();
        let valid = !domain.is_empty()
            && domain
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
            && !domain.contains("..");
        if !valid {
            return Err(ParseError(format!(
                "`{s}` is neither a domain (spam.example) nor an actor URL (https://host/users/name)"
            )));
        }
        Ok(Self::Domain(domain))
    }

    pub fn as_string(&self) -> String {
        match self {
            Self::Domain(d) => d.clone(),
            Self::Actor(u) => u.to_string(),
        }
    }

    /// How the block is stored: `domain` or `actor`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Domain(_) => "domain",
            Self::Actor(_) => "actor",
        }
    }

    /// Whether the actor (or an object's id) falls under this block.
    pub fn matches(&self, actor: &Url) -> bool {
        match self {
            Self::Actor(a) => *a == normal_url(actor),
            Self::Domain(d) => {
                let h = url_host(actor);
                h == *d || h.ends_with(&format!(".{d}"))
            }
        }
    }

    /// The stored targets that could block `actor`: the actor itself, its host and
    /// each parent domain of the host, all in their normal form.
    pub fn candidates(actor: &Url) -> Vec<String> {
        let mut c = vec![normal_url(actor).to_string()];
        if actor.host_str().is_some() {
            let host = url_host(actor);
            let mut rest = host.as_str();
            loop {
                c.push(rest.to_owned());
                match rest.split_once('.') {
                    Some((_, parent)) => rest = parent,
                    None => break,
                }
            }
        }
        c
    }
}

/// Every block at one moment, configured and stored: answers whether a URL (an actor,
/// an object's id) falls under one without asking anything.
#[derive(Debug, Clone, Default)]
pub struct BlockList {
    domains: HashSet<String>,
    actors: HashSet<String>,
}

impl BlockList {
    pub fn new(targets: impl IntoIterator<Item = BlockTarget>) -> Self {
        let mut list = Self::default();
        for t in targets {
            match t {
                BlockTarget::Domain(d) => list.domains.insert(d),
                BlockTarget::Actor(a) => list.actors.insert(a.to_string()),
            };
        }
        list
    }

    /// Whether a block covers `url`: the URL itself, its host or a parent domain.
    pub fn covers(&self, url: &Url) -> bool {
        let mut candidates = BlockTarget::candidates(url).into_iter();
        candidates.next().is_some_and(|a| self.actors.contains(&a))
            || candidates.any(|d| self.domains.contains(&d))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_block_covers_its_subdomains_only() {
        let block = BlockTarget::parse("spam.example").unwrap();
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(block.matches(&url("https://spam.example/users/a")));
        assert!(block.matches(&url("https://m.spam.example/users/a")));
        assert!(!block.matches(&url("https://notspam.example/users/a")));
        assert_eq!(
            BlockTarget::candidates(&url("https://m.spam.example/u")),
            [
                "https://m.spam.example/u",
                "m.spam.example",
                "spam.example",
                "example"
            ]
        );
        assert!(BlockTarget::parse("a..b").is_err());
    }

    #[test]
    fn blocks_compare_normal_hosts() {
        let url = |s: &str| Url::parse(s).unwrap();
        let dotted = BlockTarget::parse("Blocked.Example.").unwrap();
        assert_eq!(dotted, BlockTarget::Domain("blocked.example".into()));
        assert!(dotted.matches(&url("https://blocked.example/users/a")));
        let plain = BlockTarget::parse("blocked.example").unwrap();
        assert!(plain.matches(&url("https://BLOCKED.example./users/a")));
        let idn = BlockTarget::parse("bücher.example").unwrap();
        assert!(idn.matches(&url("https://xn--bcher-kva.example/u")));
        let actor = BlockTarget::parse("https://m.example./users/x").unwrap();
        assert!(actor.matches(&url("https://m.example/users/x")));
        let list = BlockList::new([plain, actor]);
        assert!(list.covers(&url("https://sub.blocked.example./notes/1")));
        assert!(list.covers(&url("https://M.example/users/x")));
        assert!(!list.covers(&url("https://m.example/users/y")));
    }
}
