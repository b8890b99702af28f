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
    db::{authors::AuthorRow, posts::PostRow},
    domain::{Handle, ProfileField, Tag, escape_html},
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
        address: format!("@{handle}@{}", app.uris().domain()),
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

pub(super) fn page_links(
    page: i64,
    total: i64,
    url: impl Fn(i64) -> String,
) -> (Option<String>, Option<String>) {
    let prev = (page > 1).then(|| url(page - 1));
    let next = (page < page_count(total)).then(|| url(page + 1));
    (prev, next)
}

/// Someone from another server beside their reply, like or boost.
#[derive(Serialize)]
pub(super) struct PersonView {
    pub(super) name: String,
    pub(super) address: String,
    pub(super) url: String,
    pub(super) avatar: Option<String>,
}

impl PersonView {
    fn new(
        actor_id: &str,
        name: Option<&str>,
        username: Option<&str>,
        icon: Option<&str>,
        profile: Option<&str>,
    ) -> Self {
        let address = conversation::address(username, actor_id);
        Self {
            name: name.map_or_else(|| address.clone(), str::to_owned),
            address,
            url: profile.unwrap_or(actor_id).to_owned(),
            avatar: icon.map(str::to_owned),
        }
    }
}

#[derive(Serialize)]
pub(super) struct ReplyView {
    pub(super) anchor: String,
    pub(super) author: PersonView,
    /// Sanitised when it was received.
    pub(super) content_html: String,
    pub(super) summary: Option<String>,
    pub(super) url: String,
    pub(super) date: String,
    pub(super) date_iso: String,
    pub(super) edited: bool,
    /// Indentation in the thread, capped so deep threads stay readable on a phone.
    pub(super) level: usize,
}

#[derive(Serialize)]
pub(super) struct ConversationView {
    pub(super) replies: Vec<ReplyView>,
    pub(super) likes: Vec<PersonView>,
    pub(super) like_count: i64,
    pub(super) boosts: Vec<PersonView>,
    pub(super) boost_count: i64,
}

/// Deepest indentation shown; deeper answers line up with it.
const MAX_LEVEL: usize = 4;

pub(super) fn conversation_view(c: conversation::Conversation) -> ConversationView {
    let person = |r: &crate::db::reactions::Reactor| {
        PersonView::new(
            &r.actor_id,
            r.name.as_deref(),
            r.username.as_deref(),
            r.icon_url.as_deref(),
            r.profile_url.as_deref(),
        )
    };
    ConversationView {
        replies: c
            .replies
            .into_iter()
            .map(|(r, level)| ReplyView {
                anchor: format!("reply-{}", r.reply.id),
                author: PersonView::new(
                    &r.reply.actor_id,
                    r.actor_name.as_deref(),
                    r.actor_username.as_deref(),
                    r.actor_icon.as_deref(),
                    r.actor_url.as_deref(),
                ),
                content_html: r.reply.content_html,
                summary: r.reply.summary,
                url: r.reply.url.unwrap_or(r.reply.ap_id),
                date: human_date(r.reply.published_at),
                date_iso: iso8601(r.reply.published_at),
                edited: r.reply.updated_at.is_some(),
                level: level.min(MAX_LEVEL),
            })
            .collect(),
        likes: c.likes.iter().map(person).collect(),
        like_count: c.like_count,
        boosts: c.boosts.iter().map(person).collect(),
        boost_count: c.boost_count,
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
