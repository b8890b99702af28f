//! `GET /api/v1/instance` and `/api/v2/instance`: what the server is and which API it
//! speaks. Clients pick endpoints by `version`; we claim [`CLAIMED_VERSION`]
//! (Mastodon 4.3's API), and v2 says `api_versions.mastodon`.

use axum::{Json, extract::State};
use serde_json::{Value, json};

use super::{API_VERSION, CLAIMED_VERSION, entities};
use crate::{app::App, error::AppResult, service::client_api::accounts};

/// What every post may be, as clients read it before composing. Statuses are not
/// written through the API yet; these are Mastodon's defaults, so apps render.
fn configuration() -> Value {
    json!({
        "statuses": {
            "max_characters": 500,
            "max_media_attachments": 4,
            "characters_reserved_per_url": 23,
        },
        "media_attachments": {
            "supported_mime_types": [],
            "image_size_limit": 0,
            "image_matrix_limit": 0,
            "video_size_limit": 0,
            "video_frame_rate_limit": 0,
            "video_matrix_limit": 0,
        },
        "polls": {
            "max_options": 0,
            "max_characters_per_option": 0,
            "min_expiration": 0,
            "max_expiration": 0,
        },
        "accounts": { "max_featured_tags": 0, "max_pinned_statuses": 0 },
        "translation": { "enabled": false },
    })
}

/// Where apps open `/api/v1/streaming`: our own origin, as `ws:` or `wss:`.
fn streaming_base(app: &App) -> String {
    let base = app.uris().base();
    match base.strip_prefix("https://") {
        Some(rest) => format!("wss://{rest}"),
        None => format!("ws://{}", base.trim_start_matches("http://")),
    }
}

pub async fn v1(State(app): State<App>) -> AppResult<Json<Value>> {
    let i = accounts::instance(&app).await?;
    let c = app.config();
    let mut configuration = configuration();
    configuration["urls"] = json!({});
    Ok(Json(json!({
        "uri": app.uris().domain(),
        "title": c.site_title,
        "short_description": c.site_description,
        "description": c.site_description,
        "email": "",
        "version": CLAIMED_VERSION,
        "urls": { "streaming_api": streaming_base(&app) },
        "stats": { "user_count": i.users, "status_count": i.statuses, "domain_count": 0 },
        "thumbnail": null,
        "languages": [c.site_language.to_string()],
        "registrations": false,
        "approval_required": false,
        "invites_enabled": false,
        "configuration": configuration,
        "contact_account": i.contact.as_ref().map(|a| entities::account(&app, a, false)),
        "rules": [],
    })))
}

pub async fn v2(State(app): State<App>) -> AppResult<Json<Value>> {
    let i = accounts::instance(&app).await?;
    let c = app.config();
    let mut configuration = configuration();
    configuration["urls"] = json!({ "streaming": streaming_base(&app), "status": null });
    configuration["vapid"] = json!({ "public_key": "" });
    Ok(Json(json!({
        "domain": app.uris().domain(),
        "title": c.site_title,
        "version": CLAIMED_VERSION,
        "source_url": "",
        "description": c.site_description,
        "usage": { "users": { "active_month": i.users } },
        "thumbnail": { "url": super::super::assets::icon_url(app.uris()) },
        "icon": [],
        "languages": [c.site_language.to_string()],
        "configuration": configuration,
        "registrations": { "enabled": false, "approval_required": false, "message": null },
        "api_versions": { "mastodon": API_VERSION },
        "contact": {
            "email": "",
            "account": i.contact.as_ref().map(|a| entities::account(&app, a, false)),
        },
        "rules": [],
    })))
}
