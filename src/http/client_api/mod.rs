//! The Mastodon client API and its OAuth 2 sign-in: routes, extractors, handlers and
//! the entities' JSON shapes. Handlers parse, call `service::client_api`, respond.
//! Errors are Mastodon's (`{"error": …}`, OAuth's with `error_description`), always
//! JSON here, never the theme's page; unimplemented `/api/*` paths answer 404.

mod accounts;
mod authorize;
mod conversations;
mod cors;
mod defaults;
mod direct_json;
mod entities;
mod extract;
mod filters;
mod graph;
mod graph_json;
mod instance;
mod media;
mod media_json;
mod notification_groups;
mod notifications;
mod oauth;
mod remote_account;
mod status_json;
mod statuses;
mod streaming;
mod tags;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{any, get, patch, post},
};

pub use cors::cors;

use crate::{
    app::App,
    error::{AppError, AppResult},
};

/// The version we claim to apps, which choose endpoints by it: the Mastodon API we
/// follow, then ours.
pub const CLAIMED_VERSION: &str = concat!(
    "4.3.0 (compatible; fedblog ",
    env!("CARGO_PKG_VERSION"),
    ")"
);
/// `api_versions.mastodon` of `/api/v2/instance`: Mastodon 4.3's.
pub const API_VERSION: u32 = 2;

