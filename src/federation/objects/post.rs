use serde::Serialize;

use super::{collections::PagedCollection, iso8601};
use crate::{
    db::posts::PostRow,
    domain::{Attachment, PostKind, PostOrigin, Visibility, escape_html},
    federation::{PUBLIC, context},
    uris::Uris,
};

/// An Article or Note as we publish it (docs/RENDERING.md compares the shapes).
///
/// A Note, the default, reads the same on every server: its `content` opens with the
/// title as a linked bold paragraph, then the body; it has no `name` and no `summary`
/// (GoToSocial, Misskey and Akkoma show either as a content warning). An Article, for
/// authors who ask for one, keeps Mastodon's card: `name` = title, `summary` = excerpt,
/// and the body in `content` (Mastodon drops it).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PostObject {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub attributed_to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    pub content: String,
    /// The same content keyed by the post's language (readers' filters, translation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content_map: Option<serde_json::Map<String, serde_json::Value>>,
    pub media_type: &'static str,
    pub url: String,
    pub published: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub tag: Vec<Hashtag>,
    pub attachment: Vec<serde_json::Value>,
    pub sensitive: bool,
    /// What an app note answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_reply_to: Option<String>,
    /// The post's conversation (FEP-7888): a collection of the post and its replies.
    pub context: String,
    /// The conversation's collections with their totals, on the served document only;
    /// `replies` with its first page inside.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replies: Option<PagedCollection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub likes: Option<CollectionRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shares: Option<CollectionRef>,
    /// Who may quote it (FEP-044f `canQuote`), as Mastodon 4.5 reads it.
    pub interaction_policy: serde_json::Value,
}

/// A collection named with its total, as Mastodon embeds `likes` and `shares`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectionRef {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub total_items: i64,
    pub first: String,
}

impl CollectionRef {
    pub fn new(id: String, total_items: i64) -> Self {
        Self {
            first: format!("{id}?page=1"),
            id,
            kind: "OrderedCollection",
            total_items,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Hashtag {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub href: String,
}

/// A deleted post, as served at its URL and sent in Delete.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Tombstone {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub former_type: &'static str,
    pub deleted: String,
}

/// A document with its `@context`, for serving on its own.
#[derive(Debug, Serialize)]
pub struct WithContext<T> {
    #[serde(rename = "@context")]
    pub context: serde_json::Value,
    #[serde(flatten)]
    pub inner: T,
}

impl<T> WithContext<T> {
    pub fn new(inner: T) -> Self {
        Self {
            context: context(),
            inner,
        }
    }
}

/// Builds the AS2 object of a live post.
pub fn post_object(post: &PostRow, uris: &Uris) -> PostObject {
    let handle = &post.author;
    let id = uris.post(handle, &post.slug);
    // Rows not rendered again since the federated body existed fall back to the page's.
    let body = post.federated_html.as_deref().unwrap_or(&post.content_html);
    let (name, summary, content) = match post.kind {
        PostKind::Article => (post.title.clone(), post.excerpt.clone(), body.to_owned()),
        // The title opens a Note as a link to the page: a way to the whole post where
        // the body is cut or collapsed, and Mastodon's preview card. `<strong>` outside
        // `<a>`: Misskey keeps the bold only so.
        PostKind::Note => {
            let content = match &post.title {
                Some(t) => format!(
                    "<p><strong><a href=\"{}\">{}</a></strong></p>\n{body}",
                    escape_html(&id),
                    escape_html(t),
                ),
                None => body.to_owned(),
            };
            (None, None, content)
        }
    };
    let content_map = post.lang.as_ref().map(|lang| {
        let mut map = serde_json::Map::new();
        map.insert(lang.to_string(), content.clone().into());
        map
    });
    PostObject {
        content_map,
        kind: post.kind.as_str(),
        attributed_to: uris.actor(handle),
        name,
        summary,
        content,
        media_type: "text/html",
        url: id.clone(),
        published: iso8601(post.published_at),
        updated: post.updated_at.map(iso8601),
        to: vec![PUBLIC.to_owned()],
        cc: std::iter::once(uris.followers(handle))
            .chain(post.mentions.iter().map(|m| m.actor.clone()))
            .collect(),
        tag: post
            .tags
            .iter()
            .map(|t| Hashtag {
                kind: "Hashtag",
                name: t.hashtag_name(),
                href: uris.tag(t),
            })
            .chain(post.mentions.iter().map(mention_tag))
            .collect(),
        attachment: attachments_of(post),
        sensitive: false,
        in_reply_to: None,
        context: uris.post_context(handle, &post.slug),
        replies: None,
        likes: None,
        shares: None,
        interaction_policy: super::quote::interaction_policy(post, uris),
        id,
    }
    .with_app_fields(post, uris)
}

impl PostObject {
    /// An app note's own fields: who it is for (Mastodon's addressing of each
    /// visibility), its content warning and what it answers.
    fn with_app_fields(mut self, post: &PostRow, uris: &Uris) -> Self {
        if post.origin != PostOrigin::App {
            return self;
        }
        (self.to, self.cc) = audience(post, uris);
        self.summary = post.spoiler_text.clone().filter(|s| !s.is_empty());
        self.sensitive = post.sensitive || self.summary.is_some();
        self.in_reply_to = post.in_reply_to.clone();
        self
    }
}

/// `to` and `cc` of an app note, as Mastodon addresses each visibility: public to
/// everyone, unlisted to followers (public in `cc`), private to followers, direct to
/// those mentioned only; the mentioned are always addressed.
pub fn audience(post: &PostRow, uris: &Uris) -> (Vec<String>, Vec<String>) {
    let followers = uris.followers(&post.author);
    let mentioned = post.mentions.iter().map(|m| m.actor.clone());
    match post.visibility {
        Visibility::Public => (
            vec![PUBLIC.to_owned()],
            std::iter::once(followers).chain(mentioned).collect(),
        ),
        Visibility::Unlisted => (
            vec![followers],
            std::iter::once(PUBLIC.to_owned())
                .chain(mentioned)
                .collect(),
        ),
        Visibility::Private => (vec![followers], mentioned.collect()),
        Visibility::Direct => (mentioned.collect(), Vec::new()),
    }
}

/// A `Mention` tag: Mastodon notifies the account whose actor is `href`.
fn mention_tag(m: &crate::domain::Mention) -> Hashtag {
    Hashtag {
        kind: "Mention",
        name: m.name.clone(),
        href: m.actor.clone(),
    }
}

/// Images as Mastodon keeps them: `Image` documents with `mediaType`, `url`, alt text
/// in `name`, and dimensions when known.
fn attachments_of(post: &PostRow) -> Vec<serde_json::Value> {
    post.attachments
        .iter()
        .map(|a: &Attachment| {
            let mut doc = serde_json::json!({ "type": "Image", "url": a.url, "name": a.alt });
            if let Some(mt) = &a.media_type {
                doc["mediaType"] = mt.as_str().into();
            }
            if let (Some(w), Some(h)) = (a.width, a.height) {
                doc["width"] = w.into();
                doc["height"] = h.into();
            }
            doc
        })
        .collect()
}

/// The tombstone of a deleted post.
pub fn tombstone(post: &PostRow, uris: &Uris) -> Tombstone {
    Tombstone {
        id: uris.post(&post.author, &post.slug),
        kind: "Tombstone",
        former_type: post.kind.as_str(),
        deleted: iso8601(post.deleted_at.unwrap_or(post.published_at)),
    }
}
