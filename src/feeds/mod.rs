//! Feeds for readers that are not on the fediverse: Atom (RFC 4287), RSS 2.0 and
//! JSON Feed 1.1, each with the full post, and the sitemap for search engines.
//! Built from stored rows; no side effects.

mod atom;
mod json;
mod rss;
mod sitemap;

use chrono::{DateTime, Utc};

pub use self::{atom::atom, json::json_feed, rss::rss, sitemap::sitemap};
use crate::{
    content::summary,
    db::{authors::AuthorRow, posts::PostRow},
    domain::Handle,
    uris::{FeedFormat, Uris},
};

/// Posts a feed carries, newest first.
pub const FEED_LIMIT: i64 = 50;

/// What a feed is about: the site, or one author.
#[derive(Debug, Clone)]
pub struct FeedInfo {
    pub title: String,
    pub description: String,
    /// The HTML page the feed mirrors.
    pub home: String,
    /// Whose feed this is (`None`: the site's); gives the feed's own URL.
    pub of: Option<Handle>,
    pub uris: Uris,
    pub icon: Option<String>,
    /// Set for an author's feed.
    pub author: Option<FeedAuthor>,
    /// The site's language: the feed's, and each post's that names none.
    pub language: String,
}

impl FeedInfo {
    fn url(&self, format: FeedFormat) -> String {
        self.uris.feed(self.of.as_ref(), format)
    }
}

#[derive(Debug, Clone)]
pub struct FeedAuthor {
    pub name: String,
    pub url: String,
    pub avatar: Option<String>,
}

/// One post as feeds show it.
#[derive(Debug, Clone)]
pub struct FeedEntry {
    /// The post's URL, which is also its id.
    pub url: String,
    /// Notes have no title; feeds that need one use the start of the text.
    pub title: Option<String>,
    pub summary: Option<String>,
    pub content_html: String,
    /// The date the author wrote, as the page shows.
    pub date: DateTime<Utc>,
    pub updated: Option<DateTime<Utc>>,
    pub author: FeedAuthor,
    pub tags: Vec<String>,
    pub image: Option<String>,
    /// The post's language (`None`: the feed's).
    pub lang: Option<String>,
}

impl FeedEntry {
    /// A title for formats that require one.
    fn title_or_text(&self) -> String {
        self.title
            .clone()
            .unwrap_or_else(|| summary(&self.content_html, 80))
    }

    fn last_change(&self) -> DateTime<Utc> {
        self.updated.unwrap_or(self.date).max(self.date)
    }
}

/// The feed author of a stored author.
pub fn feed_author(author: &AuthorRow, uris: &Uris) -> FeedAuthor {
    let handle = &author.handle;
    FeedAuthor {
        name: author.name.clone(),
        url: uris.actor(handle),
        avatar: author
            .avatar_file
            .as_deref()
            .map(|f| uris.avatar(handle, f)),
    }
}

/// The feed entry of a live post.
pub fn entry(post: &PostRow, author: FeedAuthor, uris: &Uris) -> FeedEntry {
    let date = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or_default();
    FeedEntry {
        url: uris.post(&post.author, &post.slug),
        title: post.title.clone(),
        summary: post.excerpt.clone(),
        content_html: post.content_html.clone(),
        date: date(post.written_at),
        updated: post.updated_at.map(date),
        author,
        tags: post.tags.iter().map(ToString::to_string).collect(),
        image: post.attachments.first().map(|a| a.url.clone()),
        lang: post.lang.as_ref().map(ToString::to_string),
    }
}

/// The newest change among the entries: the feed's own `updated`.
fn newest(entries: &[FeedEntry]) -> DateTime<Utc> {
    entries
        .iter()
        .map(FeedEntry::last_change)
        .max()
        .unwrap_or_default()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample() -> (FeedInfo, Vec<FeedEntry>) {
        let uris = Uris::new("https", "blog.example");
        let author = FeedAuthor {
            name: "Alice & Co".into(),
            url: "https://blog.example/@alice".into(),
            avatar: None,
        };
        let info = FeedInfo {
            title: "Alice's <blog>".into(),
            description: "Posts".into(),
            home: uris.home(),
            of: None,
            uris,
            icon: None,
            author: Some(author.clone()),
            language: "en".into(),
        };
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let entries = vec![
            FeedEntry {
                url: "https://blog.example/@alice/second".into(),
                title: Some("Second & last".into()),
                summary: Some("The excerpt".into()),
                content_html: "<p>Body with <code>&lt;tags&gt;</code></p>".into(),
                date: at("2025-02-01T10:00:00Z"),
                updated: Some(at("2025-02-03T10:00:00Z")),
                author: author.clone(),
                tags: vec!["rust".into()],
                image: Some("https://blog.example/@alice/media/a.png".into()),
                lang: Some("de".into()),
            },
            FeedEntry {
                url: "https://blog.example/@alice/note".into(),
                title: None,
                summary: None,
                content_html: "<p>Just a short note.</p>".into(),
                date: at("2025-01-01T00:00:00Z"),
                updated: None,
                author,
                tags: vec![],
                image: None,
                lang: None,
            },
        ];
        (info, entries)
    }

    #[test]
    fn notes_get_a_title_from_their_text_and_the_feed_the_newest_date() {
        let (_, entries) = sample();
        assert_eq!(entries[1].title_or_text(), "Just a short note.");
        assert_eq!(newest(&entries), entries[0].updated.unwrap());
    }
}
