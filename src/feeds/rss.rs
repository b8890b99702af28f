use rss::{Category, Channel, Guid, Image, Item};

use super::{FeedEntry, FeedInfo, newest};

/// An RSS 2.0 channel: the excerpt in `description`, the full post in `content:encoded`.
pub fn rss(info: &FeedInfo, entries: &[FeedEntry]) -> String {
    let items: Vec<Item> = entries
        .iter()
        .map(|e| {
            let mut item = Item::default();
            item.set_title(e.title.clone());
            item.set_link(Some(e.url.clone()));
            item.set_guid(Some(Guid {
                value: e.url.clone(),
                permalink: true,
            }));
            item.set_pub_date(Some(e.date.to_rfc2822()));
            item.set_description(Some(
                e.summary
                    .clone()
                    .unwrap_or_else(|| crate::content::summary(&e.content_html, 280)),
            ));
            item.set_content(Some(e.content_html.clone()));
            // RSS `author` must be an e-mail address; Dublin Core's creator takes a name.
            let mut dc = rss::extension::dublincore::DublinCoreExtension::default();
            dc.set_creators(vec![e.author.name.clone()]);
            dc.set_languages(vec![
                e.lang.clone().unwrap_or_else(|| info.language.clone()),
            ]);
            item.set_dublin_core_ext(Some(dc));
            item.set_categories(
                e.tags
                    .iter()
                    .map(|t| Category {
                        name: t.clone(),
                        domain: None,
                    })
                    .collect::<Vec<_>>(),
            );
            item
        })
        .collect();
    let mut channel = Channel::default();
    channel.set_title(info.title.clone());
    channel.set_link(info.home.clone());
    channel.set_description(if info.description.is_empty() {
        info.title.clone()
    } else {
        info.description.clone()
    });
    channel.set_last_build_date(Some(newest(entries).to_rfc2822()));
    channel.set_generator(Some(format!("fedblog {}", env!("CARGO_PKG_VERSION"))));
    channel.set_language(Some(info.language.clone()));
    channel.set_image(info.icon.as_ref().map(|url| Image {
        url: url.clone(),
        title: info.title.clone(),
        link: info.home.clone(),
        ..Image::default()
    }));
    channel.set_items(items);
    channel.to_string()
}
