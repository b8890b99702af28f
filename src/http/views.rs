//! Views: what the HTML templates show, made from stored rows (minijinja templates in
//! `templates/`, auto-escaped), and the rendering itself. `Head` carries what every
//! page declares for discovery (canonical URL, feeds, OpenGraph, ActivityPub). The
//! handlers that gather the rows are in `pages`.

use std::sync::OnceLock;

use anyhow::Context;
use axum::{
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use minijinja::{AutoEscape, Environment, context, escape_formatter, value::Serde};
use serde::Serialize;

use super::assets;
use crate::{
    app::App,
    content::{reading_minutes, summary},
    db::{authors::AuthorRow, posts::PostRow, replies::ShownReply},
    domain::{Handle, PageNumber, ProfileField, Tag, escape_html},
    error::{AppError, AppResult},
    federation::objects::{collections::page_count, iso8601},
    service::conversation,
    uris::FeedFormat,
};

/// Characters of text in a page's description (search results and link previews).
const DESCRIPTION_CHARS: usize = 200;

fn templates() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        // Escape only what HTML needs (`&<>"`), so URLs in attributes stay readable;
        // minijinja's default also escapes `/`.
        env.set_formatter(
            |out, state, value| match (state.auto_escape(), value.as_str()) {
                (AutoEscape::Html, Some(s)) if !value.is_safe() => {
                    out.write_str(&escape_html(s)).map_err(Into::into)
                }
                _ => escape_formatter(out, state, value),
            },
        );
        for (name, source) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("index.html", include_str!("../../templates/index.html")),
            (
                "post_list.html",
                include_str!("../../templates/post_list.html"),
            ),
            (
                "follow_form.html",
                include_str!("../../templates/follow_form.html"),
            ),
            ("author.html", include_str!("../../templates/author.html")),
            ("post.html", include_str!("../../templates/post.html")),
            ("tag.html", include_str!("../../templates/tag.html")),
            ("message.html", include_str!("../../templates/message.html")),
            (
                "authorize.html",
                include_str!("../../templates/authorize.html"),
            ),
        ] {
            // The templates are compiled into the binary; a syntax error is caught by the tests.
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "template does not compile");
            }
        }
        env
    })
}

pub(super) fn render(name: &str, ctx: minijinja::Value) -> AppResult<Html<String>> {
    templates()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map(Html)
        .with_context(|| format!("rendering {name}"))
        .map_err(AppError::Internal)
}

#[derive(Serialize)]
pub(super) struct SiteView {
    pub(super) title: String,
    pub(super) description: String,
    pub(super) home: String,
    pub(super) css: String,
    pub(super) js: String,
    pub(super) icon: String,
    pub(super) feeds: Vec<FeedLink>,
    pub(super) follow_action: String,
    /// `<html lang>` of pages that show no single post.
    pub(super) lang: String,
}

pub(super) fn site(app: &App) -> SiteView {
    SiteView {
        title: app.config().site_title.clone(),
        description: app.config().site_description.clone(),
        home: app.uris().home(),
        css: assets::css_url(app.uris()),
        js: assets::js_url(app.uris()),
        icon: assets::icon_url(app.uris()),
        feeds: feed_links(app, None, &app.config().site_title),
        follow_action: app.uris().follow_form(),
        lang: app.config().site_language.to_string(),
    }
}

#[derive(Serialize, Clone)]
pub(super) struct FeedLink {
    pub(super) title: String,
    pub(super) name: &'static str,
    pub(super) media_type: &'static str,
    pub(super) href: String,
}

pub(super) fn feed_links(app: &App, author: Option<&Handle>, title: &str) -> Vec<FeedLink> {
    FeedFormat::ALL
        .into_iter()
        .map(|f| FeedLink {
            title: format!("{title} ({})", f.name()),
            name: f.name(),
            media_type: f.media_type(),
            href: app.uris().feed(author, f),
        })
        .collect()
}

/// What a page declares in `<head>` beyond its title.
#[derive(Serialize, Default)]
pub(super) struct Head {
    /// The `<title>`.
    pub(super) title: String,
    /// The title link previews show (without the site's name).
    pub(super) og_title: String,
    pub(super) description: String,
    pub(super) canonical: String,
    /// OpenGraph type: `website`, `profile` or `article`.
    pub(super) og_type: &'static str,
    pub(super) image: Option<ImageView>,
    /// The ActivityPub id of what the page shows.
    pub(super) activity_json: Option<String>,
    /// The conversation the page's post belongs to (FEP-7888 `context`), as AS2.
    pub(super) conversation: Option<String>,
    /// `@handle@domain`, for Mastodon's author attribution on link previews.
    pub(super) creator: Option<String>,
    /// Feeds beyond the site's own (an author's).
    pub(super) feeds: Vec<FeedLink>,
    pub(super) published: Option<String>,
    pub(super) modified: Option<String>,
    pub(super) tags: Vec<String>,
    /// Error pages keep out of search indexes.
    pub(super) noindex: bool,
}

