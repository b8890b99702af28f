//! An author's actor document and collections, on the same URLs as the HTML pages.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    PageQuery, activity_json,
    cache::{Freshness, cacheable},
    handle_from_path,
    negotiate::Wants,
    pages, vary_accept, views,
};
use crate::{
    app::App,
    cache::scope,
    error::{AppError, AppResult},
    federation::{
        activities::outgoing,
        objects::{actor::person, collections},
    },
    service::read,
};

/// `GET /@alice`: the Person for ActivityPub clients, the author page for browsers.
pub async fn actor(
    State(app): State<App>,
    Path(at_handle): Path<String>,
    Query(q): Query<PageQuery>,
    wants: Wants,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    let res = match wants {
        Wants::ActivityJson => {
            let author = read::author(&app, &handle).await?;
            activity_json(
                StatusCode::OK,
                &person(&author, app.uris(), &app.config().attribution_domains),
            )
        }
        Wants::Html => match pages::author_page(&app, &handle, q.number()).await {
            Err(AppError::NotFound(_)) => views::message_page(
                &app,
                StatusCode::NOT_FOUND,
                "No such author",
                "This server has no author by that name.",
            ),
            other => other?.into_response(),
        },
    };
    let res = vary_accept(res);
    if res.status() != StatusCode::OK {
        return Ok(res);
    }
    // The page lists posts and counts followers; the document is the profile alone.
    let scopes = match wants {
        Wants::ActivityJson => vec![scope::profile(&handle)],
        Wants::Html => vec![
            scope::profile(&handle),
            scope::posts_of(&handle),
            scope::followers(&handle),
        ],
    };
    Ok(cacheable(res, Freshness::Minute, scopes))
}

/// `GET /@alice/outbox`: Create activities of the author's posts, newest first.
pub async fn outbox(
    State(app): State<App>,
    Path(at_handle): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    read::author(&app, &handle).await?;
    let id = app.uris().outbox(&handle);
    let (posts, total) = read::author_posts(&app, &handle, q.number()).await?;
    let items = || {
        posts
            .iter()
            .map(|p| {
                let mut create = outgoing::create(app.uris(), p).body;
                // Items inside a page share the page's context.
                if let Some(o) = create.as_object_mut() {
                    o.remove("@context");
                }
                create
            })
            .collect()
    };
    let scopes = vec![scope::profile(&handle), scope::posts_of(&handle)];
    Ok(cacheable(
        q.collection(id, (total, collections::PAGE_SIZE), items),
        Freshness::Minute,
        scopes,
    ))
}

/// `GET /@alice/followers`: total and pages of follower ids.
pub async fn followers(
    State(app): State<App>,
    Path(at_handle): Path<String>,
    Query(q): Query<PageQuery>,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    read::author(&app, &handle).await?;
    let id = app.uris().followers(&handle);
    let (ids, total) = read::followers(&app, &handle, q.number()).await?;
    let items = || ids.into_iter().map(serde_json::Value::String).collect();
    let scopes = vec![scope::profile(&handle), scope::followers(&handle)];
    Ok(cacheable(
        q.collection(id, (total, collections::PAGE_SIZE), items),
        Freshness::Minute,
        scopes,
    ))
}

/// `GET /@alice/following`: authors follow no one.
pub async fn following(
    State(app): State<App>,
    Path(at_handle): Path<String>,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    read::author(&app, &handle).await?;
    Ok(activity_json(
        StatusCode::OK,
        &collections::inline_collection(app.uris().following(&handle), Vec::new()),
    ))
}

/// `GET /@alice/featured`: pinned posts (none yet).
pub async fn featured(
    State(app): State<App>,
    Path(at_handle): Path<String>,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    read::author(&app, &handle).await?;
    Ok(activity_json(
        StatusCode::OK,
        &collections::inline_collection(app.uris().featured(&handle), Vec::new()),
    ))
}

/// `GET /@alice/media/<path>`: images placed beside the author's posts.
pub async fn media(
    State(app): State<App>,
    Path((at_handle, file)): Path<(String, String)>,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    let dir = app.config().content.join(handle.as_str());
    // Only image files inside the author's folder; no `..`, no other files.
    let rel = crate::content::local_media(&dir, &file)
        .ok_or_else(|| AppError::NotFound(format!("no image {file}")))?;
    let media_type = crate::content::image_media_type(&rel)
        .ok_or_else(|| AppError::NotFound(format!("no image {file}")))?;
    let bytes = tokio::fs::read(dir.join(&rel))
        .await
        .map_err(|_| AppError::NotFound(format!("no image {file}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(media_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=604800"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The images a profile names in `author.toml`, each on its own URL.
#[derive(Debug, Clone, Copy)]
pub enum ProfileImage {
    Avatar,
    Header,
}

/// `GET /@alice/avatar/<file>` and `/@alice/header/<file>`: the image the profile
/// names, and nothing else.
pub async fn profile_image(
    State(app): State<App>,
    Path((at_handle, file)): Path<(String, String)>,
    which: ProfileImage,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    let author = read::author(&app, &handle).await?;
    let (named, media_type) = match which {
        ProfileImage::Avatar => (author.avatar_file, author.avatar_media_type),
        ProfileImage::Header => (author.header_file, author.header_media_type),
    };
    serve_profile_image(&app, &handle, &file, named, media_type).await
}

/// Serves `file` if it is the profile image `named` (a file in the author's folder).
async fn serve_profile_image(
    app: &App,
    handle: &crate::domain::Handle,
    file: &str,
    named: Option<String>,
    media_type: Option<String>,
) -> AppResult<Response> {
    let (Some(name), Some(media_type)) = (named, media_type) else {
        return Err(AppError::NotFound("this author has no such image".into()));
    };
    if name != file {
        return Err(AppError::NotFound(format!("no file {file}")));
    }
    let path = app.config().content.join(handle.as_str()).join(&name);
    let bytes = tokio::fs::read(&path)
        .await
        .map_err(|_| AppError::NotFound(format!("no file {file}")))?;
    let content_type = HeaderValue::from_str(&media_type).map_err(|e| {
        AppError::Internal(anyhow::Error::new(e).context("a stored image media type"))
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            // The URL names the file: a new image under the same name shows within a day.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// `?domain=` of the partial followers collection.
#[derive(serde::Deserialize)]
pub struct SyncQuery {
    domain: Option<String>,
}

/// `GET /@alice/followers_synchronization?domain=…` (FEP-8fcf): the followers on the
/// signer's server, for that server only; never cached.
pub async fn followers_sync(
    State(app): State<App>,
    Path(at_handle): Path<String>,
    Query(q): Query<SyncQuery>,
    uri: axum::http::Uri,
    headers: axum::http::HeaderMap,
) -> AppResult<Response> {
    let handle = handle_from_path(&at_handle)?;
    let path_and_query = uri.path_and_query().map_or("/", |p| p.as_str());
    let json = crate::service::authorized_fetch::partial_followers(
        &app,
        &handle,
        q.domain.as_deref(),
        path_and_query,
        &headers,
    )
    .await?;
    let mut res = activity_json(StatusCode::OK, &json);
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}
