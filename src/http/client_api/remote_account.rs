//! `/api/v1/accounts/r.<hash>/statuses` (a remote account's statuses we store) and
//! `/api/v1/accounts/familiar_followers`: thin handlers over
//! `service::client_api::remote_account`.

use axum::{
    Json,
    extract::{RawQuery, State},
    http::HeaderMap,
};
use serde_json::{Value, json};

use super::{
    entities,
    extract::Auth,
    graph::{link, pairs},
    status_json::{self, Accounts},
};
use crate::{
    app::App,
    domain::{Access, Resource, Scope},
    error::AppResult,
    service::client_api::{oauth::Grant, remote_account},
};

/// A remote account's statuses, drawn as everywhere else, with Mastodon's Link
/// header (`next`: older, `prev`: newer). The caller checked the scope.
pub(super) async fn statuses(
    app: &App,
    grant: &Grant,
    id: &str,
    raw: Option<&str>,
) -> AppResult<(HeaderMap, Json<Value>)> {
    let (q, kept) = super::statuses::page_query(raw);
    let viewer = grant.author.as_ref();
    let list = remote_account::statuses(app, viewer, id, &q).await?;
    let shown = status_json::statuses(app, viewer, list, &mut Accounts::default()).await?;
    let status_id = |v: Option<&Value>| v.and_then(|s| s["id"].as_str()).map(str::to_owned);
    let kept: Vec<(&str, String)> = kept.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
    let headers = link(
        app,
        &format!("/api/v1/accounts/{id}/statuses"),
        &kept,
        status_id(shown.last()),
        status_id(shown.first()),
    );
    Ok((headers, Json(Value::Array(shown))))
}

/// `GET /api/v1/accounts/familiar_followers?id[]=…`: per account asked about, our
/// other authors who follow it.
pub async fn familiar_followers(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Read, Resource::Follows))?;
    let viewer = grant.author()?;
    let ids: Vec<String> = pairs(raw.as_deref())
        .into_iter()
        .filter(|(k, _)| k == "id")
        .map(|(_, v)| v)
        .collect();
    let found = remote_account::familiar_followers(&app, viewer, &ids).await?;
    let out: Vec<Value> = found
        .iter()
        .map(|(id, accounts)| {
            let accounts: Vec<Value> = accounts
                .iter()
                .map(|a| entities::account(&app, a, false))
                .collect();
            json!({ "id": id, "accounts": accounts })
        })
        .collect();
    Ok(Json(Value::Array(out)))
}
