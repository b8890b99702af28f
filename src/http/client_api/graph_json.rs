//! The JSON of the social graph and the home timeline: remote accounts, relationships,
//! remote statuses, our posts as minimal statuses, search results and hashtags.

use serde_json::{Value, json};

use super::{
    super::assets,
    entities::{self, millis, remote_account_id},
};
use crate::{
    app::App,
    db::remote_actors::RemoteActorRow,
    domain::Handle,
    error::AppResult,
    service::client_api::{
        graph::Relationship,
        search::{Found, FoundAccount},
        statuses::Status,
        timeline::Item,
    },
};

/// What we know of a remote account (a stored actor, or a notification's columns).
pub struct RemoteAccount<'a> {
    pub actor_id: &'a str,
    pub username: Option<&'a str>,
    /// The handle WebFinger confirmed.
    pub handle: Option<&'a str>,
    pub name: Option<&'a str>,
    pub icon: Option<&'a str>,
    pub url: Option<&'a str>,
    /// When the account was made (ms), if we know.
    pub created_at: Option<i64>,
}

impl<'a> RemoteAccount<'a> {
    pub fn of(row: &'a RemoteActorRow) -> Self {
        Self {
            actor_id: row.id.as_str(),
            username: row.username.as_deref(),
            handle: row.handle.as_deref(),
            name: row.name.as_deref(),
            icon: row.icon_url.as_deref(),
            url: row.profile_url.as_deref(),
            created_at: row.created_at,
        }
    }

    /// Only the actor's id is known.
    pub fn bare(actor_id: &'a str) -> Self {
        Self {
            actor_id,
            username: None,
            handle: None,
            name: None,
            icon: None,
            url: None,
            created_at: None,
        }
    }
}

/// A remote account as an Account: its checked handle as `acct` (else
/// `preferredUsername@host`), counts we do not know as 0.
pub fn remote_account(app: &App, a: &RemoteAccount<'_>) -> Value {
    // Without a checked handle, the host without its port, as before handles existed.
    let host = url::Url::parse(a.actor_id)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let username = a.username.map_or_else(
        || {
            a.actor_id
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        },
        str::to_owned,
    );
    let acct = a
        .handle
        .map_or_else(|| format!("{username}@{host}"), str::to_owned);
    let avatar = a
        .icon
        .map_or_else(|| assets::icon_url(app.uris()), str::to_owned);
    json!({
        "id": remote_account_id(a.actor_id),
        "username": username,
        "acct": acct,
        "display_name": a.name.unwrap_or_default(),
        "locked": false, "bot": false, "group": false, "discoverable": null,
        "indexable": false, "noindex": false, "hide_collections": false,
        // As Mastodon: the day, at midnight UTC.
        "created_at": a.created_at.map_or_else(|| millis(0), entities::midnight),
        "note": "",
        "url": a.url.unwrap_or(a.actor_id),
        "uri": a.actor_id,
        "avatar": avatar, "avatar_static": avatar, "header": "", "header_static": "",
        "followers_count": 0, "following_count": 0, "statuses_count": 0,
        "last_status_at": null, "emojis": [], "fields": [], "roles": [],
    })
}

pub fn remote_row(app: &App, row: &RemoteActorRow) -> Value {
    remote_account(app, &RemoteAccount::of(row))
}

pub fn relationship(r: &Relationship) -> Value {
    json!({
        "id": r.id,
        "following": r.following,
        "showing_reblogs": r.following,
        "notifying": false,
        "languages": null,
        "followed_by": r.followed_by,
        "blocking": r.blocking,
        "blocked_by": false,
        "muting": r.muting,
        "muting_notifications": r.muting,
        "requested": r.requested,
        "requested_by": false,
        "domain_blocking": r.domain_blocking,
        "endorsed": false,
        "note": "",
    })
}

/// Home or tag timeline entries as Statuses, as `viewer` sees them: the one entry
/// point for drawing an `Item` (a stream's `update` sends the same).
pub async fn items(app: &App, viewer: Option<&Handle>, items: &[Item]) -> AppResult<Vec<Value>> {
    super::status_json::items(app, viewer, items).await
}

pub fn found_account(app: &App, a: &FoundAccount) -> Value {
    match a {
        FoundAccount::Local(a) => entities::account(app, a, false),
        FoundAccount::Remote(r) => remote_row(app, r),
    }
}

/// `/api/v2/search`'s answer; its statuses are drawn as everywhere else.
pub async fn search(app: &App, viewer: Option<&Handle>, f: Found) -> AppResult<Value> {
    let accounts: Vec<Value> = f.accounts.iter().map(|a| found_account(app, a)).collect();
    let found = f
        .statuses
        .into_iter()
        .map(|(s, a)| Status::Remote(Box::new(s), a.map(Box::new)))
        .collect();
    let statuses =
        super::status_json::statuses(app, viewer, found, &mut Default::default()).await?;
    let hashtags: Vec<Value> = f
        .hashtags
        .iter()
        .map(|t| {
            json!({
                "name": t.as_str(),
                "url": app.uris().tag(t),
                "history": [],
                "following": false,
            })
        })
        .collect();
    Ok(json!({ "accounts": accounts, "statuses": statuses, "hashtags": hashtags }))
}