#[derive(Serialize, Clone)]
pub(super) struct ImageView {
    pub(super) url: String,
    pub(super) alt: String,
}

#[derive(Serialize)]
pub(super) struct AuthorView {
    pub(super) name: String,
    pub(super) handle: String,
    pub(super) url: String,
    pub(super) address: String,
    pub(super) avatar: Option<String>,
    pub(super) header: Option<String>,
    pub(super) bio_html: String,
    pub(super) bio_text: String,
    pub(super) fields: Vec<ProfileField>,
    pub(super) followers: i64,
    pub(super) feeds: Vec<FeedLink>,
}

pub(super) fn author_view(app: &App, a: &AuthorRow, followers: i64) -> AuthorView {
    let handle = &a.handle;
    AuthorView {
        name: a.name.clone(),
        handle: handle.to_string(),
        url: app.uris().actor(handle),
        address: format!("@{handle}@{}", app.uris().handle_domain()),
        avatar: a
            .avatar_file
            .as_deref()
            .map(|f| app.uris().avatar(handle, f)),
        header: a
            .header_file
            .as_deref()
            .map(|f| app.uris().header(handle, f)),
        bio_html: a.bio_html.clone(),
        bio_text: summary(&a.bio_html, DESCRIPTION_CHARS),
        fields: a.fields.clone(),
        followers,
        feeds: feed_links(app, Some(handle), &a.name),
    }
}

#[derive(Serialize)]
pub(super) struct TagView {
    pub(super) name: String,
    pub(super) url: String,
}

#[derive(Serialize)]
pub(super) struct PostView {
    /// The post's language: its page's `<html lang>`.
    pub(super) lang: String,
    pub(super) title: String,
    /// Notes have no title of their own; their heading is made from the date.
    pub(super) titled: bool,
    pub(super) url: String,
    pub(super) excerpt: Option<String>,
    pub(super) description: String,
    pub(super) date: String,
    pub(super) date_iso: String,
    pub(super) updated: Option<String>,
    pub(super) updated_iso: Option<String>,
    pub(super) reading_minutes: u32,
    pub(super) content_html: String,
    pub(super) tags: Vec<TagView>,
    pub(super) image: Option<ImageView>,
    pub(super) author_name: Option<String>,
    pub(super) author_url: Option<String>,
}

/// `15 January 2025`
fn human_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%-d %B %Y")
        .to_string()
}

pub(super) fn post_view(app: &App, p: &PostRow, author: Option<&AuthorRow>) -> PostView {
    let url = app.uris().post(&p.author, &p.slug);
    PostView {
        lang: p
            .lang
            .as_ref()
            .unwrap_or(&app.config().site_language)
            .to_string(),
        title: p
            .title
            .clone()
            .unwrap_or_else(|| format!("Note of {}", human_date(p.written_at))),
        titled: p.title.is_some(),
        url,
        excerpt: p.excerpt.clone(),
        description: p
            .excerpt
            .clone()
            .unwrap_or_else(|| summary(&p.content_html, DESCRIPTION_CHARS)),
        date: human_date(p.written_at),
        date_iso: iso8601(p.written_at),
        updated: p.updated_at.map(human_date),
        updated_iso: p.updated_at.map(iso8601),
        reading_minutes: reading_minutes(&p.content_html),
        content_html: p.content_html.clone(),
        tags: p
            .tags
            .iter()
            .map(|t: &Tag| TagView {
                name: t.to_string(),
                url: app.uris().tag(t),
            })
            .collect(),
        image: p.attachments.first().map(|a| ImageView {
            url: a.url.clone(),
            alt: a.alt.clone(),
        }),
        author_name: author.map(|a| a.name.clone()),
        author_url: Some(app.uris().actor(&p.author)),
    }
}

/// Links to the pages before and after `page` of `total` items, `per_page` a page.
pub(super) fn page_links(
    page: PageNumber,
    (total, per_page): (i64, i64),
    url: impl Fn(i64) -> String,
) -> (Option<String>, Option<String>) {
    let prev = page.prev().map(|p| url(p.get()));
    let next = page
        .next()
        .filter(|n| n.get() <= page_count(total, per_page))
        .map(|n| url(n.get()));
    (prev, next)
}

