//! OAuth 2 as Mastodon's client API speaks it: scopes, and the redirect URIs an app
//! registers. Parsed once where a request brings them; stored as the text they parse
//! from.

use std::{collections::BTreeSet, fmt};

use super::ParseError;

/// What a scope covers: everything of one kind, or one kind of one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// `read`, `write`: every `read:*` / `write:*`.
    All(Access),
    /// `read:accounts`, `write:statuses`, …
    One(Access, Resource),
    /// `follow` (Mastodon's legacy set: blocks, follows and mutes, read and write).
    Follow,
    /// `push`: Web Push subscriptions.
    Push,
    /// `profile`: only `verify_credentials` (Mastodon 4.3).
    Profile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    Read,
    Write,
}

/// The resources Mastodon's granular scopes name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    Accounts,
    Blocks,
    Bookmarks,
    Conversations,
    Favourites,
    Filters,
    Follows,
    Lists,
    Media,
    Mutes,
    Notifications,
    Reports,
    Search,
    Statuses,
}

const RESOURCES: &[(Resource, &str)] = &[
    (Resource::Accounts, "accounts"),
    (Resource::Blocks, "blocks"),
    (Resource::Bookmarks, "bookmarks"),
    (Resource::Conversations, "conversations"),
    (Resource::Favourites, "favourites"),
    (Resource::Filters, "filters"),
    (Resource::Follows, "follows"),
    (Resource::Lists, "lists"),
    (Resource::Media, "media"),
    (Resource::Mutes, "mutes"),
    (Resource::Notifications, "notifications"),
    (Resource::Reports, "reports"),
    (Resource::Search, "search"),
    (Resource::Statuses, "statuses"),
];

impl Access {
    fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

impl Scope {
    /// `read`, `write:statuses`, `follow`, … Admin scopes and unknown names are refused:
    /// nothing here administers the server.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let unknown = || ParseError(format!("unknown scope `{s}`"));
        Ok(match s {
            "read" => Self::All(Access::Read),
            "write" => Self::All(Access::Write),
            "follow" => Self::Follow,
            "push" => Self::Push,
            "profile" => Self::Profile,
            _ => {
                let (access, resource) = s.split_once(':').ok_or_else(unknown)?;
                let access = match access {
                    "read" => Access::Read,
                    "write" => Access::Write,
                    _ => return Err(unknown()),
                };
                let resource = RESOURCES
                    .iter()
                    .find(|(_, name)| *name == resource)
                    .map(|(r, _)| *r)
                    .ok_or_else(unknown)?;
                Self::One(access, resource)
            }
        })
    }

    /// Whether holding `self` permits what `needed` names.
    pub fn covers(self, needed: Scope) -> bool {
        if self == needed {
            return true;
        }
        match (self, needed) {
            (Self::All(a), Self::One(b, _)) => a == b,
            (Self::Follow, Self::One(_, r)) => {
                matches!(r, Resource::Blocks | Resource::Follows | Resource::Mutes)
            }
            _ => false,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All(a) => f.write_str(a.as_str()),
            Self::One(a, r) => {
                let name = RESOURCES
                    .iter()
                    .find(|(x, _)| x == r)
                    .map_or("", |(_, n)| n);
                write!(f, "{}:{name}", a.as_str())
            }
            Self::Follow => f.write_str("follow"),
            Self::Push => f.write_str("push"),
            Self::Profile => f.write_str("profile"),
        }
    }
}

/// A set of scopes, as an app registers them and a token holds them. Written
/// space-separated (`read write:statuses`); never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes(BTreeSet<Scope>);

impl Scopes {
    /// Space-separated scopes (`+` too, as some clients join them); an empty or
    /// missing list means `read`, as in Mastodon.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let set = s
            .split([' ', '+', ','])
            .filter(|p| !p.is_empty())
            .map(Scope::parse)
            .collect::<Result<BTreeSet<_>, _>>()?;
        if set.is_empty() {
            return Ok(Self::default());
        }
        Ok(Self(set))
    }

    /// Whether a token with these scopes may do what `needed` names.
    pub fn permit(&self, needed: Scope) -> bool {
        self.0.iter().any(|s| s.covers(needed))
    }

    /// Whether every scope of `asked` was registered here (a token gets no more than
    /// its app asked for).
    pub fn contain_all(&self, asked: &Scopes) -> bool {
        asked
            .0
            .iter()
            .all(|s| self.0.contains(s) || self.0.iter().any(|mine| mine.covers(*s)))
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }
}

