//! Mastodon's entities as JSON, made from what the service returns: the fields
//! clients need, with Mastodon's types (ids are strings, times ISO 8601 in UTC).

use serde_json::{Value, json};

use super::super::assets;
use crate::{
    app::App, content::summary, db::client_api::AppRow, federation::objects::iso8601,
    service::client_api::accounts::Account,
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
        "created_at": midnight(author.created_at),
        "note": author.bio_html,
        "url": uris.actor(handle),
        "uri": uris.actor(handle),
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": a.followers,
        "following_count": 0,
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
fn midnight(ms: i64) -> String {
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
