//! The Mastodon client API's use cases: signing in (OAuth 2 and authors' passwords)
//! and what the API shows of our authors and the instance. The HTTP side, with the
//! entities' JSON shapes, is `http::client_api`.

pub mod accounts;
pub mod direct;
pub mod filters;
pub mod graph;
pub mod media;
pub mod notification_groups;
pub mod notifications;
pub mod oauth;
// fixes: one remote object, one status id.
pub mod one_id;
pub mod password;
pub mod picture;
// fixes: a remote account's statuses and familiar followers.
pub mod remote_account;
pub mod search;
// shape: one way to find and show a page of statuses.
pub mod shown;
pub mod statuses;
pub mod streaming;
pub mod tags;
pub mod timeline;
