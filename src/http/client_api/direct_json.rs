//! Direct messages and conversations as Mastodon shows them: a message is a Status
//! with `visibility: "direct"` and id `d.<n>`; a Conversation is its id, `unread`,
//! the other accounts and the newest status.

use serde_json::{Value, json};

use super::entities::millis;
use crate::{app::App, db::direct::DirectRow};

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
