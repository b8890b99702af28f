//! A post's URL: the Article or Note for ActivityPub clients, the page for browsers;
//! 410 with a Tombstone once deleted. Also the stored activities we sent.

use axum::{
    extract::{Path, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::{
    activity_json,
    cache::{Freshness, cacheable},
    handle_from_path,
    negotiate::Wants,
    pages, vary_accept,
};
use crate::{
    cache::scope,
    db,
    domain::Slug,
    error::{AppError, AppResult},
    federation::objects::post::{WithContext, post_object, tombstone},
    service::read,
    state::{AppState, Federation},
};

/// `GET /@alice/<slug>`
pub async fn post(
    State(fed): State<Federation>,
    Path((at_handle, raw_slug)): Path<(String, String)>,
    wants: Wants,
) -> AppResult<Response> {
    let state: &AppState = &fed;
    let handle = handle_from_path(&at_handle)?;
    let slug = Slug::parse(&raw_slug).ok();
    let found = match &slug {
        Some(slug) => read::post(state, &handle, slug).await,
        None => Err(AppError::NotFound(format!("no post `{raw_slug}`"))),
    };
    let res = match (found, wants) {
        (Ok(p), Wants::ActivityJson) if p.deleted_at.is_some() => activity_json(
            StatusCode::GONE,
            &WithContext::new(tombstone(&p, &handle, &state.uris)),
        ),
        (Ok(p), Wants::Html) if p.deleted_at.is_some() => pages::message_page(
            state,
            StatusCode::GONE,
            "This post was deleted",
            "The author removed this post.",
        ),
        (Ok(p), Wants::ActivityJson) => activity_json(
            StatusCode::OK,
            &WithContext::new(post_object(&p, &handle, &state.uris)),
        ),
        (Ok(p), Wants::Html) => pages::post_page(state, &handle, &p).await?.into_response(),
        (Err(AppError::NotFound(_)), Wants::Html) => pages::message_page(
            state,
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

/// `GET /activities/<id>`: an activity we sent, so its id dereferences.
pub async fn activity(
    State(fed): State<Federation>,
    Path(local): Path<String>,
) -> AppResult<Response> {
    let state: &AppState = &fed;
    let ap_id = state.uris.activity(&local);
    let row = db::activities::by_ap_id(&state.db, &ap_id)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("no activity {ap_id}")))?;
    let body: serde_json::Value =
        serde_json::from_str(&row.body).map_err(|e| AppError::Internal(e.to_string()))?;
    // A sent activity never changes.
    Ok(cacheable(
        activity_json(StatusCode::OK, &body),
        Freshness::Hour,
        Vec::new(),
    ))
}
