//! Every local URL is built here and nowhere else, so ids stay stable.
//!
//! Actors and posts use one URL for HTML and ActivityPub JSON (content negotiation):
//! `/@mayank` is the author, `/@mayank/hello-world` a post.

use crate::domain::{Handle, Slug, Tag};

/// Builds absolute URLs for one instance.
#[derive(Debug, Clone)]
pub struct Uris {
    base: String,
    domain: String,
    /// The domain of our handles, when not `domain` (split domain).
    account_domain: Option<String>,
}

impl Uris {
    pub fn new(scheme: &str, domain: &str) -> Self {
        Self {
            base: format!("{scheme}://{domain}"),
            domain: domain.to_owned(),
            account_domain: None,
        }
    }

    /// Handles on `account_domain` (`@me@example.com`) for a blog served elsewhere.
    pub fn with_account_domain(mut self, account_domain: Option<&str>) -> Self {
        self.account_domain = account_domain.map(str::to_owned);
        self
    }

    /// The domain of our authors' handles: the account domain, else ours.
    pub fn handle_domain(&self) -> &str {
        self.account_domain.as_deref().unwrap_or(&self.domain)
    }

    /// Whether `acct:` URIs on `domain` name our accounts: ours (with or without the
    /// port) or the account domain.
    pub fn is_account_domain(&self, domain: &str) -> bool {
        domain == self.domain
            || domain == self.host()
            || Some(domain) == self.account_domain.as_deref()
    }

    /// `https://blog.example`, without a trailing slash.
    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The host part of the domain (no port), as WebFinger `acct:` URIs carry it.
    pub fn host(&self) -> &str {
        self.domain.split(':').next().unwrap_or(&self.domain)
    }

    pub fn home(&self) -> String {
        format!("{}/", self.base)
    }

    pub fn actor(&self, h: &Handle) -> String {
        format!("{}/@{h}", self.base)
    }

    pub fn key_id(&self, h: &Handle) -> String {
        format!("{}#main-key", self.actor(h))
    }

    pub fn inbox(&self, h: &Handle) -> String {
        format!("{}/@{h}/inbox", self.base)
    }

    pub fn outbox(&self, h: &Handle) -> String {
        format!("{}/@{h}/outbox", self.base)
    }

    pub fn followers(&self, h: &Handle) -> String {
        format!("{}/@{h}/followers", self.base)
    }

    /// FEP-8fcf's partial followers collection: the followers on `domain`.
    pub fn followers_sync(&self, h: &Handle, domain: &str) -> String {
        format!(
            "{}/@{h}/followers_synchronization?domain={domain}",
            self.base
        )
    }

    pub fn following(&self, h: &Handle) -> String {
        format!("{}/@{h}/following", self.base)
    }

    pub fn featured(&self, h: &Handle) -> String {
        format!("{}/@{h}/featured", self.base)
    }

    pub fn avatar(&self, h: &Handle, file: &str) -> String {
        format!("{}/@{h}/avatar/{file}", self.base)
    }

    /// Files in the author's content folder (images beside posts), ending in `/`.
    pub fn media_base(&self, h: &Handle) -> String {
        format!("{}/@{h}/media/", self.base)
    }

    /// Media uploaded from an app: the original, or with `preview` its preview.
    pub fn upload(&self, id: i64, token: &str, ext: &str, preview: bool) -> String {
        let small = if preview { "-small" } else { "" };
        format!("{}/media/{id}/{token}{small}.{ext}", self.base)
    }

    /// The header image named in the profile.
    pub fn header(&self, h: &Handle, file: &str) -> String {
        format!("{}/@{h}/header/{file}", self.base)
    }

    /// A feed of the whole site (`author: None`) or of one author.
    pub fn feed(&self, author: Option<&Handle>, format: FeedFormat) -> String {
        let ext = format.extension();
        match author {
            Some(h) => format!("{}/@{h}/feed.{ext}", self.base),
            None => format!("{}/feed.{ext}", self.base),
        }
    }

    /// A page of the site index (page 1 is the home page itself).
    pub fn home_page(&self, page: i64) -> String {
        if page > 1 {
            format!("{}/?page={page}", self.base)
        } else {
            self.home()
        }
    }

    /// A page of an author's posts.
    pub fn actor_page(&self, h: &Handle, page: i64) -> String {
        if page > 1 {
            format!("{}?page={page}", self.actor(h))
        } else {
            self.actor(h)
        }
    }

    /// Theme files, named with a hash of their content so they can be cached for good.
    pub fn asset(&self, file: &str) -> String {
        format!("{}/static/{file}", self.base)
    }

    /// Sends a reader to their own server's interaction page (the follow form's target).
    pub fn follow_form(&self) -> String {
        format!("{}/follow", self.base)
    }

    pub fn sitemap(&self) -> String {
        format!("{}/sitemap.xml", self.base)
    }