/// At most `max` characters of `s`, the last of them `…` if it was cut.
fn shorten(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some(_) => {
            let keep = max.saturating_sub(1);
            let end = s.char_indices().nth(keep).map_or(s.len(), |(i, _)| i);
            format!("{}…", &s[..end])
        }
    }
}

/// Someone from another server beside their reply, like or boost: names cut to
/// `[limits.pages] name_chars`, links longer than `url_chars` left out.
#[derive(Serialize)]
pub(super) struct PersonView {
    pub(super) name: String,
    pub(super) address: String,
    pub(super) url: Option<String>,
    pub(super) avatar: Option<String>,
}

/// What a remote person is shown with, as stored.
struct Person<'a> {
    actor_id: &'a str,
    name: Option<&'a str>,
    username: Option<&'a str>,
    handle: Option<&'a str>,
    icon: Option<&'a str>,
    profile: Option<&'a str>,
}

impl PersonView {
    fn new(p: Person<'_>, app: &App) -> Self {
        let username = p.username.map(|u| short_name(app, u));
        let handle = p.handle.map(|h| short_name(app, h));
        let address = conversation::address(handle.as_deref(), username.as_deref(), p.actor_id);
        let link = |u: &str| short_link(app, u);
        Self {
            name: p
                .name
                .map_or_else(|| address.clone(), |n| short_name(app, n)),
            address,
            url: link(p.profile.unwrap_or(p.actor_id)).or_else(|| link(p.actor_id)),
            avatar: p.icon.and_then(link),
        }
    }
}

/// A remote name or username as shown: `[limits.pages] name_chars` at most.
fn short_name(app: &App, s: &str) -> String {
    let shown = shorten(s, usize::from(app.config().limits.pages.name_chars.get()));
    if shown.len() != s.len() {
        app.metrics().limit_tripped("limits.pages.name_chars");
    }
    shown
}

/// A remote URL as linked: none past `[limits.pages] url_chars` (a cut URL is no link).
fn short_link(app: &App, url: &str) -> Option<String> {
    let fits = url
        .chars()
        .nth(usize::from(app.config().limits.pages.url_chars.get()))
        .is_none();
    if !fits {
        app.metrics().limit_tripped("limits.pages.url_chars");
    }
    fits.then(|| url.to_owned())
}

#[derive(Serialize)]
pub(super) struct ReplyView {
    pub(super) anchor: String,
    pub(super) author: PersonView,
    /// Sanitised when it was received; a long reply cut to plain text.
    pub(super) content_html: String,
    /// Whether `content_html` is only the start of the reply.
    pub(super) shortened: bool,
    pub(super) summary: Option<String>,
    pub(super) url: Option<String>,
    pub(super) date: String,
    pub(super) date_iso: String,
    pub(super) edited: bool,
    /// Indentation in the thread, capped so deep threads stay readable on a phone.
    pub(super) level: usize,
    /// The post's author answering (a reply from an app).
    pub(super) by_author: bool,
}

#[derive(Serialize)]
pub(super) struct ConversationView {
    /// One page of replies.
    pub(super) replies: Vec<ReplyView>,
    pub(super) reply_count: i64,
    pub(super) prev_page: Option<String>,
    pub(super) next_page: Option<String>,
    pub(super) likes: Vec<PersonView>,
    pub(super) like_count: i64,
    /// The likes' emoji with their counts: Unicode as it is, custom emoji as
    /// `:shortcode:` text (their images are not fetched).
    pub(super) emoji: Vec<EmojiCountView>,
    pub(super) boosts: Vec<PersonView>,
    pub(super) boost_count: i64,
    pub(super) quotes: Vec<QuoteView>,
    pub(super) quote_count: i64,
}

/// A quote of the post: who quoted it, a link to the quote and its start as text.
#[derive(Serialize)]
pub(super) struct QuoteView {
    pub(super) author: PersonView,
    pub(super) url: Option<String>,
    pub(super) text: String,
}

fn quote_view(app: &App, q: crate::db::quotes::ShownQuote) -> QuoteView {
    let chars = usize::try_from(app.config().limits.pages.reply_chars.get()).unwrap_or(usize::MAX);
    QuoteView {
        author: PersonView::new(
            Person {
                actor_id: &q.actor_id,
                name: q.name.as_deref(),
                username: q.username.as_deref(),
                handle: q.handle.as_deref(),
                icon: q.icon_url.as_deref(),
                profile: q.profile_url.as_deref(),
            },
            app,
        ),
        url: q.url.as_deref().and_then(|u| short_link(app, u)),
        // Sanitised when received; shown as plain text, so no markup of theirs reaches the page.
        text: summary(&q.content_html, chars.min(280)),
    }
}

