//! HTTP: the router, extractors and handlers. Handlers parse, call one service
//! function, respond; no SQL here. Errors become answers in [`error`], once.

mod actors;
mod admin;
mod assets;
mod authorized_fetch;
pub mod cache;
pub mod edge;
pub mod error;
mod extract;
mod feeds;
mod follow;
mod inbox;
pub mod negotiate;
pub use admin::admin_router;
mod pages;
mod posts;
mod quotes;
mod views;
mod well_known;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Serialize;
use tower_http::trace::TraceLayer;

use crate::{
    app::App,
    domain::{Handle, PageNumber},
    error::{AppError, AppResult},
    federation::AP_CONTENT_TYPE,
    uris::FeedFormat,
};

/// Inbox bodies above this size are refused with 413.
pub const MAX_INBOX_BODY: usize = 1024 * 1024;

/// Every route of the server.
pub fn router(app: App) -> Router {
    let inboxes = Router::new()
        .route("/inbox", post(inbox::shared_inbox))
        .route("/{at_handle}/inbox", post(inbox::author_inbox))
        .layer(DefaultBodyLimit::max(MAX_INBOX_BODY))
        .layer(axum::middleware::from_fn_with_state(
            (app.clone(), MAX_INBOX_BODY),
            edge::body_in_time,
        ));
    let mut feeds = Router::new();
    for f in FeedFormat::ALL {
        let ext = f.extension();
        feeds = feeds
            .route(
                &format!("/feed.{ext}"),
                get(move |s| feeds::site_feed(s, f)),
            )
            .route(
                &format!("/{{at_handle}}/feed.{ext}"),
                get(move |s, p| feeds::author_feed(s, p, f)),
            );
    }
    Router::new()
        .route("/.well-known/webfinger", get(well_known::webfinger))
        .route("/healthz", get(admin::healthz))
        .route("/actor", get(authorized_fetch::instance_actor))
        .route("/.well-known/host-meta", get(well_known::host_meta))
        .route("/.well-known/nodeinfo", get(well_known::nodeinfo_links))
        .route("/nodeinfo/{version}", get(well_known::nodeinfo))
        .route("/", get(pages::index))
        .route("/tags/{tag}", get(pages::tag))
        .route("/static/{file}", get(assets::asset))
        .route("/follow", get(follow::follow))
        .route("/sitemap.xml", get(feeds::sitemap))
        .route("/robots.txt", get(feeds::robots))
        .route(
            "/{at_handle}/header/{file}",
            get(|s, p| actors::profile_image(s, p, actors::ProfileImage::Header)),
        )
        .route("/activities/{*id}", get(posts::activity))
        .route("/{at_handle}", get(actors::actor))
        .route("/{at_handle}/outbox", get(actors::outbox))
        .route("/{at_handle}/followers", get(actors::followers))
        .route(
            "/{at_handle}/followers_synchronization",
            get(actors::followers_sync),
        )
        .route("/{at_handle}/following", get(actors::following))
        .route("/{at_handle}/featured", get(actors::featured))
        .route(
            "/{at_handle}/avatar/{file}",
            get(|s, p| actors::profile_image(s, p, actors::ProfileImage::Avatar)),
        )
        .route("/{at_handle}/media/{*file}", get(actors::media))
        .route(
            "/{at_handle}/quote_authorizations/{token}",
            get(quotes::authorization),
        )
        .route("/{at_handle}/{slug}", get(posts::post))
        .route("/{at_handle}/{slug}/context", get(posts::context))
        .route("/{at_handle}/{slug}/{collection}", get(posts::interactions))
        .merge(inboxes)
        .merge(feeds)
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            cache::serve,
        ))
        // Before the cache, so a cached document is no way around it.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            authorized_fetch::require_signature,
        ))
        // Outside the cache: error answers are never cached, and a browser's error
        // page is made from the answer whichever layer gave it.
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            error::html_for_browsers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            admin::count_request,
        ))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

/// Parses the `@handle` path segment.
fn handle_from_path(at_handle: &str) -> AppResult<Handle> {
    at_handle
        .strip_prefix('@')
        .and_then(|h| Handle::parse(h).ok())
        .ok_or_else(|| AppError::NotFound(format!("no page at /{at_handle}")))
}

/// An ActivityStreams JSON response.
fn activity_json<T: Serialize>(status: axum::http::StatusCode, value: &T) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => activity_json_bytes(status, body),
        Err(e) => AppError::Internal(anyhow::Error::new(e).context("serialising a document"))
            .into_response(),
    }
}

/// An ActivityStreams JSON response from its serialised bytes.
fn activity_json_bytes(status: axum::http::StatusCode, body: Vec<u8>) -> Response {
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static(AP_CONTENT_TYPE),
        )],
        body,
    )
        .into_response()
}

/// Marks a negotiated response as varying by Accept, so caches keep HTML and JSON apart.
fn vary_accept(mut res: Response) -> Response {
    res.headers_mut()
        .append(header::VARY, HeaderValue::from_static("Accept"));
    res
}

/// `?page=N` on collections and lists; a number out of range is refused (400).
#[derive(Debug, serde::Deserialize)]
struct PageQuery {
    page: Option<PageNumber>,
}

impl PageQuery {
    fn number(&self) -> PageNumber {
        self.page.unwrap_or_default()
    }

    /// The collection `id` (no `?page`) or the page asked for, holding `items()`,
    /// `per_page` items a page.
    fn collection(
        &self,
        id: String,
        (total, per_page): (i64, i64),
        items: impl FnOnce() -> Vec<serde_json::Value>,
    ) -> Response {
        use crate::federation::objects::collections;
        match self.page {
            None => activity_json(
                axum::http::StatusCode::OK,
                &collections::collection(id, total, per_page),
            ),
            Some(page) => activity_json(
                axum::http::StatusCode::OK,
                &collections::page(&id, (page.get(), per_page), total, items()),
            ),
        }
    }

    /// As [`Self::collection`], with the first page inside the collection's document
    /// (`items()` are then the first page's); `owner` is whose conversation it is.
    fn paged_collection(
        &self,
        id: String,
        (total, per_page): (i64, i64),
        items: impl FnOnce() -> Vec<serde_json::Value>,
        owner: Option<String>,
    ) -> Response {
        use crate::federation::{context, objects::collections};
        if self.page.is_some() {
            return self.collection(id, (total, per_page), items);
        }
        let mut doc = collections::with_first_page(id, total, per_page, items());
        doc.context = Some(context());
        doc.attributed_to = owner;
        activity_json(axum::http::StatusCode::OK, &doc)
    }
}
