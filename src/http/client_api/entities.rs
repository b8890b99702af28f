//! Mastodon's entities as JSON, made from what the service returns: the fields
//! clients need, with Mastodon's types (ids are strings, times ISO 8601 in UTC).

use serde_json::{Value, json};

use super::super::assets;
use crate::{
    app::App,
    content::summary,
    db::{client_api::AppRow, notifications::NotificationRow},
    federation::objects::iso8601,
    service::client_api::{accounts::Account, notifications::Marker},
};

/// An Account; with `source` (the author's own view, for `verify_credentials`).
pub fn account(app: &App, a: &Account, with_source: bool) -> Value {
    let author = &a.author;
    let handle = &author.handle;
    let uris = app.uris();
    let avatar = author
        .avatar_file
        .as_deref()
        .map_or_else(|| assets::icon_url(uris), |f| uris.avatar(handle, f));
    let header = author
        .header_file
        .as_deref()
        .map_or_else(String::new, |f| uris.header(handle, f));
    let fields: Vec<Value> = author
        .fields
        .iter()
        .map(|f| json!({ "name": f.name, "value": f.value_html, "verified_at": null }))
        .collect();
    let mut v = json!({
        "id": handle.as_str(),
        "username": handle.as_str(),
        "acct": handle.as_str(),
        "display_name": author.name,
        "locked": false,
        "bot": false,
        "group": false,
        "discoverable": true,
        "indexable": true,
        "noindex": false,
        "hide_collections": false,
        "created_at": midnight(a.joined),
        "note": author.bio_html,
        "url": uris.actor(handle),
        "uri": uris.actor(handle),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": a.followers,
        "following_count": a.following,
        "statuses_count": a.statuses,
        "last_status_at": a.last_status_at.map(|ms| iso8601(ms)[..10].to_owned()),
        "emojis": [],
        "roles": [],
        "fields": fields,
    });
    if with_source {
        let plain_fields: Vec<Value> = author
            .fields
            .iter()
            .map(|f| json!({ "name": f.name, "value": summary(&f.value_html, 255), "verified_at": null }))
            .collect();
        v["source"] = json!({
            "privacy": "public",
            "sensitive": false,
            "language": app.config().site_language.to_string(),
            "note": summary(&author.bio_html, 500),
            "fields": plain_fields,
            "follow_requests_count": 0,
            "hide_collections": false,
            "discoverable": true,
            "indexable": true,
            "attribution_domains": [],
        });
    }
    v
}

/// Mastodon gives an account's creation as the day it was made, at midnight UTC.
pub(super) fn midnight(ms: i64) -> String {
    format!("{}T00:00:00.000Z", &iso8601(ms)[..10])
}

/// An Application; with its secret only when it was just registered.
pub fn application(row: &AppRow, client_secret: Option<&str>) -> Value {
    let uris: Vec<&str> = row.redirect_uris.iter().map(|r| r.as_str()).collect();
    let scopes: Vec<String> = row.scopes.iter().map(|s| s.to_string()).collect();
    let mut v = json!({
        "id": row.id.to_string(),
        "name": row.name,
        "website": row.website,
        "scopes": scopes,
        "redirect_uri": row.redirect_uris.joined(),
        "redirect_uris": uris,
        "client_id": row.client_id,
    });
    if let Some(secret) = client_secret {
        v["client_secret"] = json!(secret);
        v["client_secret_expires_at"] = json!(0);
    }
    v
}

/// Mastodon's time format: ISO 8601 in UTC with milliseconds.
pub(super) fn millis(ms: i64) -> String {
    let s = iso8601(ms);
    format!("{}.{:03}Z", s.trim_end_matches('Z'), ms.rem_euclid(1000))
}

/// A remote account's id: no handle of ours can contain a `.`, so it never names
/// one of our authors.
pub fn remote_account_id(actor_id: &str) -> String {
    format!("r.{}", crate::db::remote_actors::api_hash(actor_id))
}

/// The remote actor of a notification, as an Account.
pub(super) fn remote_account(app: &App, n: &NotificationRow) -> Value {
    super::graph_json::remote_account(
        app,
        &super::graph_json::RemoteAccount {
            actor_id: &n.actor_id,
            username: n.actor_username.as_deref(),
            handle: n.actor_handle.as_deref(),
            name: n.actor_name.as_deref(),
            icon: n.actor_icon.as_deref(),
            url: n.actor_url.as_deref(),
            created_at: n.actor_created_at,
        },
    )
}

/// The fields every Status has; the caller fills in what differs.
pub(super) fn status(
    id: String,
    uri: &str,
    url: &str,
    created_at: i64,
    account: Value,
    content: &str,
) -> Value {
    json!({
        "id": id, "uri": uri, "url": url, "created_at": millis(created_at),
        "account": account, "content": content,
        "visibility": "public", "sensitive": false, "spoiler_text": "",
        "media_attachments": [], "mentions": [], "tags": [], "emojis": [],
        "reblogs_count": 0, "favourites_count": 0, "replies_count": 0,
        "in_reply_to_id": null, "in_reply_to_account_id": null,
        "reblog": null, "poll": null, "card": null, "language": null, "edited_at": null,
        "application": null, "favourited": false, "reblogged": false, "muted": false,
        "bookmarked": false, "pinned": false,
    })
}

/// A quote of our post as a Status (content sanitised when stored).
pub(super) fn quote_status(app: &App, n: &NotificationRow) -> Option<Value> {
    let (id, ap_id, html) = (
        n.quote_id?,
        n.quote_ap_id.as_deref()?,
        n.quote_html.as_deref()?,
    );
    let url = n.quote_url.as_deref().unwrap_or(ap_id);
    Some(status(
        format!("quote.{id}"),
        ap_id,
        url,
        n.created_at,
        remote_account(app, n),
        html,
    ))
}

/// A Notification; `status` is what it is about, drawn (`status_json`).
pub fn notification(app: &App, n: &NotificationRow, status: Option<Value>) -> Value {
    json!({
        "id": n.id.to_string(),
        "type": n.kind,
        "group_key": n.group_key.clone().unwrap_or_else(|| format!("ungrouped-{}", n.id)),
        "created_at": millis(n.created_at),
        "account": remote_account(app, n),
        "status": status,
    })
}

/// Markers, keyed by timeline.
pub fn markers(list: &[Marker]) -> Value {
    let mut v = json!({});
    for (timeline, id, version, at) in list {
        v[timeline] = json!({ "last_read_id": id, "version": version, "updated_at": millis(*at) });
    }
    v
}
