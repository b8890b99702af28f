//! Server-rendered HTML pages (minijinja templates, auto-escaped).

use std::sync::OnceLock;

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use minijinja::{AutoEscape, Environment, context, escape_formatter, value::Serde};
use serde::Serialize;

use super::PageQuery;
use crate::{
    content::{ProfileField, escape_html},
    db::{authors::AuthorRow, posts::PostRow},
    domain::{Handle, Slug, Tag},
    error::{AppError, AppResult},
    federation::objects::{collections::page_count, post::tags_of},
    service::read,
    state::{AppState, Federation},
};

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

fn render(name: &str, ctx: minijinja::Value) -> AppResult<String> {
    templates()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| AppError::Internal(format!("rendering {name}: {e}")))
}

#[derive(Serialize)]
struct SiteView {
    title: String,
    description: String,
    home: String,
}

fn site(state: &AppState) -> SiteView {
    SiteView {
        title: state.config.site_title.clone(),
        description: state.config.site_description.clone(),
        home: state.uris.home(),
    }
}

#[derive(Serialize)]
struct AuthorView {
    name: String,
    url: String,
    address: String,
    avatar: Option<String>,
    bio_html: String,
    fields: Vec<ProfileField>,
    followers: i64,
}

fn author_view(state: &AppState, a: &AuthorRow, handle: &Handle, followers: i64) -> AuthorView {
    AuthorView {
        name: a.name.clone(),
        url: state.uris.actor(handle),
        address: format!("@{handle}@{}", state.uris.domain()),
        avatar: a
            .avatar_file
            .as_deref()
            .map(|f| state.uris.avatar(handle, f)),
        bio_html: a.bio_html.clone(),
        fields: serde_json::from_str(&a.fields_json).unwrap_or_default(),
        followers,
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
    url: String,
    excerpt: Option<String>,
    date: String,
    date_iso: String,
    updated: Option<String>,
    updated_iso: Option<String>,
    content_html: String,
    tags: Vec<TagView>,
    author_name: Option<String>,
}

fn post_view(state: &AppState, p: &PostRow, author_name: Option<String>) -> PostView {
    let handle = Handle::parse(&p.author).ok();
    let url = match (&handle, Slug::parse(&p.slug)) {
        (Some(h), Ok(s)) => state.uris.post(h, &s),
        _ => state.uris.home(),
    };
    let day = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default();
    PostView {
        // A Note has no title; its list entry and page heading use the date.
        title: p.title.clone().unwrap_or_else(|| {
            format!(
                "Note of {}",
                day(p.written_at).format("%e %B %Y").to_string().trim()
            )
        }),
        url,
        excerpt: p.excerpt.clone(),
        date: day(p.written_at)
            .format("%e %B %Y")
            .to_string()
            .trim()
            .to_owned(),
        date_iso: day(p.written_at).to_rfc3339(),
        updated: p
            .updated_at
            .map(|u| day(u).format("%e %B %Y").to_string().trim().to_owned()),
        updated_iso: p.updated_at.map(|u| day(u).to_rfc3339()),
        content_html: p.content_html.clone(),
        tags: tags_of(p)
            .iter()
            .map(|t: &Tag| TagView {
                name: t.to_string(),
                url: state.uris.tag(t),
            })
            .collect(),
        author_name,
    }
}

fn page_links(base: &str, page: i64, total: i64) -> (Option<String>, Option<String>) {
    let prev = (page > 1).then(|| format!("{base}?page={}", page - 1));
    let next = (page < page_count(total)).then(|| format!("{base}?page={}", page + 1));
    (prev, next)
}

/// `GET /`: the authors and the newest posts.
pub async fn index(
    State(fed): State<Federation>,
    Query(q): Query<PageQuery>,
) -> AppResult<Html<String>> {
    let state: &AppState = &fed;
    let authors = crate::db::authors::list(&state.db).await?;
    let (posts, total) = read::recent_posts(state, q.number()).await?;
    let names: std::collections::HashMap<&str, &str> = authors
        .iter()
        .map(|a| (a.handle.as_str(), a.name.as_str()))
        .collect();
    let author_views: Vec<AuthorView> = authors
        .iter()
        .filter_map(|a| {
            Handle::parse(&a.handle)
                .ok()
                .map(|h| author_view(state, a, &h, 0))
        })
        .collect();
    let post_views: Vec<PostView> = posts
        .iter()
        .map(|p| {
            post_view(
                state,
                p,
                names.get(p.author.as_str()).map(|n| n.to_string()),
            )
        })
        .collect();
    let (prev_page, next_page) = page_links(&state.uris.home(), q.number(), total);
    Ok(Html(render(
        "index.html",
        context! { site => Serde(site(state)), authors => Serde(author_views), posts => Serde(post_views), prev_page, next_page },
    )?))
}

/// The author's HTML page.
pub async fn author_page(state: &AppState, handle: &Handle, page: i64) -> AppResult<Html<String>> {
    let author = read::author(state, handle).await?;
    let (posts, total) = read::author_posts(state, handle, page).await?;
    let followers = crate::db::followers::count(&state.db, handle.as_str()).await?;
    let (prev_page, next_page) = page_links(&state.uris.actor(handle), page, total);
    let posts: Vec<PostView> = posts.iter().map(|p| post_view(state, p, None)).collect();
    Ok(Html(render(
        "author.html",
        context! { site => Serde(site(state)), author => Serde(author_view(state, &author, handle, followers)), posts => Serde(posts), prev_page, next_page },
    )?))
}

/// A post's HTML page.
pub async fn post_page(
    state: &AppState,
    handle: &Handle,
    post: &PostRow,
) -> AppResult<Html<String>> {
    let author = read::author(state, handle).await?;
    Ok(Html(render(
        "post.html",
        context! { site => Serde(site(state)), author => Serde(author_view(state, &author, handle, 0)), post => Serde(post_view(state, post, None)) },
    )?))
}

/// `GET /tags/{tag}`.
pub async fn tag(State(fed): State<Federation>, Path(tag): Path<String>) -> AppResult<Response> {
    let state: &AppState = &fed;
    let Ok(tag) = Tag::parse(&tag) else {
        return Ok(not_found_page(state));
    };
    let posts = read::tagged(state, &tag).await?;
    let posts: Vec<PostView> = posts.iter().map(|p| post_view(state, p, None)).collect();
    Ok(Html(render(
        "tag.html",
        context! { site => Serde(site(state)), tag => tag.as_str(), posts => Serde(posts) },
    )?)
    .into_response())
}

/// An HTML page with a heading and a message, for 404 and 410.
pub fn message_page(
    state: &AppState,
    status: StatusCode,
    heading: &str,
    message: &str,
) -> Response {
    match render(
        "message.html",
        context! { site => Serde(site(state)), heading, message },
    ) {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => e.into_response(),
    }
}

fn not_found_page(state: &AppState) -> Response {
    message_page(
        state,
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is nothing at this address. It may have moved, or the link may be mistyped.",
    )
}

/// Fallback for unknown paths.
pub async fn not_found(State(fed): State<Federation>) -> Response {
    not_found_page(&fed)
}
