//! Endpoints apps call on start-up for features fedblog does not have (announcements,
//! followed and featured tags, custom emoji): Mastodon answers an instance without
//! any with empty lists, and so do we, rather than 404s that apps log as errors.
//! Preferences are real: the author's posting defaults.

use axum::{Json, extract::State};
use serde_json::{Value, json};

use super::extract::Auth;
use crate::{
    app::App,
    domain::{Access, Resource, Scope},
    error::AppResult,
};

/// `GET /api/v1/preferences`: how the author's notes are posted by default (public,
/// in the site's language; a note's visibility and language are chosen per note).
pub async fn preferences(State(app): State<App>, Auth(grant): Auth) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Read, Resource::Accounts))?;
    grant.author()?;
    Ok(Json(json!({
        "posting:default:visibility": "public",
        "posting:default:sensitive": false,
        "posting:default:language": app.config().site_language.to_string(),
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    })))
}

/// `GET /api/v1/followed_tags`: following hashtags is not a feature here.
pub async fn followed_tags(Auth(grant): Auth) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Read, Resource::Follows))?;
    Ok(Json(json!([])))
}

/// `GET /api/v1/announcements`: the instance has no announcements.
pub async fn announcements(Auth(grant): Auth) -> AppResult<Json<Value>> {
    grant.require(Scope::All(Access::Read))?;
    Ok(Json(json!([])))
}

/// Public lists that are always empty here: an account's featured tags, custom emoji.
pub async fn empty_list() -> Json<Value> {
    Json(json!([]))
}
