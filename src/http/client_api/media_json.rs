//! Mastodon's `MediaAttachment` entity, for our uploaded images.

use serde_json::{Value, json};

use crate::{app::App, db::media::MediaRow, service::client_api::media};

/// `meta.original` / `meta.small`: sizes as Mastodon gives them.
fn size(width: i64, height: i64) -> Value {
    let aspect = if height > 0 {
        width as f64 / height as f64
    } else {
        1.0
    };
    json!({
        "width": width,
        "height": height,
        "size": format!("{width}x{height}"),
        "aspect": aspect,
    })
}

pub fn media_attachment(app: &App, m: &MediaRow) -> Value {
    json!({
        "id": m.id.to_string(),
        "type": "image",
        "url": media::url(app, m),
        "preview_url": media::preview_url(app, m),
        "remote_url": null,
        "preview_remote_url": null,
        "text_url": null,
        "meta": {
            "original": size(m.width, m.height),
            "small": size(m.preview_width, m.preview_height),
            "focus": { "x": m.focus_x, "y": m.focus_y },
        },
        "description": (!m.description.is_empty()).then_some(m.description.as_str()),
        "blurhash": m.blurhash,
    })
}
