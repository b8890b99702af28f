//! Direct messages and conversations as Mastodon shows them: a message is a Status
//! with `visibility: "direct"` and id `d.<n>`; a Conversation is its id, `unread`,
//! the other accounts and the newest status.

use serde_json::{Value, json};

use super::entities::{self, millis};
use crate::{app::App, db::direct::DirectRow, db::notifications::NotificationRow};

/// The fields of a message's Status that are its own (the rest: `status_json`).
pub(super) fn message_fields(app: &App, d: &DirectRow) -> Value {
    let url = d.url.clone().unwrap_or_else(|| d.ap_id.clone());
    let cw = d.summary.clone().unwrap_or_default();
    let me = app.uris().actor(&d.author);
    json!({
        "id": format!("d.{}", d.id), "uri": d.ap_id, "url": url,
        "created_at": millis(d.published_at),
        "edited_at": d.edited_at.map(millis),
        "content": d.content_html,
        "visibility": "direct", "sensitive": !cw.is_empty(), "spoiler_text": cw,
        "media_attachments": [], "tags": [], "language": null,
        "mentions": [{
            "id": d.author.as_str(), "username": d.author.as_str(),
            "acct": d.author.as_str(), "url": me,
        }],
    })
}

/// The message a `mention` notification is about (its content sanitised when stored).
pub(super) fn in_notification(app: &App, n: &NotificationRow) -> Option<Value> {
    let (id, ap_id, html, at) = (
        n.direct_id?,
        n.direct_ap_id.as_deref()?,
        n.direct_html.as_deref()?,
        n.direct_published_at?,
    );
    let url = n.direct_url.as_deref().unwrap_or(ap_id);
    let mut v = entities::status(
        format!("d.{id}"),
        ap_id,
        url,
        at,
        entities::remote_account(app, n),
        html,
    );
    v["visibility"] = json!("direct");
    if let Some(cw) = n.direct_summary.as_deref().filter(|s| !s.is_empty()) {
        v["spoiler_text"] = json!(cw);
        v["sensitive"] = json!(true);
    }
    Some(v)
}

/// A Conversation entity.
pub(super) fn conversation(
    id: i64,
    unread: bool,
    accounts: Vec<Value>,
    last: Option<Value>,
) -> Value {
    json!({
        "id": id.to_string(),
        "unread": unread,
        "accounts": accounts,
        "last_status": last,
    })
}
