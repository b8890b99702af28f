//! Server-rendered HTML pages (minijinja templates in `templates/`, auto-escaped).
//! Views here turn stored rows into what the templates show; `Head` carries what
//! every page declares for discovery (canonical URL, feeds, OpenGraph, ActivityPub).

use anyhow::Context;
use std::{collections::HashMap, sync::OnceLock};

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use minijinja::{AutoEscape, Environment, context, escape_formatter, value::Serde};
use serde::Serialize;

use super::{
    PageQuery, assets,
    cache::{Freshness, cacheable},
};
use crate::{
    app::App,
    cache::scope,
    content::{reading_minutes, summary},
    db::{authors::AuthorRow, posts::PostRow},
    domain::{Handle, ProfileField, Tag, escape_html},
    error::{AppError, AppResult},
    federation::objects::{collections::page_count, iso8601},
    service::{conversation, read},
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

fn render(name: &str, ctx: minijinja::Value) -> AppResult<Html<String>> {
    templates()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map(Html)
        .with_context(|| format!("rendering {name}"))
        .map_err(AppError::Internal)
}

#[derive(Serialize)]
struct SiteView {
    title: String,
    description: String,
    home: String,
    css: String,
    js: String,
    icon: String,
    feeds: Vec<FeedLink>,
    follow_action: String,
}

fn site(app: &App) -> SiteView {
    SiteView {
        title: app.config().site_title.clone(),
        description: app.config().site_description.clone(),
        home: app.uris().home(),
        css: assets::css_url(app.uris()),
        js: assets::js_url(app.uris()),
        icon: assets::icon_url(app.uris()),
        feeds: feed_links(app, None, &app.config().site_title),
        follow_action: app.uris().follow_form(),
    }
}

#[derive(Serialize, Clone)]
struct FeedLink {
    title: String,
    name: &'static str,
    media_type: &'static str,
    href: String,
}

fn feed_links(app: &App, author: Option<&Handle>, title: &str) -> Vec<FeedLink> {
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
struct Head {
    /// The `<title>`.
    title: String,
    /// The title link previews show (without the site's name).
    og_title: String,
    description: String,
    canonical: String,
    /// OpenGraph type: `website`, `profile` or `article`.
    og_type: &'static str,
    image: Option<ImageView>,
    /// The ActivityPub id of what the page shows.
    activity_json: Option<String>,
    /// `@handle@domain`, for Mastodon's author attribution on link previews.
    creator: Option<String>,
    /// Feeds beyond the site's own (an author's).
    feeds: Vec<FeedLink>,
    published: Option<String>,
    modified: Option<String>,
    tags: Vec<String>,
    /// Error pages keep out of search indexes.
    noindex: bool,
}

#[derive(Serialize, Clone)]
struct ImageView {
    url: String,
    alt: String,
}

#[derive(Serialize)]
struct AuthorView {
    name: String,
    handle: String,
    url: String,
    address: String,
    avatar: Option<String>,
    header: Option<String>,
    bio_html: String,
    bio_text: String,
    fields: Vec<ProfileField>,
    followers: i64,
    feeds: Vec<FeedLink>,
}

fn author_view(app: &App, a: &AuthorRow, followers: i64) -> AuthorView {
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
struct TagView {
    name: String,
    url: String,
}

#[derive(Serialize)]
struct PostView {
    title: String,
    /// Notes have no title of their own; their heading is made from the date.
    titled: bool,
    url: String,
    excerpt: Option<String>,
    description: String,
    date: String,
    date_iso: String,
    updated: Option<String>,
    updated_iso: Option<String>,
    reading_minutes: u32,
    content_html: String,
    tags: Vec<TagView>,
    image: Option<ImageView>,
    author_name: Option<String>,
    author_url: Option<String>,
}

/// `15 January 2025`
fn human_date(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .format("%-d %B %Y")
        .to_string()
}

fn post_view(app: &App, p: &PostRow, author: Option<&AuthorRow>) -> PostView {
    let url = app.uris().post(&p.author, &p.slug);
    PostView {
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

fn page_links(
    page: i64,
    total: i64,
    url: impl Fn(i64) -> String,
) -> (Option<String>, Option<String>) {
    let prev = (page > 1).then(|| url(page - 1));
    let next = (page < page_count(total)).then(|| url(page + 1));
    (prev, next)
}

/// `GET /`: the authors and the newest posts.
pub async fn index(State(app): State<App>, Query(q): Query<PageQuery>) -> AppResult<Response> {
    let page = q.number();
    let authors = crate::db::authors::list(app.db().read()).await?;
    let (posts, total) = read::recent_posts(&app, page).await?;
    if posts.is_empty() && page > 1 {
        return Ok(not_found_page(&app));
    }
    let by_handle: HashMap<&Handle, &AuthorRow> = authors.iter().map(|a| (&a.handle, a)).collect();
    let author_views: Vec<AuthorView> = authors.iter().map(|a| author_view(&app, a, 0)).collect();
    let post_views: Vec<PostView> = posts
        .iter()
        .map(|p| post_view(&app, p, by_handle.get(&p.author).copied()))
        .collect();
    let (prev_page, next_page) = page_links(page, total, |n| app.uris().home_page(n));
    let title = match page {
        1 => app.config().site_title.clone(),
        n => format!("{} · page {n}", app.config().site_title),
    };
    let head = Head {
        og_title: title.clone(),
        title,
        description: app.config().site_description.clone(),
        canonical: app.uris().home_page(page),
        og_type: "website",
        ..Head::default()
    };
    let html = render(
        "index.html",
        context! { site => Serde(site(&app)), head => Serde(head), page, authors => Serde(author_views), posts => Serde(post_views), prev_page, next_page },
    )?;
    Ok(cacheable(
        html.into_response(),
        Freshness::Minute,
        vec![scope::ALL_POSTS.into(), scope::ALL_PROFILES.into()],
    ))
}

/// The author's HTML page.
pub async fn author_page(app: &App, handle: &Handle, page: i64) -> AppResult<Response> {
    let author = read::author(app, handle).await?;
    let (posts, total) = read::author_posts(app, handle, page).await?;
    if posts.is_empty() && page > 1 {
        return Ok(not_found_page(app));
    }
    let followers = crate::db::followers::count(app.db().read(), handle).await?;
    let (prev_page, next_page) = page_links(page, total, |n| app.uris().actor_page(handle, n));
    let posts: Vec<PostView> = posts.iter().map(|p| post_view(app, p, None)).collect();
    let view = author_view(app, &author, followers);
    let title = match page {
        1 => format!("{} ({})", view.name, view.address),
        n => format!("{} ({}) · page {n}", view.name, view.address),
    };
    let head = Head {
        og_title: view.name.clone(),
        title,
        description: view.bio_text.clone(),
        canonical: app.uris().actor_page(handle, page),
        og_type: "profile",
        image: view.avatar.clone().map(|url| ImageView {
            url,
            alt: format!("Avatar of {}", author.name),
        }),
        activity_json: Some(view.url.clone()),
        creator: Some(view.address.clone()),
        feeds: feed_links(app, Some(handle), &author.name),
        ..Head::default()
    };
    Ok(render(
        "author.html",
        context! { site => Serde(site(app)), head => Serde(head), page, author => Serde(view), posts => Serde(posts), prev_page, next_page },
    )?
    .into_response())
}

/// Someone from another server beside their reply, like or boost.
#[derive(Serialize)]
struct PersonView {
    name: String,
    address: String,
    url: String,
    avatar: Option<String>,
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
struct ReplyView {
    anchor: String,
    author: PersonView,
    /// Sanitised when it was received.
    content_html: String,
    summary: Option<String>,
    url: String,
    date: String,
    date_iso: String,
    edited: bool,
    /// Indentation in the thread, capped so deep threads stay readable on a phone.
    level: usize,
}

#[derive(Serialize)]
struct ConversationView {
    replies: Vec<ReplyView>,
    likes: Vec<PersonView>,
    like_count: i64,
    boosts: Vec<PersonView>,
    boost_count: i64,
}

/// Deepest indentation shown; deeper answers line up with it.
const MAX_LEVEL: usize = 4;

fn conversation_view(c: conversation::Conversation) -> ConversationView {
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

/// A post's HTML page, with the fediverse conversation under it.
pub async fn post_page(app: &App, handle: &Handle, post: &PostRow) -> AppResult<Html<String>> {
    let author = read::author(app, handle).await?;
    let conversation = conversation_view(conversation::of_post(app, post.id).await?);
    let view = post_view(app, post, Some(&author));
    let author = author_view(app, &author, 0);
    let head = Head {
        title: format!("{} · {}", view.title, author.name),
        og_title: view.title.clone(),
        description: view.description.clone(),
        canonical: view.url.clone(),
        og_type: "article",
        image: view.image.clone().or_else(|| {
            author.avatar.clone().map(|url| ImageView {
                url,
                alt: format!("Avatar of {}", author.name),
            })
        }),
        activity_json: Some(view.url.clone()),
        creator: Some(author.address.clone()),
        feeds: author.feeds.clone(),
        published: Some(view.date_iso.clone()),
        modified: view.updated_iso.clone(),
        tags: view.tags.iter().map(|t| t.name.clone()).collect(),
        noindex: false,
    };
    render(
        "post.html",
        context! { site => Serde(site(app)), head => Serde(head), author => Serde(author), post => Serde(view), conversation => Serde(conversation) },
    )
}

/// `GET /tags/{tag}`.
pub async fn tag(State(app): State<App>, Path(tag): Path<String>) -> AppResult<Response> {
    let Ok(tag) = Tag::parse(&tag) else {
        return Ok(not_found_page(&app));
    };
    let posts = read::tagged(&app, &tag).await?;
    if posts.is_empty() {
        return Ok(not_found_page(&app));
    }
    let authors = crate::db::authors::list(app.db().read()).await?;
    let by_handle: HashMap<&Handle, &AuthorRow> = authors.iter().map(|a| (&a.handle, a)).collect();
    let posts: Vec<PostView> = posts
        .iter()
        .map(|p| post_view(&app, p, by_handle.get(&p.author).copied()))
        .collect();
    let head = Head {
        title: format!("#{tag} · {}", app.config().site_title),
        og_title: format!("#{tag}"),
        description: format!("Posts tagged #{tag} on {}", app.config().site_title),
        canonical: app.uris().tag(&tag),
        og_type: "website",
        ..Head::default()
    };
    let html = render(
        "tag.html",
        context! { site => Serde(site(&app)), head => Serde(head), tag => tag.as_str(), posts => Serde(posts) },
    )?;
    Ok(cacheable(
        html.into_response(),
        Freshness::Minute,
        vec![scope::tag(&tag), scope::ALL_PROFILES.into()],
    ))
}

/// An HTML page with a heading and a message, for 400, 404 and 410.
pub fn message_page(app: &App, status: StatusCode, heading: &str, message: &str) -> Response {
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

pub fn not_found_page(app: &App) -> Response {
    message_page(
        app,
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. It may have moved, or the link may be mistyped.",
    )
}

/// Fallback for unknown paths.
pub async fn not_found(State(app): State<App>) -> Response {
    not_found_page(&app)
}
