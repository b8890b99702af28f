//! Read-side use cases: what the pages and ActivityPub documents show.

use crate::{
    app::App,
    db::{self, authors::AuthorRow, posts::PostRow},
    domain::{Handle, PageNumber, Slug},
    error::{AppError, AppResult},
    federation::objects::collections::PAGE_SIZE,
};

/// An author who exists, or 404.
pub async fn author(app: &App, handle: &Handle) -> AppResult<AuthorRow> {
    db::authors::get(app.db().read(), handle)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no author `{handle}` on this server")))
}

/// A post by its URL parts, live or deleted; 404 if it never existed or is not for
/// everyone (an app's private or direct note).
pub async fn post(app: &App, handle: &Handle, slug: &Slug) -> AppResult<PostRow> {
    db::posts::by_slug(app.db().read(), handle, slug)
        .await?
        .filter(|p| p.visibility.is_open())
        .ok_or_else(|| AppError::NotFound(format!("no post `{slug}` by `{handle}`")))
}

/// Page `page` of an author's live posts, newest first, and their total.
pub async fn author_posts(
    app: &App,
    handle: &Handle,
    page: PageNumber,
) -> AppResult<(Vec<PostRow>, i64)> {
    let total = db::posts::count_of_author(app.db().read(), handle).await?;
    let posts =
        db::posts::page_of_author(app.db().read(), handle, PAGE_SIZE, page.offset(PAGE_SIZE))
            .await?;
    Ok((posts, total))
}

/// Page `page` of followers' actor ids, and their total.
pub async fn followers(
    app: &App,
    handle: &Handle,
    page: PageNumber,
) -> AppResult<(Vec<String>, i64)> {
    let total = db::followers::count(app.db().read(), handle).await?;
    let ids =
        db::followers::page(app.db().read(), handle, PAGE_SIZE, page.offset(PAGE_SIZE)).await?;
    Ok((ids, total))
}

/// The newest posts of all authors with their page count.
pub async fn recent_posts(app: &App, page: PageNumber) -> AppResult<(Vec<PostRow>, i64)> {
    let total = db::posts::count_all(app.db().read()).await?;
    let posts = db::posts::recent(app.db().read(), PAGE_SIZE, page.offset(PAGE_SIZE)).await?;
    Ok((posts, total))
}

/// Number of live posts across the instance and of authors, for NodeInfo.
pub async fn usage(app: &App) -> AppResult<(i64, i64)> {
    Ok((
        db::authors::list(app.db().read()).await?.len() as i64,
        db::posts::count_all(app.db().read()).await?,
    ))
}

/// Live posts with a tag (newest first, at most 200).
pub async fn tagged(app: &App, tag: &crate::domain::Tag) -> AppResult<Vec<PostRow>> {
    Ok(db::posts::with_tag(app.db().read(), tag, 200).await?)
}

/// The newest posts for a feed: the site's, or one author's.
pub async fn feed_posts(app: &App, author: Option<&Handle>) -> AppResult<Vec<PostRow>> {
    let limit = crate::feeds::FEED_LIMIT;
    Ok(match author {
        Some(h) => db::posts::page_of_author(app.db().read(), h, limit, 0).await?,
        None => db::posts::recent(app.db().read(), limit, 0).await?,
    })
}

/// Every author, every live post and every tag: what the sitemap lists.
pub async fn everything(
    app: &App,
) -> AppResult<(Vec<AuthorRow>, Vec<PostRow>, Vec<crate::domain::Tag>)> {
    Ok((
        db::authors::list(app.db().read()).await?,
        db::posts::recent(app.db().read(), i64::MAX, 0).await?,
        db::posts::all_tags(app.db().read()).await?,
    ))
}
