use url::Url;

use super::ParseError;

/// What can be blocked: a domain (and its subdomains) or one actor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockTarget {
    Domain(String),
    Actor(Url),
}

impl BlockTarget {
    /// `spam.example` or `https://spam.example/users/x`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s.starts_with("https://") || s.starts_with("http://") {
            let url = Url::parse(s)
                .map_err(|e| ParseError(format!("`{s}` is not a valid actor URL: {e}")))?;
            return Ok(Self::Actor(url));
        }
        let domain = s.trim_start_matches('.').to_ascii_lowercase();
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

    /// Whether the actor falls under this block.
    pub fn matches(&self, actor: &Url) -> bool {
        match self {
            Self::Actor(a) => a == actor,
            Self::Domain(d) => actor.host_str().is_some_and(|h| {
                let h = h.to_ascii_lowercase();
                h == *d || h.ends_with(&format!(".{d}"))
            }),
        }
    }

    /// The stored targets that could block `actor`: the actor itself, its host and
    /// each parent domain of the host.
    pub fn candidates(actor: &Url) -> Vec<String> {
        let mut c = vec![actor.to_string()];
        if let Some(host) = actor.host_str() {
            let host = host.to_ascii_lowercase();
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
}
