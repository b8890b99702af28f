//! A post's URL: the Article or Note for ActivityPub clients, the page for browsers;
//! 410 with a Tombstone once deleted. Also the stored activities we sent.

use axum::{
    extract::{Path, Query, State},
    http::StatusCode,
    response::Response,
};

use super::{
    PageQuery, activity_json, activity_json_bytes,
    cache::{Freshness, cacheable},
    handle_from_path,
    negotiate::Wants,
    pages, vary_accept, views,
};
use crate::{
    app::App,
    cache::scope,
    db,
    domain::{Handle, Slug},
    error::{AppError, AppResult},
    federation::objects::post::{CollectionRef, WithContext, post_object, tombstone},
    service::{
        conversation::{self, Interaction},
        read,
    },
};

/// `GET /@alice/<slug>[?page=n]`: `page` pages the replies under the post.
pub async fn post(
    State(app): State<App>,
    Path((at_handle, raw_slug)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
    wants: Wants,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    let slug = Slug::parse(&raw_slug).ok();
    let found = match &slug {
        Some(slug) => read::post(&app, &handle, slug).await,
        None => Err(AppError::NotFound(format!("no post `{raw_slug}`"))),
    };
    let res = match (found, wants) {
        (Ok(p), Wants::ActivityJson) if p.deleted_at.is_some() => activity_json(
            StatusCode::GONE,
            &WithContext::new(tombstone(&p, app.uris())),
        ),
        (Ok(p), Wants::Html) if p.deleted_at.is_some() => views::message_page(
            &app,
            StatusCode::GONE,
            "This post was deleted",
            "The author removed this post.",
        ),
        (Ok(p), Wants::ActivityJson) => {
            let mut object = post_object(&p, app.uris());
            let (_, likes, shares) = conversation::counts(&app, p.id).await?;
            if let Some(slug) = &slug {
                let at = |which: Interaction, n| {
                    Some(CollectionRef::new(
                        app.uris().post_collection(&handle, slug, which.as_str()),
                        n,
                    ))
                };
                let id = app.uris().post_collection(&handle, slug, "replies");
                object.replies = Some(conversation::replies_collection(&app, p.id, id).await?);
                object.likes = at(Interaction::Likes, likes);
                object.shares = at(Interaction::Shares, shares);
            }
            activity_json(StatusCode::OK, &WithContext::new(object))
        }
        (Ok(p), Wants::Html) => pages::post_page(&app, &handle, &p, q.number()).await?,
        (Err(AppError::NotFound(_)), Wants::Html) => views::message_page(
            &app,
            StatusCode::NOT_FOUND,
            "Post not found",
            "There is no post at this address.",
        ),
        (Err(e), _) => return Err(e),
    };
    let res = vary_accept(res);
    let (Some(slug), StatusCode::OK | StatusCode::GONE) = (slug, res.status()) else {
        return Ok(res);
    };
    // The page shows the author's name and avatar beside the post.
    let scopes = vec![scope::post(&handle, &slug), scope::profile(&handle)];
    Ok(cacheable(res, Freshness::Minute, scopes))
}

/// `GET /@alice/<slug>/{replies,likes,shares}[?page=n]`: the post's conversation as
/// collections (reply ids; actor ids of who liked or boosted).
pub async fn interactions(
    State(app): State<App>,
    Path((at_handle, raw_slug, name)): Path<(String, String, String)>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    // Any other three-segment path lands here too: a browser gets the 404 page.
    let (Ok(handle), Some(which)) = (handle_from_path(&at_handle), Interaction::parse(&name))
    else {
        return Ok(views::not_found_page(&app));
    };
    let (slug, post) = live_post(&app, &handle, &raw_slug).await?;
    let id = app.uris().post_collection(&handle, &slug, which.as_str());
    let (items, total, per_page) =
        conversation::collection_page(&app, post.id, which, q.number()).await?;
    let items = || items.into_iter().map(serde_json::Value::String).collect();
    let doc = match which {
        Interaction::Replies => q.paged_collection(id, (total, per_page), items, None),
        _ => q.collection(id, (total, per_page), items),
    };
    Ok(cacheable(
        doc,
        Freshness::Minute,
        vec![scope::post(&handle, &slug)],
    ))
}

/// `GET /@alice/<slug>/context[?page=n]`: the post's conversation (FEP-7888), the
/// post and then its replies in the page's order, owned by the author.
pub async fn context(
    State(app): State<App>,
    Path((at_handle, raw_slug)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let Ok(handle) = handle_from_path(&at_handle) else {
        return Ok(views::not_found_page(&app));
    };
    let (slug, post) = live_post(&app, &handle, &raw_slug).await?;
    let post_id = app.uris().post(&handle, &slug);
    let (items, total, per_page) =
        conversation::context_page(&app, post.id, post_id, q.number()).await?;
    let items = || items.into_iter().map(serde_json::Value::String).collect();
    let owner = Some(app.uris().actor(&handle));
    let id = app.uris().post_context(&handle, &slug);
    Ok(cacheable(
        q.paged_collection(id, (total, per_page), items, owner),
        Freshness::Minute,
        vec![scope::post(&handle, &slug)],
    ))
}

/// `GET /activities/<id>`: an activity we sent, so its id dereferences.
pub async fn activity(State(app): State<App>, Path(local): Path<String>) -> AppResult<Response> {
    let ap_id = app.uris().activity(&local);
    let row = db::activities::by_ap_id(app.db().read(), &ap_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no activity {ap_id}")))?;
    // Served as it was sent; a sent activity never changes.
    Ok(cacheable(
        activity_json_bytes(StatusCode::OK, row.body.into_bytes()),
        Freshness::Hour,
        Vec::new(),
    ))
}

/// The live post at a path's slug: 404 when there is none, 410 when it was deleted.
async fn live_post(
    app: &App,
    handle: &Handle,
    raw_slug: &str,
) -> AppResult<(Slug, db::posts::PostRow)> {
    let slug =
        Slug::parse(raw_slug).map_err(|_| AppError::NotFound(format!("no post `{raw_slug}`")))?;
    let post = read::post(app, handle, &slug).await?;
    if post.deleted_at.is_some() {
        return Err(AppError::Gone(format!("the post {slug}")));
    }
    Ok((slug, post))
}