/// One emoji of a post's likes and how many chose it.
#[derive(Serialize)]
pub(super) struct EmojiCountView {
    pub(super) emoji: String,
    pub(super) custom: bool,
    pub(super) count: i64,
}

/// Deepest indentation shown; deeper answers line up with it.
const MAX_LEVEL: usize = 4;

/// The conversation as the post page shows it; `prev_page` and `next_page` link the
/// pages of replies.
pub(super) fn conversation_view(
    app: &App,
    c: conversation::Conversation,
    prev_page: Option<String>,
    next_page: Option<String>,
) -> ConversationView {
    let person = |r: &crate::db::reactions::Reactor| {
        PersonView::new(
            Person {
                actor_id: &r.actor_id,
                name: r.name.as_deref(),
                username: r.username.as_deref(),
                handle: r.handle.as_deref(),
                icon: r.icon_url.as_deref(),
                profile: r.profile_url.as_deref(),
            },
            app,
        )
    };
    ConversationView {
        replies: c
            .replies
            .into_iter()
            .map(|(r, level)| reply_view(app, r, level))
            .collect(),
        reply_count: c.reply_count,
        prev_page,
        next_page,
        likes: c.likes.iter().map(person).collect(),
        like_count: c.like_count,
        emoji: c
            .emoji
            .into_iter()
            .map(|(e, count)| EmojiCountView {
                custom: e.is_custom(),
                emoji: e.to_string(),
                count,
            })
            .collect(),
        boosts: c.boosts.iter().map(person).collect(),
        boost_count: c.boost_count,
        quotes: c.quotes.into_iter().map(|q| quote_view(app, q)).collect(),
        quote_count: c.quote_count,
    }
}

/// One reply: text past `reply_chars` becomes a plain-text start, linked to the whole.
fn reply_view(app: &App, r: ShownReply, level: usize) -> ReplyView {
    let limits = &app.config().limits.pages;
    let chars = usize::try_from(limits.reply_chars.get()).unwrap_or(usize::MAX);
    let shortened = r.reply.content_html.chars().nth(chars).is_some();
    let content_html = match shortened {
        true => {
            app.metrics().limit_tripped("limits.pages.reply_chars");
            format!(
                "<p>{}</p>",
                escape_html(&summary(&r.reply.content_html, chars))
            )
        }
        false => r.reply.content_html,
    };
    ReplyView {
        anchor: format!("reply-{}", r.reply.id),
        author: PersonView::new(
            Person {
                actor_id: &r.reply.actor_id,
                name: r.actor_name.as_deref(),
                username: r.actor_username.as_deref(),
                handle: r.actor_handle.as_deref(),
                icon: r.actor_icon.as_deref(),
                profile: r.actor_url.as_deref(),
            },
            app,
        ),
        content_html,
        shortened,
        summary: r.reply.summary.as_deref().map(|s| shorten(s, chars)),
        url: short_link(app, r.reply.url.as_deref().unwrap_or(&r.reply.ap_id)),
        date: human_date(r.reply.published_at),
        date_iso: iso8601(r.reply.published_at),
        edited: r.reply.updated_at.is_some(),
        level: level.min(MAX_LEVEL),
        by_author: r.reply.note_id.is_some(),
    }
}

/// An HTML page with a heading and a message, for 400, 404 and 410.
pub(super) fn message_page(
    app: &App,
    status: StatusCode,
    heading: &str,
    message: &str,
) -> Response {
    let head = Head {
        title: format!("{heading} · {}", app.config().site_title),
        og_title: heading.to_owned(),
        description: message.to_owned(),
        og_type: "website",
        noindex: true,
        ..Head::default()
    };
    match render(
        "message.html",
        context! { site => Serde(site(app)), head => Serde(head), heading, message, status => status.as_u16() },
    ) {
        Ok(html) => (status, html).into_response(),
        Err(e) => e.into_response(),
    }
}

pub(super) fn not_found_page(app: &App) -> Response {
    message_page(
        app,
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. It may have moved, or the link may be mistyped.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortening_counts_characters_and_never_splits_one() {
        assert_eq!(shorten("Zoë", 3), "Zoë");
        assert_eq!(shorten("Zoë Ångström", 5), "Zoë …");
        assert_eq!(shorten("🦀🦀🦀🦀", 3), "🦀🦀…");
        assert_eq!(shorten("abc", 1), "…");
    }
}
