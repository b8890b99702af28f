//! Feeds (`/feed.atom`, `/@alice/feed.rss`, ...), the sitemap and robots.txt:
//! how feed readers and search engines find the posts.

use std::collections::HashMap;

use axum::{
    extract::{Path, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use chrono::DateTime;

use super::{
    cache::{Freshness, cacheable},
    handle_from_path,
};
use crate::{
    app::App,
    cache::scope,
    content::summary,
    db::authors::AuthorRow,
    domain::Handle,
    error::{AppError, AppResult},
    feeds::{self, FeedAuthor, FeedEntry, FeedInfo},
    service::read,
    uris::{FeedFormat, Uris},
};

/// Feeds and the sitemap change only when content does (`scopes`); readers poll often.
fn respond(content_type: &str, body: String, scopes: Vec<String>) -> AppResult<Response> {
    let ct = HeaderValue::from_str(content_type)
        .map_err(|e| AppError::Internal(anyhow::Error::new(e).context("a feed's content type")))?;
    let res = ([(header::CONTENT_TYPE, ct)], body).into_response();
    Ok(cacheable(res, Freshness::FiveMinutes, scopes))
}

fn render(
    format: FeedFormat,
    info: &FeedInfo,
    entries: &[FeedEntry],
    scopes: Vec<String>,
) -> AppResult<Response> {
    let body = match format {
        FeedFormat::Atom => feeds::atom(info, entries),
        FeedFormat::Rss => feeds::rss(info, entries),
        FeedFormat::Json => feeds::json_feed(info, entries),
    };
    respond(
        &format!("{}; charset=utf-8", format.media_type()),
        body,
        scopes,
    )
}

/// What lists every author's posts: the site feeds and the sitemap.
fn site_wide() -> Vec<String> {
    vec![scope::ALL_POSTS.into(), scope::ALL_PROFILES.into()]
}

/// `GET /feed.atom`, `/feed.rss`, `/feed.json`: every author's newest posts.
pub async fn site_feed(State(app): State<App>, format: FeedFormat) -> AppResult<Response> {
    let authors: HashMap<Handle, FeedAuthor> = crate::db::authors::list(app.db().read())
        .await?
        .iter()
        .map(|a| (a.handle.clone(), feeds::feed_author(a, app.uris())))
        .collect();
    let entries: Vec<FeedEntry> = read::feed_posts(&app, None)
        .await?
        .iter()
        .filter_map(|p| Some(feeds::entry(p, authors.get(&p.author)?.clone(), app.uris())))
        .collect();
    let info = FeedInfo {
        title: app.config().site_title.clone(),
        description: app.config().site_description.clone(),
        home: app.uris().home(),
        of: None,
        uris: app.uris().clone(),
        icon: None,
        author: None,
        language: app.config().site_language.to_string(),
    };
    render(format, &info, &entries, site_wide())
}

/// `GET /@alice/feed.atom` (and `.rss`, `.json`): one author's newest posts.
pub async fn author_feed(
    State(app): State<App>,
    Path(at_handle): Path<String>,
    format: FeedFormat,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    let author: AuthorRow = read::author(&app, &handle).await?;
    let fa = feeds::feed_author(&author, app.uris());
    let entries: Vec<FeedEntry> = read::feed_posts(&app, Some(&handle))
        .await?
        .iter()
        .map(|p| feeds::entry(p, fa.clone(), app.uris()))
        .collect();
    let scopes = vec![scope::posts_of(&handle), scope::profile(&handle)];
    let info = FeedInfo {
        title: format!("{} ({})", author.name, app.config().site_title),
        description: summary(&author.bio_html, 280),
        home: app.uris().actor(&handle),
        of: Some(handle.clone()),
        uris: app.uris().clone(),
        icon: fa.avatar.clone(),
        author: Some(fa),
        language: app.config().site_language.to_string(),
    };
    render(format, &info, &entries, scopes)
}

/// `GET /sitemap.xml`: the home page, every author, post and tag.
pub async fn sitemap(State(app): State<App>) -> AppResult<Response> {
    let (authors, posts, tags) = read::everything(&app).await?;
    let uris: &Uris = app.uris();
    let date = |ms: i64| DateTime::from_timestamp_millis(ms);
    let newest = posts
        .iter()
        .map(|p| p.updated_at.unwrap_or(p.published_at))
        .max();
    let mut urls = vec![(uris.home(), newest.and_then(date))];
    for a in &authors {
        let last = posts
            .iter()
            .filter(|p| p.author == a.handle)
            .map(|p| p.updated_at.unwrap_or(p.published_at))
            .max()
            .unwrap_or(a.updated_at);
        urls.push((uris.actor(&a.handle), date(last)));
    }
    for p in &posts {
        urls.push((
            uris.post(&p.author, &p.slug),
            date(p.updated_at.unwrap_or(p.published_at)),
        ));
    }
    for t in &tags {
        urls.push((uris.tag(t), None));
    }
    respond(
        "application/xml; charset=utf-8",
        feeds::sitemap(&urls),
        site_wide(),
    )
}

/// `GET /robots.txt`: everything may be crawled but the follow redirect; where the sitemap is.
pub async fn robots(State(app): State<App>) -> AppResult<Response> {
    let body = format!(
        "User-agent: *\nDisallow: /follow\nAllow: /\n\nSitemap: {}\n",
        app.uris().sitemap()
    );
    respond("text/plain; charset=utf-8", body, Vec::new())
}
