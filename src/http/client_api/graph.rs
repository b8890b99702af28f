//! The author's social graph and home timeline: search and resolve, follow and
//! unfollow, relationships, followers and following, block and mute, `timelines/home`.
//! Thin: each handler checks its scope, calls `service::client_api`, shapes the JSON.

use axum::{
    Json,
    extract::{Path, RawQuery, State},
    http::{HeaderMap, HeaderValue, header},
};
use serde_json::{Value, json};

use super::graph_json;
use crate::{
    app::App,
    domain::{Access, Resource, Scope},
    error::AppResult,
    http::client_api::extract::Auth,
    service::client_api::{
        graph::{self, Relationship},
        search, timeline,
    },
};

/// The query's pairs; `id[]` and `id` both count (clients send either).
pub(super) fn pairs(raw: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .map(|(k, v)| (k.trim_end_matches("[]").to_owned(), v.into_owned()))
        .collect()
}

pub(super) fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn truthy(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "1" | "on" | "yes"))
}

fn limit(pairs: &[(String, String)], default: i64, max: i64) -> i64 {
    param(pairs, "limit")
        .and_then(|l| l.parse::<i64>().ok())
        .map_or(default, |l| l.clamp(1, max))
}

/// Mastodon's `Link` header: `next` (older) and, when given, `prev` (newer).
pub(super) fn link(
    app: &App,
    path: &str,
    kept: &[(&str, String)],
    next: Option<String>,
    prev: Option<String>,
) -> HeaderMap {
    let url = |bound: &str, id: &str| {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in kept {
            q.append_pair(k, v);
        }
        q.append_pair(bound, id);
        format!("{}{path}?{}", app.uris().base(), q.finish())
    };
    let mut parts = Vec::new();
    if let Some(n) = next {
        parts.push(format!("<{}>; rel=\"next\"", url("max_id", &n)));
    }
    if let Some(p) = prev {
        parts.push(format!("<{}>; rel=\"prev\"", url("min_id", &p)));
    }
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&parts.join(", "))
        && !parts.is_empty()
    {
        headers.insert(header::LINK, v);
    }
    headers
}

/// `GET /api/v2/search?q=&type=&resolve=&limit=`.
pub async fn search_v2(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Read, Resource::Search))?;
    let pairs = pairs(raw.as_deref());
    let q = search::Query {
        q: param(&pairs, "q").unwrap_or_default().to_owned(),
        kind: param(&pairs, "type").map(str::to_owned),
        // Resolving asks the network: only for a signed-in author.
        resolve: truthy(param(&pairs, "resolve")) && grant.author().is_ok(),
        limit: limit(&pairs, 20, 40),
    };
    let found = search::search(&app, &q).await?;
    Ok(Json(
        graph_json::search(&app, grant.author.as_ref(), found).await?,
    ))
}

/// `GET /api/v1/accounts/search?q=&resolve=&limit=`: accounts only.
pub async fn account_search(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Read, Resource::Accounts))?;
    let pairs = pairs(raw.as_deref());
    let q = search::Query {
        q: param(&pairs, "q").unwrap_or_default().to_owned(),
        kind: Some("accounts".into()),
        resolve: truthy(param(&pairs, "resolve")) && grant.author().is_ok(),
        limit: limit(&pairs, 40, 80),
    };
    let found = search::search(&app, &q).await?;
    let list: Vec<Value> = found
        .accounts
        .iter()
        .map(|a| graph_json::found_account(&app, a))
        .collect();
    Ok(Json(Value::Array(list)))
}

/// `GET /api/v1/accounts/:id` for a remote account (`r.<hash>`).
pub async fn remote_account(app: &App, id: &str) -> AppResult<Json<Value>> {
    let row = graph::remote(app, id).await?;
    Ok(Json(graph_json::remote_row(app, &row)))
}

/// `GET /api/v1/accounts/relationships?id[]=…`.
pub async fn relationships(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Read, Resource::Follows))?;
    let author = grant.author()?;
    let mut out = Vec::new();
    // A client asks about a screenful at most; more ids are not looked at.
    for (_, id) in pairs(raw.as_deref())
        .iter()
        .filter(|(k, _)| k == "id")
        .take(80)
    {
        out.push(graph_json::relationship(
            &graph::relationship(&app, author, id).await?,
        ));
    }
    Ok(Json(Value::Array(out)))
}

async fn answer(r: AppResult<Relationship>) -> AppResult<Json<Value>> {
    Ok(Json(graph_json::relationship(&r?)))
}

