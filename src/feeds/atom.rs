use atom_syndication::{Category, Content, Entry, Feed, Generator, Link, Person, Text};

use super::{FeedEntry, FeedInfo, newest};
use crate::uris::FeedFormat;

fn person(a: &super::FeedAuthor) -> Person {
    Person {
        name: a.name.clone(),
        uri: Some(a.url.clone()),
        ..Person::default()
    }
}

fn link(href: &str, rel: &str, mime: Option<&str>) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l.set_rel(rel);
    l.set_mime_type(mime.map(str::to_owned));
    l
}

/// An Atom feed with each post's full HTML in `content`.
pub fn atom(info: &FeedInfo, entries: &[FeedEntry]) -> String {
    let self_url = info.url(FeedFormat::Atom);
    let items = entries.iter().map(|e| {
        let mut entry = Entry::default();
        entry.set_id(e.url.clone());
        entry.set_title(Text::plain(e.title_or_text()));
        entry.set_published(Some(e.date.fixed_offset()));
        entry.set_updated(e.last_change().fixed_offset());
        entry.set_authors(vec![person(&e.author)]);
        entry.set_links(vec![link(&e.url, "alternate", Some("text/html"))]);
        entry.set_summary(e.summary.clone().map(Text::plain));
        entry.set_content(Some(Content {
            lang: Some(e.lang.clone().unwrap_or_else(|| info.language.clone())),
            value: Some(e.content_html.clone()),
            content_type: Some("html".into()),
            ..Content::default()
        }));
        entry.set_categories(
            e.tags
                .iter()
                .map(|t| Category {
                    term: t.clone(),
                    ..Category::default()
                })
                .collect::<Vec<_>>(),
        );
        entry
    });
    let mut feed = Feed::default();
    feed.set_id(self_url.clone());
    feed.set_title(Text::plain(info.title.clone()));
    if !info.description.is_empty() {
        feed.set_subtitle(Some(Text::plain(info.description.clone())));
    }
    feed.set_updated(newest(entries).fixed_offset());
    feed.set_links(vec![
        link(&self_url, "self", Some(FeedFormat::Atom.media_type())),
        link(&info.home, "alternate", Some("text/html")),
    ]);
    feed.set_authors(info.author.iter().map(person).collect::<Vec<_>>());
    feed.set_icon(info.icon.clone());
    feed.set_lang(Some(info.language.clone()));
    feed.set_generator(Some(Generator {
        value: "fedblog".into(),
        uri: None,
        version: Some(env!("CARGO_PKG_VERSION").into()),
    }));
    feed.set_entries(items.collect::<Vec<_>>());
    feed.to_string()
}