impl Default for Scopes {
    fn default() -> Self {
        Self(BTreeSet::from([Scope::All(Access::Read)]))
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{s}")?;
        }
        Ok(())
    }
}

/// Where the sign-in page sends the code: an absolute URI an app registered
/// (`https://app.example/callback`, `ivory://oauth`), or [`RedirectUri::OOB`] to
/// show the code on the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Out of band: the page shows the code for the user to paste into the app.
    pub const OOB: &'static str = "urn:ietf:wg:oauth:2.0:oob";

    /// An absolute URI without a fragment (RFC 6749 §3.1.2), not one that would run
    /// or read something in the browser instead of reaching an app.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        if s == Self::OOB {
            return Ok(Self(s.to_owned()));
        }
        let bad = |why: &str| ParseError(format!("redirect URI `{s}` {why}"));
        let url = url::Url::parse(s).map_err(|_| bad("is not an absolute URI"))?;
        if url.fragment().is_some() {
            return Err(bad("has a fragment"));
        }
        if matches!(
            url.scheme(),
            "javascript" | "data" | "vbscript" | "file" | "blob"
        ) {
            return Err(bad("has a scheme that is not for apps"));
        }
        if s.len() > 2000 {
            return Err(bad("is too long"));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn is_oob(&self) -> bool {
        self.0 == Self::OOB
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An app's registered redirect URIs: one or more, one per line as Mastodon takes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUris(Vec<RedirectUri>);

/// At most this many redirect URIs per app.
const MAX_REDIRECT_URIS: usize = 10;

impl RedirectUris {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let list = s
            .split(['\n', '\r', ' '])
            .filter(|l| !l.trim().is_empty())
            .map(RedirectUri::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if list.is_empty() {
            return Err(ParseError("redirect_uris is required".into()));
        }
        if list.len() > MAX_REDIRECT_URIS {
            return Err(ParseError(format!(
                "at most {MAX_REDIRECT_URIS} redirect URIs"
            )));
        }
        Ok(Self(list))
    }

    /// The registered URI that `asked` names exactly; with none asked, the only one.
    pub fn choose(&self, asked: Option<&str>) -> Option<&RedirectUri> {
        match asked {
            Some(a) => self.0.iter().find(|r| r.as_str() == a),
            None if self.0.len() == 1 => self.0.first(),
            None => None,
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &RedirectUri> {
        self.0.iter()
    }

    /// One per line, as stored.
    pub fn joined(&self) -> String {
        self.0
            .iter()
            .map(RedirectUri::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// Stored as their text; a stored value that no longer parses is a decode error.
impl TryFrom<String> for Scopes {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl TryFrom<String> for RedirectUris {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl TryFrom<String> for RedirectUri {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broad_scopes_cover_their_granular_ones_and_nothing_else() {
        let read = Scopes::parse("read").unwrap();
        assert!(read.permit(Scope::parse("read:accounts").unwrap()));
        assert!(!read.permit(Scope::parse("write:statuses").unwrap()));
        let follow = Scopes::parse("follow").unwrap();
        assert!(follow.permit(Scope::parse("write:follows").unwrap()));
        assert!(!follow.permit(Scope::parse("read:statuses").unwrap()));
        let granular = Scopes::parse("read:accounts").unwrap();
        assert!(!granular.permit(Scope::parse("read:notifications").unwrap()));
        assert!(Scopes::parse("read write").unwrap().contain_all(&granular));
        assert!(!granular.contain_all(&read));
    }

    #[test]
    fn scopes_parse_and_print_the_same_way() {
        let s = Scopes::parse("write:media read+follow  push").unwrap();
        assert_eq!(s.to_string(), "read write:media follow push");
        assert_eq!(Scopes::parse("").unwrap().to_string(), "read");
        assert!(Scopes::parse("admin:read").is_err());
        assert!(Scopes::parse("read:everything").is_err());
    }

    #[test]
    fn redirect_uris_are_absolute_and_chosen_exactly() {
        let uris = RedirectUris::parse("https://app.example/cb\nivory://oauth").unwrap();
        assert!(uris.choose(Some("https://app.example/cb")).is_some());
        assert!(uris.choose(Some("https://app.example/cb/")).is_none());
        assert!(uris.choose(None).is_none());
        assert!(RedirectUris::parse("javascript:alert(1)").is_err());
        assert!(RedirectUris::parse("/relative").is_err());
        assert!(RedirectUris::parse("https://a.example/#x").is_err());
        let oob = RedirectUris::parse(RedirectUri::OOB).unwrap();
        assert!(oob.choose(None).is_some_and(RedirectUri::is_oob));
    }
}