pub async fn follow(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Follows))?;
    answer(graph::follow(&app, grant.author()?, &id).await).await
}

pub async fn unfollow(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Follows))?;
    answer(graph::unfollow(&app, grant.author()?, &id).await).await
}

pub async fn block(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Blocks))?;
    answer(graph::block(&app, grant.author()?, &id).await).await
}

pub async fn unblock(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Blocks))?;
    answer(graph::unblock(&app, grant.author()?, &id).await).await
}

pub async fn mute(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Mutes))?;
    answer(graph::mute(&app, grant.author()?, &id).await).await
}

pub async fn unmute(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Write, Resource::Mutes))?;
    answer(graph::unmute(&app, grant.author()?, &id).await).await
}

/// `GET /api/v1/accounts/:id/followers` and `/following`, newest first, with `Link`.
async fn list(
    app: App,
    grant: &crate::service::client_api::oauth::Grant,
    id: &str,
    raw: Option<&str>,
    followers: bool,
) -> AppResult<(HeaderMap, Json<Value>)> {
    grant.require(Scope::One(Access::Read, Resource::Accounts))?;
    let pairs = pairs(raw);
    let n = limit(&pairs, 40, 80);
    let max_id = param(&pairs, "max_id").and_then(|m| m.parse::<i64>().ok());
    let rows = graph::list(&app, id, followers, max_id, n).await?;
    let accounts: Vec<Value> = rows
        .iter()
        .map(|(_, url, row)| match row {
            Some(r) => graph_json::remote_row(&app, r),
            None => {
                graph_json::remote_account(&app, &graph_json::RemoteAccount::bare(url.as_str()))
            }
        })
        .collect();
    let which = if followers { "followers" } else { "following" };
    let path = format!("/api/v1/accounts/{id}/{which}");
    // A full page may have more behind it.
    let next = (rows.len() as i64 == n)
        .then(|| rows.last().map(|(c, _, _)| c.to_string()))
        .flatten();
    let headers = link(&app, &path, &[("limit", n.to_string())], next, None);
    Ok((headers, Json(Value::Array(accounts))))
}

pub async fn followers(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<(HeaderMap, Json<Value>)> {
    list(app, &grant, &id, raw.as_deref(), true).await
}

pub async fn following(
    State(app): State<App>,
    Auth(grant): Auth,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> AppResult<(HeaderMap, Json<Value>)> {
    list(app, &grant, &id, raw.as_deref(), false).await
}

/// Our authors accept every follow: no requests wait.
pub async fn follow_requests(Auth(grant): Auth) -> AppResult<Json<Value>> {
    grant.require(Scope::One(Access::Read, Resource::Follows))?;
    Ok(Json(json!([])))
}

/// `GET /api/v1/timelines/home`: newest first, `max_id`/`since_id`/`min_id`/`limit`,
/// with `Link` (`next`: older, `prev`: newer).
pub async fn home(
    State(app): State<App>,
    Auth(grant): Auth,
    RawQuery(raw): RawQuery,
) -> AppResult<(HeaderMap, Json<Value>)> {
    grant.require(Scope::One(Access::Read, Resource::Statuses))?;
    let handle = grant.author()?;
    let pairs = pairs(raw.as_deref());
    let get = |k: &str| param(&pairs, k).map(str::to_owned);
    let q = timeline::Query {
        max_id: get("max_id"),
        since_id: get("since_id"),
        min_id: get("min_id"),
        limit: get("limit"),
    };
    let items = timeline::home(&app, handle, &q).await?;
    let shown = graph_json::items(&app, Some(handle), &items).await?;
    let id = |v: Option<&Value>| v.and_then(|s| s["id"].as_str()).map(str::to_owned);
    let kept: Vec<(&str, String)> = get("limit").map(|l| ("limit", l)).into_iter().collect();
    let headers = link(
        &app,
        "/api/v1/timelines/home",
        &kept,
        id(shown.last()),
        id(shown.first()),
    );
    // The author's filters for `home` (after the Link: pages stay where they were).
    let filters = crate::service::client_api::filters::active(&app, handle).await?;
    let shown: Vec<Value> = shown
        .into_iter()
        .filter_map(|mut s| {
            super::filters::judge_status(&filters, crate::domain::FilterContext::Home, &mut s)
                .then_some(s)
        })
        .collect();
    Ok((headers, Json(Value::Array(shown))))
}