    pub fn shared_inbox(&self) -> String {
        format!("{}/inbox", self.base)
    }

    pub fn post(&self, h: &Handle, slug: &Slug) -> String {
        format!("{}/@{h}/{slug}", self.base)
    }

    /// A post's `replies`, `likes` or `shares` collection.
    pub fn post_collection(&self, h: &Handle, slug: &Slug, name: &str) -> String {
        format!("{}/@{h}/{slug}/{name}", self.base)
    }

    /// A post's conversation (FEP-7888 `context`): the post and its replies.
    pub fn post_context(&self, h: &Handle, slug: &Slug) -> String {
        self.post_collection(h, slug, "context")
    }

    /// The FEP-044f `QuoteAuthorization` we gave for one quote of the author's post.
    pub fn quote_authorization(&self, h: &Handle, token: &str) -> String {
        format!("{}/@{h}/quote_authorizations/{token}", self.base)
    }

    pub fn tag(&self, tag: &Tag) -> String {
        format!("{}/tags/{tag}", self.base)
    }

    /// Activities get ids under `/activities/`; the part after it is derived
    /// deterministically by the caller (e.g. `create/<post row id>`).
    pub fn activity(&self, local_part: &str) -> String {
        format!("{}/activities/{local_part}", self.base)
    }

    /// The instance actor (an Application) that signs our outgoing GETs.
    pub fn instance_actor(&self) -> String {
        format!("{}/actor", self.base)
    }

    pub fn instance_key_id(&self) -> String {
        format!("{}#main-key", self.instance_actor())
    }

    pub fn nodeinfo(&self, version: &str) -> String {
        format!("{}/nodeinfo/{version}", self.base)
    }

    pub fn webfinger_template(&self) -> String {
        format!("{}/.well-known/webfinger?resource={{uri}}", self.base)
    }

    /// If `url` is one of our actor URLs, the handle in it.
    pub fn handle_of_actor(&self, url: &str) -> Option<Handle> {
        let rest = url.strip_prefix(&self.base)?.strip_prefix("/@")?;
        Handle::parse(rest).ok()
    }

    /// If `url` is one of our post URLs, its handle and slug.
    pub fn post_of(&self, url: &str) -> Option<(Handle, Slug)> {
        let rest = url.strip_prefix(&self.base)?.strip_prefix("/@")?;
        let (h, s) = rest.split_once('/')?;
        Some((Handle::parse(h).ok()?, Slug::parse(s).ok()?))
    }
}

/// The feed formats every site and author has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Atom,
    Rss,
    Json,
}

impl FeedFormat {
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Atom, FeedFormat::Rss, FeedFormat::Json];

    /// The file extension in the feed's URL.
    pub fn extension(self) -> &'static str {
        match self {
            FeedFormat::Atom => "atom",
            FeedFormat::Rss => "rss",
            FeedFormat::Json => "json",
        }
    }

    /// The media type for `Content-Type` and `<link rel="alternate" type>`.
    pub fn media_type(self) -> &'static str {
        match self {
            FeedFormat::Atom => "application/atom+xml",
            FeedFormat::Rss => "application/rss+xml",
            FeedFormat::Json => "application/feed+json",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FeedFormat::Atom => "Atom",
            FeedFormat::Rss => "RSS",
            FeedFormat::Json => "JSON Feed",
        }
    }

    /// Parses the `feed.<ext>` file name of a feed URL.
    pub fn from_file_name(name: &str) -> Option<Self> {
        let ext = name.strip_prefix("feed.")?;
        Self::ALL.into_iter().find(|f| f.extension() == ext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actor_urls_round_trip() {
        let u = Uris::new("https", "blog.example");
        let h = Handle::parse("alice").unwrap();
        assert_eq!(u.actor(&h), "https://blog.example/@alice");
        assert_eq!(
            u.handle_of_actor("https://blog.example/@alice"),
            Some(h.clone())
        );
        assert_eq!(u.handle_of_actor("https://other.example/@alice"), None);
        let s = Slug::parse("hello").unwrap();
        assert_eq!(u.post_of(&u.post(&h, &s)), Some((h, s)));
    }

    #[test]
    fn feed_urls_round_trip() {
        let u = Uris::new("https", "blog.example");
        let h = Handle::parse("alice").unwrap();
        assert_eq!(
            u.feed(Some(&h), FeedFormat::Atom),
            "https://blog.example/@alice/feed.atom"
        );
        assert_eq!(
            u.feed(None, FeedFormat::Json),
            "https://blog.example/feed.json"
        );
        for f in FeedFormat::ALL {
            assert_eq!(
                FeedFormat::from_file_name(&format!("feed.{}", f.extension())),
                Some(f)
            );
        }
        assert_eq!(FeedFormat::from_file_name("feed.xml"), None);
    }
}
