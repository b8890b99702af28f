//! The HTML pages: each handler gathers the rows a page shows and renders its
//! template through the views in `views`.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use minijinja::{context, value::Serde};

use super::{
    PageQuery,
    cache::{Freshness, cacheable},
    views::{
        AuthorView, Head, ImageView, PostView, author_view, conversation_view, feed_links,
        not_found_page, page_links, post_view, render, site,
    },
};
use crate::{
    app::App,
    cache::scope,
    db::{authors::AuthorRow, posts::PostRow},
    domain::{Handle, PageNumber, Tag},
    error::AppResult,
    federation::objects::collections::PAGE_SIZE,
    service::{conversation, read},
};

/// `GET /`: the authors and the newest posts.
pub async fn index(State(app): State<App>, Query(q): Query<PageQuery>) -> AppResult<Response> {
    let page = q.number();
    let authors = crate::db::authors::list(app.db().read()).await?;
    let (posts, total) = read::recent_posts(&app, page).await?;
    if posts.is_empty() && page > PageNumber::FIRST {
        return Ok(not_found_page(&app));
    }
    let by_handle: HashMap<&Handle, &AuthorRow> = authors.iter().map(|a| (&a.handle, a)).collect();
    let author_views: Vec<AuthorView> = authors.iter().map(|a| author_view(&app, a, 0)).collect();
    let post_views: Vec<PostView> = posts
        .iter()
        .map(|p| post_view(&app, p, by_handle.get(&p.author).copied()))
        .collect();
    let (prev_page, next_page) = page_links(page, (total, PAGE_SIZE), |n| app.uris().home_page(n));
    let title = match page.get() {
        1 => app.config().site_title.clone(),
        n => format!("{} · page {n}", app.config().site_title),
    };
    let head = Head {
        og_title: title.clone(),
        title,
        description: app.config().site_description.clone(),
        canonical: app.uris().home_page(page.get()),
        og_type: "website",
        ..Head::default()
    };
    let html = render(
        "index.html",
        context! { site => Serde(site(&app)), head => Serde(head), page => page.get(), authors => Serde(author_views), posts => Serde(post_views), prev_page, next_page },
    )?;
    Ok(cacheable(
        html.into_response(),
        Freshness::Minute,
        vec![scope::ALL_POSTS.into(), scope::ALL_PROFILES.into()],
    ))
}

/// The author's HTML page.
pub async fn author_page(app: &App, handle: &Handle, page: PageNumber) -> AppResult<Response> {
    let author = read::author(app, handle).await?;
    let (posts, total) = read::author_posts(app, handle, page).await?;
    if posts.is_empty() && page > PageNumber::FIRST {
        return Ok(not_found_page(app));
    }
    let followers = crate::db::followers::count(app.db().read(), handle).await?;
    let (prev_page, next_page) = page_links(page, (total, PAGE_SIZE), |n| {
        app.uris().actor_page(handle, n)
    });
    let posts: Vec<PostView> = posts.iter().map(|p| post_view(app, p, None)).collect();
    let view = author_view(app, &author, followers);
    let title = match page.get() {
        1 => format!("{} ({})", view.name, view.address),
        n => format!("{} ({}) · page {n}", view.name, view.address),
    };
    let head = Head {
        og_title: view.name.clone(),
        title,
        description: view.bio_text.clone(),
        canonical: app.uris().actor_page(handle, page.get()),
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
        context! { site => Serde(site(app)), head => Serde(head), page => page.get(), author => Serde(view), posts => Serde(posts), prev_page, next_page },
    )?
    .into_response())
}

/// A post's HTML page, with page `page` of the fediverse conversation under it; 404
/// past the last page of replies.
pub async fn post_page(
    app: &App,
    handle: &Handle,
    post: &PostRow,
    page: PageNumber,
) -> AppResult<Response> {
    let author = read::author(app, handle).await?;
    let found = conversation::of_post(app, post.id, page).await?;
    if found.replies.is_empty() && page > PageNumber::FIRST {
        return Ok(not_found_page(app));
    }
    let view = post_view(app, post, Some(&author));
    let per_page = conversation::replies_per_page(app);
    let (prev_page, next_page) = page_links(page, (found.reply_count, per_page), |n| match n {
        1 => format!("{}#replies", view.url),
        n => format!("{}?page={n}#replies", view.url),
    });
    let conversation = conversation_view(app, found, prev_page, next_page);
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
        conversation: Some(app.uris().post_context(handle, &post.slug)),
        creator: Some(author.address.clone()),
        feeds: author.feeds.clone(),
        published: Some(view.date_iso.clone()),
        modified: view.updated_iso.clone(),
        tags: view.tags.iter().map(|t| t.name.clone()).collect(),
        noindex: false,
    };
    Ok(render(
        "post.html",
        context! { site => Serde(site(app)), head => Serde(head), author => Serde(author), post => Serde(view), conversation => Serde(conversation) },
    )?
    .into_response())
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

/// Fallback for unknown paths.
pub async fn not_found(State(app): State<App>) -> Response {
    not_found_page(&app)
}
