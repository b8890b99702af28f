//! `/api/v1/accounts/…` for our authors.

use axum::{
    Json,
    extract::{Path, Query, State},
};
use serde::Deserialize;
use serde_json::Value;

use super::{entities, extract::Auth};
use crate::{
    app::App,
    domain::{Access, Resource, Scope},
    error::{AppError, AppResult},
    service::client_api::accounts,
};

/// The signed-in author, with `source`. Needs `read:accounts` (or `profile`).
pub async fn verify_credentials(
    State(app): State<App>,
    Auth(grant): Auth,
) -> AppResult<Json<Value>> {
    if !grant.scopes.permit(Scope::Profile) {
        grant.require(Scope::One(Access::Read, Resource::Accounts))?;
    }
    let account = accounts::account(&app, grant.author()?).await?;
    Ok(Json(entities::account(&app, &account, true)))
}

/// A profile is `author.toml` in the content folder: apps cannot change it. The
/// scope is checked first, so a token without `write:accounts` learns only that.
pub async fn update_credentials(Auth(grant): Auth) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Accounts))?;
    grant.author()?;
    Err(AppError::Unprocessable(
        "the profile is the author.toml file in the content folder: edit the file".into(),
    ))
}

/// An author of ours by id (their handle); public, as in Mastodon.
pub async fn account(State(app): State<App>, Path(id): Path<String>) -> AppResult<Json<Value>> {
    if id.starts_with("r.") {
        return super::graph::remote_account(&app, &id).await;
    }
    let account = accounts::account_by_id(&app, &id).await?;
    Ok(Json(entities::account(&app, &account, false)))
}

#[derive(Deserialize)]
pub struct Lookup {
    acct: Option<String>,
}

/// `?acct=alice` or `alice@our.domain`: one of our authors.
pub async fn lookup(State(app): State<App>, Query(q): Query<Lookup>) -> AppResult<Json<Value>> {
    let acct = q.acct.unwrap_or_default();
    let acct = acct.trim_start_matches('@');
    let local = match acct.split_once('@') {
        Some((user, domain)) if domain == app.uris().domain() || domain == app.uris().host() => {
            user
        }
        Some(_) => return Err(AppError::NotFound("Record not found".into())),
        None => acct,
    };
    let account = accounts::account_by_id(&app, local).await?;
    Ok(Json(entities::account(&app, &account, false)))
}
