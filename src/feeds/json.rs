use serde::Serialize;

use super::{FeedAuthor, FeedEntry, FeedInfo};
use crate::uris::FeedFormat;

/// JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>).
#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    #[serde(skip_serializing_if = "str::is_empty")]
    description: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    icon: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<JsonAuthor<'a>>,
    language: &'a str,
    items: Vec<JsonItem<'a>>,
}

#[derive(Serialize)]
struct JsonAuthor<'a> {
    name: &'a str,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    avatar: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonItem<'a> {
    id: &'a str,
    url: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<&'a str>,
    content_html: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    date_modified: Option<String>,
    authors: Vec<JsonAuthor<'a>>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
    language: &'a str,
}

fn author(a: &FeedAuthor) -> JsonAuthor<'_> {
    JsonAuthor {
        name: &a.name,
        url: &a.url,
        avatar: a.avatar.as_deref(),
    }
}

/// A JSON Feed with each post's full HTML in `content_html`.
pub fn json_feed(info: &FeedInfo, entries: &[FeedEntry]) -> String {
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &info.title,
        home_page_url: &info.home,
        feed_url: info.url(FeedFormat::Json),
        description: &info.description,
        icon: info.icon.as_deref(),
        authors: info.author.iter().map(author).collect(),
        language: &info.language,
        items: entries
            .iter()
            .map(|e| JsonItem {
                id: &e.url,
                url: &e.url,
                title: e.title.as_deref(),
                content_html: &e.content_html,
                summary: e.summary.as_deref(),
                image: e.image.as_deref(),
                date_published: e.date.to_rfc3339(),
                date_modified: e.updated.map(|u| u.to_rfc3339()),
                authors: vec![author(&e.author)],
                tags: &e.tags,
                language: e.lang.as_deref().unwrap_or(&info.language),
            })
            .collect(),
    };
    // Serialising plain strings and vectors cannot fail.
    serde_json::to_string_pretty(&feed).unwrap_or_default()
}