/// The client API's routes.
pub fn router() -> Router<App> {
    Router::new()
        .route("/api/v1/apps", post(oauth::register_app))
        .route("/api/v1/apps/verify_credentials", get(oauth::verify_app))
        .route(
            "/.well-known/oauth-authorization-server",
            get(oauth::server_metadata),
        )
        .route(
            "/oauth/authorize",
            get(authorize::page).post(authorize::submit),
        )
        // toot and others add a slash.
        .route(
            "/oauth/authorize/",
            get(authorize::page).post(authorize::submit),
        )
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
        // Mastodon.py asks with a trailing slash.
        .route("/api/v1/instance", get(instance::v1))
        .route("/api/v1/instance/", get(instance::v1))
        .route("/api/v2/instance", get(instance::v2))
        .route("/api/v2/instance/", get(instance::v2))
        .route(
            "/api/v1/accounts/verify_credentials",
            get(accounts::verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            patch(accounts::update_credentials),
        )
        .route("/api/v1/accounts/lookup", get(accounts::lookup))
        // The social graph and the home timeline.
        .route("/api/v2/search", get(graph::search_v2))
        .route("/api/v1/accounts/search", get(graph::account_search))
        .route("/api/v1/accounts/relationships", get(graph::relationships))
        .route("/api/v1/accounts/{id}/follow", post(graph::follow))
        .route("/api/v1/accounts/{id}/unfollow", post(graph::unfollow))
        .route("/api/v1/accounts/{id}/block", post(graph::block))
        .route("/api/v1/accounts/{id}/unblock", post(graph::unblock))
        .route("/api/v1/accounts/{id}/mute", post(graph::mute))
        .route("/api/v1/accounts/{id}/unmute", post(graph::unmute))
        .route("/api/v1/accounts/{id}/followers", get(graph::followers))
        .route("/api/v1/accounts/{id}/following", get(graph::following))
        .route("/api/v1/follow_requests", get(graph::follow_requests))
        .route("/api/v1/timelines/home", get(graph::home))
        // fixes: familiar followers (a fixed path wins over `{id}`).
        .route(
            "/api/v1/accounts/familiar_followers",
            get(remote_account::familiar_followers),
        )
        .route("/api/v1/accounts/{id}", get(accounts::account))
        .route("/api/v1/notifications", get(notifications::list))
        .route("/api/v1/notifications/clear", post(notifications::clear))
        .route("/api/v1/notifications/{id}", get(notifications::get))
        .route(
            "/api/v1/notifications/{id}/dismiss",
            post(notifications::dismiss),
        )
        // Grouped notifications (Mastodon 4.3's v2).
        .route("/api/v2/notifications", get(notification_groups::list))
        .route(
            "/api/v2/notifications/unread_count",
            get(notification_groups::unread_count),
        )
        .route(
            "/api/v2/notifications/clear",
            post(notification_groups::clear),
        )
        .route("/api/v2/notifications/{key}", get(notification_groups::get))
        .route(
            "/api/v2/notifications/{key}/dismiss",
            post(notification_groups::dismiss),
        )
        .route(
            "/api/v2/notifications/{key}/accounts",
            get(notification_groups::accounts),
        )
        .route(
            "/api/v1/markers",
            get(notifications::markers).post(notifications::set_markers),
        )
        // Streaming, filters, tag timelines, conversations.
        .route("/api/v1/streaming", get(streaming::websocket))
        .route("/api/v1/streaming/", get(streaming::websocket))
        .route("/api/v1/streaming/health", get(streaming::health))
        .route("/api/v1/streaming/user", get(streaming::sse_user))
        .route(
            "/api/v1/streaming/user/notification",
            get(streaming::sse_notification),
        )
        .route("/api/v1/streaming/public", get(streaming::sse_public))
        .route("/api/v1/streaming/public/local", get(streaming::sse_public))
        .route("/api/v1/streaming/hashtag", get(streaming::sse_hashtag))
        .route(
            "/api/v1/streaming/hashtag/local",
            get(streaming::sse_hashtag),
        )
        // direct: the `direct` stream (conversation events).
        .route("/api/v1/streaming/direct", get(streaming::sse_direct))
        // Media attachments: the upload routes bound their bodies themselves, while
        // they stream, by `[limits.client_api] media_max_bytes`.
        .route(
            "/api/v2/media",
            post(media::upload).layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/api/v1/media",
            post(media::upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/api/v1/media/{id}", get(media::get).put(media::update))
        .route("/media/{id}/{file}", get(media::serve))
        // Statuses: notes and replies from apps, any status by its id, threads,
        // favourites and boosts, an account's statuses and the local timeline.
        .route("/api/v1/statuses", post(statuses::create))
        .route(
            "/api/v1/statuses/{id}",
            get(statuses::get)
                .put(statuses::edit)
                .delete(statuses::delete),
        )
        .route("/api/v1/statuses/{id}/history", get(statuses::history))
        .route("/api/v1/statuses/{id}/source", get(statuses::source))
        .route("/api/v1/statuses/{id}/context", get(statuses::context))
        .route("/api/v1/statuses/{id}/favourite", post(statuses::favourite))
        .route(
            "/api/v1/statuses/{id}/unfavourite",
            post(statuses::unfavourite),
        )
        .route("/api/v1/statuses/{id}/reblog", post(statuses::reblog))
        .route("/api/v1/statuses/{id}/unreblog", post(statuses::unreblog))
        .route(
            "/api/v1/statuses/{id}/favourited_by",
            get(statuses::favourited_by),
        )
        .route(
            "/api/v1/statuses/{id}/reblogged_by",
            get(statuses::reblogged_by),
        )
        .route("/api/v1/accounts/{id}/statuses", get(statuses::of_account))
        .route("/api/v1/timelines/public", get(statuses::public_timeline))
        .route("/api/v1/timelines/tag/{hashtag}", get(tags::timeline))
        .route("/api/v1/tags/{name}", get(tags::tag))
        .route("/api/v2/filters", get(filters::list).post(filters::create))
        .route(
            "/api/v2/filters/{id}",
            get(filters::get)
                .put(filters::update)
                .delete(filters::delete),
        )
        .route(
            "/api/v2/filters/{id}/keywords",
            get(filters::keywords).post(filters::add_keyword),
        )
        .route(
            "/api/v2/filters/keywords/{id}",
            get(filters::get_keyword)
                .put(filters::update_keyword)
                .delete(filters::delete_keyword),
        )
        .route(
            "/api/v2/filters/{id}/statuses",
            get(filters::statuses).post(filters::add_status),
        )
        .route(
            "/api/v2/filters/statuses/{id}",
            get(filters::get_status).delete(filters::delete_status),
        )
        .route(
            "/api/v1/filters",
            get(filters::v1_list).post(filters::v1_create),
        )
        .route(
            "/api/v1/filters/{id}",
            get(filters::v1_get)
                .put(filters::v1_update)
                .delete(filters::v1_delete),
        )
        // What apps ask for on start-up that we have none of.
        .route("/api/v1/preferences", get(defaults::preferences))
        .route("/api/v1/followed_tags", get(defaults::followed_tags))
        .route("/api/v1/announcements", get(defaults::announcements))
        .route(
            "/api/v1/accounts/{id}/featured_tags",
            get(defaults::empty_list),
        )
        .route("/api/v1/custom_emojis", get(defaults::empty_list))
        // direct: the author's conversations (direct messages).
        .route("/api/v1/conversations", get(conversations::list))
        // Mastodon.py asks with a trailing slash.
        .route("/api/v1/conversations/", get(conversations::list))
        .route(
            "/api/v1/conversations/{id}",
            axum::routing::delete(conversations::remove),
        )
        .route("/api/v1/conversations/{id}/read", post(conversations::read))
        .route("/api/{*rest}", any(not_implemented))
        .route("/oauth/{*rest}", any(not_implemented))
        // A method a path does not have is a path we do not have, as in Mastodon.
        .method_not_allowed_fallback(not_implemented)
}

/// Paths whose errors are JSON whatever the client accepts.
pub fn always_json(path: &str) -> bool {
    path.starts_with("/api/")
        || matches!(
            path,
            "/oauth/token" | "/oauth/revoke" | "/.well-known/oauth-authorization-server"
        )
}

/// Every API path we do not implement: Mastodon's 404.
async fn not_implemented() -> AppResult<()> {
    Err(AppError::NotFound("Record not found".into()))
}
